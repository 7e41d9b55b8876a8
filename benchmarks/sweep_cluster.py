#!/usr/bin/env python3
"""Benchmark: an N-point sweep run serially vs on a 2-worker Dask LocalCluster.

Sweeps the Song et al. (2000) network (``models/networks/song2000.toml`` on numpy, 1000 inputs)
over the input rate with two seeds, once with ``--serial`` and once on a LocalCluster of
``--workers`` processes (1 thread each), each into a fresh results folder, and checks that both
tables hold the same numbers. Wall times include starting the cluster and importing Brian2 in its
workers. Usage: ``python benchmarks/sweep_cluster.py [--points N] [--duration "2 s"]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def config(points: int, duration: str, backend: str) -> dict:
    rates = [f"{10 + 20 * i / max(1, points // 2 - 1):.4g} Hz" for i in range(max(1, points // 2))]
    return {
        "name": "bench-sweep",
        "target": {"network": "song2000", "backend": backend},
        "fixed": {"run.duration": duration, "record.state": []},
        "sweep": {"seeds": [1, 2], "grid": {"populations.inputs.rate": rates}},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=12, help="points (rates x 2 seeds)")
    parser.add_argument("--duration", default="2 s", help="biological time per point")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--quick", action="store_true", help="4 points of 0.2 s")
    args = parser.parse_args(argv)
    points, duration = (4, "0.2 s") if args.quick else (args.points, args.duration)

    from spikeplast.sweep import read_table, run_sweep, sweep_from_dict

    sweep = sweep_from_dict(config(points, duration, args.backend))
    root = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    timings, tables = {}, {}
    for label, options in (
        ("serial", {"serial": True}),
        (f"LocalCluster {args.workers}x1", {"workers": args.workers}),
    ):
        out = root / label.split()[0]
        started = time.perf_counter()
        report = run_sweep(
            sweep, out=out, progress=False, plot=False, echo=lambda _: None, **options
        )
        timings[label] = time.perf_counter() - started
        if report.exit_code != 0:
            print(f"{label}: {report.failed} points failed", file=sys.stderr)
            return 1
        tables[label] = [
            (r["point_id"], r["ff.w_mean"], r["neuron.spike_count"])
            for r in read_table(out / "results.csv")
        ]
    same = len({tuple(t) for t in tables.values()}) == 1
    serial = timings["serial"]
    print(f"{len(sweep.points)} points of {duration} ({args.backend}); same numbers: {same}")
    print(f"{'mode':<22} {'wall (s)':>9} {'per point (s)':>14} {'speed-up':>9}")
    for label, seconds in timings.items():
        print(
            f"{label:<22} {seconds:>9.1f} {seconds / len(sweep.points):>14.2f} "
            f"{serial / seconds:>9.2f}"
        )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
