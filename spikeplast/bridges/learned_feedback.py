r"""Learned feedback weights: the Kunin et al. 2020 family (and Kolen-Pollack).

The forward weights get the FA update through :math:`B`; :math:`B` itself descends a layer-wise
regulariser :math:`\mathcal R` built from five primitives. For one layer with input batch
:math:`x` (rows), :math:`r = x W^\top` (no bias), :math:`B \in \mathbb{R}^{n_{in} \times n_{out}}`
and :math:`\mathbb{E}` the batch mean:

=========  ===================================  ==============================
primitive  R                                    gradient in B
=========  ===================================  ==============================
decay      ‖W‖² + ‖B‖²                          2 B
self       −tr(W B)                             −Wᵀ
amp        −E[(x B)·r]                          −E[xᵀ r]   (Hebbian)
sparse     E‖r‖² + E‖x B‖²                      2 E[xᵀ x] B
null       E‖r Bᵀ‖²                             2 B E[rᵀ r]
=========  ===================================  ==============================

Combinations (coefficients in brackets): Symmetric Alignment = α decay + β self, stationary at
:math:`B = \tfrac{\beta}{2\alpha}W^\top`; Activation Alignment = α sparse + β amp (same fixed point
when :math:`\mathbb{E}[x^\top x]` is invertible); Weight Mirror = α decay + β amp on white-noise
input (Akrout et al. 2019's mirror mode); Information Alignment = α amp + β null + γ decay;
Kolen-Pollack = α decay with the tied update :math:`\Delta B = \Delta W^\top`, the forward
weights decaying alike so that :math:`B - W^\top` shrinks geometrically.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .errors import IncompatibleRuleError, UnknownBridgeNameError
from .feedback_alignment import FeedbackAlignment
from .network import Forward, RateNetwork
from .rule import Feedback, Gradients

__all__ = [
    "PRIMITIVES",
    "regularizer_value",
    "regularizer_gradient",
    "LearnedFeedback",
    "symmetric_alignment",
    "activation_alignment",
    "weight_mirror",
    "information_alignment",
    "kolen_pollack",
]

PRIMITIVES = ("decay", "self", "amp", "sparse", "null")


def _primitive_value(name: str, w: np.ndarray, b: np.ndarray, x: np.ndarray) -> float:
    r = x @ w.T
    n = x.shape[0]
    if name == "decay":
        return float(np.sum(w**2) + np.sum(b**2))
    if name == "self":
        return float(-np.sum(w * b.T))
    if name == "amp":
        return float(-np.sum((x @ b) * r) / n)
    if name == "sparse":
        return float((np.sum(r**2) + np.sum((x @ b) ** 2)) / n)
    if name == "null":
        return float(np.sum((r @ b.T) ** 2) / n)
    raise UnknownBridgeNameError(
        f"unknown primitive {name!r}; choose one of {', '.join(PRIMITIVES)}"
    )


def _primitive_gradient(name: str, w: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    n = x.shape[0]
    if name == "decay":
        return 2.0 * b
    if name == "self":
        return -w.T
    r = x @ w.T
    if name == "amp":
        return -x.T @ r / n  # Hebbian: B grows along <x r^T>
    if name == "sparse":
        return 2.0 * (x.T @ x / n) @ b
    if name == "null":
        return 2.0 * b @ (r.T @ r / n)
    raise UnknownBridgeNameError(
        f"unknown primitive {name!r}; choose one of {', '.join(PRIMITIVES)}"
    )


def regularizer_value(
    coefficients: Mapping[str, float], w: np.ndarray, b: np.ndarray, x: np.ndarray
) -> float:
    """:math:`\\mathcal R = \\sum_p c_p \\mathcal R_p(W, B; x)` for one layer (module table)."""
    return sum(c * _primitive_value(p, w, b, x) for p, c in coefficients.items())


def regularizer_gradient(
    coefficients: Mapping[str, float], w: np.ndarray, b: np.ndarray, x: np.ndarray
) -> np.ndarray:
    """Closed-form :math:`\\nabla_B \\mathcal R` for one layer."""
    gradient = np.zeros_like(b)
    for p, c in coefficients.items():
        gradient += c * _primitive_gradient(p, w, b, x)
    return gradient


@dataclass(frozen=True)
class LearnedFeedback(FeedbackAlignment):
    """FA whose feedback weights descend a Kunin regulariser (see the module docstring).

    Parameters
    ----------
    coefficients
        ``(primitive, coefficient)`` pairs, e.g. ``(("decay", 0.5), ("self", 1.0))``.
    label
        Name reported for this rule (``"sa"``, ``"aa"``, ...).
    tie_gradient
        Kolen-Pollack: add the forward update :math:`\\Delta W^\\top` to :math:`\\Delta B`, and
        decay the forward weights with the ``decay`` coefficient too.
    mirror_noise
        If set, the regulariser sees white noise of this standard deviation instead of the layer's
        input (Weight Mirror's "mirror mode").
    feedback_learning_rate
        Step size of :math:`B`; ``None`` uses the forward learning rate. Either way the step is
        capped at the inverse curvature of :math:`\\mathcal R` in :math:`B` so that it stays stable.
    scale
        Initial feedback scale, as for :class:`FeedbackAlignment`.
    """

    coefficients: tuple[tuple[str, float], ...] = ()
    label: str = "learned"
    tie_gradient: bool = False
    mirror_noise: float | None = None
    feedback_learning_rate: float | None = None
    name: ClassVar[str] = "learned_feedback"

    def check(self, net: RateNetwork, loss: str) -> None:
        super().check(net, loss)
        for primitive, _ in self.coefficients:
            if primitive not in PRIMITIVES:
                raise UnknownBridgeNameError(
                    f"{self.label}: unknown primitive {primitive!r}; choose {', '.join(PRIMITIVES)}"
                )
        if not self.coefficients and not self.tie_gradient:
            raise IncompatibleRuleError(
                f"{self.label}: no regulariser terms and no tied gradient; this is plain FA, "
                "use FeedbackAlignment()"
            )

    def _decay(self) -> float:
        return dict(self.coefficients).get("decay", 0.0)

    def extra_gradients(self, net: RateNetwork) -> tuple[np.ndarray, ...] | None:
        if not self.tie_gradient or self._decay() == 0.0:
            return None
        return tuple(2.0 * self._decay() * w for w in net.weights)

    def update_feedback(
        self,
        feedback: Feedback,
        net: RateNetwork,
        fwd: Forward,
        gradients: Gradients,
        learning_rate: float,
        rng: np.random.Generator,
    ) -> Feedback:
        rate = learning_rate if self.feedback_learning_rate is None else self.feedback_learning_rate
        terms = dict(self.coefficients)
        updated: list[np.ndarray | None] = [None]
        for k in range(1, net.n_layers):
            w, b = net.weights[k], feedback[k]
            x = fwd.inputs[k]
            if self.mirror_noise is not None:
                x = rng.standard_normal(x.shape) * self.mirror_noise
            step = regularizer_gradient(terms, w, b, x)
            # Cap the step by the curvature of R in B (trace bound, as in normalised LMS): the
            # data-dependent terms scale with E|x|^2 and E|r|^2, which can be large in hidden
            # layers, and plain gradient descent on them would blow up.
            curvature = 2.0 * (
                terms.get("decay", 0.0)
                + terms.get("sparse", 0.0) * np.mean(np.sum(x**2, axis=1))
                + terms.get("null", 0.0) * np.mean(np.sum((x @ w.T) ** 2, axis=1))
            )
            layer_rate = min(rate, 1.0 / curvature) if curvature > 0 else rate
            if self.tie_gradient:
                # Kolen-Pollack: B gets exactly the forward update (the bias-free part), transposed.
                step = (
                    step
                    + gradients.weights[k].T
                    - (2.0 * self._decay() * w.T if self._decay() else 0.0)
                )
            updated.append(b - layer_rate * step)
        return tuple(updated)

    def describe(self) -> str:
        terms = " + ".join(f"{c:g}·{p}" for p, c in self.coefficients)
        extra = ", tied ΔB = ΔWᵀ" if self.tie_gradient else ""
        noise = f", mirror noise σ={self.mirror_noise:g}" if self.mirror_noise else ""
        return f"{self.label}: R = {terms or '0'}{extra}{noise}"


def symmetric_alignment(alpha: float = 0.5, beta: float = 1.0, **options) -> LearnedFeedback:
    """Symmetric Alignment: α decay + β self; :math:`B \\to \\tfrac{\\beta}{2\\alpha} W^\\top`."""
    return LearnedFeedback(coefficients=(("decay", alpha), ("self", beta)), label="sa", **options)


def activation_alignment(alpha: float = 0.5, beta: float = 1.0, **options) -> LearnedFeedback:
    """Activation Alignment: α sparse + β amp; :math:`B \\to \\tfrac{\\beta}{2\\alpha} W^\\top`."""
    return LearnedFeedback(coefficients=(("sparse", alpha), ("amp", beta)), label="aa", **options)


def weight_mirror(
    alpha: float = 0.5, beta: float = 1.0, noise: float = 1.0, **options
) -> LearnedFeedback:
    """Weight Mirror: α decay + β amp on white noise of std σ; B → (βσ²/2α) Wᵀ."""
    return LearnedFeedback(
        coefficients=(("decay", alpha), ("amp", beta)), label="wm", mirror_noise=noise, **options
    )


def information_alignment(
    alpha: float = 1.0, beta: float = 0.5, gamma: float = 0.05, **options
) -> LearnedFeedback:
    """Information Alignment: α amp + β null + γ decay, the local rule of Kunin et al. 2020."""
    return LearnedFeedback(
        coefficients=(("amp", alpha), ("null", beta), ("decay", gamma)), label="ia", **options
    )


def kolen_pollack(decay: float = 1e-3, **options) -> LearnedFeedback:
    """Kolen-Pollack: :math:`\\Delta B = \\Delta W^\\top` and the same decay on both."""
    return LearnedFeedback(
        coefficients=(("decay", decay),), label="kp", tie_gradient=True, **options
    )
