"""How well the data pin each parameter: profile likelihood, bootstrap, local identifiability.

Profile likelihood (default)
    For each free parameter θ_i, the profile ``χ²_p(θ_i) = min over the others of χ²`` is
    followed outward from the best fit on both sides. The confidence interval at level ``L`` is
    where ``χ²_p - χ²_min`` reaches the χ² quantile with one degree of freedom (3.84 for 95 %),
    which treats the SEMs as the known standard deviations of the data means. A side on which
    the profile stays below the threshold up to the parameter's bound is reported as
    *unconstrained* there. A profile that finds a lower χ² than the "best" fit shows that the
    fit had not converged.

Bootstrap over the SEM
    Each replicate fits synthetic data ``d_k + SEM_k ε_k`` (ε standard normal, seeded) from the
    best fit; the interval is the percentile range of the refitted values. Replicate values at a
    bound mark the parameter as not pinned on that side.

Local identifiability
    At the best fit, a parameter whose Jacobian column vanishes has no effect on the model; a
    near-zero singular value of the column-normalised Jacobian names a combination of
    parameters the data cannot separate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .problem import FitProblem, LocalFit, local_fit

__all__ = [
    "ProfileSide",
    "profile_side",
    "bootstrap_replicate",
    "local_identifiability",
    "Identifiability",
    "chi2_threshold",
]


def chi2_threshold(level: float) -> float:
    """χ² increase bounding a one-parameter confidence interval at `level`."""
    from scipy.stats import chi2

    return float(chi2.ppf(level, df=1))


@dataclass
class ProfileSide:
    """The profile of one parameter on one side of the best fit.

    Attributes
    ----------
    index, direction
        Parameter index and side (-1 below, +1 above the best value).
    crossing
        Internal value where ``Δχ²`` reaches the threshold, or ``None``.
    reached_bound
        The profile stayed below the threshold up to the bound.
    points
        ``(internal value, Δχ²)`` pairs visited, in order.
    better
        ``(z, χ²)`` of a fit lower than the best one found on the way, or ``None``.
    all_converged
        Every refit along the profile converged.
    evaluations
        Model evaluations used.
    """

    index: int
    direction: int
    crossing: float | None
    reached_bound: bool
    points: list[tuple[float, float]] = field(default_factory=list)
    better: tuple[np.ndarray, float] | None = None
    all_converged: bool = True
    evaluations: int = 0


def profile_side(problem: FitProblem, task: tuple) -> ProfileSide:
    """Follow the profile of parameter ``i`` from the best fit towards one bound.

    `task` is ``(i, direction, z_best, chi2_best, threshold, method)``. The profile is walked
    outward with doubling steps until ``Δχ²`` passes the threshold or the bound is reached; the
    crossing is then located by safeguarded regula falsi, each refit warm-started from the
    nearest point inside the interval.
    """
    index, direction, z_best, chi2_best, threshold, method = task
    z_best = np.asarray(z_best, dtype=float)
    low, high = problem.lower[index], problem.upper[index]
    limit = high if direction > 0 else low
    tolerance = 1e-6 * max(1.0, chi2_best)
    side = ProfileSide(index, direction, None, False)

    def refit(value: float, start: np.ndarray) -> tuple[float, np.ndarray]:
        fit = local_fit(problem, start, method, fixed={index: value})
        side.all_converged &= fit.converged
        side.evaluations += fit.evaluations
        change = fit.chi2 - chi2_best
        side.points.append((float(value), float(change)))
        if change < -tolerance and (side.better is None or fit.chi2 < side.better[1]):
            side.better = (fit.z.copy(), fit.chi2)
        return change, fit.z

    inner, inner_change, inner_z = float(z_best[index]), 0.0, z_best.copy()
    if inner == limit:
        side.reached_bound = True
        return side
    step = 0.002 * (high - low)
    while True:
        value = inner + direction * step
        value = min(value, high) if direction > 0 else max(value, low)
        change, z = refit(value, inner_z)
        if change >= threshold:
            outer, outer_change = value, change
            break
        if value == limit:
            side.reached_bound = True
            side.points.sort()
            return side
        inner, inner_change, inner_z = value, change, z
        step *= 2.0
    # locate Δχ² = threshold between inner (below) and outer (above)
    for _ in range(60):
        width = outer - inner
        if abs(width) <= 1e-7 * (high - low):
            break
        fraction = (threshold - inner_change) / max(outer_change - inner_change, 1e-300)
        value = inner + min(max(fraction, 0.1), 0.9) * width
        change, z = refit(value, inner_z)
        if abs(change - threshold) <= 1e-6 * threshold:
            inner = outer = value
            break
        if change < threshold:
            inner, inner_change, inner_z = value, change, z
        else:
            outer, outer_change = value, change
    side.crossing = float(0.5 * (inner + outer))
    side.points.sort()
    return side


def bootstrap_replicate(problem: FitProblem, task: tuple) -> LocalFit:
    """Refit synthetic data ``data + SEM ε`` from the best fit.

    `task` is ``(seed, replicate, z_best, method)``.
    """
    seed, replicate, z_best, method = task
    rng = np.random.default_rng([int(seed), int(replicate)])
    data = problem.data + problem.sem * rng.standard_normal(problem.n_data)
    return local_fit(problem, np.asarray(z_best, dtype=float), method, data=data)


@dataclass(frozen=True)
class Identifiability:
    """Local identifiability at the best fit.

    Attributes
    ----------
    no_effect
        Indices of parameters that do not change the model (vanishing Jacobian column).
    degenerate
        Combinations the data cannot separate: for each near-zero singular value, the indices
        of the parameters that make up the direction.
    condition_number
        Ratio of the largest to the smallest singular value of the column-normalised Jacobian.
    """

    no_effect: tuple[int, ...]
    degenerate: tuple[tuple[int, ...], ...]
    condition_number: float


def local_identifiability(problem: FitProblem, z: np.ndarray) -> Identifiability:
    """Check which parameters (or combinations) the data constrain at `z` (see module doc)."""
    if problem.n_free == 0:
        return Identifiability((), (), 1.0)
    _, jac = problem.jacobian(np.asarray(z, dtype=float))
    norms = np.linalg.norm(jac, axis=0)
    scale = max(float(norms.max()), 1e-300)
    no_effect = tuple(int(i) for i in np.flatnonzero(norms <= 1e-8 * scale))
    effective = [i for i in range(problem.n_free) if i not in no_effect]
    degenerate: list[tuple[int, ...]] = []
    condition = float("inf") if no_effect else 1.0
    if len(effective) > 1:
        normalised = jac[:, effective] / norms[effective]
        _, singular, vt = np.linalg.svd(normalised, full_matrices=False)
        condition = max(condition, float(singular[0] / max(singular[-1], 1e-300)))
        for value, direction in zip(singular, vt, strict=True):
            if value <= 1e-6 * singular[0]:
                members = np.flatnonzero(np.abs(direction) >= 0.1)
                degenerate.append(tuple(effective[i] for i in members))
    return Identifiability(no_effect, tuple(degenerate), condition)
