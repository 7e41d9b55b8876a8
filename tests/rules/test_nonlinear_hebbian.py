"""nonlinear-hebbian: agreement with the NumPy reference on every backend, and properties.

One network per backend holds every variant: rate-signal rules between spike-train populations
(5 presynaptic, 3 postsynaptic neurons, all-to-all, so the L2 normalisation acts on real
columns), and voltage-signal rules onto two subthreshold LIF neurons driven by constant currents
(no transmission), whose filtered voltage has a closed form. Weights are compared at every
update to rtol 1e-9 (the traces are exact at any dt; the LIF and its filter are integrated
exactly). dt-invariance: the same spike trains at dt = 0.1 and 0.05 ms give the same weights to
1e-9 with the rate signal, because the rule reads exact traces on its own update grid; with the
voltage signal to 2e-3 relative (the filtered voltage is read at the end of the update's time
step, ``t_k + dt``, an O(dt) shift).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from brian2 import Hz, ms, mV, pA, second

from spikeplast.backend import Session
from spikeplast.compose import Population, Projection
from spikeplast.errors import ConfigurationError, ParameterError
from spikeplast.neurons import LIF, SpikeTrains
from spikeplast.reference import nonlinear_hebbian
from spikeplast.rules import NonlinearHebbian, get_rule
from spikeplast.rules.nonlinear_hebbian import NONLINEARITIES, apply_nonlinearity
from spikeplast.testing import random_trains

RTOL = 1e-9
DT_S = 1e-4
END_S = 0.4
N_PRE, N_POST = 5, 3
LIF_CURRENTS = np.array([40.0, 80.0])  # pA: 4 and 8 mV above rest, below threshold (10 mV)
NEURON = LIF(synapse="current")


def rate_variants() -> dict[str, NonlinearHebbian]:
    return {
        "quadratic": NonlinearHebbian(eta=0.05, theta=0.5),
        # no normalisation, tight upper bound that is reached, coarse update grid
        "bcm_bounded": NonlinearHebbian(
            nonlinearity="bcm",
            normalization="none",
            eta=0.01,
            w_max=1.5,
            update_interval=2 * ms,
            tau_post=50 * ms,
        ),  # fmt: skip
        # negative changes (linear below theta) drive weights onto the lower bound
        "linear_floor": NonlinearHebbian(
            nonlinearity="linear", theta=3.0, eta=0.02, w_min=0.1, normalization="none"
        ),
        "cubic_norm2": NonlinearHebbian(nonlinearity="cubic", eta=1e-3, w_norm=2.0),
        "rectifier": NonlinearHebbian(
            nonlinearity="linear-rectifier", eta=0.05, rate_unit=20 * Hz, tau_pre=10 * ms
        ),
        # centred presynaptic rates: changes of both signs, the lower bound is reached
        "centred": NonlinearHebbian(eta=0.05, theta=0.5, pre_offset=40 * Hz),
    }


def voltage_variants() -> dict[str, NonlinearHebbian]:
    common = {"post_signal": "voltage", "v_offset": -60 * mV, "v_unit": 1 * mV}
    return {
        "v_quadratic": NonlinearHebbian(**common, theta=2.0, eta=0.01, tau_post=15 * ms),
        "v_bcm_none": NonlinearHebbian(
            **common,
            nonlinearity="bcm",
            theta=5.0,
            eta=0.002,
            normalization="none",
            tau_post=30 * ms,
        ),
    }


def filtered_voltage(rule: NonlinearHebbian):
    """Closed-form low-pass of a LIF's step response from rest: two cascaded filters."""
    tau_m = float(NEURON.C_m / NEURON.g_L)
    tau_f = float(rule.tau_post)
    amplitude = LIF_CURRENTS * 1e-12 / float(NEURON.g_L)

    def at(t: float) -> np.ndarray:
        shape = (tau_f * math.exp(-t / tau_f) - tau_m * math.exp(-t / tau_m)) / (tau_f - tau_m)
        return float(NEURON.E_L) + amplitude * (1.0 - shape)

    return at


