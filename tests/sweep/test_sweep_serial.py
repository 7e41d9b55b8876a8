"""Serial sweeps: results folder, table, figure, resume, failures, retries, folder checks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from sweep_helpers import TINY_NETWORK

from spikeplast.sweep import (
    FolderMismatch,
    load_sweep_config,
    read_table,
    run_sweep,
    sweep_from_dict,
)
from spikeplast.sweep.cli import main
from spikeplast.sweep.runners import runner_for

NETWORK_SWEEP = (
    TINY_NETWORK
    + """
[sweep]
seeds = [1, 2]
[sweep.grid]
"populations.inputs.rate" = ["10 Hz", "20 Hz"]
"projections.ff.rule_parameters.A_plus" = [0.01, "5 ms"]
[record]
summaries = ["ff.w_mean", "neuron.spike_count"]
weights = true
"""
)


def _probe(tmp_path, points, retries=2, **fixed):
    return sweep_from_dict(
        {
            "name": "probe",
            "target": {"function": "spikeplast.sweep.probe:probe"},
            "fixed": {"counter_dir": str(tmp_path / "calls"), **fixed},
            "sweep": {"points": points},
            "output": {"directory": str(tmp_path / "out")},
            "execution": {"retries": retries},
        }
    )


def _calls(tmp_path):
    return {p.stem: len(p.read_text().splitlines()) for p in (tmp_path / "calls").glob("*.calls")}


def test_network_sweep_records_table_arrays_figure_and_resumes(write_config, tmp_path, capsys):
    """Bad values fail their points (once, no retry) and the sweep completes with status 1."""
    config_path = write_config(NETWORK_SWEEP)
    out = tmp_path / "out"
    assert main([str(config_path), "--serial", "--out", str(out), "--no-progress"]) == 1
    printed = capsys.readouterr().out
    assert "4 of 8 points done, 4 failed" in printed and "must have the unit of 1" in printed

    table = read_table(out / "results.csv")
    assert len(table) == 8
    assert list(table[0])[:4] == [
        "point_id",
        "populations.inputs.rate [Hz]",
        "projections.ff.rule_parameters.A_plus",
        "seed",
    ]
    done = [r for r in table if r["status"] == "done"]
    failed = [r for r in table if r["status"] == "failed"]
    assert len(done) == 4 and all(
        r["projections.ff.rule_parameters.A_plus"] == "0.01" for r in done
    )
    assert all("ParameterError" in r["error"] and r["ff.w_mean"] == "" for r in failed)
    assert {r["populations.inputs.rate [Hz]"] for r in done} == {"10.0", "20.0"}
    assert float(done[2]["neuron.spike_count"]) > 0  # 20 Hz drives the neuron
    row = json.loads((out / "points" / f"{done[0]['point_id']}.json").read_text())
    assert row["attempts"] == 1 and row["parameters"]["populations.inputs.rate"] == "10 Hz"
    weights = np.load(out / row["arrays"])["weights.ff"]
    assert weights.shape == (200,) and np.isclose(weights.mean(), float(done[0]["ff.w_mean"]))
    assert (out / "sweep.png").stat().st_size > 0
    failed_rows = [
        json.loads((out / "points" / f"{r['point_id']}.json").read_text()) for r in failed
    ]
    assert all(r["attempts"] == 1 for r in failed_rows)  # bad values are not retried

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["identity"]["backend"] == "numpy" and manifest["points"] == 8
    report = run_sweep(load_sweep_config(config_path), serial=True, out=out, progress=False)
    assert (report.ran, report.done, report.failed, report.exit_code) == (0, 4, 4, 1)
    assert read_table(out / "results.csv") == table


def test_retries_then_failure_and_the_sweep_goes_on(tmp_path):
    config = _probe(
        tmp_path,
        [{"x": 1}, {"x": 2, "fail": "first"}, {"x": 3, "fail": "always"}, {"x": 4}],
        retries=2,
    )
    report = run_sweep(config, serial=True, progress=False, plot=False)
    assert (report.done, report.failed, report.exit_code) == (3, 1, 1)
    assert _calls(tmp_path) == {"1_1_None": 1, "2_1_None": 2, "3_1_None": 3, "4_1_None": 1}
    rows = {r["point_id"]: r for r in read_table(tmp_path / "out" / "results.csv")}
    failed = rows[config.points[2].point_id]
    assert failed["status"] == "failed" and "ProbeFailure" in failed["error"]
    assert "after 3 attempts" in failed["error"]
    assert rows[config.points[1].point_id]["calls"] == "2.0"
    # --retry-failed reruns only the failed point
    again = run_sweep(config, serial=True, progress=False, plot=False, retry_failed=True)
    assert again.ran == 1 and _calls(tmp_path)["3_1_None"] == 6


def test_extending_a_sweep_reuses_its_finished_points(tmp_path):
    run_sweep(_probe(tmp_path, [{"x": 1}, {"x": 2}]), serial=True, progress=False, plot=False)
    report = run_sweep(
        _probe(tmp_path, [{"x": 1}, {"x": 2}, {"x": 3}]), serial=True, progress=False, plot=False
    )
    assert (report.ran, report.done) == (1, 3)
    assert set(_calls(tmp_path).values()) == {1}


def test_a_folder_of_another_model_is_refused_and_never_deleted(tmp_path):
    run_sweep(_probe(tmp_path, [{"x": 1}]), serial=True, progress=False, plot=False)
    before = sorted(p.name for p in (tmp_path / "out" / "points").iterdir())
    other = _probe(tmp_path, [{"x": 1}], y=3)  # other fixed value: other model
    with pytest.raises(FolderMismatch, match="model_hash .* --force-new"):
        run_sweep(other, serial=True, progress=False, plot=False)
    assert sorted(p.name for p in (tmp_path / "out" / "points").iterdir()) == before
    report = run_sweep(other, serial=True, progress=False, plot=False, force_new=True)
    assert report.ran == 1
    (archive,) = (tmp_path / "out" / "superseded").iterdir()
    assert sorted(p.name for p in (archive / "points").iterdir()) == before
    stranger = tmp_path / "stranger"
    (stranger / "notes.txt").parent.mkdir()
    (stranger / "notes.txt").write_text("mine")
    with pytest.raises(FolderMismatch, match="no sweep results folder"):
        run_sweep(other, serial=True, out=stranger, progress=False)


def test_protocol_sweep_over_a_rule_parameter(tmp_path):
    config = sweep_from_dict(
        {
            "target": {
                "protocol": "pairing",
                "backend": "numpy",
                "settings": {"dts_ms": [-10.0, 10.0], "pairings": 5, "freq_hz": 20.0},
            },
            "sweep": {"grid": {"A3_plus": [0.0, 0.01]}},
            "output": {"directory": str(tmp_path / "out")},
        }
    )
    report = run_sweep(config, serial=True, progress=False)
    assert report.exit_code == 0
    table = read_table(tmp_path / "out" / "results.csv")
    assert "dw_percent[dt_ms=10]" in table[0] and "dw_percent[dt_ms=-10]" in table[0]
    low, high = (float(r["dw_percent[dt_ms=10]"]) for r in table)
    assert high > low  # more triplet potentiation


def test_each_process_prepares_a_target_once(tmp_path):
    config = _probe(tmp_path, [{"x": 1}])
    assert runner_for(config.target) is runner_for(config.target)


def test_cli_errors_are_one_line_with_status_2(write_config, tmp_path, capsys):
    bad = write_config(NETWORK_SWEEP.replace("A_plus", "A_plux"), "bad")
    assert main([str(bad), "--serial"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no parameter 'A_plux'" in error
    assert main([str(tmp_path / "missing.toml")]) == 2
    assert main([str(write_config(NETWORK_SWEEP)), "--list", "--out", str(tmp_path / "o")]) == 0
    assert capsys.readouterr().out.count("pending") == 8


def test_the_sweep_command_plugs_into_a_parent_parser():
    import argparse

    from spikeplast.sweep.cli import add_parser, run_command

    parser = argparse.ArgumentParser(prog="spikeplast")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sweep", "c.toml", "--workers", "2", "--out", "o"])
    assert args.func is run_command and args.workers == 2 and str(args.out) == "o"


def test_a_second_sweep_on_the_same_folder_is_refused(tmp_path):
    from spikeplast.sweep import FolderBusy, ResultsFolder

    config = _probe(tmp_path, [{"x": 1}])
    with ResultsFolder(config.output).lock():
        with pytest.raises(FolderBusy, match=f"pid {os.getpid()} .* is writing to"):
            run_sweep(config, serial=True, progress=False)
    assert run_sweep(config, serial=True, progress=False, plot=False).exit_code == 0


def test_sigterm_stops_a_sweep_cleanly_and_it_resumes(tmp_path):
    """A batch system's SIGTERM: rows so far and the table are kept, exit status 130."""
    points = ", ".join(f"{{ x = {x} }}" for x in range(1, 9))
    config_path = tmp_path / "term.toml"
    config_path.write_text(
        f'[target]\nfunction = "spikeplast.sweep.probe:probe"\n[fixed]\nsleep_s = 0.3\n'
        f"[sweep]\npoints = [{points}]\n"
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "spikeplast.sweep", str(config_path), "--serial"]
    command += ["--out", str(out), "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(list((out / "points").glob("*.json")) if (out / "points").is_dir() else []) < 2:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, error = process.communicate(timeout=60)
    assert process.returncode == 130 and "run the same command again to resume" in error
    recorded = len(list((out / "points").glob("*.json")))
    assert 2 <= recorded < 8 and len(read_table(out / "results.csv")) == recorded
    events = [json.loads(line)["event"] for line in (out / "log.jsonl").read_text().splitlines()]
    assert events[-1] == "interrupted"
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0 and f"{recorded} recorded before" in resumed.stdout
