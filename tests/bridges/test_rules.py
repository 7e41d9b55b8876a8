"""Each rule's update against an independent, per-sample implementation of its equations.

The references below loop over samples with column vectors, as the equations are written in the
papers (a = W h + b, delta = (B delta_above) * f'(a)), and share no code with the library's
batched implementation.
"""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.bridges import (
    Backprop,
    DirectFeedbackAlignment,
    FAExcitatory,
    FeedbackAlignment,
    GaitProp,
    SignSymmetry,
    init_network,
    rule_update,
    three_factor_update,
)
from spikeplast.bridges.backprop import ExtremeLearningMachine

from .conftest import small_batch, small_net

TANH_PRIME = {"tanh": lambda a: 1 - np.tanh(a) ** 2, "relu": lambda a: (a > 0) * 1.0}


def reference_update(net, x, t, carry, lr=0.1, hidden="tanh"):
    """Per-sample loop: ΔW_k = -lr * mean_n delta_k h_{k-1}^T, with delta_{k-1} = carry(k, ...)."""
    f = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0)}[hidden]
    sums = [np.zeros_like(w) for w in net.weights]
    for xn, tn in zip(x, t, strict=True):
        hs, as_ = [xn[:, None]], []
        for k, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
            a = w @ hs[-1] + b[:, None]
            as_.append(a)
            hs.append(a if k == net.n_layers - 1 else f(a))  # linear output
        e = hs[-1] - tn[:, None]  # squared error, linear output
        delta = e
        for k in range(net.n_layers - 1, -1, -1):
            sums[k] += delta @ hs[k].T
            if k > 0:
                delta = carry(k, delta, e) * TANH_PRIME[hidden](as_[k - 1])
    return [-lr * s / len(x) for s in sums]


