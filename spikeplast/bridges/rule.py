r"""What every learning rule shares: the backward signal, the feedback weights, the update.

A rule is a small frozen object that answers two questions, in the spirit of the spiking rules:

* **what the backward signal is** — :meth:`Rule.backward` turns the output error
  :math:`e = \partial L/\partial a_L` into one signal :math:`\delta_k` per layer (the "error at the
  pre-activation"); every rule then updates
  :math:`\Delta W_k = -\eta\,\langle \delta_k^\top h_{k-1}\rangle`;
* **what the feedback weights do** — :meth:`Rule.init_feedback` draws them and
  :meth:`Rule.update_feedback` changes them after each step (fixed, sign-following, learned, ...).

Feedback matrices are kept in a tuple ``feedback`` with one entry per weight layer:
``feedback[k]`` carries a signal *into the input side of layer* ``k``, so it has
``W[k].shape[1]`` rows; ``feedback[0]`` is ``None`` because nothing lies below the input.
Layer-wise rules (FA and its relatives) use ``feedback[k]`` in place of ``W[k].T``; direct rules
(DFA, FA_Ex) use an ``(n_in_k, n_out)`` matrix fed by the output error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np

from .errors import IncompatibleRuleError
from .network import Forward, RateNetwork, check_loss, forward, output_error

__all__ = [
    "Feedback",
    "Gradients",
    "Rule",
    "propagate",
    "weight_gradients",
    "compute_gradients",
    "rule_update",
    "xavier_std",
]

Feedback = tuple[np.ndarray | None, ...]


class Gradients(NamedTuple):
    """Batch-mean descent directions (the update is ``-learning_rate * gradient``)."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    deltas: tuple[np.ndarray, ...]


def xavier_std(n_in: int, n_out: int) -> float:
    """Glorot/Xavier standard deviation :math:`\\sqrt{2/(n_{in}+n_{out})}`."""
    return float(np.sqrt(2.0 / (n_in + n_out)))


def propagate(
    net: RateNetwork,
    fwd: Forward,
    error: np.ndarray,
    carry: Callable[[int, np.ndarray], np.ndarray],
) -> tuple[np.ndarray, ...]:
    """Walk down the layers: ``delta[k-1] = carry(k, delta[k]) * f'(a[k-1])``.

    `carry(k, delta_k)` returns the signal arriving at the output of layer ``k - 1`` (for BP,
    ``delta_k @ W[k]``); the top signal is the output `error`.
    """
    deltas = [error]
    for k in range(net.n_layers - 1, 0, -1):
        arriving = carry(k, deltas[0])
        deltas.insert(0, arriving * net.activation(k - 1).derivative(fwd.currents[k - 1]))
    return tuple(deltas)


def weight_gradients(
    fwd: Forward, deltas: tuple[np.ndarray, ...]
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Batch means ⟨δ_kᵀ h_{k-1}⟩ (weights) and ⟨δ_k⟩ (biases)."""
    n = fwd.output.shape[0]
    weights = tuple(d.T @ h / n for d, h in zip(deltas, fwd.inputs, strict=True))
    biases = tuple(d.mean(axis=0) for d in deltas)
    return weights, biases


@dataclass(frozen=True)
class Rule:
    """Base class: the backward signal of exact backprop and no feedback weights.

    Subclasses are frozen dataclasses whose fields are the rule's parameters; constructing one
    does no work and no validation (that happens in :meth:`check`, against a network and a loss).
    """

    name: ClassVar[str] = "rule"
    #: how the feedback reaches hidden layers: "layerwise" (FA-like), "direct" (DFA-like) or "none"
    routing: ClassVar[str] = "none"
    #: whether surplus output units may have no target (GAIT-prop's square networks)
    allows_untargeted_outputs: ClassVar[bool] = False

    def check(self, net: RateNetwork, loss: str) -> None:
        """Raise :class:`IncompatibleRuleError` if this rule cannot train `net` with `loss`."""
        check_loss(net, loss)

    def init_feedback(self, net: RateNetwork, rng: np.random.Generator) -> Feedback:
        """Draw the feedback weights (``None`` where a layer has none)."""
        return (None,) * net.n_layers

    def backward(
        self, net: RateNetwork, fwd: Forward, error: np.ndarray, feedback: Feedback
    ) -> tuple[np.ndarray, ...]:
        """The backward signal :math:`\\delta_k` of every layer (exact backprop here)."""
        return propagate(net, fwd, error, lambda k, delta: delta @ net.weights[k])

    def extra_gradients(self, net: RateNetwork) -> tuple[np.ndarray, ...] | None:
        """Gradients of a regulariser on the forward weights (``None``: no regulariser)."""
        return None

    def update_feedback(
        self,
        feedback: Feedback,
        net: RateNetwork,
        fwd: Forward,
        gradients: Gradients,
        learning_rate: float,
        rng: np.random.Generator,
    ) -> Feedback:
        """Feedback weights after one step; `net` already holds the new forward weights."""
        return feedback

    def constrain(self, net: RateNetwork) -> RateNetwork:
        """The network after a step, projected onto the rule's constraints (none here)."""
        return net

    def effective_feedback(self, net: RateNetwork, feedback: Feedback) -> Feedback:
        """The matrices that actually carry the signal down (used by the alignment metrics)."""
        return feedback

    def describe(self) -> str:
        """One line: the rule's name and parameters."""
        return repr(self)


def _require_feedback(rule: Rule, net: RateNetwork, feedback: Feedback) -> None:
    if len(feedback) != net.n_layers:
        raise IncompatibleRuleError(
            f"{rule.name}: got {len(feedback)} feedback entries for {net.n_layers} layers; "
            "draw them with rule.init_feedback(net, rng) for this network"
        )


def compute_gradients(
    rule: Rule, net: RateNetwork, fwd: Forward, error: np.ndarray, feedback: Feedback
) -> Gradients:
    """The rule's descent directions for a batch whose forward pass is `fwd`."""
    _require_feedback(rule, net, feedback)
    deltas = rule.backward(net, fwd, error, feedback)
    weights, biases = weight_gradients(fwd, deltas)
    extra = rule.extra_gradients(net)
    if extra is not None:
        weights = tuple(g if e is None else g + e for g, e in zip(weights, extra, strict=True))
    return Gradients(weights, biases, deltas)


def rule_update(
    rule: Rule,
    net: RateNetwork,
    x: np.ndarray,
    targets: np.ndarray,
    *,
    loss: str = "mse",
    feedback: Feedback | None = None,
    learning_rate: float = 0.01,
) -> tuple[np.ndarray, ...]:
    """Weight changes :math:`\\Delta W_k` the rule makes on the batch ``(x, targets)``.

    Parameters
    ----------
    rule
        Any :class:`Rule`.
    net
        The network; its weights are not changed.
    x, targets
        A batch, one sample per row.
    loss
        ``"mse"`` or ``"cross_entropy"``.
    feedback
        The rule's feedback weights; required for rules that have them.
    learning_rate
        :math:`\\eta`; the result is :math:`-\\eta` times the batch-mean gradient.
    """
    rule.check(net, loss)
    if feedback is None:
        if rule.routing != "none":
            raise IncompatibleRuleError(
                f"{rule.name} needs feedback weights; pass feedback=rule.init_feedback(net, rng)"
            )
        feedback = (None,) * net.n_layers
    fwd = forward(net, x)
    error = output_error(net, fwd, targets, loss)
    gradients = compute_gradients(rule, net, fwd, error, feedback)
    return tuple(-learning_rate * g for g in gradients.weights)
