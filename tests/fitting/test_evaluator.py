"""The Numba evaluator agrees with the history-based references at every spike (rtol 1e-9)."""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.errors import ConfigurationError, ParameterError
from spikeplast.fitting.evaluators import TraceRuleEvaluator, make_evaluator
from spikeplast.fitting.events import event_table
from spikeplast.protocols import Condition, quadruplets, sjostrom, triplets
from spikeplast.reference import reference_for
from spikeplast.rules import get_rule
from spikeplast.testing import edge_case_trains, random_trains

DT = 1e-4
RTOL = 1e-9

TRIPLET_VARIANTS = [
    "pfister2006-visual-aa-full",
    "pfister2006-visual-aa-minimal",
    "pfister2006-visual-nn-full",
    "pfister2006-visual-nn-minimal",
    "pfister2006-hippo-aa-full",
    "pfister2006-hippo-nn-minimal",
]

PAIR_VARIANTS = [
    {},
    {"interaction": "nearest"},
    {
        "weight_dependence": "multiplicative",
        "w_max": 1.3,
        "w_min": 0.4,
        "A_plus": 0.1,
        "A_minus": 0.12,
    },
    {
        "weight_dependence": "gutig",
        "w_max": 1.5,
        "mu_plus": 0.3,
        "mu_minus": 0.7,
        "A_plus": 0.1,
        "A_minus": 0.12,
    },
    {
        "weight_dependence": "gutig",
        "interaction": "nearest",
        "w_max": 1.2,
        "mu_plus": 0.0,
        "mu_minus": 2.0,
        "A_plus": 0.3,
        "A_minus": 0.2,
    },
    {"weight_dependence": "van-rossum", "A_plus": 0.05, "A_minus": 0.08},
    {"A_plus": 0.2, "A_minus": 0.3, "w_max": 1.1},  # additive, clipped at both bounds
]


@pytest.fixture(scope="module")
def trains():
    pre, post = edge_case_trains(DT)
    rng = np.random.default_rng(2024)
    pre += random_trains(rng, 6, 30.0, 2.0, DT) + random_trains(rng, 2, 80.0, 1.0, DT)
    post += random_trains(rng, 6, 30.0, 2.0, DT) + random_trains(rng, 2, 80.0, 1.0, DT)
    return pre, post


def _assert_matches_reference(rule, pre_trains, post_trains, w0=1.0):
    conditions = [Condition({}, p, q) for p, q in zip(pre_trains, post_trains, strict=True)]
    evaluator = TraceRuleEvaluator(rule, conditions, w0=w0)
    trajectory = evaluator.trajectories(np.zeros((1, 0)))[0]
    final = evaluator.final_weights(np.zeros((1, 0)))[0]
    reference = reference_for(rule.kind)
    offsets = evaluator.table.offsets
    compared = 0
    for k, (pre, post) in enumerate(zip(pre_trains, post_trains, strict=True)):
        expected = reference(rule, pre, post, w0)
        got = trajectory[offsets[k] : offsets[k + 1]]
        assert got.size == expected.weights.size
        np.testing.assert_allclose(got, expected.weights, rtol=RTOL, atol=1e-12)
        expected_final = expected.final if expected.weights.size else w0
        np.testing.assert_allclose(final[k], expected_final, rtol=RTOL, atol=1e-12)
        compared += got.size
    return compared


@pytest.mark.parametrize("name", TRIPLET_VARIANTS)
def test_triplet_matches_reference(name, trains):
    assert _assert_matches_reference(get_rule(name), *trains) > 500


@pytest.mark.parametrize("overrides", PAIR_VARIANTS, ids=lambda o: "-".join(map(str, o.values())))
def test_pair_matches_reference(overrides, trains):
    assert _assert_matches_reference(get_rule("pair-stdp", **overrides), *trains) > 500


def test_bounds_are_hit_and_clipped(trains):
    """Large amplitudes drive the weight into both bounds; the clip matches the reference."""
    rule = get_rule("pfister2006-visual-aa-full", A2_minus=0.3, A3_plus=0.4, w_max=1.5)
    _assert_matches_reference(rule, *trains)
    evaluator = TraceRuleEvaluator(
        rule, [Condition({}, p, q) for p, q in zip(*trains, strict=True)]
    )
    trajectory = evaluator.trajectories(np.zeros((1, 0)))[0]
    assert trajectory.min() == 0.0 and trajectory.max() == 1.5


