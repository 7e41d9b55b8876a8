r"""GAIT-prop (Ahmad, van Gerven & Ambrogioni 2020): targets through invertible square layers.

Each layer :math:`g_l(h) = f(h W_l^\top + b_l)` is square and invertible. The top target is the
label on the first output units and the unit's own activity on the rest. Going down, a target is
the inverse image of a small step (size :math:`\gamma`) from the activity towards the target above:

.. math::

    t_{l-1} = g_l^{-1}\big((1 - \gamma f'(a_l)^2) \odot h_l + \gamma f'(a_l)^2 \odot t_l\big),
    \qquad
    \varepsilon_l = \gamma^{-(L-l)} (h_l - t_l) \odot f'(a_l),

and :math:`\Delta W_l = -\eta \langle \varepsilon_l^\top h_{l-1} \rangle`. To first order in
:math:`\gamma`, :math:`\varepsilon_{l-1} = (\varepsilon_l W_l^{-\top}) \odot f'(a_{l-1})`:
the inverse takes the place of the transpose, so the updates equal backprop's when the weights
are orthogonal (the paper's claim, and a test here). An optional soft orthogonality penalty
:math:`\lambda \lVert \operatorname{offdiag}(W W^\top) \rVert^2` (gradient
:math:`4\lambda\,\operatorname{offdiag}(WW^\top)W`) keeps the weights near that regime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .errors import IncompatibleRuleError
from .network import Forward, RateNetwork
from .rule import Feedback, Rule

__all__ = ["GaitProp", "orthogonality_penalty", "orthogonality_gradient"]

INVERTIBLE = ("leaky_relu", "tanh", "sigmoid", "linear")


def orthogonality_penalty(w: np.ndarray) -> float:
    """:math:`\\lVert \\operatorname{offdiag}(W W^\\top) \\rVert_F^2`."""
    gram = w @ w.T
    return float(np.sum(gram**2) - np.sum(np.diag(gram) ** 2))


def orthogonality_gradient(w: np.ndarray) -> np.ndarray:
    """4 offdiag(W Wᵀ) W, the gradient of :func:`orthogonality_penalty`."""
    gram = w @ w.T
    np.fill_diagonal(gram, 0.0)
    return 4.0 * gram @ w


@dataclass(frozen=True)
class GaitProp(Rule):
    """GAIT-prop with target step `gamma` and orthogonality penalty `orthogonality` (λ)."""

    gamma: float = 1e-3
    orthogonality: float = 0.0
    name: ClassVar[str] = "gait"
    routing: ClassVar[str] = "none"
    allows_untargeted_outputs: ClassVar[bool] = True

    def check(self, net: RateNetwork, loss: str) -> None:
        super().check(net, loss)
        if loss != "mse":
            raise IncompatibleRuleError(
                "GAIT-prop propagates targets, so it needs loss='mse' (targets on the first output "
                "units, the rest are their own targets); cross-entropy has no activity target"
            )
        shapes = [w.shape for w in net.weights]
        if any(n_out != n_in for n_out, n_in in shapes):
            raise IncompatibleRuleError(
                f"GAIT-prop needs invertible square layers, got weight shapes {shapes}; "
                "make every layer as wide as the input and read the classes from the first outputs"
            )
        for name in {net.hidden, net.output}:
            if name not in INVERTIBLE:
                raise IncompatibleRuleError(
                    f"GAIT-prop inverts each layer but {name!r} is not invertible; "
                    f"use one of {', '.join(INVERTIBLE)} (the paper uses leaky_relu)"
                )
        if not 0.0 < self.gamma < 1.0:
            raise IncompatibleRuleError(f"GAIT-prop gamma must lie in (0, 1), got {self.gamma}")

    def _inverse_layer(self, net: RateNetwork, k: int, h: np.ndarray) -> np.ndarray:
        current = net.activation(k).inverse(h) - net.biases[k]
        # current = h_below @ W.T, so h_below = current @ inv(W.T); solve instead of inverting
        return np.linalg.solve(net.weights[k], current.T).T

    def backward(
        self, net: RateNetwork, fwd: Forward, error: np.ndarray, feedback: Feedback
    ) -> tuple[np.ndarray, ...]:
        top = net.n_layers - 1
        slope_top = net.activation(top).derivative(fwd.currents[top])
        activity = net.activation(top).f(fwd.currents[top])
        target = activity - error / slope_top  # e = (h - t) f'(a) for the squared error
        epsilons = [error]
        for k in range(top, 0, -1):
            slope = net.activation(k).derivative(fwd.currents[k])
            h = net.activation(k).f(fwd.currents[k])
            nudged = (1.0 - self.gamma * slope**2) * h + self.gamma * slope**2 * target
            target = self._inverse_layer(net, k, nudged)
            below = fwd.inputs[k]
            slope_below = net.activation(k - 1).derivative(fwd.currents[k - 1])
            epsilons.insert(0, (below - target) * slope_below / self.gamma ** (top - k + 1))
        return tuple(epsilons)

    def extra_gradients(self, net: RateNetwork) -> tuple[np.ndarray, ...] | None:
        if self.orthogonality == 0.0:
            return None
        return tuple(self.orthogonality * orthogonality_gradient(w) for w in net.weights)

    def effective_feedback(self, net: RateNetwork, feedback: Feedback) -> Feedback:
        # To first order GAIT-prop carries the signal through W^{-1} where BP uses W^T.
        return (None, *(np.linalg.inv(w) for w in net.weights[1:]))
