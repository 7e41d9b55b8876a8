"""Receptive-field metrics on synthetic data with known answers (Gabors, blobs, noise)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spikeplast.analysis import (
    METRICS,
    compare,
    diversity,
    fit_gabor,
    fit_gabors,
    gabor,
    gratings,
    orientation_selectivity,
    random_control,
    response_kurtosis,
    summarize,
)

SHAPE = (12, 12)


def bank(n: int = 8, **overrides) -> np.ndarray:
    """Gabors at `n` orientations, flattened."""
    params = {"x0": 5.5, "y0": 5.5, "sigma_x": 2.0, "sigma_y": 3.0, "frequency": 0.2}
    params.update(overrides)
    return np.array([gabor(SHAPE, theta=t, **params).ravel() for t in np.arange(n) * math.pi / n])


def angle_difference(a: float, b: float) -> float:
    """Distance of two orientations modulo π."""
    d = (a - b) % math.pi
    return min(d, math.pi - d)


@pytest.mark.parametrize(
    "params",
    [
        dict(x0=5.3, y0=6.1, sigma_x=1.8, sigma_y=2.5, theta=2.0, frequency=0.2, phase=0.7),
        dict(x0=3.0, y0=8.0, sigma_x=1.2, sigma_y=3.0, theta=0.3, frequency=0.3, phase=-2.0),
        dict(x0=7.5, y0=4.0, sigma_x=2.5, sigma_y=1.5, theta=3.0, frequency=0.12, phase=3.0),
    ],
)
def test_gabor_fit_recovers_known_parameters(params):
    image = gabor(SHAPE, amplitude=2.0, offset=0.3, **params)
    fit = fit_gabor(image)
    assert fit.r2 > 0.999
    assert fit.frequency == pytest.approx(params["frequency"], rel=1e-3)
    assert angle_difference(fit.theta, params["theta"]) < 1e-3
    assert (fit.x0, fit.y0) == pytest.approx((params["x0"], params["y0"]), abs=1e-3)
    assert fit.amplitude == pytest.approx(2.0, rel=1e-3)
    assert np.allclose(fit.render(SHAPE), image, atol=1e-4)


def test_gabor_fit_of_noise_and_noisy_gabors():
    rng = np.random.default_rng(0)
    noise = [fit_gabor(rng.standard_normal(SHAPE)).r2 for _ in range(8)]
    assert np.median(noise) < 0.3
    clean = gabor(SHAPE, x0=6, y0=6, sigma_x=2, sigma_y=3, theta=1.0, frequency=0.2)
    noisy = fit_gabor(clean + 0.05 * rng.standard_normal(SHAPE))
    assert noisy.r2 > 0.9 and angle_difference(noisy.theta, 1.0) < 0.05


def test_gabor_fit_edge_cases():
    assert fit_gabor(np.full(SHAPE, 3.0)).r2 == 0.0
    blob = np.exp(-((np.mgrid[0:12, 0:12] - 5.5) ** 2).sum(axis=0) / 8.0)
    assert fit_gabor(blob).r2 > 0.99  # a Gaussian is a Gabor of frequency 0
    assert len(fit_gabors(bank(3))) == 3
    with pytest.raises(ValueError, match="not a square patch"):
        fit_gabor(np.zeros(10))
    with pytest.raises(ValueError, match="NaN"):
        fit_gabor(np.full(SHAPE, np.nan))


def test_gratings_shape_and_orientation():
    waves = gratings(12, 0.25, np.array([0.0, math.pi / 2]), np.array([0.0]))
    assert waves.shape == (2, 1, 144)
    image = waves[0, 0].reshape(12, 12)
    assert np.allclose(image, image[0])  # theta = 0: varies along x (columns) only


def test_orientation_selectivity_of_gabors_blobs_and_noise():
    gabors = bank(8)
    osi, preferred = orientation_selectivity(gabors)
    assert np.all(osi > 0.7)
    for found, true in zip(preferred, np.arange(8) * math.pi / 8, strict=True):
        assert angle_difference(found, true) < 0.05
    blob = np.exp(-((np.mgrid[0:12, 0:12] - 5.5) ** 2).sum(axis=0) / 8.0).ravel()
    assert orientation_selectivity(blob)[0][0] < 0.05
    noise = np.random.default_rng(1).standard_normal((16, 144))
    assert np.median(orientation_selectivity(noise)[0]) < 0.4


def test_orientation_selectivity_goes_through_the_transform():
    """A transform that removes the gratings (projects them to zero) leaves no response."""
    osi, _ = orientation_selectivity(bank(2), transform=lambda patches: 0.0 * patches)
    assert np.all(osi == 0.0)
    doubled, _ = orientation_selectivity(bank(2), transform=lambda patches: 2.0 * patches)
    assert np.allclose(doubled, orientation_selectivity(bank(2))[0])


def test_response_kurtosis_known_distributions():
    rng = np.random.default_rng(2)
    filters = random_control(4, 20, rng)
    gaussian = rng.standard_normal((40000, 20))
    assert np.all(np.abs(response_kurtosis(filters, gaussian)) < 0.15)
    # a single Laplacian source seen through the first axis: excess kurtosis 3
    laplace = np.zeros((40000, 20))
    laplace[:, 0] = rng.laplace(size=40000)
    assert response_kurtosis(np.eye(20)[:1], laplace)[0] == pytest.approx(3.0, abs=0.3)


def test_diversity_of_collapsed_and_diverse_populations():
    one = bank(1)
    collapsed = np.repeat(one, 10, axis=0) * np.linspace(0.5, 2, 10)[:, None]
    result = diversity(collapsed, fit_gabors(collapsed[:3]), np.zeros(10))
    assert result["distinct_filters"] == 1
    assert result["max_similarity_median"] == pytest.approx(1.0)
    assert result["orientation_bins"] == 1
    assert result["centre_spread_px"] == pytest.approx(0.0, abs=1e-6)
    diverse = np.vstack([bank(8, x0=3.0), bank(8, x0=8.0, y0=8.0, sigma_y=2.0)])
    _, preferred = orientation_selectivity(diverse)
    result = diversity(diverse, fit_gabors(diverse), preferred)
    assert result["orientation_bins"] == 8
    assert result["distinct_filters"] == 16
    assert result["centre_spread_px"] > 2.0


def test_random_control_lies_in_the_basis():
    rng = np.random.default_rng(3)
    basis, _ = np.linalg.qr(rng.standard_normal((144, 20)))
    filters = random_control(6, 144, rng, basis)
    assert np.allclose(np.linalg.norm(filters, axis=1), 1.0)
    assert np.allclose(filters @ basis @ basis.T, filters)


def test_summarize_and_compare():
    rng = np.random.default_rng(4)
    gabors = bank(6)
    noise = rng.standard_normal((6, 144))
    held_out = rng.laplace(size=(2000, 144))
    learned = summarize(gabors, held_out)["summary"]
    control = summarize(noise, held_out)["summary"]
    assert set(METRICS) == set(learned)
    assert learned["gabor_r2_median"] > 0.99 > 0.4 > control["gabor_r2_median"]
    assert learned["osi_median"] > control["osi_median"] + 0.3
    rows = compare(learned, control)
    assert [row["metric"] for row in rows] == list(METRICS)
    assert rows[0]["learned"] == learned["gabor_r2_median"]
