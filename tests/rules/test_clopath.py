"""Clopath et al. (2010) voltage-based STDP.

* Agreement with the fine-dt NumPy reference (:mod:`spikeplast.reference.voltage`), which
  integrates the same neuron and rule equations in the same order within a step: every weight at
  every step, on every backend, to 1e-9 relative (measured: ~1e-15 absolute on numpy).
* dt-invariance, no change without presynaptic spikes, bounds, bad input.
* One neuron receiving a Clopath, a triplet and an inhibitory-STDP projection at once.
* The Sjöström frequency dependence (slow) and an optional cross-check with NEST (slow, nest).
"""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import Hz, ms, mV

from spikeplast.errors import ConfigurationError
from spikeplast.neurons import get_neuron
from spikeplast.reference import reference_for
from spikeplast.reference.voltage import simulate
from spikeplast.rules import ClopathSTDP, TripletSTDP, VogelsISTDP, get_rule
from spikeplast.testing import random_trains, simulate_rules_on_trains, simulate_voltage_rules

RTOL = 1e-9
DT_S = 1e-4


def trains(seed: int = 3, count: int = 5, duration: float = 0.6):
    """Random 20-Hz pre and 15-Hz forced post trains plus hand-made cases: a pre-post pair at
    50 Hz (LTP), a post-pre pair (LTD), presynaptic spikes only, postsynaptic spikes only,
    coincident spikes."""
    rng = np.random.default_rng(seed)
    pre = random_trains(rng, count, 20.0, duration, DT_S, start_s=0.01)
    post = random_trains(rng, count, 15.0, duration, DT_S, start_s=0.01)
    pre += [
        np.array([0.10, 0.12, 0.14, 0.16]),
        np.array([0.11, 0.31]),
        np.array([0.05, 0.10, 0.15]),
        np.array([]),
        np.array([0.1, 0.2]),
    ]
    post += [
        np.array([0.11, 0.13, 0.15, 0.17]),
        np.array([0.10, 0.30]),
        np.array([]),
        np.array([0.05, 0.08]),
        np.array([0.1, 0.2]),
    ]
    return pre, post


def variants() -> dict:
    strong = {"A_LTD": 14e-3 / mV, "A_LTP": 8e-3 / mV**2}
    return {
        "visual": get_rule("clopath2010-visual"),
        "homeostatic": get_rule("clopath2010-homeostatic", tau_homeostasis=50 * ms),
        "bounded": ClopathSTDP(**strong, w_min=0.5, w_max=1.5),
        "no_delay": ClopathSTDP(**strong, delay=0 * ms, tau_x=30 * ms),
    }


def assert_matches_reference(weights, rules, neuron, pre, post, duration, **options):
    for name, rule in rules.items():
        expected = simulate(rule, neuron, pre, post, DT_S, duration, **options).weights
        np.testing.assert_allclose(weights[name], expected, rtol=RTOL, atol=1e-12, err_msg=name)


@pytest.mark.standalone
def test_matches_reference_on_every_backend(backend):
    pre, post = trains()
    neuron = get_neuron("clopath2010-adex")
    rules = variants()
    weights = simulate_voltage_rules(rules, neuron, pre, post, backend, duration=0.62 * 1e3 * ms)
    assert_matches_reference(weights, rules, neuron, pre, post, 0.62)
    changed = np.abs(weights["bounded"][-1] - 1.0)
    assert np.count_nonzero(changed > 1e-3) >= 6  # the trains do exercise the rule


def test_matches_reference_with_transmission():
    """The plastic synapse also drives the neuron (delta synapse): the rule sees the
    depolarisation it causes."""
    pre, post = trains(seed=8, count=4)
    neuron = get_neuron("clopath2010-adex")
    rules = {"visual_strong": ClopathSTDP(A_LTD=14e-3 / mV, A_LTP=8e-3 / mV**2)}
    weights = simulate_voltage_rules(
        rules, neuron, pre, post, "numpy", duration=620 * ms, weight_scale=8 * mV
    )
    assert_matches_reference(weights, rules, neuron, pre, post, 0.62, delta_weight=8e-3)


def test_no_change_without_presynaptic_spikes_and_tiny_change_at_rest():
    neuron = get_neuron("clopath2010-adex")
    rule = get_rule("clopath2010-visual")
    weights = simulate_voltage_rules(
        {"clopath": rule},
        neuron,
        [np.array([]), np.array([0.05, 0.1, 0.15, 0.2])],
        [np.array([0.05, 0.07, 0.09]), np.array([])],
        "numpy",
        duration=300 * ms,
    )["clopath"]
    assert np.all(weights[:, 0] == 1.0)  # postsynaptic spikes alone: exactly no change
    # presynaptic spikes onto a neuron at rest: only the AdEx's rest just above E_L = theta_minus
    assert np.abs(weights[-1, 1] - 1.0) < 1e-6


