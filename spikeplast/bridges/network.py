r"""Multi-layer rate networks: parameters, the forward pass and the output error.

A network is a :class:`RateNetwork`, an immutable tuple of weights and biases plus the names of the
hidden and output nonlinearities. Samples are rows, so for layer :math:`l`

.. math::

    a_l = h_{l-1} W_l^\top + b_l, \qquad h_l = f(a_l),
    \qquad W_l \in \mathbb{R}^{n_l \times n_{l-1}},

and the loss is averaged over the batch. :func:`output_error` returns
:math:`e = \partial L / \partial a_L` per sample: :math:`\hat y - y` for softmax cross-entropy and
:math:`(\hat y - y) \odot f'(a_L)` for the squared error
:math:`L = \tfrac12 \lVert \hat y - y \rVert^2`.
Every learning rule starts from this error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from .errors import IncompatibleRuleError, ShapeError, UnknownBridgeNameError

__all__ = [
    "Activation",
    "ACTIVATIONS",
    "LOSSES",
    "RateNetwork",
    "Forward",
    "get_activation",
    "init_network",
    "forward",
    "output_error",
    "loss_value",
    "check_loss",
    "check_batch",
    "layer_sizes",
]

LEAKY_SLOPE = 0.1  # GAIT-prop's slope (Ahmad et al. 2020); keeps the layer invertible


class Activation(NamedTuple):
    """A nonlinearity :math:`f`, its derivative written in terms of :math:`a`, and its inverse."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray], np.ndarray]
    inverse: Callable[[np.ndarray], np.ndarray] | None


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # Written through tanh so that large |a| neither overflows nor loses the small tail.
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _sigmoid_derivative(a: np.ndarray) -> np.ndarray:
    s = _sigmoid(a)
    return s * (1.0 - s)


def _softmax(a: np.ndarray) -> np.ndarray:
    shifted = np.exp(a - a.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _no_derivative(a: np.ndarray) -> np.ndarray:  # pragma: no cover - guarded by check_loss
    raise IncompatibleRuleError(
        "the softmax output has no elementwise derivative; use cross_entropy"
    )


ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation("linear", lambda a: a, np.ones_like, lambda y: y),
    "relu": Activation(
        "relu", lambda a: np.maximum(a, 0.0), lambda a: (a > 0).astype(a.dtype), None
    ),
    "leaky_relu": Activation(
        "leaky_relu",
        lambda a: np.where(a > 0, a, LEAKY_SLOPE * a),
        lambda a: np.where(a > 0, 1.0, LEAKY_SLOPE),
        lambda y: np.where(y > 0, y, y / LEAKY_SLOPE),
    ),
    "tanh": Activation("tanh", np.tanh, lambda a: 1.0 - np.tanh(a) ** 2, np.arctanh),
    "sigmoid": Activation(
        "sigmoid", _sigmoid, _sigmoid_derivative, lambda y: np.log(y) - np.log1p(-y)
    ),
    "softmax": Activation("softmax", _softmax, _no_derivative, None),
}

LOSSES = ("mse", "cross_entropy")


def get_activation(name: str) -> Activation:
    """Return the :class:`Activation` called `name` (see :data:`ACTIVATIONS`)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        known = ", ".join(sorted(ACTIVATIONS))
        raise UnknownBridgeNameError(
            f"unknown activation {name!r}; choose one of {known}"
        ) from None


class RateNetwork(NamedTuple):
    """Parameters of a dense rate network.

    Attributes
    ----------
    weights : tuple of ndarray
        ``weights[k]`` has shape ``(n_{k+1}, n_k)`` and maps layer ``k`` to layer ``k + 1``.
    biases : tuple of ndarray
        ``biases[k]`` has shape ``(n_{k+1},)``.
    hidden : str
        Nonlinearity of every hidden layer.
    output : str
        Nonlinearity of the output layer (``"softmax"`` goes with the cross-entropy loss).
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    hidden: str = "relu"
    output: str = "linear"

    @property
    def n_layers(self) -> int:
        """Number of weight layers."""
        return len(self.weights)

    def activation(self, k: int) -> Activation:
        """The nonlinearity applied after weight layer `k`."""
        return get_activation(self.output if k == self.n_layers - 1 else self.hidden)

    def replace(self, **changes: object) -> RateNetwork:
        """A copy with some fields replaced (NamedTuple ``_replace``)."""
        return self._replace(**changes)


class Forward(NamedTuple):
    """What the forward pass leaves behind for the learning rules.

    ``inputs[k]`` is the input to weight layer ``k`` (``inputs[0]`` is the data) and
    ``currents[k]`` its pre-activation :math:`a_{k+1}`; ``output`` is the network's output.
    """

    inputs: tuple[np.ndarray, ...]
    currents: tuple[np.ndarray, ...]
    output: np.ndarray


def layer_sizes(net: RateNetwork) -> tuple[int, ...]:
    """Widths of all layers, input first."""
    return (net.weights[0].shape[1], *(w.shape[0] for w in net.weights))


