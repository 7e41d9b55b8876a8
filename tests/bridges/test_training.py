"""Small fixed-seed runs: learning happens, measurements are recorded, runs are reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.bridges import (
    TrainConfig,
    get_rule,
    init_network,
    make_mnist1d,
    reward_prediction_task,
    train,
)
from spikeplast.bridges.datasets import load_digits

FAST = TrainConfig(epochs=8, batch_size=16, learning_rate=0.1, evaluate_every=4)


@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("sklearn")
    data = load_digits()
    return data._replace(x_train=data.x_train[:600], y_train=data.y_train[:600])


@pytest.mark.parametrize(
    "rule, floor", [("bp", 0.85), ("fa", 0.8), ("dfa", 0.8), ("usf", 0.8), ("sa", 0.85)]
)
def test_rules_learn_digits(digits, rule, floor):
    net = init_network([64, 32, 10], hidden="relu", output="softmax", rng=0)
    result = train(net, get_rule(rule), digits, FAST, seed=0)
    history = result.history
    assert history.test_accuracy[0] < 0.3 and history.test_accuracy[-1] > floor
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.weight_angle.shape == (3, 1) and history.update_angle.shape == (3, 2)
    assert np.all(history.update_angle[:, -1] < 1e-3)  # the output layer always gets the BP update


def test_fa_aligns_forward_weights_with_feedback(digits):
    net = init_network([64, 32, 10], hidden="relu", output="softmax", rng=0)
    history = train(net, get_rule("fa"), digits, FAST).history
    assert history.weight_angle[0, 0] > 80 and history.weight_angle[-1, 0] < 75
    assert history.update_angle[-1, 0] < 75  # the hidden update now points within 90° of BP's


def test_gait_prop_learns_on_a_square_network(digits):
    net = init_network(
        [64, 64, 64], hidden="leaky_relu", output="leaky_relu", orthogonal=True, rng=0
    )
    config = TrainConfig("mse", epochs=4, batch_size=16, learning_rate=0.2, evaluate_every=4)
    history = train(net, get_rule("gait"), digits, config, seed=0).history
    assert history.test_accuracy[-1] > 0.8
    assert history.weight_angle[-1].max() < 20  # still close to orthogonal: W^-1 ≈ W^T


def test_fa_ex_learns_the_reward_task_like_bp():
    data = reward_prediction_task(n_train=300, seed=0)
    results = {}
    for rule in ("bp", "fa_ex", "elm"):
        net = init_network([40, 20, 1], hidden="relu", rng=0)
        config = TrainConfig("mse", epochs=6, batch_size=1, learning_rate=0.01)
        results[rule] = train(net, get_rule(rule), data, config, seed=0).history.test_loss[-1]
    assert results["fa_ex"] < 2 * results["bp"]
    assert results["fa_ex"] < 0.5 * results["elm"]


def test_training_is_reproducible_for_a_seed(digits):
    net = init_network([64, 16, 10], output="softmax", rng=3)
    config = TrainConfig(epochs=1)
    first = train(net, get_rule("brsf"), digits, config, seed=7)
    second = train(net, get_rule("brsf"), digits, config, seed=7)
    for a, b in zip(first.net.weights, second.net.weights, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("rule", ["bp", "fa", "kp"])
def test_rules_learn_generated_mnist1d_without_sklearn(rule):
    data = make_mnist1d(n_samples=1000, seed=0)
    net = init_network([40, 64, 10], hidden="relu", output="softmax", rng=0)
    history = train(net, get_rule(rule), data, FAST, seed=0).history
    assert history.test_accuracy[0] < 0.2 and history.test_accuracy[-1] > 0.22  # chance: 0.1
