"""The fit objective and local optimisation in the internal (log-scaled) parameter space.

Error measure
-------------
For data rows ``k = 1..N`` with measured change ``d_k`` and standard error ``s_k`` (percent), and
model change ``m_k(θ)``::

    χ²(θ) = Σ_k ((m_k(θ) - d_k) / s_k)²        E(θ) = χ²(θ) / N

``E`` is the measure :func:`spikeplast.data.compare` reports (mean squared deviation in SEM
units; Pfister & Gerstner 2006 fit the SEM-normalised squared error). The optimiser minimises χ²,
which has the same minimiser; confidence intervals use χ² differences.

Fitting space
-------------
Each free parameter is optimised as ``log10`` of its value (positive parameters) or linearly
(signed ones), within bounds (:class:`spikeplast.fitting.parameters.FreeParameter`). Methods:
``trf`` (bounded trust-region least squares, :func:`scipy.optimize.least_squares`, default),
``lbfgsb`` (L-BFGS-B on χ² with the least-squares gradient) and ``nelder-mead`` (derivative
free, bounded). Derivatives are central differences evaluated as one batch per iteration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigurationError, SimulationError
from .evaluators import Evaluator
from .parameters import FreeParameter
from .targets import Target

__all__ = ["FitProblem", "LocalFit", "local_fit", "METHODS"]

#: Optimisation methods by ``--method`` name.
METHODS = ("trf", "lbfgsb", "nelder-mead")

#: Finite-difference step in the internal space (log10 units for log-scaled parameters).
_STEP = 1e-5


@dataclass(frozen=True)
class LocalFit:
    """Outcome of one local optimisation.

    Attributes
    ----------
    z
        Internal parameter vector at the end.
    chi2
        χ² there.
    converged
        Whether the optimiser met its convergence criterion (not only its budget).
    evaluations
        Model evaluations used (parameter sets, counting each one in a batch).
    message
        The optimiser's message.
    """

    z: np.ndarray
    chi2: float
    converged: bool
    evaluations: int
    message: str


class FitProblem:
    """Free parameters + evaluator + data: χ² as a function of the internal vector ``z``.

    Parameters
    ----------
    evaluator
        Evaluates the rule with the free parameters (its ``parameter_names`` must match
        `free`).
    free
        The free parameters, in the evaluator's column order.
    targets
        The data sets; their conditions, concatenated, are the evaluator's conditions.
    """

    def __init__(
        self, evaluator: Evaluator, free: Sequence[FreeParameter], targets: Sequence[Target]
    ):
        if tuple(p.name for p in free) != evaluator.parameter_names:
            raise ConfigurationError("the free parameters and the evaluator's columns differ")
        self.evaluator = evaluator
        self.free = list(free)
        self.targets = list(targets)
        self.data = np.concatenate([t.data for t in targets])
        self.sem = np.concatenate([t.sem for t in targets])
        if self.data.size != evaluator.n_conditions:
            raise ConfigurationError("the data rows and the evaluator's conditions differ")
        bounds = np.array([p.internal_bounds for p in self.free], dtype=float).reshape(-1, 2)
        self.lower, self.upper = bounds[:, 0], bounds[:, 1]
        self.evaluations = 0

    @property
    def n_data(self) -> int:
        return int(self.data.size)

    @property
    def n_free(self) -> int:
        return len(self.free)

    def si(self, z: np.ndarray) -> np.ndarray:
        """Internal vector(s) → SI values, same shape."""
        z = np.asarray(z, dtype=float)
        out = np.empty_like(z)
        for i, parameter in enumerate(self.free):
            out[..., i] = parameter.to_si(z[..., i])
        return out

    def internal(self, values: np.ndarray) -> np.ndarray:
        """SI values → internal vector(s)."""
        values = np.asarray(values, dtype=float)
        out = np.empty_like(values)
        for i, parameter in enumerate(self.free):
            out[..., i] = parameter.to_internal(values[..., i])
        return out

    def model(self, z_batch: np.ndarray) -> np.ndarray:
        """``dw_percent`` of every data row for each internal vector, ``(n, N)``."""
        z_batch = np.atleast_2d(np.asarray(z_batch, dtype=float))
        self.evaluations += z_batch.shape[0]
        result = self.evaluator.evaluate(self.si(z_batch))
        if not np.all(np.isfinite(result)):
            raise SimulationError("the model produced NaN or infinite weight changes")
        return result

    def residuals(self, z_batch: np.ndarray, data: np.ndarray | None = None) -> np.ndarray:
        """``(model - data)/SEM`` for each internal vector, ``(n, N)``."""
        target = self.data if data is None else data
        return (self.model(z_batch) - target) / self.sem

    def chi2(self, z_batch: np.ndarray, data: np.ndarray | None = None) -> np.ndarray:
        """χ² for each internal vector, ``(n,)``."""
        return np.sum(self.residuals(z_batch, data) ** 2, axis=1)

    def jacobian(
        self, z: np.ndarray, columns: Sequence[int] | None = None, data: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Residuals at `z` and their derivatives w.r.t. the internal `columns` (central
        differences, one-sided at a bound), evaluated as one batch."""
        z = np.asarray(z, dtype=float)
        columns = list(range(z.size)) if columns is None else list(columns)
        batch = [z]
        steps = []
        for i in columns:
            h = _STEP * max(1.0, abs(z[i]))
            forward = min(z[i] + h, self.upper[i])
            backward = max(z[i] - h, self.lower[i])
            up, down = z.copy(), z.copy()
            up[i], down[i] = forward, backward
            batch += [up, down]
            steps.append(forward - backward)
        residuals = self.residuals(np.array(batch), data)
        jac = np.empty((residuals.shape[1], len(columns)))
        for j, width in enumerate(steps):
            jac[:, j] = (residuals[1 + 2 * j] - residuals[2 + 2 * j]) / width if width > 0 else 0
        return residuals[0], jac


