"""Shared checks for plasticity rules: Brian2 runs against the event-driven references.

Rule authors use these in their tests (``tests/rules/test_<rule>.py``)::

    from spikeplast.testing import check_against_reference, edge_case_trains, random_trains
    check_against_reference({"mine": MyRule()}, backend="numpy")

A check runs every rule of a mapping as its own projection between the same two spike-train
populations (one synapse per pre/post train pair), records the weights at every time step, and
compares them with the reference at every spike time. Putting all rules in one network tests the
sharing of neuron-side state and costs one compilation per backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from brian2 import coulomb, ms, second
from brian2.units.fundamentalunits import Quantity

from .backend import Session
from .compose import Population, Projection
from .neurons import NeuronModel, SpikeTrains
from .reference import reference_for
from .rule import Rule

__all__ = [
    "random_trains",
    "edge_case_trains",
    "simulate_rules_on_trains",
    "simulate_voltage_rules",
    "check_against_reference",
    "AgreementReport",
]


def random_trains(
    rng: np.random.Generator,
    count: int,
    rate_hz: float,
    duration_s: float,
    dt_s: float,
    start_s: float = 0.0,
) -> list[np.ndarray]:
    """Poisson spike trains on the time grid (at most one spike per step), times in seconds."""
    steps = int(round(duration_s / dt_s))
    first = int(round(start_s / dt_s))
    trains = []
    for _ in range(count):
        fired = rng.random(steps) < rate_hz * dt_s
        trains.append((np.flatnonzero(fired) + first) * dt_s)
    return trains


def edge_case_trains(dt_s: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Hand-made pre/post train pairs with coincident and adjacent spikes, bursts and gaps.

    Returns ``(pre_trains, post_trains)``; pair ``k`` exercises one situation:

    0. coincident pre and post spikes (Δt = 0), repeated
    1. post one time step after pre, and pre one step after post
    2. pre bursts and a single post between them
    3. post bursts around a single pre
    4. a pre-post pair after a long silence (traces decayed to ~0), then a coincidence
    5. only presynaptic spikes
    6. only postsynaptic spikes
    7. the NEST test sequence (pre 1,5,6,7,9,11,12,13 ms; post 2,3,4,8,9,10,12 ms)
    """
    steps_per_ms = int(round(1e-3 / dt_s))

    def ms_to_s(values: Sequence[float]) -> np.ndarray:
        return np.round(np.asarray(values, dtype=float) * steps_per_ms) * dt_s

    pairs = [
        ([10, 30, 50, 70], [10, 30, 50, 70]),
        ([10, 30.1, 60, 80], [10.1, 30, 60.1, 79.9]),
        ([10, 12, 14, 40, 42, 44], [20, 50]),
        ([30], [10, 12, 14, 40, 42, 44]),
        ([5, 2005, 2010], [6, 2008, 2010]),
        ([10, 20, 30, 40], []),
        ([], [10, 20, 30, 40]),
        ([1, 5, 6, 7, 9, 11, 12, 13], [2, 3, 4, 8, 9, 10, 12]),
    ]
    pre = [ms_to_s(p) for p, _ in pairs]
    post = [ms_to_s(q) for _, q in pairs]
    return pre, post


