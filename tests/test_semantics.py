"""Semantics every user relies on: coincident spikes, dt independence, seeds, no spikes."""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import Hz, ms, nS, second

from spikeplast.backend import Session
from spikeplast.compose import Population, Projection
from spikeplast.neurons import LIF, PoissonSource
from spikeplast.rules import PairSTDP, TripletSTDP, get_rule
from spikeplast.testing import random_trains, simulate_rules_on_trains


def test_coincident_spikes_count_as_pre_before_post():
    """A pre and a post spike in the same step: potentiation sees the pre spike, depression does
    not see the post spike (pre pathway first), as stated in the rule headers."""
    pair = PairSTDP(A_plus=0.01, A_minus=0.02)
    triplet = TripletSTDP(A2_plus=0.003, A3_plus=0.006, A2_minus=0.007, A3_minus=0.002)
    weights = simulate_rules_on_trains(
        {"pair": pair, "triplet": triplet},
        [np.array([0.010])],
        [np.array([0.010])],
        backend="numpy",
    )
    assert weights["pair"][-1, 0] == pytest.approx(1 + 0.01, rel=1e-12)
    assert weights["triplet"][-1, 0] == pytest.approx(1 + 0.003, rel=1e-12)


def test_one_step_apart():
    pair = PairSTDP(A_plus=0.01, A_minus=0.02, tau_plus=20 * ms, tau_minus=20 * ms)
    dt = 0.1e-3
    causal = simulate_rules_on_trains(
        {"p": pair}, [np.array([0.010])], [np.array([0.010 + dt])], backend="numpy"
    )["p"][-1, 0]
    acausal = simulate_rules_on_trains(
        {"p": pair}, [np.array([0.010 + dt])], [np.array([0.010])], backend="numpy"
    )["p"][-1, 0]
    assert causal == pytest.approx(1 + 0.01 * np.exp(-dt / 0.02), rel=1e-12)
    assert acausal == pytest.approx(1 - 0.02 * np.exp(-dt / 0.02), rel=1e-12)


def test_no_spikes_no_change_and_one_sided_spikes():
    rules = {"pair": PairSTDP(), "triplet": get_rule("pfister2006-hippo-aa-full")}
    weights = simulate_rules_on_trains(
        rules,
        [np.array([]), np.array([0.01, 0.02]), np.array([])],
        [np.array([]), np.array([]), np.array([0.01, 0.02])],
        backend="numpy",
    )
    for name in rules:
        np.testing.assert_array_equal(weights[name][-1], [1.0, 1.0, 1.0], err_msg=name)


def test_results_do_not_depend_on_dt():
    """Traces are exact between spikes, so trains on a common grid give the same weights."""
    rng = np.random.default_rng(3)
    pre = random_trains(rng, 4, 25.0, 1.0, 1e-3)
    post = random_trains(rng, 4, 25.0, 1.0, 1e-3)
    rules = {
        "pair_nn": PairSTDP(interaction="nearest", weight_dependence="multiplicative", w_max=2.0),
        "triplet": get_rule("pfister2006-visual-nn-full"),
    }
    coarse = simulate_rules_on_trains(rules, pre, post, backend="numpy", dt=0.1 * ms)
    fine = simulate_rules_on_trains(rules, pre, post, backend="numpy", dt=0.025 * ms)
    for name in rules:
        np.testing.assert_allclose(coarse[name][-1], fine[name][-1], rtol=1e-12, err_msg=name)


def _poisson_network(backend: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rule = PairSTDP(w_max=1.0)
    with Session(backend, seed=seed) as session:
        built = session.build(
            [
                Population("inputs", PoissonSource(rate=30 * Hz), n=50),
                Population("cells", LIF(), n=2),
            ],
            [Projection("ff", "inputs", "cells", rule=rule, weight_scale=4 * nS, w_init=0.5)],
        )
        spikes = built.spike_monitor("inputs")
        session.run(0.5 * second)
        return np.asarray(spikes.i[:]).copy(), built.weights("ff")


@pytest.mark.standalone
def test_same_seed_same_spikes_and_weights(backend):
    spikes_a, weights_a = _poisson_network(backend, seed=11)
    spikes_b, weights_b = _poisson_network(backend, seed=11)
    spikes_c, _ = _poisson_network(backend, seed=12)
    np.testing.assert_array_equal(spikes_a, spikes_b)
    np.testing.assert_array_equal(weights_a, weights_b)
    assert spikes_a.size != spikes_c.size or not np.array_equal(spikes_a, spikes_c)


def test_same_seed_same_spikes_across_backends():
    """All backends draw the same random numbers in the same order for a given seed."""
    from spikeplast.backend import available_backends

    runs = {
        backend: _poisson_network(backend, seed=5)
        for backend in available_backends()
        if backend in ("numpy", "cython", "cpp_standalone", "numba_standalone")
    }
    spikes, weights = runs.pop("numpy")
    for backend, (other_spikes, other_weights) in runs.items():
        np.testing.assert_array_equal(other_spikes, spikes, err_msg=backend)
        np.testing.assert_allclose(other_weights, weights, rtol=1e-12, err_msg=backend)
