"""Offline tasks: MNIST-1D generator, IDX reader, reward-prediction task."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from spikeplast.bridges import BridgeError, make_mnist1d, reward_prediction_task
from spikeplast.bridges.datasets import load_mnist_idx, load_task, read_idx


def test_mnist1d_has_the_published_shape_and_is_deterministic():
    data = make_mnist1d(n_samples=500, seed=3)
    assert data.x_train.shape == (400, 40) and data.x_test.shape == (100, 40)
    assert data.n_classes == 10
    assert np.bincount(np.concatenate([data.y_train, data.y_test])).tolist() == [50] * 10
    x = np.concatenate([data.x_train, data.x_test])
    assert abs(x.mean()) < 1e-12 and abs(x.std() - 1) < 1e-12
    np.testing.assert_array_equal(make_mnist1d(n_samples=500, seed=3).x_train, data.x_train)


def test_mnist1d_classes_differ_on_average():
    data = make_mnist1d(n_samples=1000, seed=0, iid_noise=0.0, correlated_noise=0.0)
    means = np.array([data.x_train[data.y_train == c].mean(0) for c in range(10)])
    distances = np.linalg.norm(means[:, None] - means[None], axis=-1)
    assert distances[np.triu_indices(10, 1)].min() > 0.1


def write_idx(path, array, code):
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as stream:
        stream.write(header + array.astype(">u1").tobytes())


def test_idx_files_round_trip(tmp_path, rng):
    images = rng.integers(0, 256, size=(12, 4, 4))
    labels = rng.integers(0, 10, size=12)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, 0x08)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels, 0x08)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images[:6], 0x08)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels[:6], 0x08)
    np.testing.assert_array_equal(read_idx(tmp_path / "train-labels-idx1-ubyte"), labels)
    data = load_task("mnist", mnist_dir=tmp_path)
    assert data.x_train.shape == (12, 16) and data.x_test.shape == (6, 16)
    np.testing.assert_allclose(data.x_train, images.reshape(12, -1) / 255.0)


def test_idx_errors_say_what_is_missing(tmp_path):
    with pytest.raises(BridgeError, match="train-images-idx3-ubyte"):
        load_mnist_idx(tmp_path)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(BridgeError, match="bad magic"):
        read_idx(tmp_path / "bad")


def test_reward_task_is_scalar_non_negative_and_configural():
    data = reward_prediction_task(n_train=400, seed=1)
    assert data.x_train.shape == (400, 40) and data.y_train.shape == (400, 1)
    assert (data.x_train >= 0).all() and data.n_classes == 0
    assert set(np.unique(data.y_train)) <= set(data.levels)
    # a linear readout (least squares with bias) cannot fit the amounts: mixtures are configural
    design = np.hstack([data.x_train, np.ones((400, 1))])
    fit = np.linalg.lstsq(design, data.y_train, rcond=None)[0]
    residual = np.mean((design @ fit - data.y_train) ** 2)
    assert residual > 0.1 * np.var(data.y_train)