def local_fit(
    problem: FitProblem,
    z0: np.ndarray,
    method: str = "trf",
    data: np.ndarray | None = None,
    fixed: dict[int, float] | None = None,
    max_evaluations: int = 20000,
) -> LocalFit:
    """Minimise χ² from `z0` with some coordinates optionally held `fixed` (index → value).

    Parameters
    ----------
    problem
        The fit problem.
    z0
        Start (internal space); clipped into the bounds.
    method
        One of :data:`METHODS`.
    data
        Alternative data vector (bootstrap replicates); the SEMs stay.
    fixed
        Internal coordinates held at given values (profile likelihood).
    max_evaluations
        Budget of model evaluations; running out means "not converged".
    """
    from scipy.optimize import least_squares, minimize

    if method not in METHODS:
        raise ConfigurationError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    fixed = dict(fixed or {})
    z_full = np.clip(np.asarray(z0, dtype=float).copy(), problem.lower, problem.upper)
    for index, value in fixed.items():
        z_full[index] = value
    active = [i for i in range(problem.n_free) if i not in fixed]
    start_evaluations = problem.evaluations

    def full(x: np.ndarray) -> np.ndarray:
        z = z_full.copy()
        z[active] = x
        return z

    if not active:
        chi2 = float(problem.chi2(z_full, data)[0])
        return LocalFit(z_full, chi2, True, problem.evaluations - start_evaluations, "nothing free")
    x0 = z_full[active]
    lower, upper = problem.lower[active], problem.upper[active]
    if method == "trf":
        result = least_squares(
            lambda x: problem.residuals(full(x), data)[0],
            x0,
            jac=lambda x: problem.jacobian(full(x), active, data)[1],
            bounds=(lower, upper),
            method="trf",
            x_scale="jac",
            ftol=1e-12,
            xtol=1e-12,
            gtol=1e-10,
            max_nfev=max(1, max_evaluations // (1 + 2 * len(active))),
        )
        converged = bool(result.status > 0)
        x, message = result.x, str(result.message)
    elif method == "lbfgsb":

        def value_and_gradient(x: np.ndarray) -> tuple[float, np.ndarray]:
            residual, jac = problem.jacobian(full(x), active, data)
            return float(residual @ residual), 2.0 * jac.T @ residual

        result = minimize(
            value_and_gradient,
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=list(zip(lower, upper, strict=True)),
            options={
                "maxfun": max(1, max_evaluations // (1 + 2 * len(active))),
                "ftol": 1e-15,
                "gtol": 1e-10,
            },
        )
        converged, x, message = bool(result.success), result.x, str(result.message)
    else:
        result = minimize(
            lambda x: float(problem.chi2(full(x), data)[0]),
            x0,
            method="Nelder-Mead",
            bounds=list(zip(lower, upper, strict=True)),
            options={"maxfev": max_evaluations, "xatol": 1e-8, "fatol": 1e-12, "adaptive": True},
        )
        converged, x, message = bool(result.success), result.x, str(result.message)
    z = full(np.clip(x, lower, upper))
    chi2 = float(problem.chi2(z, data)[0])
    if not np.isfinite(chi2):
        converged, message = False, "the error became NaN or infinite"
    return LocalFit(z, chi2, converged, problem.evaluations - start_evaluations, message)
