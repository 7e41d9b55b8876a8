"""Runs three-factor rules on spike trains with a modulator population, for the rule tests."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
from brian2 import ms, second
from brian2.units.fundamentalunits import Quantity

from spikeplast.backend import Session
from spikeplast.compose import Population, Projection
from spikeplast.neurons import NeuronModel, SpikeTrains
from spikeplast.reference import Trajectory
from spikeplast.rule import Rule


def simulate_modulated(
    rules: Mapping[str, Rule],
    pre_trains: Sequence[np.ndarray],
    post_trains: Sequence[np.ndarray],
    modulator: NeuronModel,
    backend: str,
    duration_s: float,
    dt: Quantity = 0.1 * ms,
    w0: float = 1.0,
    variables: Sequence[str] = ("w",),
    frozen: Collection[str] = (),
    own_modulators: Mapping[str, NeuronModel] | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Each rule on synapses ``pre_k -> post_k`` modulated by `modulator` (or by its own
    population in `own_modulators`); every variable recorded at every step (after the step's
    updates), as ``(steps, synapses)`` arrays."""
    own_modulators = dict(own_modulators or {})
    with Session(backend, dt=dt, seed=1) as session:
        built = session.build(
            [
                Population("pre", SpikeTrains(pre_trains)),
                Population("post", SpikeTrains(post_trains)),
                Population("modulator", modulator),
                *(Population(f"modulator_{name}", model) for name, model in own_modulators.items()),
            ],
            [
                Projection(
                    name,
                    "pre",
                    "post",
                    rule=rule,
                    connect="one-to-one",
                    w_init=w0,
                    modulator=f"modulator_{name}" if name in own_modulators else "modulator",
                    plastic=name not in frozen,
                )
                for name, rule in rules.items()
            ],
        )
        indices = np.arange(len(pre_trains))
        monitors = {
            name: built.monitor(name, list(variables), record=indices, name=f"{name}_w")
            for name in rules
        }
        session.run(duration_s * second)
        return {
            name: {v: np.asarray(getattr(m, v)[:], dtype=float).T.copy() for v in variables}
            for name, m in monitors.items()
        }


def worst_deviation(
    trajectory: Trajectory, recorded: np.ndarray, dt_s: float
) -> tuple[float, float, int]:
    """Largest relative (against max(|w|, 1e-3)) and absolute deviation at the reference's times,
    and the number of compared points."""
    times, expected = trajectory.at_times()
    steps = np.round(times / dt_s).astype(int)
    inside = steps < recorded.size
    got = recorded[steps[inside]]
    absolute = np.abs(got - expected[inside])
    relative = absolute / np.maximum(np.abs(expected[inside]), 1e-3)
    if not absolute.size:
        return 0.0, 0.0, 0
    return float(relative.max()), float(absolute.max()), int(absolute.size)
