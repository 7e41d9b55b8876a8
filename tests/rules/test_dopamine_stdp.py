"""dopamine-stdp: agreement with the event-driven reference on every backend, and properties.

The agreement test runs every variant as its own projection between the same spike-train
populations, modulated by one dopamine population (one compilation per backend), on the
hand-made edge cases (coincident and adjacent spikes, bursts, long gaps) and random 30-Hz trains,
with dopamine spikes that coincide with pre/post spikes, come in pairs in one step apart, and
fall in gaps. Weights are compared at every update (spikes, dopamine, periodic) to rtol 1e-9.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from brian2 import Hz, ms, mV, second
from modulated_harness import simulate_modulated, worst_deviation

from spikeplast.backend import Session
from spikeplast.compose import Population, Projection
from spikeplast.errors import ConfigurationError
from spikeplast.neurons import PoissonSource, SpikeTrains, get_neuron
from spikeplast.reference import dopamine_stdp
from spikeplast.rules import DopamineSTDP, PairSTDP, get_rule
from spikeplast.testing import edge_case_trains, random_trains

RTOL = 1e-9
DT_S = 1e-4
#: Dopamine spikes: coinciding with edge-case spikes (10, 30, 50 ms), one step apart, in a
#: long gap, and during the random trains.
DOPAMINE_S = [0.010, 0.030, 0.0301, 0.050, 0.35, 0.7, 0.7001, 1.2, 1.9, 2.0065]


def variants() -> dict:
    return {
        "nest": get_rule("izhikevich2007-nest-defaults"),
        "daspnet": get_rule("izhikevich2007-daspnet"),
        # tight bounds that are hit often, positive tonic dopamine, short periodic updates
        "aa_tonic_bounded": DopamineSTDP(
            A_plus=0.5,
            A_minus=0.6,
            d_tonic=2 * Hz,
            d_jump=20 * Hz,
            w_min=0.95,
            w_max=1.1,
            update_interval=5 * ms,
            tau_c=300 * ms,
            tau_minus=33.7 * ms,
        ),
        # negative tonic level (NEST b > 0), unbounded, coarse periodic updates
        "nn_negative_tonic": DopamineSTDP(
            interaction="nearest",
            d_tonic=-1 * Hz,
            w_min=-math.inf,
            update_interval=100 * ms,
            tau_d=50 * ms,
            tau_plus=16.8 * ms,
        ),
    }


def trains(dt_s: float = DT_S) -> tuple[list[np.ndarray], list[np.ndarray]]:
    pre, post = edge_case_trains(dt_s)
    rng = np.random.default_rng(2024)
    return (
        pre + random_trains(rng, 6, 30.0, 2.0, dt_s),
        post + random_trains(rng, 6, 30.0, 2.0, dt_s),
    )


def duration_s(pre, post) -> float:
    last = max(float(t[-1]) for t in [*pre, *post, np.array(DOPAMINE_S)] if len(t))
    return round(last + 0.02, 4)


@pytest.mark.standalone
def test_dopamine_stdp_matches_reference(backend):
    pre, post = trains()
    duration = duration_s(pre, post)
    rules = variants()
    recorded = simulate_modulated(
        {**rules, "frozen": rules["nest"]},
        pre,
        post,
        SpikeTrains([DOPAMINE_S]),
        backend,
        duration,
        frozen={"frozen"},
    )
    end = duration - DT_S
    for name, rule in rules.items():
        compared = 0
        for k, (p, q) in enumerate(zip(pre, post, strict=True)):
            expected = dopamine_stdp(rule, p, q, 1.0, modulator_times=DOPAMINE_S, end=end)
            relative, absolute, points = worst_deviation(expected, recorded[name]["w"][:, k], DT_S)
            assert relative < RTOL, f"{backend} {name} synapse {k}: {relative:.3g} ({absolute:.3g})"
            compared += points
            weights = recorded[name]["w"][:, k]
            assert np.all(weights >= rule.w_min) and np.all(weights <= rule.w_max)
        assert compared > 1000
    assert np.all(recorded["frozen"]["w"] == 1.0)
    # the variants are not trivial: weights moved, some bounds were hit
    assert np.ptp(recorded["nest"]["w"][-1]) > 0.5
    assert np.any(recorded["aa_tonic_bounded"]["w"] == 1.1)
    assert np.any(recorded["aa_tonic_bounded"]["w"] == 0.95)


#: The rule is exact at any dt; property tests use 1 ms steps to stay fast on numpy.
PROPERTY_DT = 1 * ms
PROPERTY_DT_S = 1e-3


def single_pair_run(rule, dopamine_s, duration=3.0, variables=("w", "eligibility")):
    """One synapse, pre at 10 ms and post at 20 ms (a causal pair), recorded every 1-ms step."""
    return simulate_modulated(
        {"p": rule},
        [np.array([0.010])],
        [np.array([0.020])],
        SpikeTrains([dopamine_s]),
        "numpy",
        duration,
        dt=PROPERTY_DT,
        variables=variables,
    )["p"]


def test_no_dopamine_no_weight_change():
    rule = DopamineSTDP(update_interval=50 * ms)
    pre, post = trains(PROPERTY_DT_S)
    recorded = simulate_modulated(
        {"p": rule},
        pre,
        post,
        SpikeTrains([[]]),
        "numpy",
        2.1,
        dt=PROPERTY_DT,
        variables=("w", "eligibility"),
    )["p"]
    assert np.all(recorded["w"] == 1.0)
    assert np.max(np.abs(recorded["eligibility"])) > 0.5  # the synapses were tagged


def test_eligibility_decays_with_tau_c():
    rule = DopamineSTDP(tau_c=400 * ms, update_interval=20 * ms)
    recorded = single_pair_run(rule, [], duration=1.5)
    c0 = rule.A_plus * math.exp(-10 / 20)  # pre trace at the post spike
    times = np.arange(2, 75) * 0.020  # periodic updates after the pairing
    expected = c0 * np.exp(-(times - 0.020) / 0.400)
    got = recorded["eligibility"][np.round(times / PROPERTY_DT_S).astype(int), 0]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_delayed_reward_changes_weight_by_expected_amount():
    rule = DopamineSTDP(update_interval=10 * ms)  # NEST defaults: tau_c 1 s, tau_d 200 ms
    reward = 1.020  # 1 s after the pairing
    recorded = single_pair_run(rule, [reward], duration=3.0)
    c_at_reward = rule.A_plus * math.exp(-10 / 20) * math.exp(-1.0 / 1.0)
    tau_s = 1 / (1 / 1.0 + 1 / 0.2)
    for t in (1.1, 1.5, 2.99):
        expected = 1.0 + c_at_reward * 5.0 * tau_s * (1 - math.exp(-(t - reward) / tau_s))
        assert recorded["w"][round(t / PROPERTY_DT_S), 0] == pytest.approx(expected, rel=1e-12)
    # before the reward nothing changed, and a total of about c_at_reward is gained
    assert np.all(recorded["w"][: round(reward / PROPERTY_DT_S)] == 1.0)
    assert recorded["w"][-1, 0] - 1.0 == pytest.approx(c_at_reward * 5.0 * tau_s, rel=1e-4)


def test_reward_outside_the_trace_window_has_little_effect():
    rule = DopamineSTDP()
    soon, late = single_pair_run(rule, [0.12]), single_pair_run(rule, [1.52])
    gain_soon, gain_late = soon["w"][-1, 0] - 1.0, late["w"][-1, 0] - 1.0
    # both dopamine pulses are over by the end; the tag decayed by exp(-1.4 s/tau_c) in between
    assert gain_late / gain_soon == pytest.approx(math.exp(-1.4 / 1.0), rel=1e-3)


def test_result_does_not_depend_on_dt():
    """Exact integration: halving dt changes the weights by rounding only (< 1e-9)."""
    pre, post = trains(PROPERTY_DT_S)
    dopamine = np.round(np.array(DOPAMINE_S), 3)
    dopamine = np.unique(dopamine)
    duration = duration_s(pre, post)
    rules = {"nest": get_rule("izhikevich2007-nest-defaults"), "daspnet": variants()["daspnet"]}
    coarse = simulate_modulated(
        rules, pre, post, SpikeTrains([dopamine]), "numpy", duration, dt=PROPERTY_DT
    )
    fine = simulate_modulated(
        rules, pre, post, SpikeTrains([dopamine]), "numpy", duration, dt=PROPERTY_DT / 2
    )
    for name in rules:
        np.testing.assert_allclose(fine[name]["w"][::2], coarse[name]["w"], rtol=1e-9, atol=1e-12)


def test_modulator_from_several_neurons_adds_up():
    """Two dopamine neurons firing in the same step count as two jumps."""
    rule = DopamineSTDP()
    two = simulate_modulated(
        {"p": rule},
        [np.array([0.010])],
        [np.array([0.020])],
        SpikeTrains([[0.5], [0.5]]),
        "numpy",
        1.0,
        dt=PROPERTY_DT,
    )["p"]["w"]
    one = single_pair_run(rule, [0.5], duration=1.0)["w"]
    assert two[-1, 0] - 1.0 == pytest.approx(2 * (one[-1, 0] - 1.0), rel=1e-12)


def test_missing_modulator_is_a_clear_error():
    with Session("numpy") as session:
        with pytest.raises(ConfigurationError, match=r"needs a modulator .*Projection\(modulator="):
            session.build(
                [Population("pre", SpikeTrains([[0.01]])), Population("post", SpikeTrains([[]]))],
                [Projection("p", "pre", "post", rule=DopamineSTDP())],
            )


def test_modulator_on_a_rule_without_third_factor_is_an_error():
    with Session("numpy") as session:
        with pytest.raises(ConfigurationError, match="does not use one"):
            session.build(
                [
                    Population("pre", SpikeTrains([[0.01]])),
                    Population("post", SpikeTrains([[]])),
                    Population("dopamine", SpikeTrains([[0.02]])),
                ],
                [Projection("p", "pre", "post", rule=PairSTDP(), modulator="dopamine")],
            )


def test_reference_without_events_keeps_the_weight():
    rule = DopamineSTDP(d_tonic=1 * Hz)
    trajectory = dopamine_stdp(rule, [], [], 0.7, modulator_times=[0.5], end=0.1)
    assert np.all(trajectory.weights == 0.7)


# -- optional cross-check against NEST ----------------------------------------------------------
NEST_RESOLUTION_MS, NEST_DELAY_MS, NEST_RELAY_MS = 0.1, 0.1, 1.0


def nest_dopamine_weights(rule, pre_trains, post_trains, dopamine_s, end_s) -> np.ndarray:
    """Weights of NEST ``stdp_dopamine_synapse`` connections (one per train pair) at `end_s`.

    Parrot neurons relay the spike times; NEST counts a postsynaptic spike at t_post + d (the
    dendritic delay d), so postsynaptic spikes are sent d earlier. Dopamine reaches the synapses
    through a volume transmitter: the dopamine parrot fires d_vt before each dopamine time.
    Weights are integrated up to the last weight trigger of the volume transmitter (every
    min_delay), i.e. up to `end_s`.
    """
    nest = pytest.importorskip("nest")
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = NEST_RESOLUTION_MS
    transmitter = nest.Create("volume_transmitter")
    nest.CopyModel(
        "stdp_dopamine_synapse",
        "dopamine_stdp_under_test",
        {
            "volume_transmitter": transmitter,
            "A_plus": rule.A_plus,
            "A_minus": rule.A_minus,
            "tau_plus": float(rule.tau_plus) * 1e3,
            "tau_c": float(rule.tau_c) * 1e3,
            "tau_n": float(rule.tau_d) * 1e3,
            "b": -float(rule.d_tonic) * 1e-3,  # per ms
            "Wmin": -1e6,
            "Wmax": 1e6,
        },
    )

    def relayed(times_ms, params=None):
        parrot = nest.Create("parrot_neuron", params=params or {})
        generator = nest.Create(
            "spike_generator",
            params={"spike_times": np.round(np.asarray(times_ms) - NEST_RELAY_MS, 1).tolist()},
        )
        nest.Connect(generator, parrot, syn_spec={"delay": NEST_RELAY_MS})
        return parrot

    dopamine = relayed(np.asarray(dopamine_s) * 1e3 - NEST_DELAY_MS)
    nest.Connect(dopamine, transmitter, syn_spec={"delay": NEST_DELAY_MS})
    connections = []
    for pre_times, post_times in zip(pre_trains, post_trains, strict=True):
        pre = relayed(pre_times * 1e3)
        post = relayed(post_times * 1e3 - NEST_DELAY_MS, {"tau_minus": float(rule.tau_minus) * 1e3})
        synapse = {
            "synapse_model": "dopamine_stdp_under_test",
            "weight": 1.0,
            "delay": NEST_DELAY_MS,
            "receptor_type": 1,
        }  # parrots ignore receptor 1
        nest.Connect(pre, post, syn_spec=synapse)
        connections.append(nest.GetConnections(pre, post))
    nest.Simulate(end_s * 1e3)
    return np.array([c.get("weight") for c in connections], dtype=float)


@pytest.mark.nest
@pytest.mark.slow
def test_matches_nest_stdp_dopamine_synapse():
    pytest.importorskip("nest")
    rng = np.random.default_rng(11)
    pre = random_trains(rng, 10, 15.0, 3.0, DT_S, start_s=0.01)
    post = random_trains(rng, 10, 15.0, 3.0, DT_S, start_s=0.01)
    post = [np.setdiff1d(q, p) for p, q in zip(pre, post, strict=True)]  # no coincidences
    dopamine = np.sort(rng.choice(np.arange(100, 3500), size=12, replace=False)) * 1e-3
    end = 4.0
    rules = {
        "nest_defaults": get_rule("izhikevich2007-nest-defaults", w_max=1e6, w_min=-1e6),
        "tonic": DopamineSTDP(
            d_tonic=0.5 * Hz, tau_c=300 * ms, tau_d=100 * ms, d_jump=10 * Hz, w_min=-1e6, w_max=1e6
        ),
    }
    ours = simulate_modulated(rules, pre, post, SpikeTrains([dopamine]), "numpy", end + 2 * DT_S)
    for name, rule in rules.items():
        expected = nest_dopamine_weights(rule, pre, post, dopamine, end)
        got = ours[name]["w"][round(end / DT_S)]
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=name)
        assert np.ptp(expected) > 0.1


def test_periodic_update_runs_before_monitors():
    """A monitor whose name sorts before the periodic update still records updated weights."""
    rule = DopamineSTDP(update_interval=50 * ms)
    with Session("numpy", dt=PROPERTY_DT) as session:
        built = session.build(
            [
                Population("pre", SpikeTrains([[0.010]])),
                Population("post", SpikeTrains([[0.020]])),
                Population("dopamine", SpikeTrains([[0.100]])),
            ],
            [Projection("p", "pre", "post", rule=rule, modulator="dopamine")],
        )
        monitor = built.monitor("p", "w", dt=50 * ms, name="a_monitor")  # "a..." < "p_periodic"
        session.run(1 * second)
    expected = dopamine_stdp(rule, [0.010], [0.020], 1.0, modulator_times=[0.100], end=0.95)
    times, weights = expected.at_times()
    periodic = np.isin(np.round(times, 6), np.round(np.arange(20) * 0.05, 6))
    np.testing.assert_allclose(monitor.w[0], weights[periodic], rtol=1e-12)
    assert monitor.w[0][-1] > 1.0


def test_izhikevich_network_matches_the_reference_from_recorded_spikes():
    """Poisson inputs onto Izhikevich neurons with 1-ms transmission delays (plasticity on
    somatic spike times), bounded weights, rewards: the reference replays the recorded spikes."""
    rule = get_rule("izhikevich2007-daspnet", update_interval=20 * ms)
    rewards = [0.4, 0.41, 0.9, 1.3]
    with Session("numpy", dt=0.1 * ms, seed=6) as session:
        built = session.build(
            [
                Population("inputs", PoissonSource(rate=15 * Hz), n=12),
                Population("cells", get_neuron("izhikevich2003-rs"), n=3, init={"I_ext": 3 * mV}),
                Population("dopamine", SpikeTrains([rewards])),
            ],
            [
                Projection(
                    "p",
                    "inputs",
                    "cells",
                    rule=rule,
                    modulator="dopamine",
                    weight_scale=3 * mV,
                    w_init=2.0,
                    delay=1 * ms,
                )
            ],
        )
        pre_spikes, post_spikes = built.spike_monitor("inputs"), built.spike_monitor("cells")
        weights = built.monitor("p", "w", name="p_w")
        session.run(1.6 * second)
        i, j = np.asarray(built.synapses["p"].i[:]), np.asarray(built.synapses["p"].j[:])
        pre_trains, post_trains = pre_spikes.spike_trains(), post_spikes.spike_trains()
        recorded = np.asarray(weights.w, dtype=float).T
    assert min(len(t) for t in post_trains.values()) > 5
    for k, (source, target) in enumerate(zip(i, j, strict=True)):
        expected = dopamine_stdp(
            rule,
            pre_trains[source] / second,
            post_trains[target] / second,
            2.0,
            modulator_times=rewards,
            end=1.6 - DT_S,
        )
        relative, _, points = worst_deviation(expected, recorded[:, k], DT_S)
        assert relative < RTOL and points > 80
    assert np.ptp(recorded[-1]) > 0.1
