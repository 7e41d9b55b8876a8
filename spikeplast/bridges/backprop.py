r"""Exact backpropagation, the reference every other rule is measured against.

.. math::

    \delta_L = e, \qquad \delta_{l} = (\delta_{l+1} W_{l+1}) \odot f'(a_l),
    \qquad \Delta W_l = -\eta \langle \delta_l^\top h_{l-1} \rangle .

Also here: the extreme learning machine (a fixed random hidden layer, only the output layer
learns), the lower bound that the Konishi et al. 2023 reward task compares against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .network import Forward, RateNetwork
from .rule import Feedback, Rule, rule_update

__all__ = ["Backprop", "ExtremeLearningMachine", "bp_update"]


@dataclass(frozen=True)
class Backprop(Rule):
    """Exact gradient descent: the backward signal travels through :math:`W^\\top`."""

    name: ClassVar[str] = "bp"

    def effective_feedback(self, net: RateNetwork, feedback: Feedback) -> Feedback:
        return (None, *(w.T for w in net.weights[1:]))


@dataclass(frozen=True)
class ExtremeLearningMachine(Rule):
    """Only the output layer learns; hidden layers keep their random initial weights."""

    name: ClassVar[str] = "elm"

    def backward(
        self, net: RateNetwork, fwd: Forward, error: np.ndarray, feedback: Feedback
    ) -> tuple[np.ndarray, ...]:
        hidden = tuple(np.zeros_like(a) for a in fwd.currents[:-1])
        return (*hidden, error)


def bp_update(
    net: RateNetwork,
    x: np.ndarray,
    targets: np.ndarray,
    *,
    loss: str = "mse",
    learning_rate: float = 0.01,
) -> tuple[np.ndarray, ...]:
    """Backprop weight changes :math:`\\Delta W_k` on the batch ``(x, targets)``."""
    return rule_update(Backprop(), net, x, targets, loss=loss, learning_rate=learning_rate)
