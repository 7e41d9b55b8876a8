"""The thin script and the benchmark stay runnable."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_protocol_script_runs(tmp_path, monkeypatch):
    arguments = ["pfister2006-visual-nn-minimal", "--data", "sjostrom2001", "--restarts", "1"]
    arguments += ["--ci", "none", "--no-progress", "--out", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", ["fit.py", *arguments])
    with pytest.raises(SystemExit) as exit_status:
        runpy.run_path(str(ROOT / "protocols" / "fit.py"), run_name="__main__")
    assert exit_status.value.code == 0
    assert (tmp_path / "fit.png").is_file()


@pytest.mark.slow
def test_benchmark_smoke(tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "fitting_evaluator.py"),
            "--quick",
            "--json",
            str(tmp_path / "bench.json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = json.loads((tmp_path / "bench.json").read_text())
    assert results["numba_evaluations_per_s_batched"] > 0
    assert "ratio Brian2 warm run / Numba evaluation" in completed.stdout
