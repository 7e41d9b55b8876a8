"""global-error (FA_Ex-100% in spiking form): reference agreement on every backend, properties,
per-trial driving, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from brian2 import Hz, ms, pA, second
from modulated_harness import simulate_modulated, worst_deviation

from spikeplast.backend import Session
from spikeplast.compose import Population, Projection
from spikeplast.errors import ConfigurationError, ParameterError
from spikeplast.modulators import ErrorSignal, broadcast_error
from spikeplast.neurons import LIF, PoissonSource, SpikeTrains
from spikeplast.reference import global_error
from spikeplast.rules import GlobalError, get_rule
from spikeplast.testing import edge_case_trains, random_trains

RTOL = 1e-9
DT_S = 1e-4
#: Broadcasts of both signs, one coinciding with edge-case spikes (30 ms), two one step apart.
ERROR_TIMES = [0.030, 0.0452, 0.0453, 0.2, 0.6, 1.1, 1.5, 2.0, 2.1]
ERRORS = [0.5, -1.0, 2.0, -0.3, 1.5, -2.0, 0.8, -1.2, 3.0]


def variants() -> dict:
    return {
        "konishi": get_rule("konishi2023-fa-ex-100"),
        "decay_keep": GlobalError(
            eta=0.05,
            tau_eligibility=150 * ms,
            eligibility_after_error="keep",
            gate_window=8 * ms,
            tau_pre=10 * ms,
            w_min=-math.inf,
        ),
        # eligibility decaying faster than the presynaptic trace, tight bounds
        "fast_bounded": GlobalError(
            eta=0.5,
            tau_eligibility=5 * ms,
            tau_pre=30 * ms,
            gate_window=40 * ms,
            w_min=0.9,
            w_max=1.05,
        ),
    }


def trains(dt_s: float = DT_S) -> tuple[list[np.ndarray], list[np.ndarray]]:
    pre, post = edge_case_trains(dt_s)
    rng = np.random.default_rng(99)
    return (
        pre + random_trains(rng, 6, 30.0, 2.0, dt_s),
        post + random_trains(rng, 6, 30.0, 2.0, dt_s),
    )


#: One error per postsynaptic neuron (14 synapses pre_k -> post_k) for error_target
#: "postsynaptic": row k of the broadcast schedule scales the errors of synapse k.
PER_NEURON_ERRORS = np.outer(ERRORS, np.linspace(-1.5, 2.0, 14))


@pytest.mark.standalone
def test_global_error_matches_reference(backend):
    pre, post = trains()
    rules = variants()
    rules["per_neuron"] = GlobalError(eta=0.3, error_target="postsynaptic", w_min=-math.inf)
    recorded = simulate_modulated(
        {**rules, "frozen": rules["konishi"]},
        pre,
        post,
        ErrorSignal(ERROR_TIMES, ERRORS),
        backend,
        2.12,
        frozen={"frozen"},
        own_modulators={"per_neuron": ErrorSignal(ERROR_TIMES, PER_NEURON_ERRORS)},
    )
    for name, rule in rules.items():
        for k, (p, q) in enumerate(zip(pre, post, strict=True)):
            errors = PER_NEURON_ERRORS[:, k] if name == "per_neuron" else ERRORS
            expected = global_error(rule, p, q, 1.0, error_times=ERROR_TIMES, errors=errors)
            relative, absolute, _ = worst_deviation(expected, recorded[name]["w"][:, k], DT_S)
            assert relative < RTOL, f"{backend} {name} synapse {k}: {relative:.3g} ({absolute:.3g})"
            weights = recorded[name]["w"][:, k]
            assert np.all(weights >= rule.w_min) and np.all(weights <= rule.w_max)
            # weights change only at broadcasts
            changes = np.flatnonzero(np.diff(weights)) + 1
            assert set(changes) <= set(np.round(np.array(ERROR_TIMES) / DT_S).astype(int))
    assert np.all(recorded["frozen"]["w"] == 1.0)
    assert np.ptp(recorded["konishi"]["w"][-1]) > 1e-3
    assert np.any(recorded["fast_bounded"]["w"] == 0.9)
    assert np.any(recorded["fast_bounded"]["w"] == 1.05)


def run_pair(rule, error_signal, pre_s=(0.010,), post_s=(0.012,), duration=0.2):
    return simulate_modulated(
        {"p": rule},
        [np.array(pre_s)],
        [np.array(post_s)],
        error_signal,
        "numpy",
        duration,
        dt=1 * ms,
        variables=("w", "eligibility"),
    )["p"]


def test_weight_change_is_eta_error_pre_trace_gate():
    """Pre at 10 ms, post at 12 ms (gate open 12–32 ms), error 0.5 at 100 ms."""
    rule = GlobalError(eta=0.1, tau_pre=20 * ms, gate_window=20 * ms, w_min=-10)
    recorded = run_pair(rule, ErrorSignal([0.1], [0.5]))
    eligibility = math.exp(-2 / 20) * (1 - math.exp(-20 / 20))  # ∫_12^32 exp(-(s-10)/20)/20 ds
    assert recorded["w"][-1, 0] == pytest.approx(1.0 - 0.1 * 0.5 * eligibility, rel=1e-12)
    assert np.all(recorded["w"][:100, 0] == 1.0)
    assert recorded["eligibility"][-1, 0] == 0.0  # reset after the broadcast


def test_sign_of_error_sets_direction():
    rule = GlobalError(eta=0.5, w_min=-10)
    up = run_pair(rule, ErrorSignal([0.1], [-1.0]))["w"][-1, 0]
    down = run_pair(rule, ErrorSignal([0.1], [1.0]))["w"][-1, 0]
    assert up > 1.0 > down
    assert up - 1.0 == pytest.approx(1.0 - down, rel=1e-12)


@pytest.mark.parametrize(
    "pre_s, post_s",
    [((), (0.012,)), ((0.010,), ()), ((0.050,), (0.010,))],
    ids=["no-pre", "no-post", "gate-closed-before-pre"],
)
def test_no_change_without_both_factors(pre_s, post_s):
    rule = GlobalError(eta=1.0, w_min=-10)
    recorded = run_pair(rule, ErrorSignal([0.1], [1.0]), pre_s=pre_s, post_s=post_s)
    assert np.all(recorded["w"] == 1.0)


def test_no_error_no_weight_change():
    pre, post = trains(1e-3)
    recorded = simulate_modulated(
        {"p": GlobalError(eta=1.0)},
        pre,
        post,
        ErrorSignal(),
        "numpy",
        2.1,
        dt=1 * ms,
        variables=("w", "eligibility"),
    )["p"]
    assert np.all(recorded["w"] == 1.0)
    assert np.max(recorded["eligibility"]) > 0.1


def test_result_does_not_depend_on_dt():
    pre, post = trains(1e-3)
    times = np.round(ERROR_TIMES, 3)
    keep = np.r_[True, np.diff(times) > 0]
    signal = ErrorSignal(times[keep], np.array(ERRORS)[keep])
    coarse = simulate_modulated(variants(), pre, post, signal, "numpy", 2.12, dt=1 * ms)
    fine = simulate_modulated(variants(), pre, post, signal, "numpy", 2.12, dt=0.5 * ms)
    for name in variants():
        np.testing.assert_allclose(fine[name]["w"][::2], coarse[name]["w"], rtol=1e-9)


def test_per_trial_broadcasts_on_a_runtime_backend():
    """Trial loop: run, compute the error, broadcast it at the start of the next run."""
    rule = GlobalError(eta=0.1, w_min=-10)
    pre_s, post_s = np.array([0.010, 0.110]), np.array([0.012, 0.112])
    with Session("numpy", dt=1 * ms) as session:
        built = session.build(
            [
                Population("pre", SpikeTrains([pre_s])),
                Population("post", SpikeTrains([post_s])),
                Population("error", ErrorSignal()),
            ],
            [Projection("p", "pre", "post", rule=rule, modulator="error")],
        )
        session.run(100 * ms)  # trial 1: one pairing
        broadcast_error(built, "error", 0.5)
        session.run(100 * ms)  # the error is sent at 100 ms; trial 2: another pairing
        broadcast_error(built, "error", -0.25)
        session.run(10 * ms)
        final = built.weights("p")[0]
    # the broadcasts went out at 100 and 200 ms (the next step)
    expected = global_error(rule, pre_s, post_s, 1.0, error_times=[0.1, 0.2], errors=[0.5, -0.25])
    assert final == pytest.approx(expected.final, rel=1e-12)
    assert expected.final != 1.0


def test_per_trial_errors_per_postsynaptic_neuron():
    """Two postsynaptic neurons, each with its own error (DFA-style modulator)."""
    rule = GlobalError(eta=0.1, w_min=-10, error_target="postsynaptic")
    pre_s, post_s = [np.array([0.010])] * 2, [np.array([0.012])] * 2
    with Session("numpy", dt=1 * ms) as session:
        built = session.build(
            [
                Population("pre", SpikeTrains(pre_s)),
                Population("post", SpikeTrains(post_s)),
                Population("error", ErrorSignal(n=2)),
            ],
            [Projection("p", "pre", "post", rule=rule, modulator="error")],  # all-to-all
        )
        session.run(100 * ms)
        broadcast_error(built, "error", [0.5, -1.0])
        with pytest.raises(ConfigurationError, match="one error or one per neuron \\(2\\)"):
            broadcast_error(built, "error", [1.0, 2.0, 3.0])
        session.run(10 * ms)
        weights = built.weights("p")
        post = np.asarray(built.synapses["p"].j[:])
    change = global_error(rule, pre_s[0], post_s[0], 1.0, error_times=[0.1], errors=[1.0])
    expected = 1.0 + (change.final - 1.0) * np.where(post == 0, 0.5, -1.0)
    np.testing.assert_allclose(weights, expected, rtol=1e-12)


def test_broadcast_error_needs_a_per_trial_error_signal():
    with Session("numpy", dt=1 * ms) as session:
        built = session.build(
            [
                Population("pre", SpikeTrains([[0.01]])),
                Population("post", SpikeTrains([[0.012]])),
                Population("scheduled", ErrorSignal([0.05], [1.0])),
            ],
            [Projection("p", "pre", "post", rule=GlobalError(), modulator="scheduled")],
        )
        with pytest.raises(ConfigurationError, match="broadcasts on a schedule"):
            broadcast_error(built, "scheduled", 1.0)
        with pytest.raises(ConfigurationError, match="'pre' is not an ErrorSignal"):
            broadcast_error(built, "pre", 1.0)


def test_missing_modulator_is_a_clear_error():
    with Session("numpy") as session:
        with pytest.raises(ConfigurationError, match=r"'global-error' .* needs a modulator"):
            session.build(
                [Population("pre", SpikeTrains([[0.01]])), Population("post", SpikeTrains([[]]))],
                [Projection("p", "pre", "post", rule=GlobalError())],
            )


def test_modulator_without_error_value_is_a_clear_error():
    with Session("numpy") as session:
        with pytest.raises(ConfigurationError, match="carries a signed error.*SpikeTrains"):
            session.build(
                [
                    Population("pre", SpikeTrains([[0.01]])),
                    Population("post", SpikeTrains([[]])),
                    Population("dopamine", SpikeTrains([[0.02]])),
                ],
                [Projection("p", "pre", "post", rule=GlobalError(), modulator="dopamine")],
            )


def test_bad_error_signals_and_parameters():
    with pytest.raises(ConfigurationError, match="2 broadcast times but errors of shape"):
        ErrorSignal([0.1, 0.2], [1.0])
    with pytest.raises(ConfigurationError, match="3 columns but n = 2"):
        ErrorSignal([0.1], [[1.0, 2.0, 3.0]], n=2)
    with pytest.raises(ConfigurationError, match="finite"):
        ErrorSignal([0.1], [math.nan])
    with pytest.raises(ParameterError, match="gate_window must be finite"):
        get_rule("global-error", gate_window=math.inf * second)


def test_listing_shows_infinite_eligibility_time():
    from spikeplast.params import format_quantity

    assert format_quantity(GlobalError().tau_eligibility) == "inf s"


def test_poisson_inputs_onto_lif_neurons_match_the_reference_from_recorded_spikes():
    """The set-up of the rate-bridge comparison: Poisson-coded inputs, LIF hidden neurons whose
    input the learning changes, errors of both signs; the reference replays the recorded
    spikes."""
    rule = GlobalError(eta=0.02, w_min=0.0, w_max=3.0)
    error_times, errors = [0.3, 0.6, 0.9, 1.2], [1.5, -2.0, 0.5, -1.0]
    with Session("numpy", dt=0.1 * ms, seed=4) as session:
        built = session.build(
            [
                Population("inputs", PoissonSource(rate=20 * Hz), n=12),
                Population("hidden", LIF(synapse="current"), n=3, init={"I_ext": 150 * pA}),
                Population("error", ErrorSignal(error_times, errors)),
            ],
            [
                Projection(
                    "in_hidden",
                    "inputs",
                    "hidden",
                    rule=rule,
                    modulator="error",
                    weight_scale=60 * pA,
                )
            ],
        )
        pre_spikes, post_spikes = built.spike_monitor("inputs"), built.spike_monitor("hidden")
        weights = built.monitor("in_hidden", "w", name="in_hidden_w")
        session.run(1.25 * second)
        i, j = (
            np.asarray(built.synapses["in_hidden"].i[:]),
            np.asarray(built.synapses["in_hidden"].j[:]),
        )
        pre_trains = pre_spikes.spike_trains()
        post_trains = post_spikes.spike_trains()
        recorded = np.asarray(weights.w, dtype=float).T
    assert min(len(t) for t in post_trains.values()) > 5  # the hidden neurons fire
    changed = 0
    for k, (source, target) in enumerate(zip(i, j, strict=True)):
        expected = global_error(
            rule,
            pre_trains[source] / second,
            post_trains[target] / second,
            1.0,
            error_times=error_times,
            errors=errors,
        )
        relative, _, points = worst_deviation(expected, recorded[:, k], 1e-4)
        assert relative < RTOL and points == 4
        changed += expected.final != 1.0
    assert changed > 20
