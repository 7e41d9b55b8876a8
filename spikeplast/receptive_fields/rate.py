"""Rate-based nonlinear Hebbian learning (Brito & Gerstner 2016) on whitened patches.

The rate form of :class:`spikeplast.rules.NonlinearHebbian`: ``n_units`` linear units with
responses ``u = W x`` learn by minibatch steps ``W += η f(U) Xᵀ / batch`` (``f`` the rule's
nonlinearity, ``η`` annealed linearly to zero), followed by symmetric decorrelation
``W <- (W Wᵀ)^{-1/2} W``. The decorrelation keeps every row at unit norm (the ‖w‖ = 1 constraint)
and is the competition between units: without it all units converge to the same one or two
features (measured in the project's reference note). It is the fast comparison for the spiking
network (``spikeplast demo receptive-fields --model rate``): seconds instead of minutes.
NumPy only; BLAS is limited to one thread (threadpoolctl), which is faster for these small
matrices and fair to the other processes of a shared machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigurationError
from ..rules.nonlinear_hebbian import NONLINEARITIES, apply_nonlinearity

__all__ = ["RateModel", "train_rate_model", "symmetric_decorrelation"]


@dataclass(frozen=True)
class RateModel:
    """Settings of the rate model.

    Attributes
    ----------
    nonlinearity, theta
        The function f of the rule (see :data:`spikeplast.rules.nonlinear_hebbian.NONLINEARITIES`).
    eta
        Initial learning rate, annealed linearly to zero over `steps`.
    steps, batch
        Number of minibatch updates and patches per minibatch.
    """

    nonlinearity: str = "cubic"
    theta: float = 0.0
    eta: float = 0.02
    steps: int = 20000
    batch: int = 100

    def check(self, n_units: int, kept: int) -> None:
        if self.nonlinearity not in NONLINEARITIES:
            raise ConfigurationError(
                f"unknown nonlinearity {self.nonlinearity!r}; use one of "
                f"{', '.join(NONLINEARITIES)}"
            )
        if not (self.steps >= 1 and self.batch >= 1 and self.eta > 0):
            raise ConfigurationError("the rate model needs steps >= 1, batch >= 1 and eta > 0")
        if n_units > kept:
            raise ConfigurationError(
                f"the rate model decorrelates its units, so it can have at most {kept} units "
                f"(the whitened dimensions of these patches); got {n_units}"
            )


def symmetric_decorrelation(weights: np.ndarray) -> np.ndarray:
    """``(W Wᵀ)^{-1/2} W``: the closest matrix to `weights` with orthonormal rows."""
    eigenvalues, vectors = np.linalg.eigh(weights @ weights.T)
    inverse_root = vectors @ np.diag(1.0 / np.sqrt(np.maximum(eigenvalues, 1e-12))) @ vectors.T
    return inverse_root @ weights


def train_rate_model(
    patches: np.ndarray,
    basis: np.ndarray,
    n_units: int,
    model: RateModel,
    rng: np.random.Generator,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Learn ``n_units`` filters from whitened patches.

    Parameters
    ----------
    patches
        Whitened training patches ``(n, D)``.
    basis
        ``(D, k)`` orthonormal basis of the whitened space; the initial weights are random in it.
    n_units
        Number of units (at most ``k``).
    model
        Learning settings.

    Returns
    -------
    learned, initial : (n_units, D) each
        The learned filters and the random initial ones (the control of the same pipeline).
    """
    from threadpoolctl import threadpool_limits

    model.check(n_units, basis.shape[1])
    initial = symmetric_decorrelation(rng.standard_normal((n_units, basis.shape[1])) @ basis.T)
    weights = initial.copy()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=model.steps, desc="learning (rate model)", unit="step", leave=False)
    with threadpool_limits(1):
        for step in range(model.steps):
            batch = patches[rng.integers(0, patches.shape[0], size=model.batch)]
            responses = batch @ weights.T  # (batch, units)
            rate = model.eta * (1.0 - step / model.steps)
            hebbian = apply_nonlinearity(model.nonlinearity, responses, model.theta).T @ batch
            weights = symmetric_decorrelation(weights + rate * hebbian / model.batch)
            if bar is not None and (step + 1) % 200 == 0:
                bar.update(200)
    if bar is not None:
        bar.close()
    if not np.all(np.isfinite(weights)):
        raise ConfigurationError(
            f"the rate model diverged (eta = {model.eta} is too large for the nonlinearity "
            f"{model.nonlinearity!r})"
        )
    return weights, initial
