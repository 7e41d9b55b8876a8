r"""Fixed and sign-following feedback: FA, DFA, sign symmetry and FA_Ex-100%.

Backward signals (row layout, :math:`e` the output error, :math:`B` the feedback weights):

* **FA** (Lillicrap et al. 2016):
  :math:`\delta_{l} = (\delta_{l+1} B_{l+1}^\top) \odot f'(a_l)` with a fixed random
  :math:`B_{l+1}` shaped like :math:`W_{l+1}^\top`.
* **DFA** (Nøkland 2016): :math:`\delta_l = (e\, B_l^\top) \odot f'(a_l)` for every hidden layer,
  with a fixed random :math:`B_l \in \mathbb{R}^{n_l \times n_L}`.
* **Sign symmetry** (Liao et al. 2016; Xiao et al. 2018): FA with
  :math:`B = |M| \odot \operatorname{sign}(W)^\top`; uSF uses :math:`|M| = s`, brSF redraws
  :math:`M` every batch, frSF draws it once.
* **FA_Ex-100%** (Konishi et al. 2023): every hidden neuron excites the output, so the feedback is
  all ones and :math:`\Delta W_{ij} = -\eta\, x_j\, \theta(I_i)\, e` for a ReLU network with a
  scalar output — presynaptic rate × postsynaptic gate × broadcast error, a three-factor rule
  (:func:`three_factor_update`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .errors import IncompatibleRuleError, ShapeError
from .network import Forward, RateNetwork, get_activation
from .rule import Feedback, Gradients, Rule, propagate, rule_update, xavier_std

__all__ = [
    "FeedbackAlignment",
    "DirectFeedbackAlignment",
    "SignSymmetry",
    "FAExcitatory",
    "fa_update",
    "dfa_update",
    "three_factor_update",
    "direct_feedback_reference",
]

SIGN_MAGNITUDES = ("unit", "batchwise_random", "fixed_random")


def _layerwise(net: RateNetwork, fwd: Forward, error: np.ndarray, feedback: Feedback):
    return propagate(net, fwd, error, lambda k, delta: delta @ feedback[k].T)


def _direct(net: RateNetwork, fwd: Forward, error: np.ndarray, feedback: Feedback):
    deltas = [
        (error @ feedback[k + 1].T) * net.activation(k).derivative(fwd.currents[k])
        for k in range(net.n_layers - 1)
    ]
    return (*deltas, error)


def direct_feedback_reference(net: RateNetwork, k: int) -> np.ndarray:
    """What a direct feedback matrix into layer `k` stands in for: :math:`(W_L \\cdots W_k)^\\top`.

    Linearised backprop carries the output error to the input side of layer ``k`` through this
    product; for ``k = L - 1`` it is :math:`W_L^\\top`, the matrix FA replaces.
    """
    product = net.weights[-1]
    for w in reversed(net.weights[k:-1]):
        product = product @ w
    return product.T


@dataclass(frozen=True)
class FeedbackAlignment(Rule):
    """Lillicrap et al. 2016: fixed random :math:`B_k` (Gaussian, Xavier std × `scale`)."""

    scale: float = 1.0
    name: ClassVar[str] = "fa"
    routing: ClassVar[str] = "layerwise"

    def init_feedback(self, net: RateNetwork, rng: np.random.Generator) -> Feedback:
        return (
            None,
            *(
                rng.standard_normal(w.T.shape) * self.scale * xavier_std(*w.T.shape)
                for w in net.weights[1:]
            ),
        )

    def backward(self, net, fwd, error, feedback):
        return _layerwise(net, fwd, error, feedback)


@dataclass(frozen=True)
class DirectFeedbackAlignment(Rule):
    """Nøkland 2016: the output error reaches every hidden layer through a fixed random matrix."""

    scale: float = 1.0
    name: ClassVar[str] = "dfa"
    routing: ClassVar[str] = "direct"

    def init_feedback(self, net: RateNetwork, rng: np.random.Generator) -> Feedback:
        n_out = net.weights[-1].shape[0]
        return (
            None,
            *(
                rng.standard_normal((w.shape[1], n_out))
                * self.scale
                * xavier_std(w.shape[1], n_out)
                for w in net.weights[1:]
            ),
        )

    def backward(self, net, fwd, error, feedback):
        return _direct(net, fwd, error, feedback)


@dataclass(frozen=True)
class SignSymmetry(Rule):
    """Feedback with the signs of :math:`W^\\top` (uSF, brSF or frSF by `magnitude`).

    Parameters
    ----------
    magnitude
        ``"unit"`` (uSF: all magnitudes equal to the Xavier std), ``"batchwise_random"``
        (brSF: :math:`|M|` redrawn after every batch) or ``"fixed_random"`` (frSF: drawn once).
    """

    magnitude: str = "unit"
    name: ClassVar[str] = "sign_symmetry"
    routing: ClassVar[str] = "layerwise"

    def check(self, net: RateNetwork, loss: str) -> None:
        super().check(net, loss)
        if self.magnitude not in SIGN_MAGNITUDES:
            raise IncompatibleRuleError(
                f"sign symmetry magnitude {self.magnitude!r} is unknown; "
                f"choose one of {', '.join(SIGN_MAGNITUDES)}"
            )

    def _magnitudes(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        std = xavier_std(*shape)
        if self.magnitude == "unit":
            return np.full(shape, std)
        return np.abs(rng.standard_normal(shape)) * std

    def init_feedback(self, net: RateNetwork, rng: np.random.Generator) -> Feedback:
        return (
            None,
            *(self._magnitudes(w.T.shape, rng) * np.sign(w.T) for w in net.weights[1:]),
        )

    def backward(self, net, fwd, error, feedback):
        return _layerwise(net, fwd, error, feedback)

    def update_feedback(
        self,
        feedback: Feedback,
        net: RateNetwork,
        fwd: Forward,
        gradients: Gradients,
        learning_rate: float,
        rng: np.random.Generator,
    ) -> Feedback:
        if self.magnitude == "batchwise_random":
            return self.init_feedback(net, rng)
        # |B| holds the magnitudes (the signs came from W); re-sign them with the new W.
        return (
            None,
            *(np.abs(b) * np.sign(w.T) for b, w in zip(feedback[1:], net.weights[1:], strict=True)),
        )


@dataclass(frozen=True)
class FAExcitatory(Rule):
    """FA_Ex-100% (Konishi et al. 2023): all-ones feedback from the output error.

    Parameters
    ----------
    modulator
        ``"all_ones"`` (the paper's rule: every hidden neuron receives the same error
        :math:`\\sum_k e_k`; needs a single output unit) or ``"signed"`` (each hidden neuron
        receives its own signed combination :math:`\\sum_k S_{ik} e_k`, :math:`S_{ik} = \\pm 1`
        fixed at random: one neuromodulator channel per output, read with a per-neuron sign).
    nonnegative_output
        Keep the output weights :math:`W_L \\ge 0` after every step (Dale's law: every middle
        neuron *is* excitatory, which is what makes the all-ones feedback sign-concordant).
    """

    modulator: str = "all_ones"
    nonnegative_output: bool = False
    name: ClassVar[str] = "fa_ex"
    routing: ClassVar[str] = "direct"

    def check(self, net: RateNetwork, loss: str) -> None:
        super().check(net, loss)
        if self.modulator not in ("all_ones", "signed"):
            raise IncompatibleRuleError(
                f"FA_Ex modulator {self.modulator!r} is unknown; choose 'all_ones' or 'signed'"
            )
        n_out = net.weights[-1].shape[0]
        if self.modulator == "all_ones" and n_out > 1:
            why = (
                "with softmax cross-entropy the broadcast error sum_k e_k = sum_k (p_k - t_k) is "
                "exactly 0, so hidden layers would never learn"
                if loss == "cross_entropy"
                else "one broadcast error cannot tell hidden neurons which of the outputs is wrong"
            )
            raise IncompatibleRuleError(
                f"FA_Ex-100% needs a scalar-output task but the network has {n_out} outputs: "
                f"{why}; use FAExcitatory(modulator='signed') (per-neuron signed modulator) or DFA"
            )

    def init_feedback(self, net: RateNetwork, rng: np.random.Generator) -> Feedback:
        n_out = net.weights[-1].shape[0]
        if self.modulator == "all_ones":
            return (None, *(np.ones((w.shape[1], n_out)) for w in net.weights[1:]))
        return (
            None,
            *(rng.choice([-1.0, 1.0], size=(w.shape[1], n_out)) for w in net.weights[1:]),
        )

    def backward(self, net, fwd, error, feedback):
        return _direct(net, fwd, error, feedback)

    def constrain(self, net: RateNetwork) -> RateNetwork:
        if not self.nonnegative_output:
            return net
        return net.replace(weights=(*net.weights[:-1], np.maximum(net.weights[-1], 0.0)))


def _fixed_feedback_update(rule: Rule, doc: str):
    def update(
        net: RateNetwork,
        x: np.ndarray,
        targets: np.ndarray,
        feedback: Feedback,
        *,
        loss: str = "mse",
        learning_rate: float = 0.01,
    ) -> tuple[np.ndarray, ...]:
        return rule_update(
            rule, net, x, targets, loss=loss, feedback=feedback, learning_rate=learning_rate
        )

    update.__doc__ = doc
    return update


fa_update = _fixed_feedback_update(
    FeedbackAlignment(),
    """Feedback-alignment weight changes ``ΔW_k`` with the given layer-wise `feedback` matrices.""",
)
dfa_update = _fixed_feedback_update(
    DirectFeedbackAlignment(),
    """Direct-feedback-alignment weight changes ``ΔW_k`` with the given direct `feedback`.""",
)


def three_factor_update(
    weights: np.ndarray,
    presynaptic: np.ndarray,
    error: np.ndarray,
    *,
    biases: np.ndarray | None = None,
    feedback: np.ndarray | None = None,
    post_gate: np.ndarray | None = None,
    activation: str = "relu",
    learning_rate: float = 0.01,
) -> np.ndarray:
    """The rate three-factor update of one layer: FA_Ex-100% or DFA style.

    .. math::

        \\Delta W_{ij} = -\\eta \\,\\big\\langle M_i \\; g_i \\; x_j \\big\\rangle_{\\text{batch}},
        \\qquad M = e B^\\top, \\qquad g_i = f'(I_i), \\qquad I = x W^\\top + b .

    This is the expectation a spiking three-factor rule (presynaptic trace × postsynaptic gate ×
    broadcast error) should approach when its update is averaged over trials, so the spiking
    bridge compares its trial-averaged :math:`\\Delta W` with this by angle.

    Parameters
    ----------
    weights
        :math:`W`, shape ``(n_post, n_pre)``.
    presynaptic
        Presynaptic rates :math:`x`, shape ``(batch, n_pre)`` or ``(n_pre,)``.
    error
        The output error :math:`e`, shape ``(batch, n_out)``, ``(batch,)`` for one output, or a
        scalar for a single sample with one output.
    biases
        :math:`b`, shape ``(n_post,)``; zero if omitted.
    feedback
        :math:`B`, shape ``(n_post, n_out)``; all ones if omitted (FA_Ex-100%,
        :math:`M_i = \\sum_k e_k`). A random signed matrix makes it DFA.
    post_gate
        The postsynaptic factor :math:`g`, shape ``(batch, n_post)``; if omitted it is
        :math:`f'(I)` (the step function :math:`\\theta(I)` for ReLU). A spiking estimate (did the
        neuron fire) can be passed instead.
    activation
        Name of :math:`f` for the default gate.
    learning_rate
        :math:`\\eta` (0.01 in Konishi et al. 2023).

    Returns
    -------
    ndarray
        :math:`\\Delta W`, shape ``(n_post, n_pre)``.
    """
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 2:
        raise ShapeError(f"weights must be a (n_post, n_pre) matrix, got shape {weights.shape}")
    n_post, n_pre = weights.shape
    x = np.atleast_2d(np.asarray(presynaptic, dtype=float))
    if x.shape[1] != n_pre:
        raise ShapeError(f"presynaptic rates have shape {x.shape}; expected (batch, {n_pre})")
    e = np.asarray(error, dtype=float)
    e = e.reshape(x.shape[0], -1) if e.size % x.shape[0] == 0 else e
    if e.ndim != 2 or e.shape[0] != x.shape[0]:
        raise ShapeError(
            f"error has shape {np.shape(error)}; expected one row per sample ({x.shape[0]} rows)"
        )
    b = np.ones((n_post, e.shape[1])) if feedback is None else np.asarray(feedback, dtype=float)
    if b.shape != (n_post, e.shape[1]):
        raise ShapeError(f"feedback has shape {b.shape}; expected ({n_post}, {e.shape[1]})")
    if post_gate is None:
        currents = x @ weights.T + (0.0 if biases is None else np.asarray(biases, dtype=float))
        post_gate = get_activation(activation).derivative(currents)
    post_gate = np.asarray(post_gate, dtype=float)
    if post_gate.shape != (x.shape[0], n_post):
        raise ShapeError(
            f"post_gate has shape {post_gate.shape}; expected ({x.shape[0]}, {n_post})"
        )
    modulator = e @ b.T
    return -learning_rate * (modulator * post_gate).T @ x / x.shape[0]
