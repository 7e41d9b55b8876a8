"""Receptive-field metrics: Gabor fits, orientation selectivity, response kurtosis, diversity.

Every metric takes filters as rows of a 2-D array ``(n_filters, size*size)`` (or one filter) in
the space the network sees, i.e. acting on *whitened* patches, so that a neuron's response to a
patch ``p`` is ``w @ transform(p)``. NumPy and SciPy only (no Brian2), so the rate model and the
tests use the same code as the spiking demo.

Metrics
-------
Gabor-fit R² (:func:`fit_gabor`)
    A rotated 2-D Gabor ``A exp(-x'²/2σx² - y'²/2σy²) cos(2π f x' + φ) + c``, ``x'`` along the
    carrier's wave vector (orientation ``theta``), fitted by bounded least squares;
    ``R² = 1 - SS_res/SS_tot``. Good initialisation matters more than the optimiser: the carrier
    frequency and orientation start at the peak of the zero-padded Fourier amplitude, the centre
    at the energy centroid, and amplitude, phase and offset are solved linearly for each of two
    envelope widths before the nonlinear fit (Jones & Palmer 1987; Ringach 2002).
Orientation selectivity (:func:`orientation_selectivity`)
    ``OSI = |Σ R(θ) e^{2iθ}| / Σ R(θ) = 1 - circular variance`` over 16 orientations, where
    ``R(θ)`` is the rectified response maximised over 8 phases of a full-field grating at the
    filter's preferred spatial frequency. The gratings go through the same transform
    (whitening) as the training patches (Ringach, Shapley & Hawken 2002).
Response kurtosis (:func:`response_kurtosis`)
    Excess kurtosis of ``w @ x`` over held-out whitened patches: heavy-tailed projections are
    what nonlinear Hebbian learning finds (Brito & Gerstner 2016, Fig 7).
Diversity (:func:`diversity`)
    Orientation bins covered, number of distinct filters (greedy grouping of filters whose
    absolute cosine similarity exceeds 0.8), the median similarity to the most similar other
    filter, and the spread of the fitted centres; a collapsed population has one distinct filter.

:func:`random_control` draws the random-weights control in the same input space, and
:func:`summarize` / :func:`compare` turn filters into the medians reported by the demo.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "GaborFit",
    "gabor",
    "fit_gabor",
    "fit_gabors",
    "gratings",
    "grating_responses",
    "orientation_selectivity",
    "response_kurtosis",
    "diversity",
    "random_control",
    "summarize",
    "compare",
    "METRICS",
]

#: Highest carrier frequency a fit may reach, in cycles per pixel (the Nyquist limit is 0.5;
#: ``least_squares`` rejects starting points on a bound, so the bound stays just inside it).
MAX_FREQUENCY = 0.5

#: Spatial frequencies (cycles/pixel) searched for each filter's preferred grating.
DEFAULT_FREQUENCIES = tuple(np.round(np.linspace(0.04, 0.4, 10), 3))

#: Absolute cosine similarity above which two filters count as the same feature.
SAME_FEATURE_SIMILARITY = 0.8

#: Gabor fits with R² at least this count as Gabor-like (for centres and orientations).
GOOD_FIT_R2 = 0.5


@dataclass(frozen=True)
class GaborFit:
    """Parameters of a fitted Gabor (pixels, radians, cycles/pixel) and the fit's R².

    ``x0`` is the column and ``y0`` the row of the centre; ``theta`` is the direction of the
    carrier's wave vector (the bars run perpendicular to it), in ``[0, π)``; ``sigma_x`` is the
    envelope width along the wave vector and ``sigma_y`` along the bars.
    """

    amplitude: float
    x0: float
    y0: float
    sigma_x: float
    sigma_y: float
    theta: float
    frequency: float
    phase: float
    offset: float
    r2: float

    def render(self, shape: tuple[int, int]) -> np.ndarray:
        """The fitted Gabor as an image of `shape`."""
        return gabor(
            shape,
            amplitude=self.amplitude,
            x0=self.x0,
            y0=self.y0,
            sigma_x=self.sigma_x,
            sigma_y=self.sigma_y,
            theta=self.theta,
            frequency=self.frequency,
            phase=self.phase,
            offset=self.offset,
        )

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    rows, columns = np.mgrid[0 : shape[0], 0 : shape[1]]
    return columns.astype(float), rows.astype(float)


def _gabor_on(x: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    amplitude, x0, y0, sigma_x, sigma_y, theta, frequency, phase, offset = p
    dx, dy = x - x0, y - y0
    along = dx * math.cos(theta) + dy * math.sin(theta)
    across = -dx * math.sin(theta) + dy * math.cos(theta)
    envelope = np.exp(-0.5 * (along / sigma_x) ** 2 - 0.5 * (across / sigma_y) ** 2)
    return amplitude * envelope * np.cos(2 * math.pi * frequency * along + phase) + offset


def gabor(
    shape: tuple[int, int],
    *,
    x0: float,
    y0: float,
    sigma_x: float,
    sigma_y: float,
    theta: float,
    frequency: float,
    phase: float = 0.0,
    amplitude: float = 1.0,
    offset: float = 0.0,
) -> np.ndarray:
    """A rotated 2-D Gabor image (see :class:`GaborFit` for the conventions)."""
    x, y = _grid(shape)
    p = np.array([amplitude, x0, y0, sigma_x, sigma_y, theta, frequency, phase, offset])
    return _gabor_on(x, y, p)


def _as_image(values: np.ndarray, shape: tuple[int, int] | None) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if values.ndim == 2 and shape is None:
        return values
    side = shape or _square_shape(values.size)
    return values.reshape(side)


def _square_shape(size: int) -> tuple[int, int]:
    side = int(round(math.sqrt(size)))
    if side * side != size:
        raise ValueError(f"a filter of {size} values is not a square patch; give its shape")
    return side, side


def _spectral_start(image: np.ndarray) -> tuple[float, float]:
    """Carrier frequency and wave-vector direction at the peak of the padded amplitude spectrum."""
    pad = max(32, 4 * max(image.shape))
    spectrum = np.abs(np.fft.fft2(image - image.mean(), s=(pad, pad)))
    spectrum[0, 0] = 0.0
    row, column = np.unravel_index(int(np.argmax(spectrum)), spectrum.shape)
    fy = np.fft.fftfreq(pad)[row]
    fx = np.fft.fftfreq(pad)[column]
    return float(math.hypot(fx, fy)), float(math.atan2(fy, fx))


def _linear_carrier_fit(
    image: np.ndarray, x: np.ndarray, y: np.ndarray, geometry: np.ndarray
) -> np.ndarray:
    """Amplitude, phase and offset that fit best for a given envelope and carrier (linear LS)."""
    x0, y0, sigma_x, sigma_y, theta, frequency = geometry
    base = np.array([1.0, x0, y0, sigma_x, sigma_y, theta, frequency, 0.0, 0.0])
    cosine = _gabor_on(x, y, base)
    sine = _gabor_on(x, y, base + np.array([0, 0, 0, 0, 0, 0, 0, -math.pi / 2, 0]))
    design = np.column_stack([cosine.ravel(), sine.ravel(), np.ones(image.size)])
    (a, b, c), *_ = np.linalg.lstsq(design, image.ravel(), rcond=None)
    # a cos(u) + b sin(u) = A cos(u - φ) with A = hypot(a, b), φ = atan2(b, a)
    return np.array([math.hypot(a, b), *geometry, -math.atan2(b, a), c])


def fit_gabor(values: np.ndarray, shape: tuple[int, int] | None = None) -> GaborFit:
    """Least-squares fit of a rotated 2-D Gabor to one filter.

    Parameters
    ----------
    values
        The filter, as an image or flattened (then `shape` or a square size is assumed).
    shape
        Image shape of a flattened filter.

    Returns
    -------
    GaborFit
        The best of the restarts; ``r2`` is 0 for a constant filter.
    """
    from scipy.optimize import least_squares

    image = _as_image(values, shape)
    height, width = image.shape
    total = float(np.sum((image - image.mean()) ** 2))
    if not np.all(np.isfinite(image)):
        raise ValueError("the filter contains NaN or infinite values")
    if total == 0.0:
        return GaborFit(0.0, width / 2, height / 2, 1.0, 1.0, 0.0, 0.0, 0.0, image.mean(), 0.0)
    scale = math.sqrt(total / image.size)
    target = (image - image.mean()) / scale  # conditioning: unit RMS, zero mean
    x, y = _grid(image.shape)

    frequency, theta = _spectral_start(target)
    frequency = min(frequency, 0.95 * MAX_FREQUENCY)
    energy = target**2
    x0 = float(np.sum(energy * x) / energy.sum())
    y0 = float(np.sum(energy * y) / energy.sum())
    extent = max(height, width)
    lower = np.array([-np.inf, -0.5, -0.5, 0.4, 0.4, -np.inf, 0.0, -np.inf, -np.inf])
    upper = np.array(
        [np.inf, width - 0.5, height - 0.5, 2.0 * extent, 2.0 * extent, np.inf, MAX_FREQUENCY,
         np.inf, np.inf]
    )  # fmt: skip

    def residuals(p: np.ndarray) -> np.ndarray:
        return (_gabor_on(x, y, p) - target).ravel()

    best: Any = None
    for width_fraction in (0.12, 0.25):
        sigma = width_fraction * extent
        for carrier_theta in (theta, theta + math.pi / 2):
            geometry = np.array([x0, y0, sigma, sigma, carrier_theta, frequency])
            start = np.clip(_linear_carrier_fit(target, x, y, geometry), lower + 1e-6, upper - 1e-6)
            result = least_squares(residuals, start, bounds=(lower, upper), max_nfev=200)
            if best is None or result.cost < best.cost:
                best = result
            if frequency < 0.02:  # no carrier: the orientation restart cannot help
                break
    p = best.x
    r2 = 1.0 - float(np.sum(best.fun**2)) / float(np.sum(target**2))
    amplitude, x0, y0, sigma_x, sigma_y, theta, frequency, phase, offset = p
    if amplitude < 0:  # the same Gabor with a positive amplitude
        amplitude, phase = -amplitude, phase + math.pi
    if theta % math.pi != theta % (2 * math.pi):  # wave vector flipped: cos(-u + φ) = cos(u - φ)
        phase = -phase
    return GaborFit(
        amplitude=float(amplitude * scale),
        x0=float(x0),
        y0=float(y0),
        sigma_x=float(abs(sigma_x)),
        sigma_y=float(abs(sigma_y)),
        theta=float(theta % math.pi),
        frequency=float(frequency),
        phase=float((phase + math.pi) % (2 * math.pi) - math.pi),
        offset=float(offset * scale + image.mean()),
        r2=float(max(r2, 0.0)),
    )


def fit_gabors(filters: np.ndarray, shape: tuple[int, int] | None = None) -> list[GaborFit]:
    """:func:`fit_gabor` for every row of `filters`."""
    filters = np.atleast_2d(np.asarray(filters, dtype=float))
    shape = shape or _square_shape(filters.shape[1])
    return [fit_gabor(row, shape) for row in filters]


def gratings(
    size: int, frequency: float, orientations: np.ndarray, phases: np.ndarray
) -> np.ndarray:
    """Sinusoidal gratings ``cos(2π f (x cos θ + y sin θ) + φ)`` of a square patch.

    Returns an array ``(len(orientations), len(phases), size*size)``.
    """
    x, y = _grid((size, size))
    theta = np.asarray(orientations, dtype=float)[:, None, None, None]
    phi = np.asarray(phases, dtype=float)[None, :, None, None]
    along = x * np.cos(theta) + y * np.sin(theta)
    waves = np.cos(2 * math.pi * frequency * along + phi)
    return waves.reshape(len(orientations), len(phases), size * size)


def _identity(patches: np.ndarray) -> np.ndarray:
    return patches


def grating_responses(
    filters: np.ndarray,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    frequencies: tuple[float, ...] = DEFAULT_FREQUENCIES,
    n_orientations: int = 16,
    n_phases: int = 8,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orientation tuning curves at each filter's preferred spatial frequency.

    Returns
    -------
    orientations : (n_orientations,) radians in ``[0, π)``
    tuning : (n_filters, n_orientations)
        Rectified response, maximised over phase, at the preferred frequency.
    preferred_frequency : (n_filters,) cycles/pixel
    """
    filters = np.atleast_2d(np.asarray(filters, dtype=float))
    size = _square_shape(filters.shape[1])[0]
    transform = transform or _identity
    orientations = np.arange(n_orientations) * math.pi / n_orientations
    phases = np.arange(n_phases) * 2 * math.pi / n_phases
    best = np.full(filters.shape[0], -np.inf)
    tuning = np.zeros((filters.shape[0], n_orientations))
    preferred = np.zeros(filters.shape[0])
    for frequency in frequencies:
        stimuli = gratings(size, frequency, orientations, phases).reshape(-1, size * size)
        responses = transform(stimuli) @ filters.T  # (orientations*phases, filters)
        responses = np.maximum(responses, 0.0).reshape(n_orientations, n_phases, -1).max(axis=1)
        peak = responses.max(axis=0)
        better = peak > best
        best[better] = peak[better]
        tuning[better] = responses[:, better].T
        preferred[better] = frequency
    return orientations, tuning, preferred