def simulate_rules_on_trains(
    rules: Mapping[str, Rule],
    pre_trains: Sequence[np.ndarray],
    post_trains: Sequence[np.ndarray],
    backend: str,
    dt: Quantity = 0.1 * ms,
    w0: float = 1.0,
    seed: int = 1,
    trace_storage: str = "clock",
    weight_dtype: str = "float64",
    delay: Quantity | None = None,
    plasticity_at: str = "soma",
) -> dict[str, np.ndarray]:
    """Run each rule on synapses ``pre_k -> post_k``; return weights per step, ``(steps, k)``."""
    if len(pre_trains) != len(post_trains):
        raise ValueError("need as many presynaptic as postsynaptic trains")
    last = max((float(t[-1]) for t in [*pre_trains, *post_trains] if len(t)), default=0.0)
    duration = last + 2 * float(dt / second) + (float(delay / second) if delay else 0.0)
    with Session(backend, dt=dt, seed=seed, trace_storage=trace_storage) as session:
        built = session.build(
            [
                Population("pre", SpikeTrains(pre_trains)),
                Population("post", SpikeTrains(post_trains)),
            ],
            [
                Projection(
                    name,
                    "pre",
                    "post",
                    rule=rule,
                    connect="one-to-one",
                    w_init=w0,
                    weight_dtype=weight_dtype,
                    delay=delay,
                    plasticity_at=plasticity_at,
                )
                for name, rule in rules.items()
            ],
        )
        synapse_indices = np.arange(len(pre_trains))
        monitors = {
            name: built.monitor(name, "w", record=synapse_indices, name=f"{name}_w")
            for name in rules
        }
        session.run(duration * second)
        return {
            name: np.asarray(monitor.w[:], dtype=float).T.copy()
            for name, monitor in monitors.items()
        }


@dataclass
class AgreementReport:
    """Largest deviation of a Brian2 run from the reference, over all spike times and synapses.

    The relative error is taken against ``max(|expected|, 1e-3)``, so weights at a zero bound
    are compared in absolute terms.
    """

    rule: str
    max_relative_error: float
    max_absolute_error: float
    compared_points: int
    worst: str


def compare_with_reference(
    name: str,
    rule: Rule,
    pre_trains: Sequence[np.ndarray],
    post_trains: Sequence[np.ndarray],
    weights: np.ndarray,
    dt_s: float,
    w0: float = 1.0,
) -> AgreementReport:
    """Compare recorded weights (steps × synapses) with the reference at every spike time."""
    reference = reference_for(rule.kind)
    worst_rel, worst_abs, points, worst = 0.0, 0.0, 0, "exact agreement"
    for k, (pre, post) in enumerate(zip(pre_trains, post_trains, strict=True)):
        times, expected = reference(rule, pre, post, w0).at_times()
        if times.size == 0:
            if not np.all(weights[:, k] == w0):
                raise AssertionError(f"{name}: synapse {k} changed without spikes")
            continue
        steps = np.round(times / dt_s).astype(int)
        got = weights[steps, k]
        absolute = np.abs(got - expected)
        # relative error, measured against 1e-3 for weights that are (nearly) zero
        relative = absolute / np.maximum(np.abs(expected), 1e-3)
        index = int(np.argmax(relative))
        if relative[index] > worst_rel:
            worst = (
                f"synapse {k}, t = {times[index] * 1e3:.4g} ms: brian {got[index]!r} vs "
                f"reference {expected[index]!r}"
            )
        worst_rel = max(worst_rel, float(relative.max()))
        worst_abs = max(worst_abs, float(absolute.max()))
        points += times.size
    return AgreementReport(name, worst_rel, worst_abs, points, worst)


