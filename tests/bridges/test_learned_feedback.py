"""Kunin et al. 2020 regularisers: closed forms, fixed points, Kolen-Pollack; GAIT's penalty."""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.bridges import (
    Backprop,
    activation_alignment,
    information_alignment,
    kolen_pollack,
    symmetric_alignment,
    weight_mirror,
)
from spikeplast.bridges.gait import orthogonality_gradient, orthogonality_penalty
from spikeplast.bridges.learned_feedback import PRIMITIVES, regularizer_gradient, regularizer_value
from spikeplast.bridges.network import forward, output_error
from spikeplast.bridges.rule import compute_gradients

from .conftest import small_batch, small_net


def finite_difference(function, b, eps=1e-6):
    grad = np.zeros_like(b)
    for index in np.ndindex(b.shape):
        up, down = b.copy(), b.copy()
        up[index] += eps
        down[index] -= eps
        grad[index] = (function(up) - function(down)) / (2 * eps)
    return grad


@pytest.mark.parametrize("primitive", PRIMITIVES)
def test_primitive_gradients_match_their_regularisers(rng, primitive):
    w, b, x = rng.standard_normal((3, 4)), rng.standard_normal((4, 3)), rng.standard_normal((6, 4))
    closed = regularizer_gradient({primitive: 1.0}, w, b, x)
    numeric = finite_difference(lambda bb: regularizer_value({primitive: 1.0}, w, bb, x), b)
    np.testing.assert_allclose(closed, numeric, rtol=1e-6, atol=1e-8)


def test_primitive_closed_forms_in_matrix_notation(rng):
    # The table of fa_bp_anchors.md §1.6: decay 2B, self -W^T, amp -E[x r^T],
    # sparse 2E[x x^T]B, null 2B E[r r^T]  (r = W x, E = batch mean).
    w, b, x = rng.standard_normal((3, 4)), rng.standard_normal((4, 3)), rng.standard_normal((6, 4))
    r = x @ w.T
    expected = {
        "decay": 2 * b,
        "self": -w.T,
        "amp": -np.mean([np.outer(xi, ri) for xi, ri in zip(x, r, strict=True)], axis=0),
        "sparse": 2 * np.mean([np.outer(xi, xi) for xi in x], axis=0) @ b,
        "null": 2 * b @ np.mean([np.outer(ri, ri) for ri in r], axis=0),
    }
    for primitive, value in expected.items():
        np.testing.assert_allclose(regularizer_gradient({primitive: 1.0}, w, b, x), value)


def test_combinations_are_the_published_sums():
    assert dict(symmetric_alignment(0.3, 0.7).coefficients) == {"decay": 0.3, "self": 0.7}
    assert dict(activation_alignment(0.3, 0.7).coefficients) == {"sparse": 0.3, "amp": 0.7}
    assert dict(weight_mirror(0.3, 0.7).coefficients) == {"decay": 0.3, "amp": 0.7}
    assert dict(information_alignment(1, 2, 3).coefficients) == {"amp": 1, "null": 2, "decay": 3}
    assert kolen_pollack().tie_gradient and weight_mirror().mirror_noise == 1.0


def relax_feedback(rule, net, x, t, rng, steps=400, lr=0.05):
    """Run only the feedback dynamics (forward weights frozen)."""
    feedback = rule.init_feedback(net, rng)
    fwd = forward(net, x)
    gradients = compute_gradients(rule, net, fwd, output_error(net, fwd, t, "mse"), feedback)
    for _ in range(steps):
        feedback = rule.update_feedback(feedback, net, fwd, gradients, lr, rng)
    return feedback


@pytest.mark.parametrize(
    "make, factor",
    [(lambda: symmetric_alignment(0.5, 1.0), 1.0), (lambda: activation_alignment(0.5, 0.5), 0.5)],
)
def test_sa_and_aa_converge_to_a_multiple_of_w_transpose(rng, make, factor):
    net = small_net(rng)
    x, t = small_batch(rng, n=40)
    feedback = relax_feedback(make(), net, x, t, rng, steps=3000)
    for b, w in zip(feedback[1:], net.weights[1:], strict=True):
        np.testing.assert_allclose(b, factor * w.T, rtol=1e-3, atol=1e-4)


def test_weight_mirror_aligns_with_w_transpose_on_noise(rng):
    net = small_net(rng)
    x, t = small_batch(rng, n=200)
    feedback = relax_feedback(weight_mirror(0.5, 1.0), net, x, t, rng, steps=1500, lr=0.02)
    for b, w in zip(feedback[1:], net.weights[1:], strict=True):
        cosine = np.sum(b * w.T) / np.linalg.norm(b) / np.linalg.norm(w)
        assert cosine > 0.95


def test_kolen_pollack_makes_feedback_and_forward_transpose_converge(rng):
    from spikeplast.bridges import Dataset, TrainConfig, init_network, train

    x = rng.standard_normal((64, 5))
    data = Dataset("toy", x, np.tanh(x @ rng.standard_normal((5, 2))), x[:8], np.zeros((8, 2)))
    net = init_network([5, 8, 2], hidden="tanh", rng=rng)
    result = train(net, kolen_pollack(decay=0.2), data, TrainConfig("mse", 30, 8, 0.1), seed=3)
    start, end = result.history.weight_angle[0, 0], result.history.weight_angle[-1, 0]
    assert start > 60 and end < 5


def test_kolen_pollack_output_update_is_backprop_plus_decay(rng):
    net = small_net(rng)
    x, t = small_batch(rng)
    fwd = forward(net, x)
    error = output_error(net, fwd, t, "mse")
    rule = kolen_pollack(decay=0.1)
    kp = compute_gradients(rule, net, fwd, error, rule.init_feedback(net, rng))
    bp = compute_gradients(Backprop(), net, fwd, error, (None,) * 3)
    np.testing.assert_allclose(kp.weights[-1], bp.weights[-1] + 0.2 * net.weights[-1])


def test_gait_orthogonality_gradient_matches_finite_differences(rng):
    w = rng.standard_normal((4, 4))
    numeric = finite_difference(orthogonality_penalty, w)
    np.testing.assert_allclose(orthogonality_gradient(w), numeric, rtol=1e-6, atol=1e-8)
    q, _ = np.linalg.qr(w)
    assert orthogonality_penalty(q) < 1e-20
