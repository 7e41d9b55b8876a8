"""Triplet STDP under independent Poisson firing follows its BCM-like rate limit.

For all-to-all interactions and independent Poisson trains at rates ρx (pre) and ρy (post)
(Pfister & Gerstner 2006):

    <dw/dt> = ρx ρy [A2+ τ+ + A3+ τ+ τy ρy - A2- τ- - A3- τ- τx ρx]

With the visual-cortex minimal parameters the sign changes at ρy = A2- τ- / (A3+ τ+ τy) ≈ 19.2 Hz.
The Brian2 simulation (many independent synapses) must agree within 4 standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import ms

from spikeplast.rules import get_rule
from spikeplast.testing import random_trains, simulate_rules_on_trains


def expected_drift(rule, rate_pre: float, rate_post: float) -> float:
    tp, tm = float(rule.tau_plus), float(rule.tau_minus)
    tx, ty = float(rule.tau_x), float(rule.tau_y)
    return (
        rate_pre
        * rate_post
        * (
            rule.A2_plus * tp
            + rule.A3_plus * tp * ty * rate_post
            - rule.A2_minus * tm
            - rule.A3_minus * tm * tx * rate_pre
        )
    )


def test_bcm_threshold_of_visual_minimal_set():
    rule = get_rule("pfister2006-visual-aa-minimal")
    threshold = (
        rule.A2_minus
        * float(rule.tau_minus)
        / (rule.A3_plus * float(rule.tau_plus) * float(rule.tau_y))
    )
    assert threshold == pytest.approx(19.2, abs=0.05)


def test_poisson_rate_limit():
    rules = {
        "visual_min": get_rule("pfister2006-visual-aa-minimal", w_min=-np.inf),
        "hippo_full": get_rule("pfister2006-hippo-aa-full", w_min=-np.inf),
    }
    dt_s, duration, n = 1e-3, 100.0, 60
    rng = np.random.default_rng(2024)
    for rate_post in (10.0, 30.0):
        pre = random_trains(rng, n, 10.0, duration, dt_s)
        post = random_trains(rng, n, rate_post, duration, dt_s)
        weights = simulate_rules_on_trains(rules, pre, post, backend=None, dt=dt_s * 1000 * ms)
        for name, rule in rules.items():
            drift = (weights[name][-1] - 1.0) / duration
            # the trains are Poisson only up to the 1-ms grid; use their realised rates
            rate_x = np.mean([t.size for t in pre]) / duration
            rate_y = np.mean([t.size for t in post]) / duration
            expected = expected_drift(rule, rate_x, rate_y)
            standard_error = drift.std(ddof=1) / np.sqrt(n)
            assert abs(drift.mean() - expected) < 4 * standard_error + 0.02 * abs(expected), (
                name,
                rate_post,
                drift.mean(),
                expected,
                standard_error,
            )
