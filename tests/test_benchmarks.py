"""Smoke test of the benchmark scripts (benchmarks are not tests; this keeps them working)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
