"""Bad input: one clear error naming the problem and the fix; NaN stops training at once."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from spikeplast.bridges import (
    Backprop,
    Dataset,
    FAExcitatory,
    FeedbackAlignment,
    GaitProp,
    IncompatibleRuleError,
    ShapeError,
    TrainConfig,
    TrainingDivergedError,
    UnknownBridgeNameError,
    forward,
    get_rule,
    init_network,
    rule_update,
    three_factor_update,
    train,
)
from spikeplast.errors import SpikeplastError


def toy_classification(rng, n_in=4, n_classes=3, n=30):
    x = rng.standard_normal((n, n_in))
    y = rng.integers(n_classes, size=n)
    return Dataset("toy", x, y, x[:5], y[:5], n_classes=n_classes)


def test_bridge_errors_are_value_errors_the_cli_catches():
    assert issubclass(ShapeError, ValueError) and issubclass(ShapeError, SpikeplastError)
    assert issubclass(IncompatibleRuleError, ValueError)
    assert issubclass(TrainingDivergedError, SpikeplastError)


def test_input_width_mismatch_names_both_shapes(rng):
    net = init_network([4, 5, 3], rng=rng)
    with pytest.raises(ShapeError, match=r"\(2, 6\).*\(batch, 4\)"):
        forward(net, np.zeros((2, 6)))


def test_dataset_and_network_widths_must_match(rng):
    data = toy_classification(rng)
    with pytest.raises(ShapeError, match="input width is 5"):
        train(init_network([5, 6, 3], output="softmax", rng=rng), Backprop(), data)
    with pytest.raises(ShapeError, match="make the last layer 3 wide"):
        train(init_network([4, 6, 7], output="softmax", rng=rng), Backprop(), data)


def test_target_rows_must_match_samples(rng):
    net = init_network([4, 5, 3], rng=rng)
    with pytest.raises(ShapeError, match="one target row per sample"):
        rule_update(Backprop(), net, np.zeros((3, 4)), np.zeros((2, 3)))


def test_loss_and_output_must_fit(rng):
    net = init_network([4, 5, 3], output="linear", rng=rng)
    with pytest.raises(IncompatibleRuleError, match="needs a softmax output"):
        rule_update(Backprop(), net, np.zeros((3, 4)), np.zeros((3, 3)), loss="cross_entropy")
    with pytest.raises(UnknownBridgeNameError, match="unknown loss"):
        rule_update(Backprop(), net, np.zeros((3, 4)), np.zeros((3, 3)), loss="hinge")


def test_fa_ex_on_softmax_explains_the_vanishing_broadcast_error(rng):
    net = init_network([4, 5, 3], output="softmax", rng=rng)
    with pytest.raises(
        IncompatibleRuleError, match=r"scalar-output.*exactly 0.*modulator='signed'"
    ):
        train(net, FAExcitatory(), toy_classification(rng))


def test_fa_ex_signed_modulator_handles_softmax(rng):
    net = init_network([4, 5, 3], output="softmax", rng=rng)
    result = train(net, FAExcitatory(modulator="signed"), toy_classification(rng),
                   TrainConfig(epochs=1))  # fmt: skip
    assert np.isfinite(result.history.train_loss).all()


def test_gait_needs_square_invertible_layers(rng):
    x = np.zeros((2, 4))
    with pytest.raises(IncompatibleRuleError, match="square layers"):
        rule_update(GaitProp(), init_network([4, 5, 4], hidden="leaky_relu", rng=rng), x, x)
    relu_net = init_network([4, 4, 4], hidden="relu", output="leaky_relu", rng=rng)
    with pytest.raises(IncompatibleRuleError, match="not invertible"):
        rule_update(GaitProp(), relu_net, x, x)
    softmax_net = init_network([4, 4, 4], hidden="leaky_relu", output="softmax", rng=rng)
    with pytest.raises(IncompatibleRuleError, match="needs loss='mse'"):
        rule_update(GaitProp(), softmax_net, x, np.eye(4)[[0, 1]], loss="cross_entropy")


def test_feedback_must_be_given_and_fit_the_network(rng):
    net = init_network([4, 5, 3], rng=rng)
    x, t = np.zeros((2, 4)), np.zeros((2, 3))
    with pytest.raises(IncompatibleRuleError, match="needs feedback weights"):
        rule_update(FeedbackAlignment(), net, x, t)
    other = init_network([4, 5, 5, 3], rng=rng)
    with pytest.raises(IncompatibleRuleError, match="feedback entries for 2 layers"):
        rule_update(
            FeedbackAlignment(), net, x, t, feedback=FeedbackAlignment().init_feedback(other, rng)
        )


def test_unknown_names_suggest_close_matches():
    with pytest.raises(UnknownBridgeNameError, match="Did you mean 'dfa'"):
        get_rule("dfaa")
    with pytest.raises(UnknownBridgeNameError, match="unknown activation"):
        init_network([2, 2], hidden="swish")


def test_three_factor_update_checks_shapes(rng):
    w = rng.standard_normal((3, 4))
    with pytest.raises(ShapeError, match=r"expected \(batch, 4\)"):
        three_factor_update(w, np.zeros((2, 5)), np.zeros(2))
    with pytest.raises(ShapeError, match="feedback has shape"):
        three_factor_update(w, np.zeros((2, 4)), np.zeros((2, 2)), feedback=np.ones((3, 3)))


def test_nan_stops_training_naming_layer_and_step(rng):
    data = toy_classification(rng)
    data = data._replace(x_train=data.x_train * 1e6)
    net = init_network([4, 50, 3], hidden="relu", output="linear", rng=rng)
    with pytest.raises(TrainingDivergedError, match=r"layer \d+ became NaN/inf at step \d+"):
        train(net, Backprop(), data._replace(n_classes=0, y_train=np.ones((30, 3)) * 1e6,
              y_test=np.ones((5, 3))), TrainConfig("mse", 5, 10, 10.0))  # fmt: skip


def test_cli_bad_input_is_one_line_and_status_2(tmp_path):
    for argv in (["compare", "--rules", "bp,nope"], ["compare", "--task", "cifar"],
                 ["compare", "--task", "mnist", "--mnist-dir", str(tmp_path)]):  # fmt: skip
        completed = subprocess.run(
            [sys.executable, "-m", "spikeplast.bridges", *argv, "--no-progress"],
            capture_output=True,
            text=True,
        )
        assert completed.returncode == 2, completed.stderr
        assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr
        assert completed.stderr.startswith("spikeplast: error: ")