def test_dt_invariance():
    """Halving dt (0.1 -> 0.05 ms) changes the weight change of LTP- and LTD-dominated pairings by
    less than 2 % of its size (the neuron's Euler integration dominates the difference)."""
    pre = [np.arange(5) * 0.02 + 0.05, np.arange(5) * 0.1 + 0.06]
    post = [p + 0.01 for p in pre[:1]] + [pre[1] - 0.01]
    neuron = get_neuron("clopath2010-adex")
    rule = get_rule("clopath2010-visual")
    changes = [simulate(rule, neuron, pre, post, dt, 0.6).weights[-1] - 1.0 for dt in (1e-4, 5e-5)]
    assert changes[0][0] > 0.01 and changes[0][1] < -0.01  # LTP at 50 Hz, LTD at 10 Hz
    np.testing.assert_allclose(changes[1], changes[0], rtol=0.02)


def test_bounds_are_respected():
    pre, post = trains(seed=5, count=6, duration=1.0)
    neuron = get_neuron("clopath2010-adex")
    rule = ClopathSTDP(A_LTD=5e-2 / mV, A_LTP=5e-2 / mV**2, w_min=0.8, w_max=1.2)
    w = simulate_voltage_rules({"clopath": rule}, neuron, pre, post, "numpy")["clopath"]
    assert w.min() >= 0.8 and w.max() <= 1.2
    assert np.any(w == 0.8) and np.any(w == 1.2)


def test_bad_input_is_reported_clearly():
    with pytest.raises(ConfigurationError, match="postsynaptic neuron with voltage"):
        simulate_rules_on_trains(
            {"clopath": get_rule("clopath2010-visual")},
            [np.array([0.01])],
            [np.array([0.02])],
            backend="numpy",
        )
    with pytest.raises(ConfigurationError, match="multiple of the time step"):
        simulate_voltage_rules(
            {"clopath": ClopathSTDP(delay=0.25 * ms)},
            get_neuron("clopath2010-adex"),
            [np.array([0.01])],
            [np.array([0.02])],
            "numpy",
        )


def test_one_neuron_with_clopath_triplet_and_inhibitory_projections():
    """Three rules (two Clopath projections with shared filters, triplet STDP, inhibitory STDP
    whose 15-ms trace is the Clopath presynaptic trace) on one neuron: each projection matches its
    own reference, and every neuron-side variable exists once."""
    from brian2 import coulomb, second

    from spikeplast.backend import Session
    from spikeplast.compose import Population, Projection
    from spikeplast.neurons import SpikeTrains
    from spikeplast.protocols import _add_current_pulses

    pre, post = trains(seed=13, count=4)
    neuron = get_neuron("clopath2010-adex")
    clopath = get_rule("clopath2010-visual", A_LTD=14e-3 / mV, A_LTP=8e-3 / mV**2)
    others = {
        "triplet": get_rule("pfister2006-visual-aa-full"),
        "istdp": VogelsISTDP(tau=15 * ms, eta=0.01, rho0=5 * Hz),
        "triplet_nn": TripletSTDP(interaction="nearest"),
    }
    rules = {"clopath_a": clopath, "clopath_b": clopath, **others}
    with Session("numpy", dt=0.1 * ms) as session:
        built = session.build(
            [
                Population("pre", SpikeTrains(pre)),
                Population("post", neuron, n=len(post)),
                Population("driver", SpikeTrains([t - DT_S for t in post])),
            ],
            [
                Projection(name, "pre", "post", rule=rule, connect="one-to-one", receptor=None)
                for name, rule in rules.items()
            ],
        )
        _add_current_pulses(built, "driver", "post", 1e-9 * coulomb, 0.1 * ms)
        spikes = built.spike_monitor("post")
        session.run(620 * ms)
        weights = {name: built.weights(name) for name in rules}
        spike_i, spike_t = np.asarray(spikes.i[:]), np.asarray(spikes.t / second)
        post_variables = sorted(v for v in built.groups["post"].variables if not v.startswith("_"))
        pre_variables = sorted(v for v in built.groups["pre"].variables if not v.startswith("_"))
    expected = simulate(clopath, neuron, pre, post, DT_S, 0.62).weights[-1]
    np.testing.assert_allclose(weights["clopath_a"], expected, rtol=RTOL)
    np.testing.assert_array_equal(weights["clopath_a"], weights["clopath_b"])
    fired = [spike_t[spike_i == k] for k in range(len(post))]
    for k, times in enumerate(fired):
        np.testing.assert_allclose(times, post[k], atol=1e-9)  # forced spikes where asked
    for name, rule in others.items():
        final = [
            reference_for(rule.kind)(rule, p, q).final for p, q in zip(pre, fired, strict=True)
        ]
        final = [1.0 if np.isnan(f) else f for f in final]
        np.testing.assert_allclose(weights[name], final, rtol=RTOL, err_msg=name)
    filters = [v for v in post_variables if v.startswith("lowpass_v_") and "_d" not in v]
    assert filters == ["lowpass_v_10ms", "lowpass_v_7ms"]  # shared by both Clopath projections
    registers = [v for v in post_variables if v.startswith("lowpass_v_10ms_d")]
    assert len(registers) == 31  # one 3-ms delay line (30 steps + the current value)
    assert len([v for v in pre_variables if v == "trace_aa_15ms"]) == 1  # Clopath and iSTDP
    assert {"trace_aa_16p8ms", "trace_nn_16p8ms", "trace_aa_101ms"} <= set(pre_variables)
