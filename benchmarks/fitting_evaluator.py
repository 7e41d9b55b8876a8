#!/usr/bin/env python3
"""Benchmark: evaluating the Sjöström data set with the Numba evaluator vs Brian2, in one run.

The Sjöström protocol (10 conditions x 60 pairings, dt = 0.1 ms for Brian2) is evaluated

* by :class:`spikeplast.fitting.evaluators.TraceRuleEvaluator` (exact, event-driven, Numba),
  pinned to one CPU core, for a batch of parameter sets that all differ (A3_plus, A2_minus and
  tau_y vary, so no decay table is reused), and per single call (Python overhead included);
* by Brian2: :func:`spikeplast.protocols.run_protocol` on the chosen backend (a first run that
  may compile, then warm runs with the object cache filled), and by the compiled-rerun path of
  :class:`spikeplast.fitting.evaluators.BrianEvaluator` (binary rerun with new amplitudes).

It checks that Brian2 and Numba agree to rtol 1e-9 and prints evaluations per second and the
ratio of Brian2's wall time per evaluation to Numba's.

Usage::

    python benchmarks/fitting_evaluator.py [--batch 20000] [--repeats 5] [--backend cpp_standalone]
    python benchmarks/fitting_evaluator.py --quick     # smoke size: numpy backend, 2 pairings
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _pin_to_one_core() -> tuple[int | None, set[int] | None]:
    """Restrict this process to one core; return it and the previous affinity."""
    try:
        allowed = os.sched_getaffinity(0)
        core = min(allowed)
        os.sched_setaffinity(0, {core})
        return core, allowed
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return None, None


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(HERE.parent))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=20000, help="parameter sets per call")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (best is kept)")
    parser.add_argument("--backend", default="cpp_standalone", help="Brian2 backend")
    parser.add_argument("--brian-runs", type=int, default=2, help="warm Brian2 runs")
    parser.add_argument("--pairings", type=int, default=60)
    parser.add_argument("--no-compiled", action="store_true", help="skip the compiled reruns")
    parser.add_argument("--quick", action="store_true", help="smoke size (numpy, 2 pairings)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args, _ = parser.parse_known_args(argv)  # run_all.py passes every benchmark's options

    import numpy as np

    from spikeplast.fitting.evaluators import BrianEvaluator, TraceRuleEvaluator
    from spikeplast.protocols import run_protocol, sjostrom
    from spikeplast.rules import get_rule

    freqs = (0.1, 10.0, 20.0, 40.0, 50.0)
    if args.quick:
        args.batch, args.repeats, args.backend, args.brian_runs = 2000, 2, "numpy", 1
        args.pairings, args.no_compiled, freqs = 2, True, (10.0, 20.0, 40.0, 50.0)
    protocol = sjostrom(freqs_hz=freqs, pairings=args.pairings)
    rule = get_rule("pfister2006-visual-aa-minimal")
    names = ["A3_plus", "A2_minus", "tau_y"]
    published = np.array([[0.0065, 0.0071, 0.114]])
    n_events = sum(c.pre.size + c.post.size for c in protocol.conditions)

    # -- Numba, one core ---------------------------------------------------------------------
    core, allowed = _pin_to_one_core()
    evaluator = TraceRuleEvaluator(rule, protocol.conditions, names)
    rng = np.random.default_rng(0)
    batch = published * rng.uniform(0.5, 2.0, size=(args.batch, 3))
    evaluator.evaluate(batch[:2])  # compile or load the cache
    batch_times = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        evaluator.evaluate(batch)
        batch_times.append(time.perf_counter() - started)
    per_batch_evaluation = min(batch_times) / args.batch
    singles = min(1000, args.batch)
    started = time.perf_counter()
    for row in batch[:singles]:
        evaluator.evaluate(row)
    per_single_evaluation = (time.perf_counter() - started) / singles
    numba_final = evaluator.final_weights(published)[0]
    if allowed is not None:
        os.sched_setaffinity(0, allowed)  # Brian2 may compile with several jobs

    # -- Brian2 ------------------------------------------------------------------------------
    brian_runs = []
    for _ in range(1 + args.brian_runs):
        started = time.perf_counter()
        result = run_protocol(rule, protocol, backend=args.backend)
        brian_runs.append(time.perf_counter() - started)
        deviation = np.max(np.abs(result.final_weights - numba_final) / np.abs(numba_final))
        if deviation > 1e-9:
            raise AssertionError(f"Brian2 and Numba differ by {deviation:.3g} (rtol 1e-9)")
    brian_warm = statistics.median(brian_runs[1:]) if len(brian_runs) > 1 else brian_runs[0]
    compiled_times: list[float] = []
    if not args.no_compiled:
        compiled = BrianEvaluator(rule, protocol.conditions, names)
        for values in (published, batch[:1], batch[1:2]):
            started = time.perf_counter()
            final = compiled.final_weights(values)[0]
            compiled_times.append(time.perf_counter() - started)
            expected = evaluator.final_weights(values)[0]
            deviation = np.max(np.abs(final - expected) / np.abs(expected))
            if deviation > 1e-9:
                raise AssertionError(f"compiled Brian2 and Numba differ by {deviation:.3g}")
    compiled_warm = statistics.median(compiled_times[1:]) if compiled_times else None

    # -- report ------------------------------------------------------------------------------
    rate = 1.0 / per_batch_evaluation
    results = {
        "protocol": f"sjostrom, {len(protocol.conditions)} conditions x {args.pairings} pairings",
        "events_per_evaluation": n_events,
        "numba_core": core,
        "numba_batch": args.batch,
        "numba_evaluations_per_s_batched": rate,
        "numba_evaluations_per_s_single_calls": 1.0 / per_single_evaluation,
        "numba_ns_per_event": per_batch_evaluation / n_events * 1e9,
        "brian_backend": args.backend,
        "brian_first_run_s": brian_runs[0],
        "brian_warm_run_s": brian_warm,
        "brian_compiled_rerun_s": compiled_warm,
        "brian_compiled_first_s": compiled_times[0] if compiled_times else None,
        "ratio_brian_warm_to_numba": brian_warm / per_batch_evaluation,
        "ratio_brian_compiled_rerun_to_numba": (
            compiled_warm / per_batch_evaluation if compiled_warm else None
        ),
        "agreement": "Brian2 and Numba final weights agree to rtol 1e-9",
    }
    print(f"\n{results['protocol']} ({n_events} spike events), rule pfister2006-visual-aa-minimal")
    print(f"Numba evaluator, one core (core {core}), batch of {args.batch} parameter sets:")
    print(f"  {rate:12,.0f} evaluations/s  ({results['numba_ns_per_event']:.2f} ns per event)")
    print(
        f"  {results['numba_evaluations_per_s_single_calls']:12,.0f} evaluations/s as single calls"
    )
    print(f"Brian2 {args.backend}: first run {brian_runs[0]:.1f} s, warm run {brian_warm:.2f} s")
    if compiled_warm:
        print(
            f"Brian2 compiled reruns (new amplitudes, no recompilation): first "
            f"{compiled_times[0]:.1f} s, then {compiled_warm:.2f} s per evaluation"
        )
    print(f"ratio Brian2 warm run / Numba evaluation: {results['ratio_brian_warm_to_numba']:,.0f}x")
    if compiled_warm:
        print(
            "ratio Brian2 compiled rerun / Numba evaluation: "
            f"{results['ratio_brian_compiled_rerun_to_numba']:,.0f}x"
        )
    print(results["agreement"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