def assert_updates_equal(ours, reference):
    for a, b in zip(ours, reference, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


def test_bp_matches_per_sample_reference(rng):
    net = small_net(rng)
    x, t = small_batch(rng)
    reference = reference_update(net, x, t, lambda k, d, e: net.weights[k].T @ d)
    assert_updates_equal(rule_update(Backprop(), net, x, t, learning_rate=0.1), reference)


def test_fa_uses_fixed_random_feedback_in_place_of_the_transpose(rng):
    net = small_net(rng)
    x, t = small_batch(rng)
    rule = FeedbackAlignment()
    feedback = rule.init_feedback(net, rng)
    assert [None if b is None else b.shape for b in feedback] == [None, (6, 4), (4, 3)]
    reference = reference_update(net, x, t, lambda k, d, e: feedback[k] @ d)
    assert_updates_equal(
        rule_update(rule, net, x, t, feedback=feedback, learning_rate=0.1), reference
    )


def test_dfa_sends_the_output_error_to_every_hidden_layer(rng):
    net = small_net(rng)
    x, t = small_batch(rng)
    rule = DirectFeedbackAlignment()
    feedback = rule.init_feedback(net, rng)
    assert [None if b is None else b.shape for b in feedback] == [None, (6, 3), (4, 3)]
    reference = reference_update(net, x, t, lambda k, d, e: feedback[k] @ e)
    assert_updates_equal(
        rule_update(rule, net, x, t, feedback=feedback, learning_rate=0.1), reference
    )


def test_dfa_with_one_hidden_layer_equals_fa(rng):
    net = small_net(rng, sizes=(5, 8, 3))
    x, t = small_batch(rng)
    feedback = FeedbackAlignment().init_feedback(net, rng)
    fa = rule_update(FeedbackAlignment(), net, x, t, feedback=feedback)
    dfa = rule_update(DirectFeedbackAlignment(), net, x, t, feedback=feedback)
    assert_updates_equal(dfa, fa)


@pytest.mark.parametrize("magnitude", ["unit", "fixed_random", "batchwise_random"])
def test_sign_symmetry_feedback_has_the_signs_of_w_transpose(rng, magnitude):
    net = small_net(rng)
    x, t = small_batch(rng)
    rule = SignSymmetry(magnitude=magnitude)
    feedback = rule.init_feedback(net, rng)
    for b, w in zip(feedback[1:], net.weights[1:], strict=True):
        np.testing.assert_array_equal(np.sign(b), np.sign(w.T))
        if magnitude == "unit":  # uSF: one magnitude, the Xavier std (biotorch's scale)
            np.testing.assert_allclose(np.abs(b), np.sqrt(2 / sum(w.shape)))
    reference = reference_update(net, x, t, lambda k, d, e: feedback[k] @ d)
    assert_updates_equal(
        rule_update(rule, net, x, t, feedback=feedback, learning_rate=0.1), reference
    )


def test_sign_symmetry_follows_sign_flips_and_keeps_or_redraws_magnitudes(rng):
    net = small_net(rng)
    flipped = net.replace(weights=tuple(-w for w in net.weights))
    for magnitude, kept in [("fixed_random", True), ("batchwise_random", False)]:
        rule = SignSymmetry(magnitude=magnitude)
        feedback = rule.init_feedback(net, rng)
        new = rule.update_feedback(feedback, flipped, None, None, 0.1, rng)
        for old_b, new_b, w in zip(feedback[1:], new[1:], flipped.weights[1:], strict=True):
            np.testing.assert_array_equal(np.sign(new_b), np.sign(w.T))
            assert np.allclose(np.abs(new_b), np.abs(old_b)) == kept


def test_fa_ex_is_the_three_factor_rule_of_konishi_2023(rng):
    # scalar output, ReLU hidden layer: ΔW1_ij = -η x_j θ(I_i) e  (η = 0.01 in the paper)
    net = small_net(rng, sizes=(5, 8, 1), hidden="relu")
    x, t = small_batch(rng, n_out=1)
    rule = FAExcitatory()
    feedback = rule.init_feedback(net, rng)
    ours = rule_update(rule, net, x, t, feedback=feedback, learning_rate=0.01)
    reference = np.zeros_like(net.weights[0])
    for xn, tn in zip(x, t, strict=True):
        current = net.weights[0] @ xn + net.biases[0]
        y1 = np.maximum(current, 0)
        e = (net.weights[1] @ y1 + net.biases[1] - tn)[0]
        for i in range(reference.shape[0]):
            for j in range(reference.shape[1]):
                reference[i, j] += -0.01 * xn[j] * float(current[i] > 0) * e
    np.testing.assert_allclose(ours[0], reference / len(x), rtol=1e-10, atol=1e-14)
    # and the standalone three-factor function gives the same ΔW from (W, x, e) alone
    e = forward_error(net, x, t)
    standalone = three_factor_update(net.weights[0], x, e, biases=net.biases[0], learning_rate=0.01)
    np.testing.assert_allclose(standalone, ours[0], rtol=1e-12, atol=1e-15)


def forward_error(net, x, t):
    from spikeplast.bridges import forward, output_error

    fwd = forward(net, x)
    return output_error(net, fwd, t, "mse")


def test_three_factor_update_with_signed_feedback_is_the_dfa_update(rng):
    net = small_net(rng, sizes=(5, 8, 3), hidden="relu")
    x, t = small_batch(rng)
    feedback = DirectFeedbackAlignment().init_feedback(net, rng)
    dfa = rule_update(DirectFeedbackAlignment(), net, x, t, feedback=feedback, learning_rate=0.5)
    e = forward_error(net, x, t)
    three = three_factor_update(
        net.weights[0], x, e, biases=net.biases[0], feedback=feedback[1], learning_rate=0.5
    )
    np.testing.assert_allclose(three, dfa[0], rtol=1e-12, atol=1e-15)


def test_fa_ex_equals_bp_when_output_weights_are_all_one(rng):
    net = small_net(rng, sizes=(5, 8, 1), hidden="relu")
    net = net.replace(weights=(net.weights[0], np.ones((1, 8))))
    x, t = small_batch(rng, n_out=1)
    rule = FAExcitatory()
    ours = rule_update(rule, net, x, t, feedback=rule.init_feedback(net, rng))
    assert_updates_equal(ours, rule_update(Backprop(), net, x, t))


def test_elm_changes_only_the_output_layer(rng):
    net = small_net(rng)
    x, t = small_batch(rng)
    steps = rule_update(ExtremeLearningMachine(), net, x, t)
    assert not steps[0].any() and not steps[1].any()
    np.testing.assert_allclose(steps[-1], rule_update(Backprop(), net, x, t)[-1])


@pytest.mark.parametrize("hidden", ["leaky_relu", "tanh"])
def test_gait_prop_equals_bp_for_orthogonal_weights(rng, hidden):
    net = init_network([6, 6, 6, 6], hidden=hidden, output=hidden, rng=rng, orthogonal=True)
    x = 0.5 * rng.standard_normal((9, 6))
    t = np.eye(3)[rng.integers(3, size=9)]  # targets on the first 3 of 6 output units
    gait = rule_update(GaitProp(gamma=1e-5), net, x, t)
    bp = rule_update(Backprop(), net, x, t)
    for g, b in zip(gait, bp, strict=True):
        np.testing.assert_allclose(g, b, rtol=1e-3, atol=1e-6 * np.abs(b).max())


def test_gait_prop_differs_from_bp_for_non_orthogonal_weights(rng):
    net = init_network([6, 6, 6], hidden="leaky_relu", output="leaky_relu", rng=rng)
    x, t = 0.5 * rng.standard_normal((9, 6)), np.eye(3)[rng.integers(3, size=9)]
    gait = rule_update(GaitProp(gamma=1e-5), net, x, t)
    bp = rule_update(Backprop(), net, x, t)
    np.testing.assert_allclose(gait[-1], bp[-1], rtol=1e-10)  # output layer: same error
    assert not np.allclose(gait[0], bp[0], rtol=1e-2)  # below: W^-1 instead of W^T


def test_fa_ex_dale_keeps_output_weights_excitatory(rng):
    from spikeplast.bridges import Dataset, TrainConfig, train

    data = Dataset("toy", rng.random((40, 5)), rng.standard_normal((40, 1)), np.ones((2, 5)),
                   np.zeros((2, 1)))  # fmt: skip
    net = small_net(rng, sizes=(5, 8, 1), hidden="relu")
    result = train(net, FAExcitatory(nonnegative_output=True), data, TrainConfig("mse", 3, 4, 0.1))
    assert (result.net.weights[-1] >= 0).all() and (net.weights[-1] < 0).any()