def init_network(
    sizes: Sequence[int],
    *,
    hidden: str = "relu",
    output: str = "linear",
    rng: np.random.Generator | int | None = None,
    scheme: str = "he",
    orthogonal: bool = False,
) -> RateNetwork:
    """Draw a network with layer widths `sizes` (input first).

    Parameters
    ----------
    sizes
        At least two widths, all positive.
    hidden, output
        Names of the hidden and output nonlinearities.
    rng
        Generator or seed.
    scheme
        ``"he"`` (std :math:`\\sqrt{2/n_{in}}`), ``"xavier"``
        (std :math:`\\sqrt{2/(n_{in}+n_{out})}`) or ``"lecun"`` (std :math:`\\sqrt{1/n_{in}}`).
    orthogonal
        Draw each square weight matrix as a random orthogonal matrix instead (GAIT-prop).
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ShapeError(f"a network needs at least two positive layer widths, got {sizes}")
    get_activation(hidden), get_activation(output)
    if hidden == "softmax":
        raise IncompatibleRuleError("softmax is an output nonlinearity; use relu, tanh, ... inside")
    rng = np.random.default_rng(rng)
    scales = {"he": lambda i, o: np.sqrt(2.0 / i), "xavier": lambda i, o: np.sqrt(2.0 / (i + o))}
    scales["lecun"] = lambda i, o: np.sqrt(1.0 / i)
    if scheme not in scales:
        raise UnknownBridgeNameError(f"unknown init scheme {scheme!r}; choose he, xavier or lecun")
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        if orthogonal:
            if n_in != n_out:
                raise ShapeError(f"orthogonal init needs square layers, got {n_out}x{n_in}")
            q, r = np.linalg.qr(rng.standard_normal((n_in, n_in)))
            weights.append(q * np.sign(np.diag(r)))  # sign fix: uniform (Haar) distribution
        else:
            weights.append(rng.standard_normal((n_out, n_in)) * scales[scheme](n_in, n_out))
    biases = tuple(np.zeros(n) for n in sizes[1:])
    return RateNetwork(tuple(weights), biases, hidden, output)


def check_batch(net: RateNetwork, x: np.ndarray) -> np.ndarray:
    """Return `x` as a 2-D float array, or raise :class:`ShapeError` naming the mismatch."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    n_in = net.weights[0].shape[1]
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ShapeError(
            f"input has shape {x.shape} but the network expects (batch, {n_in}); "
            "pass one sample per row"
        )
    return x


def forward(net: RateNetwork, x: np.ndarray) -> Forward:
    """Run the network on a batch `x` of shape ``(batch, n_in)``."""
    h = check_batch(net, x)
    inputs, currents = [], []
    for k, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        inputs.append(h)
        a = h @ w.T + b
        currents.append(a)
        h = net.activation(k).f(a)
    return Forward(tuple(inputs), tuple(currents), h)


def check_loss(net: RateNetwork, loss: str) -> None:
    """Raise unless `loss` is known and fits the output nonlinearity."""
    if loss not in LOSSES:
        raise UnknownBridgeNameError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    if loss == "cross_entropy" and net.output != "softmax":
        raise IncompatibleRuleError(
            f"cross_entropy needs a softmax output, the network has {net.output!r}; "
            "build it with output='softmax' or use loss='mse'"
        )
    if loss == "mse" and net.output == "softmax":
        raise IncompatibleRuleError("a softmax output goes with loss='cross_entropy', not 'mse'")


def _check_targets(fwd: Forward, targets: np.ndarray) -> np.ndarray:
    targets = np.asarray(targets, dtype=float)
    if targets.ndim == 1:
        targets = targets[:, None]
    if targets.shape[0] != fwd.output.shape[0] or targets.shape[1] > fwd.output.shape[1]:
        raise ShapeError(
            f"targets have shape {targets.shape} but the output has shape {fwd.output.shape}; "
            "use one target row per sample and at most one column per output unit"
        )
    return targets


def output_error(net: RateNetwork, fwd: Forward, targets: np.ndarray, loss: str) -> np.ndarray:
    """Per-sample error :math:`e = \\partial L/\\partial a_L`, shape ``(batch, n_out)``.

    `targets` may have fewer columns than the output: the remaining output units then get no
    error (GAIT-prop's convention, where surplus output units are their own target).
    """
    check_loss(net, loss)
    targets = _check_targets(fwd, targets)
    n_targets = targets.shape[1]
    difference = np.zeros_like(fwd.output)
    difference[:, :n_targets] = fwd.output[:, :n_targets] - targets
    if loss == "cross_entropy":
        return difference  # softmax and cross-entropy together: dL/da = p - t
    return difference * net.activation(net.n_layers - 1).derivative(fwd.currents[-1])


def loss_value(net: RateNetwork, fwd: Forward, targets: np.ndarray, loss: str) -> float:
    """Batch-mean loss: :math:`\\tfrac12\\lVert\\hat y-y\\rVert^2` or cross-entropy."""
    check_loss(net, loss)
    targets = _check_targets(fwd, targets)
    prediction = fwd.output[:, : targets.shape[1]]
    if loss == "cross_entropy":
        return float(-np.mean(np.sum(targets * np.log(np.clip(prediction, 1e-300, None)), axis=1)))
    return float(0.5 * np.mean(np.sum((prediction - targets) ** 2, axis=1)))
