#!/usr/bin/env python3
"""Benchmark: an N-point parameter sweep compiled once vs N fresh C++ builds.

Sweeps the Song et al. (2000) network (``models/networks/song2000.toml``, 5 s) over input rate
and potentiation amplitude. Three ways, each starting from an empty cache:

* ``compiled once``: :class:`spikeplast.compiled.CompiledNetwork` builds once, then reruns the
  binary with new values on its command line (no code generation, no compiler);
* ``fresh builds + object cache``: one ``cpp_standalone`` session per point (spikeplast's default:
  the object cache makes rebuilds of an unchanged model cheap, but code generation and linking
  remain);
* ``fresh builds, no cache``: one full Brian2 build per point (plain Brian2 behaviour).

All three must give the same weights (to rounding).
Usage: ``python benchmarks/build_once.py [--points N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def points(n: int) -> list[dict]:
    rates = np.linspace(10, 25, n)
    amplitudes = np.linspace(0.005, 0.02, n)[::-1]
    return [
        {"populations.inputs.rate": f"{r:g} Hz", "projections.ff.rule_parameters.A_plus": float(a)}
        for r, a in zip(rates, amplitudes, strict=True)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=8)
    parser.add_argument("--duration", default="5 s")
    parser.add_argument("--quick", action="store_true", help="2 points of 0.5 s")
    args = parser.parse_args(argv)
    n, duration = (2, "0.5 s") if args.quick else (args.points, args.duration)
    base = {"run.duration": duration, "record.state": [], "projections.ff.w_init": 0.5}
    sweep = points(n)

    from spikeplast.compiled import CompiledNetwork
    from spikeplast.netspec import load_network, run_network

    timings, weights = {}, {}
    os.environ["SPIKEPLAST_CACHE"] = tempfile.mkdtemp(prefix="bench_once_")
    started = time.perf_counter()
    network = CompiledNetwork(load_network("song2000", base), list(sweep[0]))
    weights["compiled once"] = [network.run(p, seed=1).weights["ff"] for p in sweep]
    timings["compiled once"] = time.perf_counter() - started

    for label, no_cache in (
        ("fresh builds + object cache", False),
        ("fresh builds, no cache", True),
    ):
        os.environ["SPIKEPLAST_CACHE"] = tempfile.mkdtemp(prefix="bench_fresh_")
        if no_cache:
            os.environ["SPIKEPLAST_NO_OBJECT_CACHE"] = "1"
        started = time.perf_counter()
        weights[label] = [
            run_network(
                load_network("song2000", {**base, **p}), backend="cpp_standalone", seed=1
            ).weights["ff"]
            for p in sweep
        ]
        timings[label] = time.perf_counter() - started
        os.environ.pop("SPIKEPLAST_NO_OBJECT_CACHE", None)

    reference = weights["compiled once"]
    for label, values in weights.items():
        for a, b in zip(reference, values, strict=True):
            if not np.allclose(a, b, rtol=1e-12, atol=0):
                raise AssertionError(f"{label} computed different weights")
    best = timings["compiled once"]
    print(
        f"\n{n}-point sweep of song2000 ({duration} each), cpp_standalone, "
        "same weights (rtol 1e-12)"
    )
    print(f"{'method':<30} {'total (s)':>10} {'per point (s)':>14} {'ratio':>7}")
    for label, total in timings.items():
        print(f"{label:<30} {total:10.1f} {total / n:14.2f} {total / best:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
