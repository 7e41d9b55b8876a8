#!/usr/bin/env python3
"""Benchmark: the Sjöström protocol (10 conditions, 60 pairings, dt = 0.1 ms) on every backend.

Each measurement runs in a fresh Python process, so it includes start-up, imports, code
generation, compilation and the simulation, as a user experiences ``spikeplast protocol
sjostrom``. "cold" uses empty build caches (Cython's and spikeplast's object cache); "warm"
repeats the run with the caches filled. All runs are checked to produce the same weights (rtol
1e-9), and the table reports ratios to the fastest warm run, since these machines are noisy.

Usage::

    python benchmarks/sjostrom_backends.py [--repeats 3] [--backends numpy,cython,...] [--quick]

``--quick`` uses 5 pairings instead of 60 (the smoke version that ``make test`` runs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_once(backend: str, pairings: int, cache: Path) -> dict:
    """One protocol run in a fresh process; returns wall time, phases and weights."""
    env = dict(os.environ, SPIKEPLAST_CACHE=str(cache / "spikeplast"))
    code = f"""
import json, time, sys
start = time.perf_counter()
from brian2 import prefs
prefs.codegen.runtime.cython.cache_dir = {str(cache / "cython")!r}
from spikeplast.experiment import run_protocol_experiment
record = run_protocol_experiment("sjostrom", {{"pairings": {pairings}}}, backend={backend!r},
                                 data=None)
record["total_in_process_s"] = time.perf_counter() - start
print(json.dumps({{"timings": record["timings_s"], "rows": record["rows"],
                  "total_in_process_s": record["total_in_process_s"]}}))
"""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{backend} failed:\n{completed.stderr[-2000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(HERE.parent))
    from spikeplast.backend import available_backends

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(available_backends()))
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per backend")
    parser.add_argument("--quick", action="store_true", help="5 pairings instead of 60")
    parser.add_argument("--pairings", type=int, help="number of pairings (default 60)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    pairings = args.pairings or (5 if args.quick else 60)
    backends = [b for b in args.backends.split(",") if b]

    results: dict[str, dict] = {}
    reference_rows = None
    for backend in backends:
        cache = Path(tempfile.mkdtemp(prefix=f"bench_{backend}_"))
        try:
            cold = run_once(backend, pairings, cache)
            # numpy compiles nothing: its cold run is its warm run (and it is slow)
            repeats = 0 if backend == "numpy" else args.repeats
            warm = [run_once(backend, pairings, cache) for _ in range(repeats)] or [cold]
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        rows = [r["dw_percent"] for r in cold["rows"]]
        if reference_rows is None:
            reference_rows = rows
        for other in [cold, *warm]:
            for a, b in zip(reference_rows, (r["dw_percent"] for r in other["rows"]), strict=True):
                if abs(a - b) > 1e-7 * max(1.0, abs(a)):
                    raise AssertionError(f"{backend}: weights differ from the first backend")
        results[backend] = {
            "cold_wall_s": cold["wall_s"],
            "cold_timings": cold["timings"],
            "warm_wall_s": [w["wall_s"] for w in warm],
            "warm_timings": [w["timings"] for w in warm],
        }
        print(
            f"{backend}: cold {cold['wall_s']:.1f} s, warm "
            + ", ".join(f"{w['wall_s']:.1f}" for w in warm)
            + " s",
            file=sys.stderr,
        )

    best = min(statistics.median(r["warm_wall_s"]) for r in results.values())
    print(
        f"\nSjöström protocol, 10 conditions x {pairings} pairings, dt = 0.1 ms "
        f"({pairings * 0.1:g} million steps for the 0.1-Hz condition)"
    )
    print(
        "backend            cold (s)  warm median (s) [min-max]  build warm (s)  run (s)  warm/best"
    )
    for backend, r in results.items():
        warm = r["warm_wall_s"]
        median = statistics.median(warm)
        build = statistics.median(t.get("build", 0.0) for t in r["warm_timings"])
        run = statistics.median(t.get("run", 0.0) for t in r["warm_timings"])
        print(
            f"{backend:<18} {r['cold_wall_s']:8.1f}  {median:15.1f} [{min(warm):.1f}-"
            f"{max(warm):.1f}]  {build:14.2f}  {run:7.2f}  {median / best:9.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps({"pairings": pairings, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