def trains(dt_s: float = DT_S) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(7)
    pre = random_trains(rng, N_PRE, 40.0, END_S, DT_S)
    post = random_trains(rng, N_POST, 25.0, END_S, DT_S)
    pre[0] = np.r_[pre[0], 0.0][np.argsort(np.r_[pre[0], 0.0])]  # a spike at t = 0
    return pre, post


def initial_weights() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    return rng.uniform(0.2, 1.0, (N_PRE, N_POST)), rng.uniform(0.2, 1.0, (N_PRE, 2))


def simulate(backend: str, dt_s: float = DT_S, plastic: bool = True) -> dict[str, np.ndarray]:
    """Weights per step ``(steps, n_pre, n_post)`` of every variant."""
    pre, post = trains()
    w_rate, w_voltage = initial_weights()
    rate, voltage = rate_variants(), voltage_variants()
    projections = [
        Projection(name, "pre", "post", rule=rule, w_init=w_rate.ravel(), plastic=plastic)
        for name, rule in rate.items()
    ] + [
        Projection(name, "pre", "lif", rule=rule, receptor=None, w_init=w_voltage.ravel())
        for name, rule in voltage.items()
    ]
    with Session(backend, dt=dt_s * second, seed=1) as session:
        built = session.build(
            [
                Population("pre", SpikeTrains(pre)),
                Population("post", SpikeTrains(post)),
                Population("lif", NEURON, n=2, init={"I_ext": LIF_CURRENTS * pA}),
            ],
            projections,
        )
        monitors = {
            p.name: built.monitor(
                p.name,
                "w",
                record=np.arange(N_PRE * (N_POST if p.post == "post" else 2)),
                name=f"{p.name}_w",
            )
            for p in projections
        }
        session.run(END_S * second)
        result = {}
        for projection in projections:
            synapses = built.synapses[projection.name]
            i, j = np.asarray(synapses.i[:]), np.asarray(synapses.j[:])
            recorded = np.asarray(monitors[projection.name].w[:], dtype=float).T
            n_post = N_POST if projection.post == "post" else 2
            matrix = np.empty((recorded.shape[0], N_PRE, n_post))
            matrix[:, i, j] = recorded
            result[projection.name] = matrix
        return result


def reference(name: str, rule: NonlinearHebbian, dt_s: float = DT_S):
    pre, post = trains()
    w_rate, w_voltage = initial_weights()
    if rule.post_signal == "rate":
        return nonlinear_hebbian(rule, pre, post, w_rate, dt=dt_s, end=END_S)
    return nonlinear_hebbian(
        rule, pre, [[], []], w_voltage, dt=dt_s, end=END_S, filtered_voltage=filtered_voltage(rule)
    )


def worst_relative_error(weights: np.ndarray, expected, dt_s: float) -> float:
    steps = np.round(expected.times / dt_s).astype(int)
    got = weights[steps]
    return float(
        np.max(np.abs(got - expected.weights) / np.maximum(np.abs(expected.weights), 1e-3))
    )


@pytest.fixture(scope="module")
def numpy_run() -> dict[str, np.ndarray]:
    return simulate("numpy")


def test_agrees_with_reference(backend):
    weights = simulate(backend)
    variants = {**rate_variants(), **voltage_variants()}
    errors = {
        name: worst_relative_error(weights[name], reference(name, rule), DT_S)
        for name, rule in variants.items()
    }
    assert max(errors.values()) < RTOL, errors


def test_variants_exercise_bounds_and_normalisation(numpy_run):
    """The test cases are not vacuous: bounds are hit and normalised columns have the norm."""
    variants = rate_variants()
    assert np.any(numpy_run["bcm_bounded"][-1] == 1.5)
    assert np.any(numpy_run["linear_floor"][-1] == 0.1)
    assert np.all(numpy_run["linear_floor"] >= 0.1) and np.all(numpy_run["bcm_bounded"] <= 1.5)
    assert np.any(numpy_run["centred"][-1] == 0.0) and np.all(numpy_run["centred"] >= 0.0)
    for name in ("quadratic", "cubic_norm2", "rectifier"):
        final = numpy_run[name][-1]
        assert not np.allclose(final, numpy_run[name][0]), name
        # one Hebbian step after the last normalisation: norms close to w_norm
        assert np.allclose(np.linalg.norm(final, axis=0), variants[name].w_norm, rtol=0.05), name


