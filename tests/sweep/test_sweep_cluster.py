"""Sweeps on a Dask LocalCluster (2 workers x 1 thread): same numbers as serial, resumable after
a kill, failures recorded; an unreachable scheduler is a clear error."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pytest
from sweep_helpers import TINY_NETWORK

from spikeplast.sweep import SchedulerUnreachable, load_sweep_config, read_table, run_sweep

pytest.importorskip("distributed")
pytestmark = pytest.mark.xdist_group("sweep-cluster")  # one cluster at a time on 2 cores

NETWORK_SWEEP = (
    TINY_NETWORK
    + """
[sweep]
seeds = [1, 2]
[sweep.grid]
"populations.inputs.rate" = ["15 Hz", "25 Hz"]
[record]
weights = true
"""
)


def test_cluster_gives_the_same_numbers_as_serial(write_config, tmp_path):
    config = load_sweep_config(write_config(NETWORK_SWEEP))
    serial = run_sweep(config, serial=True, out=tmp_path / "serial", progress=False, plot=False)
    cluster = run_sweep(config, workers=2, out=tmp_path / "cluster", progress=False)
    assert serial.exit_code == cluster.exit_code == 0 and cluster.ran == 4
    serial_table = read_table(tmp_path / "serial" / "results.csv")
    cluster_table = read_table(tmp_path / "cluster" / "results.csv")
    numbers = ["point_id", "seed", "ff.w_mean", "ff.w_std", "neuron.spike_count"]
    assert [[r[k] for k in numbers] for r in cluster_table] == [
        [r[k] for k in numbers] for r in serial_table
    ]
    assert len({r["worker"] for r in cluster_table} - {serial_table[0]["worker"]}) >= 1
    for row in serial_table:
        name = f"points/{row['point_id']}.npz"
        np.testing.assert_array_equal(
            np.load(tmp_path / "serial" / name)["weights.ff"],
            np.load(tmp_path / "cluster" / name)["weights.ff"],
        )
    assert (tmp_path / "cluster" / "sweep.png").is_file()


KILLABLE = """
name = "killable"
[target]
function = "spikeplast.sweep.probe:probe"
[fixed]
sleep_s = 0.4
counter_dir = "{calls}"
[sweep]
points = [{{ x = 0, fail = "always" }}, {points}]
[execution]
retries = 2
"""


def _rows(out):
    return {p.stem for p in (out / "points").glob("*.json")} if (out / "points").is_dir() else set()


def test_a_killed_sweep_restarts_with_no_point_lost_or_run_twice(write_config, tmp_path):
    calls = tmp_path / "calls"
    points = ", ".join(f"{{ x = {x} }}" for x in range(1, 13))
    path = write_config(KILLABLE.format(calls=calls, points=points))
    config = load_sweep_config(path)
    failing = config.points[0].point_id
    out = tmp_path / "out"
    command = [sys.executable, "-m", "spikeplast.sweep", str(path), "--workers", "2"]
    command += ["--out", str(out), "--no-progress", "--no-plot"]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}

    first = subprocess.Popen(
        command, start_new_session=True, env=environment, stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while not (failing in _rows(out) and len(_rows(out)) >= 5):
            assert first.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "the sweep made no progress"
            time.sleep(0.1)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # client, scheduler and workers at once
        first.wait()
    recorded_before_kill = _rows(out)
    assert len(recorded_before_kill) < len(config.points)

    second = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=180)
    assert second.returncode == 1, second.stderr  # one point failed
    assert "12 of 13 points done, 1 failed" in second.stdout
    assert f"{len(config.points) - len(recorded_before_kill)} to run" in second.stdout

    assert _rows(out) == {p.point_id for p in config.points}
    events = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    recorded = Counter(e["point_id"] for e in events if e["event"] in ("done", "failed"))
    assert set(recorded.values()) == {1}  # every point recorded exactly once
    counts = {p.stem: len(p.read_text().splitlines()) for p in calls.glob("*.calls")}
    by_point = {p.point_id: counts[f"{p.values['x']:g}_1_None"] for p in config.points}
    assert by_point[failing] == 3  # run, retried twice, recorded failed; not rerun
    assert all(by_point[p] == 1 for p in recorded_before_kill if p != failing)
    table = {r["point_id"]: r for r in read_table(out / "results.csv")}
    assert table[failing]["status"] == "failed" and "ProbeFailure" in table[failing]["error"]
    assert sum(r["status"] == "done" for r in table.values()) == 12


def test_an_unreachable_scheduler_is_a_clear_error(write_config, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = load_sweep_config(write_config(NETWORK_SWEEP))
    started = time.monotonic()
    with pytest.raises(SchedulerUnreachable, match=f"127.0.0.1:{port}.* within 2 s"):
        run_sweep(
            config,
            scheduler=f"tcp://127.0.0.1:{port}",
            out=tmp_path / "out",
            connect_timeout=2,
            progress=False,
        )
    assert time.monotonic() - started < 30


def test_an_existing_scheduler_runs_the_same_config(tmp_path):
    """``--scheduler``: the config is unchanged; only the address of the cluster is given."""
    import distributed

    from spikeplast.sweep import sweep_from_dict

    config = sweep_from_dict(
        {
            "target": {"function": "spikeplast.sweep.probe:probe"},
            "sweep": {"grid": {"x": [1, 2, 3]}, "seeds": [1, 2]},
            "output": {"directory": str(tmp_path / "out")},
        }
    )
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        report = run_sweep(config, scheduler=cluster.scheduler_address, progress=False)
    assert (report.exit_code, report.done) == (0, 6)
    values = [float(r["value"]) for r in read_table(tmp_path / "out" / "results.csv")]
    assert values == [2, 3, 3, 4, 4, 5]  # x * 1 + seed
