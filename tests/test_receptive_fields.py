"""Receptive-field pipeline: images, whitening, the rate model, the spiking network, bad input.

The learning tests run small fixed-seed versions and assert the metrics against the random
control of the same pipeline, so a broken rule, a broken whitening or a collapsed population
fails. Default images come with scikit-image and scikit-learn (no downloads).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("skimage", reason="the receptive-field pipeline needs scikit-image")

from spikeplast.analysis import summarize  # noqa: E402
from spikeplast.errors import ConfigurationError  # noqa: E402
from spikeplast.receptive_fields.images import (  # noqa: E402
    DEFAULT_IMAGES,
    Whitening,
    load_images,
    prepare_patches,
    sample_patches,
)
from spikeplast.receptive_fields.rate import RateModel, train_rate_model  # noqa: E402

PATCH = 8


@pytest.fixture(scope="module")
def images():
    return load_images()


@pytest.fixture(scope="module")
def patches(images):
    return prepare_patches(images, PATCH, 20000, 5000, np.random.default_rng(0))


# -- images and whitening ----------------------------------------------------------------------
def test_default_images_are_built_in_and_z_scored(images):
    assert images.names == DEFAULT_IMAGES
    for image in images.images:
        assert image.ndim == 2 and min(image.shape) >= 150
        assert abs(image.mean()) < 1e-9 and image.std() == pytest.approx(1.0)


def test_patches_have_zero_mean(images):
    raw = sample_patches(images, PATCH, 100, np.random.default_rng(1))
    assert raw.shape == (100, PATCH * PATCH)
    assert np.allclose(raw.mean(axis=1), 0.0)


def test_whitening_flattens_the_kept_spectrum(patches):
    whitening = patches.whitening
    assert whitening.kept == round(0.6 * PATCH * PATCH)
    assert np.allclose(whitening.matrix, whitening.matrix.T)
    covariance = np.cov(patches.train.T)
    assert np.mean(np.diag(covariance)) == pytest.approx(1.0, rel=0.01)
    spectrum = np.linalg.eigvalsh(covariance)[::-1][: whitening.kept]
    # the raw spectrum spans orders of magnitude; the whitened kept one is nearly flat
    assert whitening.eigenvalues[0] / whitening.eigenvalues[whitening.kept - 1] > 20
    assert spectrum[0] / spectrum[-1] < 2.0
    assert np.allclose(patches.test @ whitening.basis @ whitening.basis.T, patches.test)


# -- rate model --------------------------------------------------------------------------------
def learn_rate(patches, nonlinearity: str, theta: float, eta: float, steps: int = 3000):
    rng = np.random.default_rng(5)
    model = RateModel(nonlinearity=nonlinearity, theta=theta, eta=eta, steps=steps)
    learned, initial = train_rate_model(patches.train, patches.whitening.basis, 16, model, rng)
    return (
        summarize(learned, patches.test, patches.whitening)["summary"],
        summarize(initial, patches.test, patches.whitening)["summary"],
    )


def test_rate_model_learns_gabors_against_the_random_control(patches):
    learned, control = learn_rate(patches, "cubic", 0.0, 0.02)
    assert learned["gabor_r2_median"] >= 0.7
    assert learned["gabor_r2_median"] >= 2 * control["gabor_r2_median"]
    assert learned["osi_median"] >= control["osi_median"] + 0.2
    assert learned["kurtosis_median"] >= 1.5 * control["kurtosis_median"]
    assert learned["distinct_filters"] == 16 and learned["orientation_bins"] >= 4


def test_a_linear_rule_learns_nothing_on_whitened_input(patches):
    """The assertions above catch a broken rule: linear Hebbian learning on whitened input has
    no preferred direction, so its filters stay as random as the control."""
    learned, control = learn_rate(patches, "linear", 0.0, 0.02, steps=1000)
    assert learned["gabor_r2_median"] < 0.7
    assert learned["gabor_r2_median"] < 2 * control["gabor_r2_median"]


def test_rate_model_bad_settings(patches):
    rng = np.random.default_rng(0)
    basis = patches.whitening.basis
    with pytest.raises(ConfigurationError, match="at most 38 units"):
        train_rate_model(patches.train, basis, 39, RateModel(steps=1), rng)
    with pytest.raises(ConfigurationError, match="unknown nonlinearity 'tanh'"):
        train_rate_model(patches.train, basis, 4, RateModel(nonlinearity="tanh"), rng)


# -- bad input ---------------------------------------------------------------------------------
def test_user_images_and_images_mat(tmp_path):
    from scipy.io import savemat
    from skimage.io import imsave

    rng = np.random.default_rng(0)
    imsave(tmp_path / "scene.png", rng.integers(0, 255, (64, 80), dtype=np.uint8))
    savemat(tmp_path / "IMAGES.mat", {"IMAGES": rng.standard_normal((40, 40, 3))})
    images = load_images([tmp_path / "scene.png", tmp_path / "IMAGES.mat"])
    assert images.names == ("scene.png", "IMAGES.mat:IMAGES[0]", "IMAGES.mat:IMAGES[1]",
                            "IMAGES.mat:IMAGES[2]")  # fmt: skip
    assert images.images[0].shape == (32, 40) and images.images[1].shape == (20, 20)


def test_missing_unreadable_and_small_images(tmp_path):
    from skimage.io import imsave

    with pytest.raises(ConfigurationError, match="image file '.*nowhere.png' does not exist"):
        load_images([tmp_path / "nowhere.png"])
    (tmp_path / "broken.png").write_text("not an image")
    with pytest.raises(ConfigurationError, match="cannot read image file '.*broken.png'"):
        load_images([tmp_path / "broken.png"])
    (tmp_path / "empty.mat").write_bytes(b"")
    with pytest.raises(ConfigurationError, match="cannot read image file '.*empty.mat'"):
        load_images([tmp_path / "empty.mat"])
    imsave(tmp_path / "tiny.png", np.arange(36, dtype=np.uint8).reshape(6, 6) * 7)
    tiny = load_images([tmp_path / "tiny.png"])
    with pytest.raises(ConfigurationError, match="image 'tiny.png' is 3×3 .* smaller than the 8×8"):
        sample_patches(tiny, 8, 10, np.random.default_rng(0))
    imsave(tmp_path / "flat.png", np.full((20, 20), 9, dtype=np.uint8))
    with pytest.raises(ConfigurationError, match="image 'flat.png' is constant"):
        load_images([tmp_path / "flat.png"])
    with pytest.raises(ConfigurationError, match="image file 'imagenet:cat' does not exist"):
        load_images(["imagenet:cat"])
    with pytest.raises(ConfigurationError, match="scikit-image has no image 'eagle_x'"):
        load_images(["skimage:eagle_x"])


def test_patch_sizes_that_do_not_fit_the_whitening(images):
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigurationError, match="patch size must be a whole number of at least 4"):
        prepare_patches(images, 3, 1000, 10, rng)
    with pytest.raises(ConfigurationError, match="too few to whiten 12×12 patches"):
        prepare_patches(images, 12, 1000, 10, rng)
    with pytest.raises(ConfigurationError, match="leaves 1; use a larger patch"):
        Whitening.fit(sample_patches(images, 4, 1000, rng), keep=0.05)