def orientation_selectivity(
    filters: np.ndarray,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    frequencies: tuple[float, ...] = DEFAULT_FREQUENCIES,
    n_orientations: int = 16,
    n_phases: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """OSI (1 - circular variance) and preferred orientation of every filter.

    Parameters
    ----------
    filters
        ``(n_filters, size*size)``, acting on transformed patches.
    transform
        The preprocessing the training patches went through (whitening), applied to the
        gratings; ``None`` for raw gratings.

    Returns
    -------
    osi : (n_filters,) in ``[0, 1]``
    preferred_orientation : (n_filters,) radians in ``[0, π)`` (direction of the wave vector)
    """
    orientations, tuning, _ = grating_responses(
        filters, transform, frequencies, n_orientations, n_phases
    )
    vector = tuning @ np.exp(2j * orientations)
    total = tuning.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        osi = np.where(total > 0, np.abs(vector) / total, 0.0)
    preferred = (np.angle(vector) / 2) % math.pi
    return osi, preferred


def response_kurtosis(filters: np.ndarray, patches: np.ndarray) -> np.ndarray:
    """Excess kurtosis of each filter's responses ``patches @ w`` (0 for Gaussian responses)."""
    from scipy.stats import kurtosis

    filters = np.atleast_2d(np.asarray(filters, dtype=float))
    responses = np.asarray(patches, dtype=float) @ filters.T
    return np.asarray(kurtosis(responses, axis=0, fisher=True), dtype=float)


def _unit_rows(filters: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(filters, axis=1, keepdims=True)
    return filters / np.where(norms > 0, norms, 1.0)


def diversity(
    filters: np.ndarray,
    fits: list[GaborFit] | None = None,
    preferred_orientation: np.ndarray | None = None,
    n_orientation_bins: int = 8,
) -> dict[str, float]:
    """How many different features a population holds.

    Parameters
    ----------
    filters
        ``(n_filters, size*size)``.
    fits
        Gabor fits of the filters (for the spread of the centres of the good fits).
    preferred_orientation
        Preferred orientation of each filter (radians), e.g. from
        :func:`orientation_selectivity`.

    Returns
    -------
    dict
        ``distinct_filters``: groups of filters with |cosine| > 0.8 (greedy);
        ``max_similarity_median``: median over filters of |cosine| with the most similar other;
        ``orientation_bins`` (if orientations are given): occupied bins of ``π/n`` width, centred
        on 0, π/n, ...;
        ``centre_spread_px`` (if fits are given): RMS distance of good fits' centres from their
        mean.
    """
    unit = _unit_rows(np.atleast_2d(np.asarray(filters, dtype=float)))
    n = unit.shape[0]
    similarity = np.abs(unit @ unit.T)
    np.fill_diagonal(similarity, 0.0)
    unassigned = np.ones(n, dtype=bool)
    groups = 0
    for index in range(n):
        if unassigned[index]:
            groups += 1
            unassigned &= ~(similarity[index] > SAME_FEATURE_SIMILARITY)
            unassigned[index] = False
    result: dict[str, float] = {
        "distinct_filters": float(groups),
        "max_similarity_median": float(np.median(similarity.max(axis=1))) if n > 1 else 0.0,
    }
    if preferred_orientation is not None:
        width = math.pi / n_orientation_bins  # bins centred on 0, π/n, ... (cardinal axes)
        bins = np.floor((np.asarray(preferred_orientation) + width / 2) % math.pi / width)
        result["orientation_bins"] = float(len(np.unique(bins)))
    if fits is not None:
        centres = np.array([[f.x0, f.y0] for f in fits if f.r2 >= GOOD_FIT_R2])
        spread = (
            float(np.sqrt(np.mean(np.sum((centres - centres.mean(axis=0)) ** 2, axis=1))))
            if len(centres) > 1
            else 0.0
        )
        result["centre_spread_px"] = spread
    return result


def random_control(
    n_filters: int,
    dimension: int,
    rng: np.random.Generator,
    basis: np.ndarray | None = None,
) -> np.ndarray:
    """Random unit-norm filters: the control for learned ones.

    Parameters
    ----------
    basis
        ``(dimension, k)`` orthonormal columns spanning the input space the learned filters can
        reach (the whitening's kept components); the random filters are drawn in that span, so
        that they are as smooth as any learned filter could be.
    """
    weights = rng.standard_normal((n_filters, dimension))
    if basis is not None:
        weights = weights @ basis @ basis.T
    return _unit_rows(weights)


#: Metrics reported per population (:func:`summarize`), in the order of the printed table.
METRICS: dict[str, str] = {
    "gabor_r2_median": "Gabor-fit R² (median)",
    "gabor_r2_fraction_above_0.7": "fraction with R² > 0.7",
    "osi_median": "orientation selectivity, 1 - CV (median)",
    "kurtosis_median": "excess kurtosis of responses (median)",
    "distinct_filters": "distinct filters (|cos| <= 0.8)",
    "orientation_bins": "orientation bins covered (of 8)",
    "centre_spread_px": "spread of Gabor centres (px, R² >= 0.5)",
    "max_similarity_median": "similarity to nearest other filter (median)",
}


def summarize(
    filters: np.ndarray,
    held_out: np.ndarray,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict[str, Any]:
    """All metrics of a population of filters: per-filter values and the summary numbers.

    Parameters
    ----------
    filters
        ``(n_filters, size*size)`` acting on transformed patches.
    held_out
        Transformed patches not used for learning (for the response kurtosis).
    transform
        The transform of the training patches, applied to the gratings.

    Returns
    -------
    dict
        ``"summary"`` (the :data:`METRICS`), ``"r2"``, ``"osi"``, ``"kurtosis"``,
        ``"preferred_orientation"`` (arrays) and ``"fits"`` (list of :class:`GaborFit`).
    """
    filters = np.atleast_2d(np.asarray(filters, dtype=float))
    fits = fit_gabors(filters)
    r2 = np.array([f.r2 for f in fits])
    osi, preferred = orientation_selectivity(filters, transform)
    kurt = response_kurtosis(filters, held_out)
    summary = {
        "gabor_r2_median": float(np.median(r2)),
        "gabor_r2_fraction_above_0.7": float(np.mean(r2 > 0.7)),
        "osi_median": float(np.median(osi)),
        "kurtosis_median": float(np.median(kurt)),
        **diversity(filters, fits, preferred),
    }
    return {
        "summary": summary,
        "r2": r2,
        "osi": osi,
        "kurtosis": kurt,
        "preferred_orientation": preferred,
        "fits": fits,
    }


def compare(learned: Mapping[str, float], control: Mapping[str, float]) -> list[dict[str, Any]]:
    """Rows ``{metric, label, learned, control}`` for a side-by-side table."""
    return [
        {"metric": key, "label": label, "learned": learned.get(key), "control": control.get(key)}
        for key, label in METRICS.items()
        if key in learned or key in control
    ]
