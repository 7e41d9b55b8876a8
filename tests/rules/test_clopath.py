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


def test_lif_neuron_matches_reference():
    """The rule runs on any neuron with a voltage; on the lead's LIF (Euler, conductance synapses)
    the spike is not visible in v (immediate reset), so only depression acts (here while the
    membrane relaxes after the reset at -55 mV, above theta_minus = -58 mV)."""
    pre, post = trains(seed=9, count=4)
    neuron = get_neuron("lif", V_reset=-55 * mV, t_ref=2 * ms)
    rules = {"clopath_lif": ClopathSTDP(A_LTD=1e-2 / mV, theta_minus=-58 * mV)}
    weights = simulate_voltage_rules(rules, neuron, pre, post, "numpy", duration=620 * ms)
    assert_matches_reference(weights, rules, neuron, pre, post, 0.62)
    assert np.all(weights["clopath_lif"][-1] <= 1.0) and weights["clopath_lif"][-1].min() < 0.99


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
    less than 1 % of its size (measured 0.36 % and 0.20 %; the neuron's Euler integration and the
    one-step end of the clamp dominate)."""
    pre = [np.arange(5) * 0.02 + 0.05, np.arange(5) * 0.1 + 0.06]
    post = [p + 0.01 for p in pre[:1]] + [pre[1] - 0.01]
    neuron = get_neuron("clopath2010-adex")
    rule = get_rule("clopath2010-visual")
    changes = [simulate(rule, neuron, pre, post, dt, 0.6).weights[-1] - 1.0 for dt in (1e-4, 5e-5)]
    assert changes[0][0] > 0.01 and changes[0][1] < -0.01  # LTP at 50 Hz, LTD at 10 Hz
    np.testing.assert_allclose(changes[1], changes[0], rtol=0.01)


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


# --------------------------------------------------------------------------------------------
# NEST cross-check
# --------------------------------------------------------------------------------------------
#: Spike trains (ms) of NEST's own clopath_synapse test (testsuite/pytests/synapses).
NEST_PRE_MS = [
    [29.0, 129.0, 229.0, 329.0, 429.0],
    [29.0, 62.3, 95.7, 129.0, 162.3],
    [29.0, 49.0, 69.0, 89.0, 109.0],
    [129.0, 229.0, 329.0, 429.0, 529.0, 629.0],
    [62.3, 95.6, 129.0, 162.3, 195.6, 229.0],
    [49.0, 69.0, 89.0, 109.0, 129.0, 149.0],
]
NEST_POST_MS = [
    [19.0, 119.0, 219.0, 319.0, 419.0],
    [19.0, 52.3, 85.7, 119.0, 152.3],
    [19.0, 39.0, 59.0, 79.0, 99.0],
    [139.0, 239.0, 339.0, 439.0, 539.0, 639.0],
    [72.3, 105.6, 139.0, 172.3, 205.6, 239.0],
    [59.0, 79.0, 99.0, 119.0, 139.0, 159.0],
]
NEST_NEURON = {
    "V_m": -70.6, "E_L": -70.6, "V_peak": 33.0, "C_m": 281.0, "theta_minus": -70.6,
    "theta_plus": -45.3, "A_LTD": 14.0e-5, "A_LTP": 8.0e-5, "tau_u_bar_minus": 10.0,
    "tau_u_bar_plus": 7.0, "delay_u_bars": 4.0, "a": 4.0, "b": 0.0805, "V_reset": -49.6,
    "V_clamp": 33.0, "t_clamp": 2.0, "t_ref": 0.0,
}  # fmt: skip


def nest_clopath_runs(w0: float):
    """NEST ``aeif_psc_delta_clopath`` + ``clopath_synapse`` on its test's trains: final weights,
    and the presynaptic (parrot) and postsynaptic spike times it produced (seconds)."""
    nest = pytest.importorskip("nest")
    nest.verbosity = nest.VerbosityLevel.ERROR
    weights, pre_times, post_times = [], [], []
    for pre_ms, post_ms in zip(NEST_PRE_MS, NEST_POST_MS, strict=True):
        nest.ResetKernel()
        nest.resolution = 0.1
        neuron = nest.Create("aeif_psc_delta_clopath", 1, NEST_NEURON)
        parrot = nest.Create("parrot_neuron")
        drive_pre = nest.Create("spike_generator", params={"spike_times": pre_ms})
        drive_post = nest.Create("spike_generator", params={"spike_times": post_ms})
        nest.Connect(drive_pre, parrot, syn_spec={"delay": 0.1})
        nest.Connect(drive_post, neuron, syn_spec={"delay": 0.1, "weight": 80.0})
        spikes_pre, spikes_post = nest.Create("spike_recorder"), nest.Create("spike_recorder")
        nest.Connect(parrot, spikes_pre)
        nest.Connect(neuron, spikes_post)
        nest.Connect(
            parrot,
            neuron,
            syn_spec={"synapse_model": "clopath_synapse", "weight": w0, "delay": 0.1},
        )
        nest.Simulate(10.0 + max(pre_ms[-1], post_ms[-1]))
        weights.append(nest.GetConnections(parrot, neuron).get("weight"))
        pre_times.append(np.asarray(spikes_pre.events["times"]) * 1e-3)
        post_times.append(np.asarray(spikes_post.events["times"]) * 1e-3)
    return np.asarray(weights, dtype=float), pre_times, post_times


@pytest.mark.nest
@pytest.mark.slow
def test_close_to_nest_clopath_synapse():
    """Same neuron parameters as NEST's test (V_clamp = V_peak = 33 mV, V_th_max = +30.4 mV as
    NEST's default, 4-ms read delay). NEST's weights change only when a presynaptic spike is
    delivered, so ours are read at the last presynaptic spike. Measured agreement: 2-7 % of each
    weight change, the rest is the neuron (NEST applies the spike's jumps at detection and
    integrates with adaptive RKF45; clopath-adex at the end of the clamp, with Euler)."""
    from brian2 import pA

    w0 = 0.5
    nest_weights, pre, post = nest_clopath_runs(w0)
    normalised = 100 * 15 * (nest_weights - w0) / w0 + 100
    np.testing.assert_allclose(  # NEST's own regression values, i.e. the run is the tested one
        normalised, [57.82638722, 72.16730112, 149.43359357, 103.30408341, 124.03640668,
                     157.02882555], rtol=1e-7,
    )  # fmt: skip
    neuron = get_neuron(
        "clopath2010-adex", V_peak=33 * mV, V_clamp=33 * mV, V_reset=-49.6 * mV,
        V_T_max=30.4 * mV, b=0.0805 * pA,
    )  # fmt: skip
    rule = get_rule("clopath2010-visual", delay=4 * ms)
    # our presynaptic spike at the parrot's spike (NEST reads the filters there); the pulse one
    # step before NEST's registered postsynaptic spike, so that both clamp from the same step
    ours = simulate_voltage_rules(
        {"clopath": rule}, neuron, pre, [t - DT_S for t in post], "numpy", w0=w0,
        duration=0.7 * 1e3 * ms,
    )["clopath"]  # fmt: skip
    at_last_pre = np.array([ours[int(round(p[-1] / DT_S)), k] for k, p in enumerate(pre)])
    change = nest_weights - w0
    np.testing.assert_array_less(np.abs(at_last_pre - nest_weights), 0.08 * np.abs(change) + 5e-4)


@pytest.mark.slow
def test_sjostrom_frequency_dependence_against_the_data():
    """clopath2010-visual on its paper's Sjöström protocol (15 bursts of 5 pairings every 10 s,
    50 pairings at 0.1 Hz; w0 = 0.5; the authors' AdEx forced by current pulses), dt = 0.1 ms.
    Measured (dw %, +10 ms / -10 ms at 0.1, 10, 20, 40, 50 Hz): 0.0, 2.6, 13.8, 42.4, 60.1 /
    -26.3, -40.5, -40.7, 1.8, 42.1; data: -4, 14, 29, 53, 56 / -29, -41, -34, 56, 75. Every point
    within 2 SEM, mean ((model - data)/SEM)^2 about 1.05; the authors' own 1-ms code gives 17.8 and
    73.6 for post-pre at 40 and 50 Hz: the difference is their 1-ms discretisation (their
    presynaptic trace lags by two steps), not the rule."""
    from spikeplast.data import compare, load_dataset
    from spikeplast.protocols import run_protocol, sjostrom

    result = run_protocol(get_rule("clopath2010-visual"), sjostrom(convention="clopath2010"))
    assert result.w0 == 0.5 and result.post_neuron.kind == "clopath-adex"
    comparison = compare(result.rows, load_dataset("sjostrom2001"))
    assert comparison.matched == 10 and comparison.error < 1.5
    for row in comparison.rows:
        assert abs(row["dw_percent"] - row["data_dw_percent"]) < 2 * row["data_sem_percent"], row
    by = {(r["freq_hz"], r["dt_ms"]): r["dw_percent"] for r in result.rows}
    causal = [by[(f, 10.0)] for f in (0.1, 10.0, 20.0, 40.0, 50.0)]
    assert all(b > a for a, b in zip(causal[1:], causal[2:], strict=False))  # LTP grows with rate
    assert abs(by[(0.1, 10.0)]) < 1 and by[(50.0, 10.0)] > 40
    assert all(by[(f, -10.0)] < -20 for f in (0.1, 10.0, 20.0)) and by[(50.0, -10.0)] > 20
