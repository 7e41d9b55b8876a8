"""Small shared fixtures for the bridge tests."""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.bridges import init_network


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def small_batch(rng, n_in=5, n=7, n_out=3, classes=False):
    """A random batch: inputs and targets (one-hot rows when `classes`)."""
    x = rng.standard_normal((n, n_in))
    if classes:
        return x, np.eye(n_out)[rng.integers(n_out, size=n)]
    return x, rng.standard_normal((n, n_out))


def small_net(rng, sizes=(5, 6, 4, 3), hidden="tanh", output="linear"):
    """A small network with non-zero biases (so tests exercise them)."""
    net = init_network(sizes, hidden=hidden, output=output, rng=rng)
    return net.replace(biases=tuple(0.1 * rng.standard_normal(b.shape) for b in net.biases))
