"""The bridge to spikes (spikeplast.spiking_bridge): the spiking global-error update on a rate
network's weights approaches the FA_Ex-100% rate update, keeps its sign structure, trains next to
the rate network, and rejects bad input with one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spikeplast.bridges import angle, init_network
from spikeplast.bridges.cli import main as bridge_main
from spikeplast.bridges.datasets import reward_prediction_task
from spikeplast.bridges.errors import ShapeError
from spikeplast.errors import ConfigurationError
from spikeplast.spiking_bridge import (
    SpikingMap,
    hidden_matrix,
    lif_gate,
    lif_rate,
    spike_statistics,
    spiking_updates,
    train_side_by_side,
)

PROTOCOLS = Path(__file__).resolve().parents[1] / "protocols"
MAPPING = SpikingMap(dt=2e-4)  # exact LIF and rule integration: a coarse step is fine here


def designed_network():
    """4 hidden units: two well above rheobase (I ≈ 0.8–1.2), two well below (I ≈ -1)."""
    net = init_network([6, 4, 1], rng=0)
    w = np.array(
        [
            [0.6, 0.4, 0.0, 0.2, 0.0, 0.3],
            [-0.8, -0.5, 0.1, 0.0, -0.4, 0.0],
            [0.0, 0.3, 0.7, 0.5, 0.2, 0.0],
            [-0.3, 0.0, -0.9, -0.6, 0.0, -0.2],
        ]
    )
    return net.replace(weights=(w, net.weights[1]), biases=(np.array([0.1, 0.0, 0.1, 0.0]),
                                                             net.biases[1]))  # fmt: skip


X = np.array([[1.0, 0.8, 0.0, 0.5, 0.6, 0.9], [0.2, 0.9, 1.0, 0.8, 0.0, 0.3]])
ERROR = np.array([0.6, -0.9])


@pytest.fixture(scope="module")
def updates():
    return spiking_updates(
        designed_network(), X, ERROR, durations=(0.01, 0.5), trials=8, mapping=MAPPING,
        backend="numpy", seed=3,
    )  # fmt: skip


def test_angle_at_long_trials_is_much_smaller(updates):
    short, long = (angle(u.mean(axis=0), updates.rate_update) for u in updates.updates)
    assert long < 10.0
    assert short > 2.5 * long
    # single trials are noisier than their mean
    singles = np.mean([angle(u, updates.rate_update) for u in updates.updates[1]])
    assert singles > long


def test_spiking_update_has_the_sign_structure_of_the_rate_rule(updates):
    mean = updates.updates[1].mean(axis=0)
    rate = updates.rate_update
    clear = np.abs(rate) > 0.2 * np.abs(rate).max()
    assert clear.sum() >= 6
    assert np.all(np.sign(mean[clear]) == np.sign(rate[clear]))
    # neurons held below rheobase (rows 1 and 3) hardly learn; the others carry the update
    silent = np.abs(mean[[1, 3]]).max()
    assert silent < 0.05 * np.abs(mean[[0, 2]]).max()
    ratio = np.linalg.norm(mean) / np.linalg.norm(rate)
    assert 0.7 < ratio < 1.3


def test_gate_follows_the_rheobase(updates):
    current = updates.pre_activation
    gate = updates.gate_open[-1].mean(axis=1)
    assert np.all(gate[current < -0.5] < 0.05)
    assert np.all(gate[current > 0.5] > 0.8)
    assert np.all((lif_gate(current, MAPPING) > 0) == (current > 0))


def test_lif_rate_is_the_deterministic_f_i_curve():
    a = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    rate = lif_rate(a, MAPPING)
    assert rate[0] == rate[1] == 0.0
    assert np.all(np.diff(rate[1:]) > 0)
    # I = rheobase + 100 pA: V_inf - V_th = 10 mV, so T = 2 ms + 20 ms ln 2
    assert rate[3] == pytest.approx(1 / (0.002 + 0.020 * np.log(2.0)))


def test_spike_statistics_counts_and_gate_time():
    times = np.array([0.010, 0.030, 0.100, 0.005])
    neurons = np.array([0, 0, 0, 1])
    counts, open_time = spike_statistics(times, neurons, 0.12, 0.05, 3)
    assert counts.tolist() == [3, 1, 0]
    # neuron 0: 10–30 ms (restarted), 30–80, 100–120 (cut at the end); neuron 1: 5–55 ms
    assert open_time == pytest.approx([0.02 + 0.05 + 0.02, 0.05, 0.0])


def test_side_by_side_training_learns():
    data = reward_prediction_task(n_train=40, n_test=50, seed=1)
    net = init_network([40, 6, 1], rng=1)
    run = train_side_by_side(
        net, data, blocks=2, trials_per_block=40, batch_size=10, trial_length=0.1,
        learning_rate=0.02, test_trials=10, mapping=MAPPING, backend="numpy", seed=1,
    )  # fmt: skip
    assert run.rate_test_loss[-1] < 0.6 * run.rate_test_loss[0]
    assert run.transfer_test_loss[-1] < 0.6 * run.transfer_test_loss[0]
    assert run.spiking_train_loss[2] < run.spiking_train_loss[1]
    assert np.isfinite(run.spiking_test_loss) and np.isfinite(run.spiking_train_loss[1:]).all()
    changed = hidden_matrix(run.spiking_net) - hidden_matrix(net)
    assert angle(changed, hidden_matrix(run.rate_net) - hidden_matrix(net)) < 60


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x, error, match",
    [
        (np.ones((2, 5)), ERROR, "expected \\(batch, 6\\)"),
        (-X, ERROR, "non-negative"),
        (X, np.ones(3), "one scalar error per sample"),
        (X, np.ones((2, 2)), "one scalar error per sample"),
        (X, np.array([np.nan, 1.0]), "finite"),
    ],
)
def test_bad_inputs_and_errors(x, error, match):
    with pytest.raises(ShapeError, match=match):
        spiking_updates(designed_network(), x, error, durations=(0.01,), trials=1)


def test_bad_networks_and_settings():
    net = designed_network()
    with pytest.raises(ShapeError, match="two weight layers"):
        spiking_updates(init_network([6, 4, 3, 1], rng=0), X, ERROR)
    with pytest.raises(ShapeError, match="ReLU hidden"):
        spiking_updates(init_network([6, 4, 1], hidden="tanh", rng=0), X, ERROR)
    with pytest.raises(ShapeError, match="scalar-output task"):
        spiking_updates(init_network([6, 4, 2], rng=0), X, ERROR)
    with pytest.raises(ShapeError, match="durations must increase"):
        spiking_updates(net, X, ERROR, durations=(0.5, 0.1))
    with pytest.raises(ShapeError, match="trials must be a positive integer"):
        spiking_updates(net, X, ERROR, trials=0)
    with pytest.raises(ConfigurationError, match="numpy or cython"):
        spiking_updates(net, X, ERROR, backend="cpp_standalone")
    with pytest.raises(ConfigurationError, match="input_rate must be a positive number"):
        spiking_updates(net, X, ERROR, mapping=SpikingMap(input_rate=-5.0))
    data = reward_prediction_task(n_train=20, n_test=5, seed=0)
    with pytest.raises(ShapeError, match="multiple of batch_size"):
        train_side_by_side(init_network([40, 4, 1], rng=0), data, trials_per_block=15)


def test_cli_quick_runs_and_rejects_bad_options(tmp_path, capsys):
    argv = ["spiking-angle", "--quick", "--backend", "numpy", "--no-progress"]
    assert bridge_main([*argv, "--out", str(tmp_path)]) == 0
    assert {p.name for p in tmp_path.iterdir()} >= {
        "bridge_spiking_angle.json", "bridge_spiking_angle.npz", "bridge_spiking_angle.png"
    }  # fmt: skip
    assert bridge_main(["spiking-train", "--backend", "cpp_standalone"]) == 2
    assert bridge_main(["spiking-angle", "--input-rate", "0"]) == 2
    assert "error" in capsys.readouterr().err


@pytest.mark.slow
def test_protocol_script_quick(tmp_path):
    for experiment in ("angle", "train"):
        command = [sys.executable, str(PROTOCOLS / "spiking_bridge.py"), experiment, "--quick",
                   "--backend", "numpy", "--no-progress", "--out", str(tmp_path)]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True, timeout=600)
    assert (tmp_path / "bridge_spiking_train.png").exists()