def test_protocols_match_reference_on_every_protocol():
    rule = get_rule("pfister2006-hippo-aa-full")
    for protocol in (sjostrom(pairings=10), triplets(repetitions=5), quadruplets(repetitions=3)):
        conditions = protocol.conditions
        _assert_matches_reference(rule, [c.pre for c in conditions], [c.post for c in conditions])


def test_batches_equal_single_evaluations():
    """A batch crossing block boundaries gives bit-identical results to one-by-one calls."""
    conditions = sjostrom(pairings=20).conditions
    evaluator = TraceRuleEvaluator(
        get_rule("pfister2006-visual-nn-full"), conditions, ["A3_plus", "tau_y", "tau_x"]
    )
    rng = np.random.default_rng(3)
    values = np.column_stack(
        [rng.uniform(1e-3, 0.05, 150), rng.uniform(0.01, 0.3, 150), rng.uniform(0.05, 1, 150)]
    )
    batch = evaluator.evaluate(values)
    assert batch.shape == (150, len(conditions))
    for i in (0, 63, 64, 65, 149):
        np.testing.assert_array_equal(batch[i], evaluator.evaluate(values[i])[0])
        rule = evaluator.rule_with(values[i])
        direct = TraceRuleEvaluator(rule, conditions).evaluate(np.zeros((1, 0)))[0]
        np.testing.assert_allclose(batch[i], direct, rtol=1e-12, atol=1e-12)


def test_event_table_orders_coincident_spikes_pre_first():
    table = event_table([np.array([0.01, 0.02])], [np.array([0.01, 0.015])])
    np.testing.assert_array_equal(table.sides, [0, 1, 1, 0])
    np.testing.assert_allclose(table.intervals[table.interval_index], [0, 0, 0.005, 0.005])
    assert table.n_conditions == 1 and table.n_events == 4


def test_sjostrom_table_is_small():
    """What the protocol fixes is precomputed: 1200 events share a handful of intervals."""
    conditions = sjostrom().conditions
    table = event_table([c.pre for c in conditions], [c.post for c in conditions])
    assert table.n_events == 1200
    assert table.intervals.size <= 8


def test_bad_values_are_refused():
    evaluator = TraceRuleEvaluator(
        get_rule("pfister2006-visual-aa-minimal"), sjostrom(pairings=2).conditions, ["tau_y"]
    )
    with pytest.raises(ParameterError, match="shape"):
        evaluator.evaluate(np.ones((2, 3)))
    with pytest.raises(ParameterError, match="finite"):
        evaluator.evaluate([np.nan])
    with pytest.raises(ParameterError, match="positive"):
        evaluator.evaluate([-0.1])
    with pytest.raises(ParameterError, match="cannot evaluate"):
        TraceRuleEvaluator(get_rule("pair-stdp"), sjostrom(pairings=2).conditions, ["w_max"])


def test_make_evaluator_choices():
    conditions = sjostrom(pairings=2).conditions
    assert isinstance(make_evaluator(get_rule("pair-stdp"), conditions), TraceRuleEvaluator)
    with pytest.raises(ConfigurationError, match="unknown evaluator"):
        make_evaluator(get_rule("pair-stdp"), conditions, method="fast")


def _voltage_rule():
    """A minimal voltage-based rule (like Clopath's): it needs a postsynaptic membrane."""
    from dataclasses import dataclass
    from typing import ClassVar

    from brian2 import ms

    from spikeplast.needs import Lowpass
    from spikeplast.params import param
    from spikeplast.rule import Contribution, Rule

    @dataclass(frozen=True, eq=False, kw_only=True)
    class VoltageRule(Rule):
        kind: ClassVar[str] = "test-voltage"
        eta: float = param(1e-3, 1, "learning rate", nonnegative=True)

        def contribute(self, ctx):
            u = ctx.post(Lowpass("v", 10 * ms))
            return Contribution(
                on_pre=f"w = clip(w + plastic*eta*{u.value}/mV, w_min, w_max)",
                namespace={"eta": self.eta, **self.bounds_namespace()},
            )

    return VoltageRule()


def test_rule_that_cannot_run_the_protocol_is_refused():
    """Protocols drive spike sources; a voltage-based rule gets a clear error, not a fit."""
    from spikeplast.fitting.fit import fit_rule

    rule = _voltage_rule()
    with pytest.raises(ConfigurationError, match="cannot run the protocol conditions"):
        make_evaluator(rule, sjostrom(pairings=2).conditions, ["eta"])
    with pytest.raises(ConfigurationError, match="needs a postsynaptic neuron with voltage"):
        fit_rule(rule, ["sjostrom2001"], restarts=1, workers=1)