def check_against_reference(
    rules: Mapping[str, Rule],
    backend: str,
    pre_trains: Sequence[np.ndarray] | None = None,
    post_trains: Sequence[np.ndarray] | None = None,
    dt: Quantity = 0.1 * ms,
    w0: float = 1.0,
    rtol: float = 1e-9,
    trace_storage: str = "clock",
    weight_dtype: str = "float64",
    delay: Quantity | None = None,
    plasticity_at: str = "soma",
) -> list[AgreementReport]:
    """Run `rules` on `backend` and assert agreement with the references to `rtol`.

    Without trains, uses :func:`edge_case_trains` plus 8 random 40-Hz pairs of 1 s. With
    ``plasticity_at="arrival"`` and a `delay`, the references see the presynaptic trains
    shifted by the delay (rounded to the time grid), which is what plasticity at the synapse
    means.
    """
    dt_s = float(dt / second)
    if pre_trains is None or post_trains is None:
        pre_trains, post_trains = edge_case_trains(dt_s)
        rng = np.random.default_rng(12345)
        pre_trains = pre_trains + random_trains(rng, 8, 40.0, 1.0, dt_s)
        post_trains = post_trains + random_trains(rng, 8, 40.0, 1.0, dt_s)
    weights = simulate_rules_on_trains(
        rules,
        pre_trains,
        post_trains,
        backend,
        dt,
        w0,
        trace_storage=trace_storage,
        weight_dtype=weight_dtype,
        delay=delay,
        plasticity_at=plasticity_at,
    )
    seen_pre = pre_trains
    if plasticity_at == "arrival" and delay is not None:
        shift = round(float(delay / second) / dt_s) * dt_s
        seen_pre = [np.asarray(train) + shift for train in pre_trains]
    reports = [
        compare_with_reference(name, rule, seen_pre, post_trains, weights[name], dt_s, w0)
        for name, rule in rules.items()
    ]
    failures = [r for r in reports if r.max_relative_error > rtol]
    if failures:
        lines = [
            f"{r.rule}: max relative error {r.max_relative_error:.3g} ({r.worst})" for r in failures
        ]
        raise AssertionError(f"{backend}: disagreement with the reference:\n" + "\n".join(lines))
    return reports


def simulate_voltage_rules(
    rules: Mapping[str, Rule],
    neuron: NeuronModel,
    pre_trains: Sequence[np.ndarray],
    post_trains: Sequence[np.ndarray],
    backend: str,
    dt: Quantity = 0.1 * ms,
    w0: float = 1.0,
    duration: Quantity | None = None,
    pulse_charge: Quantity | None = None,
    weight_scale: Quantity | None = None,
    extra: Sequence[tuple[str, Rule]] = (),
) -> dict[str, np.ndarray]:
    """Run voltage rules on synapses ``pre_k -> neuron_k``; return weights per step ``(steps, k)``.

    Neuron ``k`` is forced to spike at ``post_trains[k]`` by one-step current pulses (as the
    protocols do). Without `weight_scale` presynaptic spikes drive plasticity only; with it, every
    projection transmits ``w*weight_scale`` to the neuron's ``exc`` receptor. `extra` adds
    spike-timing rules (kind, rule) on further projections from the same presynaptic trains, to
    check that rules sharing a neuron do not interfere.
    """
    from .protocols import _add_current_pulses

    step = float(dt / second)
    if duration is None:
        last = max((float(t[-1]) for t in [*pre_trains, *post_trains] if len(t)), default=0.0)
        duration = (last + 2 * step) * second
    receptor = "exc" if weight_scale is not None else None
    everything = {**rules, **dict(extra)}
    with Session(backend, dt=dt) as session:
        built = session.build(
            [
                Population("pre", SpikeTrains(pre_trains)),
                Population("post", neuron, n=len(post_trains)),
                Population("post_driver", SpikeTrains([np.asarray(t) - step for t in post_trains])),
            ],
            [
                Projection(
                    name,
                    "pre",
                    "post",
                    rule=rule,
                    connect="one-to-one",
                    w_init=w0,
                    receptor=receptor,
                    weight_scale=weight_scale,
                )
                for name, rule in everything.items()
            ],
        )
        _add_current_pulses(
            built,
            "post_driver",
            "post",
            pulse_charge if pulse_charge is not None else 1e-9 * coulomb,
            dt,
        )
        indices = np.arange(len(pre_trains))
        monitors = {
            name: built.monitor(name, "w", record=indices, name=f"{name}_w") for name in everything
        }
        spikes = built.spike_monitor("post")
        session.run(duration)
        result = {
            name: np.asarray(monitor.w[:], dtype=float).T.copy()
            for name, monitor in monitors.items()
        }
        result["post_spikes"] = np.column_stack(
            [np.asarray(spikes.i[:]), np.asarray(spikes.t[:] / second)]
        )
        return result
