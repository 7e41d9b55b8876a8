"""Protocols: spike patterns as documented, Brian2 runs equal to the reference, published data."""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.errors import ProtocolError
from spikeplast.protocols import pairing, quadruplets, run_protocol, sjostrom, triplets
from spikeplast.reference import triplet_stdp
from spikeplast.rules import get_rule


def test_sjostrom_spike_pattern():
    protocol = sjostrom(freqs_hz=(20.0,), dts_ms=(10.0, -10.0), pairings=60)
    causal, acausal = protocol.conditions
    assert causal.pre.size == causal.post.size == 60
    np.testing.assert_allclose(np.diff(causal.pre), 0.05)
    np.testing.assert_allclose(causal.post - causal.pre, 0.010, atol=1e-12)
    np.testing.assert_allclose(acausal.post - acausal.pre, -0.010, atol=1e-12)
    assert min(acausal.post.min(), acausal.pre.min()) >= 0.19


def test_triplet_and_quadruplet_patterns():
    (ppp,) = triplets([("pre-post-pre", 15.0, -5.0)], repetitions=2).conditions
    np.testing.assert_allclose(ppp.post[0] - ppp.pre[:2], [0.015, -0.005], atol=1e-12)
    (pop,) = triplets([("post-pre-post", -5.0, 15.0)], repetitions=2).conditions
    np.testing.assert_allclose(pop.post[:2] - pop.pre[0], [-0.005, 0.015], atol=1e-12)
    (quad,) = quadruplets([20.0], repetitions=1).conditions
    # T > 0: post-pre pair (Δt = -5 ms) first, pre-post pair (Δt = +5 ms) centred 20 ms later
    np.testing.assert_allclose(quad.post - quad.pre, [-0.005, 0.005], atol=1e-12)
    np.testing.assert_allclose((quad.pre[1] + quad.post[1] - quad.pre[0] - quad.post[0]) / 2, 0.02)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: sjostrom(freqs_hz=(-1.0,)), "positive number of Hz"),
        (lambda: sjostrom(pairings=0), "positive whole number"),
        (lambda: sjostrom(freqs_hz=(80.0,), dts_ms=(15.0,)), "does not fit in the repetition"),
        (lambda: pairing(dts_ms=(1200.0,)), "does not fit in the repetition period"),
        (lambda: triplets([("pre-post-pre", -5.0, 5.0)]), "pre-post-pre needs dt1"),
        (lambda: triplets([("pre-pre-post", 5.0, -5.0)]), "unknown triplet pattern"),
        (lambda: quadruplets([3.0]), "must exceed the pair interval"),
    ],
)
def test_impossible_protocols(make, message):
    with pytest.raises(ProtocolError, match=message):
        make()


@pytest.fixture(scope="module")
def sjostrom_result():
    rule = get_rule("pfister2006-visual-aa-full")
    return rule, sjostrom(), run_protocol(rule, sjostrom(), backend=None, seed=1)


def test_sjostrom_matches_reference_exactly(sjostrom_result):
    rule, protocol, result = sjostrom_result
    for condition, w in zip(protocol.conditions, result.final_weights, strict=True):
        expected = triplet_stdp(rule, condition.pre, condition.post, 1.0).final
        assert w == pytest.approx(expected, rel=1e-9)


def test_sjostrom_reproduces_the_experiment(sjostrom_result):
    """Pfister & Gerstner's visual all-to-all fit against Sjöström et al. (2001): every point
    within 1.5 SEM, depression for post-pre at low and potentiation at high frequency."""
    from spikeplast.data import compare, load_dataset

    _, _, result = sjostrom_result
    comparison = compare(result.rows, load_dataset("sjostrom2001"))
    assert comparison.matched == 10
    for row in comparison.rows:
        deviation = abs(row["dw_percent"] - row["data_dw_percent"]) / row["data_sem_percent"]
        assert deviation < 1.5, row
    by = {(r["freq_hz"], r["dt_ms"]): r["dw_percent"] for r in result.rows}
    assert by[(0.1, -10.0)] < -20 and by[(50.0, -10.0)] > 50 and by[(50.0, 10.0)] > 50
    assert comparison.error is not None and comparison.error < 1.0
