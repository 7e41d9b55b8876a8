r"""Alignment measurements: weight angles, update angles, feedback norms.

All angles use one primitive, the angle between two flattened arrays,

.. math::

    \angle(A, B) = \frac{180}{\pi}
    \arccos \frac{\langle A, B\rangle}{\lVert A\rVert \lVert B\rVert},

as in biotorch, Akrout et al. and Kunin et al.
"""

from __future__ import annotations

import numpy as np

from .feedback_alignment import direct_feedback_reference
from .network import RateNetwork
from .rule import Feedback, Rule, rule_update

__all__ = ["angle", "weight_alignment", "feedback_norm_ratio", "update_alignment"]


def angle(a: np.ndarray, b: np.ndarray) -> float:
    """Angle in degrees between two arrays seen as vectors; NaN if either is zero."""
    a, b = np.ravel(a), np.ravel(b)
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    if norms == 0.0 or not np.isfinite(norms):
        return float("nan")
    return float(np.degrees(np.arccos(np.clip(a @ b / norms, -1.0, 1.0))))


def _references(rule: Rule, net: RateNetwork) -> list[np.ndarray]:
    """What each feedback matrix stands in for: W_k^T (layer-wise) or the product (direct)."""
    if rule.routing == "direct":
        return [direct_feedback_reference(net, k) for k in range(1, net.n_layers)]
    return [w.T for w in net.weights[1:]]


def weight_alignment(rule: Rule, net: RateNetwork, feedback: Feedback) -> np.ndarray:
    """:math:`\\angle(W_k^\\top, B_k)` for layers ``1 .. L-1`` (NaN where a rule has no feedback).

    For direct rules (DFA, FA_Ex) :math:`B_k` is compared with :math:`(W_L \\cdots W_k)^\\top`,
    the path linearised backprop would use.
    """
    used = rule.effective_feedback(net, feedback)
    return np.array(
        [
            np.nan if b is None else angle(ref, b)
            for ref, b in zip(_references(rule, net), used[1:], strict=True)
        ]
    )


def feedback_norm_ratio(rule: Rule, net: RateNetwork, feedback: Feedback) -> np.ndarray:
    """‖B_k‖_F / ‖reference_k‖_F (W_kᵀ, or the product for direct rules) for layers 1 .. L-1."""
    used = rule.effective_feedback(net, feedback)
    return np.array(
        [
            np.nan if b is None else float(np.linalg.norm(b) / np.linalg.norm(ref))
            for ref, b in zip(_references(rule, net), used[1:], strict=True)
        ]
    )


def update_alignment(
    rule: Rule,
    net: RateNetwork,
    feedback: Feedback,
    x: np.ndarray,
    targets: np.ndarray,
    loss: str,
) -> np.ndarray:
    """∠(ΔW_k of the rule, ΔW_k of BP) in degrees, every layer, on the batch ``(x, targets)``."""
    from .backprop import Backprop

    rule_steps = rule_update(rule, net, x, targets, loss=loss, feedback=feedback, learning_rate=1.0)
    bp_steps = rule_update(Backprop(), net, x, targets, loss=loss, learning_rate=1.0)
    return np.array([angle(r, b) for r, b in zip(rule_steps, bp_steps, strict=True)])
