"""Izhikevich neurons: Brian2 against an independent forward-Euler NumPy loop, receptors, sets."""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import ms, mV, second

from spikeplast.backend import Session
from spikeplast.compose import Population, Projection
from spikeplast.errors import ConfigurationError, ParameterError
from spikeplast.neurons import NEURON_MODELS, Izhikevich, SpikeTrains, get_neuron


def euler_spike_times(neuron: Izhikevich, current_mv: float, duration_s: float, dt_s: float):
    """Forward Euler of the 2003 model in mV and ms, written out by hand."""
    a, b = float(neuron.a) * 1e-3, neuron.b  # per ms
    c, d, peak = (float(x) * 1e3 for x in (neuron.c, neuron.d, neuron.v_peak))
    h = dt_s * 1e3
    v, u = c, b * c
    spikes = []
    for step in range(int(round(duration_s / dt_s))):
        v, u = v + h * (0.04 * v * v + 5 * v + 140 - u + current_mv), u + h * a * (b * v - u)
        if v >= peak:
            spikes.append(step * dt_s)
            v, u = c, u + d
    return np.array(spikes)


def brian_spike_times(neurons: dict[str, Izhikevich], current_mv: float, duration_s: float):
    with Session("numpy", dt=0.1 * ms) as session:
        built = session.build(
            [
                Population(name, model, n=1, init={"I_ext": current_mv * mV})
                for name, model in neurons.items()
            ],
            [],
        )
        monitors = {name: built.spike_monitor(name) for name in neurons}
        session.run(duration_s * second)
        return {name: np.asarray(m.t / second) for name, m in monitors.items()}


def test_matches_forward_euler_reference():
    neurons = {"rs": get_neuron("izhikevich2003-rs"), "fs": get_neuron("izhikevich2003-fs")}
    got = brian_spike_times(neurons, 10.0, 0.5)
    for name, neuron in neurons.items():
        expected = euler_spike_times(neuron, 10.0, 0.5, 1e-4)
        assert abs(got[name].size - expected.size) <= 1 and expected.size > 3, name
        # rounding differences (SI units vs mV) shift threshold crossings by a step now and then
        np.testing.assert_allclose(got[name][:10], expected[:10], atol=1.5e-4, err_msg=name)
        count = min(got[name].size, expected.size)
        np.testing.assert_allclose(got[name][:count], expected[:count], atol=1e-3, err_msg=name)
    # fast-spiking cells fire faster than regular-spiking ones for the same input
    assert got["fs"].size > got["rs"].size


def test_delta_receptors_jump_the_voltage():
    with Session("numpy", dt=0.1 * ms) as session:
        built = session.build(
            [
                Population("pre", SpikeTrains([[0.0050]])),
                Population("cell", get_neuron("izhikevich2003-rs"), n=2),
            ],
            [
                Projection(
                    "exc",
                    "pre",
                    "cell",
                    receptor="exc",
                    weight_scale=5 * mV,
                    connect={"i": [0], "j": [0]},
                ),
                Projection(
                    "inh",
                    "pre",
                    "cell",
                    receptor="inh",
                    weight_scale=5 * mV,
                    connect={"i": [0], "j": [1]},
                ),
            ],
        )
        voltage = built.monitor("cell", "v")
        session.run(8 * ms)
        v = np.asarray(voltage.v / mV)
    step = 50  # the spike at 5 ms is transmitted in that step, after the state update
    np.testing.assert_allclose(v[0, step] - v[0, step - 1], 5.0, atol=0.05)
    np.testing.assert_allclose(v[1, step] - v[1, step - 1], -5.0, atol=0.05)


def test_current_synapses_and_registry():
    assert NEURON_MODELS["izhikevich"] is Izhikevich
    neuron = get_neuron("izhikevich", synapse="current")
    assert set(neuron.receptors()) == {"exc", "inh"}
    assert "dI_exc/dt" in neuron.equations()
    with pytest.raises(ParameterError, match="reset c must be below v_peak"):
        get_neuron("izhikevich", c=40 * mV)
    wrong_unit = pytest.raises(ConfigurationError, match="weight_scale must have the unit")
    with Session("numpy") as session, wrong_unit:
        session.build(
            [Population("pre", SpikeTrains([[0.001]])), Population("cell", neuron, n=1)],
            [Projection("p", "pre", "cell", weight_scale=1 * ms)],
        )