def test_normalisation_alone_sets_the_norm():
    rule = NonlinearHebbian(eta=0.0, w_norm=0.7)
    pre, post = trains()
    w_rate, _ = initial_weights()
    with Session("numpy", dt=DT_S * second) as session:
        built = session.build(
            [Population("pre", SpikeTrains(pre)), Population("post", SpikeTrains(post))],
            [Projection("x", "pre", "post", rule=rule, w_init=w_rate.ravel())],
        )
        session.run(5 * ms)
        synapses = built.synapses["x"]
        matrix = np.zeros((N_PRE, N_POST))
        matrix[np.asarray(synapses.i[:]), np.asarray(synapses.j[:])] = synapses.w[:]
    assert np.allclose(np.linalg.norm(matrix, axis=0), 0.7, rtol=1e-12)
    assert np.allclose(matrix / matrix.sum(axis=0), w_rate / w_rate.sum(axis=0))


def test_dt_invariance(numpy_run):
    """Same trains at half the time step: the same weights on the update grid."""
    fine = simulate("numpy", dt_s=DT_S / 2)
    for name, rule in {**rate_variants(), **voltage_variants()}.items():
        grid = np.arange(0, END_S, float(rule.update_interval))
        coarse_steps = np.round(grid / DT_S).astype(int)
        fine_steps = np.round(grid / (DT_S / 2)).astype(int)
        a, b = numpy_run[name][coarse_steps], fine[name][fine_steps]
        tolerance = 1e-9 if rule.post_signal == "rate" else 2e-3
        assert np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-3)) < tolerance, name


def test_frozen_plasticity_changes_nothing():
    weights = simulate("numpy", plastic=False)
    w_rate, _ = initial_weights()
    for name in rate_variants():
        assert np.array_equal(weights[name][-1], w_rate), name


def test_nonlinearities_in_numpy():
    u = np.array([-1.0, 0.5, 1.0, 3.0])
    assert np.array_equal(apply_nonlinearity("quadratic-rectifier", u, 1.0), [0, 0, 0, 4])
    assert np.array_equal(apply_nonlinearity("linear-rectifier", u, 1.0), [0, 0, 0, 2])
    assert np.array_equal(apply_nonlinearity("bcm", u, 1.0), [2, -0.25, 0, 6])
    assert np.array_equal(apply_nonlinearity("cubic", u, 0.0), u**3)
    assert np.array_equal(apply_nonlinearity("linear", u, 1.0), u - 1)
    assert set(NONLINEARITIES) == set(
        NonlinearHebbian.__dataclass_fields__["nonlinearity"].metadata["choices"]
    )
    with pytest.raises(ParameterError, match="unknown nonlinearity 'tanh'"):
        apply_nonlinearity("tanh", u)


def test_voltage_signal_needs_a_membrane():
    pre, post = trains()
    rule = NonlinearHebbian(post_signal="voltage")
    with Session("numpy", dt=DT_S * second) as session:
        with pytest.raises(ConfigurationError, match="needs a postsynaptic neuron with voltage"):
            session.build(
                [Population("pre", SpikeTrains(pre)), Population("post", SpikeTrains(post))],
                [Projection("x", "pre", "post", rule=rule)],
            )


def test_bad_parameters():
    with pytest.raises(ParameterError, match="w_min must be 0 or more"):
        NonlinearHebbian(w_min=-1.0).validate()
    with pytest.raises(ParameterError, match="'nonlinearity' must be one of"):
        NonlinearHebbian(nonlinearity="tanh").validate()
    with pytest.raises(ParameterError, match="'tau_pre' must have the unit"):
        NonlinearHebbian(tau_pre=20).validate()


def test_parameter_sets():
    rule = get_rule("brito2016-rf-spiking")
    assert isinstance(rule, NonlinearHebbian)
    assert rule.normalization == "l2" and rule.nonlinearity == "quadratic-rectifier"
