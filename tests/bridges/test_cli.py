"""The bridge command line: each experiment runs smoke-sized and writes its files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spikeplast.bridges.cli import main
from spikeplast.bridges.experiments import DEFAULT_COMPARE_RULES
from spikeplast.bridges.rules import RULES

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"


def test_rules_lists_every_rule(capsys):
    assert main(["rules"]) == 0
    listed = capsys.readouterr().out
    for name in ("bp", "fa", "dfa", "usf", "brsf", "frsf", "fa_ex", "sa", "aa", "wm", "ia", "kp"):
        assert f"\n{name} " in "\n" + listed


def test_compare_quick_writes_json_npz_png(tmp_path, capsys):
    pytest.importorskip("sklearn")
    argv = ["compare", "--quick", "--seeds", "2", "--rules", "bp,fa,fa_ex,gait"]
    assert main([*argv, "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [row["rule"] for row in summary["rows"]] == ["bp", "fa", "gait"]
    assert summary["skipped"][0]["rule"] == "fa_ex"
    for suffix in ("json", "npz", "png"):
        assert (tmp_path / f"bridge_compare_digits.{suffix}").stat().st_size > 0
    assert not list(tmp_path.glob(".*tmp"))  # atomic writes leave no temporary files


def test_compare_runs_on_generated_mnist1d(capsys):
    assert (
        main(["compare", "--task", "mnist1d", "--quick", "--seeds", "1", "--rules", "bp,dfa"]) == 0
    )
    assert "dfa" in capsys.readouterr().out


def test_reward_prediction_and_alignment_sweep_quick(tmp_path, capsys):
    assert main(["reward-prediction", "--quick", "--seeds", "2", "--json"]) == 0
    reward = json.loads(capsys.readouterr().out)
    assert {row["rule"] for row in reward["rows"]} == {"bp", "fa", "fa_ex", "fa_ex_dale", "elm"}
    assert reward["fa_ex_over_bp_mse"] > 0
    assert (
        main(["alignment-vs-regularization", "--quick", "--seeds", "1", "--out", str(tmp_path)])
        == 0
    )
    assert (tmp_path / "bridge_alignment_vs_regularization.png").is_file()


@pytest.mark.parametrize("script", sorted(p.name for p in PROTOCOLS.glob("bridge_*.py")))
def test_protocol_scripts_run_smoke_sized(script, tmp_path):
    completed = subprocess.run(
        [sys.executable, str(PROTOCOLS / script), "--quick", "--seeds", "1", "--rules", "bp,fa"]
        + (["--task", "mnist1d"] if "compare" in script else [])
        if "compare" in script or "reward" in script
        else [sys.executable, str(PROTOCOLS / script), "--quick", "--seeds", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]


def test_training_benchmark_runs_quick():
    script = PROTOCOLS.parent / "benchmarks" / "bridges_training.py"
    completed = subprocess.run(
        [sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "ratio" in completed.stdout or "threadpoolctl is not installed" in completed.stdout


def test_spikeplast_command_has_the_bridge_subcommand(capsys):
    from spikeplast.cli import main as spikeplast_main

    assert spikeplast_main(["bridge", "rules", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == set(RULES)


def test_default_comparison_covers_every_rule_but_the_baseline():
    assert set(DEFAULT_COMPARE_RULES) == set(RULES) - {"elm", "fa_ex_dale"}


def test_compare_reads_user_mnist_idx_files(tmp_path, capsys, rng):
    from .test_datasets import write_idx

    images, labels = rng.integers(0, 256, size=(60, 5, 5)), np.arange(60) % 10
    for prefix, n in (("train", 60), ("t10k", 20)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", images[:n], 0x08)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", labels[:n], 0x08)
    argv = ["compare", "--task", "mnist", "--mnist-dir", str(tmp_path), "--limit", "48"]
    assert main([*argv, "--quick", "--seeds", "1", "--rules", "bp,dfa", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["task"] == "mnist" and summary["n_train"] == 48 and summary["n_test"] == 8
