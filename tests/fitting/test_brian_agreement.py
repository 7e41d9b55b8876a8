"""The Numba evaluator agrees with Brian2 runs of the same protocol (rtol 1e-9)."""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.fitting.evaluators import BrianEvaluator, TraceRuleEvaluator
from spikeplast.protocols import Protocol, run_protocol, sjostrom, triplets
from spikeplast.rules import get_rule
from spikeplast.testing import simulate_rules_on_trains

RTOL = 1e-9

RULES = {
    "aa_full": ("pfister2006-visual-aa-full", {}),
    "aa_minimal": ("pfister2006-visual-aa-minimal", {}),
    "nn_full": ("pfister2006-visual-nn-full", {}),
    "nn_minimal": ("pfister2006-visual-nn-minimal", {}),
    "pair_additive": ("pair-stdp", {}),
    "pair_nearest_multiplicative": (
        "pair-stdp",
        {"interaction": "nearest", "weight_dependence": "multiplicative", "w_max": 1.2},
    ),
    "pair_gutig": (
        "pair-stdp",
        {"weight_dependence": "gutig", "w_max": 1.5, "mu_plus": 0.4, "mu_minus": 0.9},
    ),
    "pair_van_rossum": ("pair-stdp", {"weight_dependence": "van-rossum", "A_minus": 0.02}),
}


def _short_protocol() -> Protocol:
    """Sjöström-type conditions plus triplets, short enough for the numpy backend."""
    pairs = sjostrom(freqs_hz=(5.0, 20.0, 50.0), pairings=3).conditions
    wang = triplets(repetitions=2, freq_hz=5.0).conditions
    return Protocol("short", pairs + wang, (), "", "")


def test_agrees_with_brian2_at_every_spike_time():
    protocol = _short_protocol()
    pre = [c.pre for c in protocol.conditions]
    post = [c.post for c in protocol.conditions]
    rules = {key: get_rule(name, **overrides) for key, (name, overrides) in RULES.items()}
    weights = simulate_rules_on_trains(rules, pre, post, backend="numpy")
    for key, rule in rules.items():
        evaluator = TraceRuleEvaluator(rule, protocol.conditions)
        trajectory = evaluator.trajectories(np.zeros((1, 0)))[0]
        table = evaluator.table
        for k in range(table.n_conditions):
            events = slice(table.offsets[k], table.offsets[k + 1])
            times = table.times[events]
            last_at_time = np.r_[times[1:] != times[:-1], True]
            steps = np.round(times[last_at_time] / 1e-4).astype(int)
            np.testing.assert_allclose(
                trajectory[events][last_at_time],
                weights[key][steps, k],
                rtol=RTOL,
                err_msg=f"{key}, condition {k}",
            )


@pytest.mark.slow
@pytest.mark.standalone
@pytest.mark.parametrize("name", ["pfister2006-visual-aa-minimal", "pfister2006-visual-nn-full"])
def test_full_sjostrom_protocol_agrees_with_cpp_standalone(name):
    """The whole Sjöström protocol (10 conditions x 60 pairings, 600 s at 0.1 Hz)."""
    rule = get_rule(name)
    protocol = sjostrom()
    brian = run_protocol(rule, protocol, backend="cpp_standalone")
    fast = TraceRuleEvaluator(rule, protocol.conditions).final_weights(np.zeros((1, 0)))[0]
    np.testing.assert_allclose(fast, brian.final_weights, rtol=RTOL)


@pytest.mark.slow
@pytest.mark.standalone
def test_brian_evaluator_reruns_compiled_model_with_new_amplitudes():
    """The Brian2 evaluator (the plug-in path for rules without a kernel) agrees with Numba;
    amplitudes that are zero in the rule still act when freed (no term is compiled away)."""
    protocol = sjostrom(freqs_hz=(10.0, 50.0), pairings=5)
    rule = get_rule("pfister2006-visual-aa-minimal")
    names = ["A3_plus", "A2_minus", "A3_minus"]
    values = np.array([[0.0065, 0.0071, 0.0], [0.01, 0.004, 0.002]])
    brian = BrianEvaluator(rule, protocol.conditions, names)
    fast = TraceRuleEvaluator(rule, protocol.conditions, names)
    np.testing.assert_allclose(brian.evaluate(values), fast.evaluate(values), rtol=RTOL)
    assert len(brian._compiled) == 1  # one compilation for both parameter sets
