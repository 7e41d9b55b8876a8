"""Exact backprop: gradients against central finite differences of the loss."""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.bridges import Backprop, bp_update, forward, loss_value
from spikeplast.bridges.network import output_error
from spikeplast.bridges.rule import compute_gradients

from .conftest import small_batch, small_net


def numerical_gradient(net, x, t, loss, k, which="weights", eps=1e-6):
    params = list(getattr(net, which))
    grad = np.zeros_like(params[k])
    for index in np.ndindex(params[k].shape):
        values = []
        for sign in (1, -1):
            shifted = params[k].copy()
            shifted[index] += sign * eps
            trial = net.replace(
                **{which: tuple(shifted if i == k else p for i, p in enumerate(params))}
            )
            values.append(loss_value(trial, forward(trial, x), t, loss))
        grad[index] = (values[0] - values[1]) / (2 * eps)
    return grad


@pytest.mark.parametrize(
    "hidden, output, loss",
    [
        ("tanh", "linear", "mse"),
        ("sigmoid", "sigmoid", "mse"),
        ("leaky_relu", "tanh", "mse"),
        ("relu", "softmax", "cross_entropy"),
        ("tanh", "softmax", "cross_entropy"),
    ],
)
def test_bp_gradients_match_finite_differences(rng, hidden, output, loss):
    net = small_net(rng, hidden=hidden, output=output)
    x, t = small_batch(rng, classes=loss == "cross_entropy")
    fwd = forward(net, x)
    gradients = compute_gradients(
        Backprop(), net, fwd, output_error(net, fwd, t, loss), (None,) * 3
    )
    for k in range(net.n_layers):
        np.testing.assert_allclose(
            gradients.weights[k], numerical_gradient(net, x, t, loss, k), rtol=1e-5, atol=1e-8
        )
        np.testing.assert_allclose(
            gradients.biases[k],
            numerical_gradient(net, x, t, loss, k, "biases"),
            rtol=1e-5,
            atol=1e-8,
        )


def test_bp_update_is_minus_learning_rate_times_gradient(rng):
    net = small_net(rng)
    x, t = small_batch(rng)
    steps = bp_update(net, x, t, learning_rate=0.3)
    for k, step in enumerate(steps):
        np.testing.assert_allclose(step, -0.3 * numerical_gradient(net, x, t, "mse", k), atol=1e-8)
