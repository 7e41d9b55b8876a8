"""Smoke test of the benchmark scripts (benchmarks are not tests; this keeps them working)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_sjostrom_benchmark_smoke(tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "sjostrom_backends.py"),
            "--backends",
            "numpy",
            "--pairings",
            "1",
            "--repeats",
            "1",
            "--json",
            str(tmp_path / "bench.json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "warm/best" in completed.stdout and (tmp_path / "bench.json").is_file()


def _run_quick(script: str, *options: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", *options],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def test_song2000_benchmark_smoke():
    output = _run_quick("song2000.py")
    # the composer and the hand-written model draw the same random numbers: same learned state
    contenders = ("spikeplast:", "brian2-")
    rows = [line.split() for line in output.splitlines() if line.startswith(contenders)]
    assert len(rows) == 2 and rows[0][5:9] == rows[1][5:9]  # rate, <w>, w<0.1, w>0.9


@pytest.mark.slow
def test_balanced_network_benchmark_smoke():
    output = _run_quick("balanced_network.py")
    assert "Plastic balanced network" in output
    # neuron-side traces with plasticity at arrival compute the plain Brian2 model exactly
    assert "spikeplast-inversion vs brian2-plain: identical" in output
    assert "spikeplast vs brian2-same: identical" in output


@pytest.mark.slow
def test_numba_device_benchmark_smoke():
    assert "cpp_standalone" in _run_quick("numba_device_bench.py")
