#!/usr/bin/env python3
"""Benchmark: evaluations per second of the Sjöström data set (10 conditions x 60 pairings).

One evaluation = the final weights of all 10 conditions for one parameter set of the visual
all-to-all triplet rule. Contenders, all in this process and on one core:

* ``brian2 cpp_standalone (fresh)``: :func:`spikeplast.protocols.run_protocol` per parameter set
  (code generation, cached compile, 6 million time steps);
* ``brian2 cpp_standalone (compiled once)``: the protocol compiled once with ``A3_plus`` and
  ``A2_minus`` as runtime parameters, the binary rerun per parameter set;
* ``nest`` (optional): NEST 3 ``stdp_triplet_synapse`` on parrot neurons, one network per
  parameter set;
* ``numpy reference``: :mod:`spikeplast.reference` (history sums, Python loop);
* ``numba evaluator``: :class:`spikeplast.fitting.evaluators.TraceRuleEvaluator`, batched.

All must agree (rtol 1e-9 with the reference). The table reports evaluations per second and the
ratio to the fresh Brian2 run. Usage: ``python benchmarks/protocol_throughput.py [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RULE = "pfister2006-visual-aa-full"


def parameter_sets(count: int, seed: int = 0) -> np.ndarray:
    """(A3_plus, A2_minus) around the published values."""
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [6.2e-3 * rng.uniform(0.5, 1.5, count), 7e-3 * rng.uniform(0.5, 1.5, count)]
    )


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 pairings, fewer parameter sets")
    parser.add_argument("--sets", type=int, default=3, help="parameter sets for slow contenders")
    args = parser.parse_args(argv)
    from spikeplast.compiled import CompiledNetwork
    from spikeplast.fitting.evaluators import TraceRuleEvaluator
    from spikeplast.protocols import protocol_network_data, run_protocol, sjostrom
    from spikeplast.reference import triplet_stdp
    from spikeplast.rules import get_rule

    protocol = sjostrom(pairings=5 if args.quick else 60)
    sets = parameter_sets(args.sets)
    rule = get_rule(RULE)
    results: dict[str, tuple[float, int, np.ndarray]] = {}

    def reference(values: np.ndarray) -> np.ndarray:
        variant = rule.replace(A3_plus=float(values[0]), A2_minus=float(values[1]))
        return np.array([triplet_stdp(variant, c.pre, c.post).final for c in protocol.conditions])

    def fresh(values: np.ndarray) -> np.ndarray:
        variant = rule.replace(A3_plus=float(values[0]), A2_minus=float(values[1]))
        return run_protocol(variant, protocol, backend="cpp_standalone").final_weights

    fresh(sets[0])  # warm the object cache: measure the steady state, not the first compile
    elapsed, weights = timed(lambda: np.array([fresh(v) for v in sets]))
    results["brian2 cpp_standalone (fresh)"] = (elapsed, len(sets), weights)

    paths = [
        "projections.synapse.rule_parameters.A3_plus",
        "projections.synapse.rule_parameters.A2_minus",
    ]
    compiled = CompiledNetwork.from_data(protocol_network_data(protocol, RULE), paths)
    compiled.build()
    elapsed, weights = timed(
        lambda: np.array(
            [
                compiled.run(dict(zip(paths, map(float, v), strict=True))).weights["synapse"]
                for v in sets
            ]
        )
    )
    results["brian2 cpp_standalone (compiled once)"] = (elapsed, len(sets), weights)

    nest_weights = _nest(protocol, rule, sets)
    if nest_weights is not None:
        results["nest 3 (parrots)"] = nest_weights

    elapsed, weights = timed(lambda: np.array([reference(v) for v in sets]))
    results["numpy reference"] = (elapsed, len(sets), weights)

    evaluator = TraceRuleEvaluator(rule, protocol.conditions, ["A3_plus", "A2_minus"])
    evaluator.final_weights(sets[:1])  # JIT compilation
    many = np.tile(sets, (20000 // len(sets) if not args.quick else 2000, 1))
    elapsed, weights = timed(evaluator.final_weights, many)
    results["numba evaluator (batch)"] = (elapsed, len(many), weights[: len(sets)])

    expected = np.array([reference(v) for v in sets])
    for name, (_, _, weights) in results.items():
        if not np.allclose(weights, expected, rtol=1e-9, atol=0):
            raise AssertionError(f"{name} disagrees with the reference")
    baseline = results["brian2 cpp_standalone (fresh)"]
    baseline_rate = baseline[1] / baseline[0]
    print(
        f"\nSjöström data set ({len(protocol.conditions)} conditions x "
        f"{protocol.settings['pairings']} pairings), rule {RULE}; all agree to rtol 1e-9"
    )
    print(f"{'contender':<40} {'evaluations/s':>14} {'ratio':>10}")
    for name, (elapsed, count, _) in results.items():
        rate = count / elapsed
        print(f"{name:<40} {rate:14.4g} {rate / baseline_rate:10.4g}")
    return 0


def _nest(protocol, rule, sets) -> tuple[float, int, np.ndarray] | None:
    try:
        import nest
    except ImportError:
        return None
    nest.verbosity = nest.VerbosityLevel.ERROR
    started = time.perf_counter()
    weights = []
    for values in sets:
        nest.ResetKernel()
        nest.resolution = 0.1
        connections = []
        trigger = max(float(np.max(c.pre)) for c in protocol.conditions) + 2.0
        for condition in protocol.conditions:
            pre = nest.Create("parrot_neuron")
            post = nest.Create(
                "parrot_neuron",
                params={
                    "tau_minus": float(rule.tau_minus) * 1e3,
                    "tau_minus_triplet": float(rule.tau_y) * 1e3,
                },
            )
            for neuron, times in (
                (pre, np.r_[condition.pre, trigger] * 1e3),
                (post, condition.post * 1e3 - 0.1),
            ):
                generator = nest.Create(
                    "spike_generator", params={"spike_times": np.round(times - 1.0, 1).tolist()}
                )
                nest.Connect(generator, neuron, syn_spec={"delay": 1.0})
            nest.Connect(
                pre,
                post,
                syn_spec={
                    "synapse_model": "stdp_triplet_synapse",
                    "weight": 1.0,
                    "delay": 0.1,
                    "receptor_type": 1,
                    "tau_plus": float(rule.tau_plus) * 1e3,
                    "tau_plus_triplet": float(rule.tau_x) * 1e3,
                    "Aplus": rule.A2_plus,
                    "Aplus_triplet": float(values[0]),
                    "Aminus": float(values[1]),
                    "Aminus_triplet": rule.A3_minus,
                    "Wmax": 1e6,
                },
            )
            connections.append(nest.GetConnections(pre, post))
        nest.Simulate(trigger * 1e3 + 5.0)
        weights.append([c.get("weight") for c in connections])
    return time.perf_counter() - started, len(sets), np.array(weights, dtype=float)


if __name__ == "__main__":
    sys.exit(main())
