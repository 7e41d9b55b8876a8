"""Mini-batch training of a rate network with any rule, recording the standard measurements.

Every run records, before training and after every ``evaluate_every`` epochs: train and test loss,
train and test accuracy, the weight alignment :math:`\\angle(W_k^\\top, B_k)`, the update alignment
:math:`\\angle(\\Delta W_k^{rule}, \\Delta W_k^{BP})` on a fixed probe batch and
:math:`\\lVert B_k\\rVert/\\lVert W_k\\rVert`. A NaN or infinite weight stops training with a
:class:`~spikeplast.bridges.errors.TrainingDivergedError` naming the layer and the step.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from .errors import IncompatibleRuleError, ShapeError, TrainingDivergedError
from .metrics import feedback_norm_ratio, update_alignment, weight_alignment
from .network import RateNetwork, forward, layer_sizes, loss_value, output_error
from .rule import Feedback, Gradients, Rule, compute_gradients
from .rules import rule_label

__all__ = [
    "Dataset",
    "TrainConfig",
    "History",
    "TrainResult",
    "train",
    "train_step",
    "evaluate",
    "targets_of",
]


class Dataset(NamedTuple):
    """A train/test split.

    For classification ``y_*`` hold integer labels and ``n_classes > 0``; for regression they hold
    float targets of shape ``(n, n_out)`` and ``n_classes == 0``. ``levels`` optionally lists the
    discrete target values of a regression task: accuracy then counts predictions closest to the
    right level (the reward-amount task).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int = 0
    levels: np.ndarray | None = None


class TrainConfig(NamedTuple):
    """Training budget and optimiser settings (plain SGD on batch means)."""

    loss: str = "cross_entropy"
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 0.05
    weight_decay: float = 0.0
    probe_size: int = 256
    evaluate_every: int = 1
    #: let output units beyond the target columns be their own targets (square GAIT-prop nets)
    free_outputs: bool = False


class History(NamedTuple):
    """Measurements at each evaluation point (first axis); per-layer arrays have a second axis."""

    epoch: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    weight_angle: np.ndarray
    update_angle: np.ndarray
    norm_ratio: np.ndarray


class TrainResult(NamedTuple):
    """A trained network with its feedback weights, history, wall-clock and CPU time."""

    rule: str
    net: RateNetwork
    feedback: Feedback
    history: History
    seconds: float
    cpu_seconds: float


def targets_of(data: Dataset, y: np.ndarray) -> np.ndarray:
    """Training targets: one-hot rows for labels, 2-D floats for regression."""
    if data.n_classes:
        y = np.asarray(y, dtype=int)
        return np.eye(data.n_classes)[y]
    y = np.asarray(y, dtype=float)
    return y[:, None] if y.ndim == 1 else y


def _accuracy(data: Dataset, output: np.ndarray, y: np.ndarray) -> float:
    if data.n_classes:
        return float(np.mean(np.argmax(output[:, : data.n_classes], axis=1) == y))
    if data.levels is None:
        return float("nan")
    levels = np.asarray(data.levels, dtype=float)
    target = targets_of(data, y)[:, 0]
    chosen = levels[np.argmin(np.abs(output[:, :1] - levels[None, :]), axis=1)]
    return float(np.mean(np.isclose(chosen, target)))


def evaluate(
    net: RateNetwork, data: Dataset, loss: str, split: str = "test"
) -> tuple[float, float]:
    """(loss, accuracy) of `net` on the ``"train"`` or ``"test"`` split."""
    x, y = (data.x_test, data.y_test) if split == "test" else (data.x_train, data.y_train)
    fwd = forward(net, x)
    return loss_value(net, fwd, targets_of(data, y), loss), _accuracy(data, fwd.output, y)


def _check_data(rule: Rule, net: RateNetwork, data: Dataset, free_outputs: bool) -> None:
    sizes = layer_sizes(net)
    for split in ("train", "test"):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        if x.ndim != 2 or x.shape[1] != sizes[0]:
            raise ShapeError(
                f"{data.name}: x_{split} has shape {x.shape} but the network's input width is "
                f"{sizes[0]}; build the network with sizes starting at {x.shape[-1]}"
            )
        if len(y) != len(x):
            raise ShapeError(f"{data.name}: {len(x)} {split} inputs but {len(y)} targets")
    width = data.n_classes or targets_of(data, data.y_train[:1]).shape[1]
    free = free_outputs or rule.allows_untargeted_outputs
    if width > sizes[-1] or (width < sizes[-1] and not free):
        raise ShapeError(
            f"{data.name} has {width} target columns but the network has {sizes[-1]} outputs; "
            f"make the last layer {width} wide"
        )
    if width < sizes[-1] and data.n_classes == 0:
        raise IncompatibleRuleError("surplus output units are only supported for classification")


def _check_finite(arrays, what: str, step: int, epoch: int, rule: str, lr: float) -> None:
    for k, array in enumerate(arrays):
        if array is not None and not np.all(np.isfinite(array)):
            raise TrainingDivergedError(
                f"training diverged: {what} of layer {k + 1} became NaN/inf at step {step} "
                f"(epoch {epoch}) with rule {rule}; lower the learning rate (now {lr:g})"
            )


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run BLAS on one thread: these matrices are small, and extra threads only spin.

    Measured here (2 cores, busy machine): 9-24x less CPU per epoch than OpenBLAS's default.
    Uses threadpoolctl when it is installed (scikit-learn brings it); otherwise does nothing.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def train_step(
    rule: Rule,
    net: RateNetwork,
    feedback: Feedback,
    x: np.ndarray,
    targets: np.ndarray,
    config: TrainConfig,
    rng: np.random.Generator,
) -> tuple[RateNetwork, Feedback, Gradients]:
    """One SGD step on the batch ``(x, targets)``: new network, new feedback, the gradients used.

    A pure function: `net` and `feedback` are not modified.
    """
    fwd = forward(net, x)
    error = output_error(net, fwd, targets, config.loss)
    gradients = compute_gradients(rule, net, fwd, error, feedback)
    lr, decay = config.learning_rate, config.weight_decay
    net = net.replace(
        weights=tuple(
            w - lr * (g + decay * w) for w, g in zip(net.weights, gradients.weights, strict=True)
        ),
        biases=tuple(b - lr * g for b, g in zip(net.biases, gradients.biases, strict=True)),
    )
    net = rule.constrain(net)
    feedback = rule.update_feedback(feedback, net, fwd, gradients, lr, rng)
    return net, feedback, gradients


def train(
    net: RateNetwork,
    rule: Rule,
    data: Dataset,
    config: TrainConfig | None = None,
    *,
    seed: int | np.random.Generator | None = 0,
    feedback: Feedback | None = None,
    on_epoch: Callable[[int], None] | None = None,
) -> TrainResult:
    """Train `net` on `data` with `rule`; return the trained network and its history.

    Parameters
    ----------
    net
        Initial network (not modified).
    rule
        The learning rule.
    data
        Train/test split.
    config
        Loss, epochs, batch size, learning rate, weight decay, probe size.
    seed
        Seeds the feedback weights (unless `feedback` is given), the batch order and any noise
        the rule draws.
    feedback
        Initial feedback weights; drawn with ``rule.init_feedback`` if omitted.
    on_epoch
        Called with the epoch number after each epoch (progress bars).
    """
    config = TrainConfig() if config is None else config
    with single_threaded_blas():
        return _train(net, rule, data, config, seed, feedback, on_epoch)


def _train(
    net: RateNetwork,
    rule: Rule,
    data: Dataset,
    config: TrainConfig,
    seed: int | np.random.Generator | None,
    feedback: Feedback | None,
    on_epoch: Callable[[int], None] | None,
) -> TrainResult:
    rule.check(net, config.loss)
    _check_data(rule, net, data, config.free_outputs)
    if config.epochs < 0 or config.batch_size < 1 or not config.learning_rate > 0:
        raise ShapeError(
            "epochs must be >= 0, batch_size >= 1 and learning_rate > 0; "
            f"got {config.epochs}, {config.batch_size}, {config.learning_rate}"
        )
    rng = np.random.default_rng(seed)
    label = rule_label(rule)
    if feedback is None:
        feedback = rule.init_feedback(net, rng)
    probe = rng.choice(
        len(data.x_train), size=min(config.probe_size, len(data.x_train)), replace=False
    )
    probe_x, probe_t = data.x_train[probe], targets_of(data, data.y_train[probe])
    targets = targets_of(data, data.y_train)
    records: dict[str, list] = {field: [] for field in History._fields}

    def record(epoch: int) -> None:
        records["epoch"].append(epoch)
        for split in ("train", "test"):
            loss, accuracy = evaluate(net, data, config.loss, split)
            records[f"{split}_loss"].append(loss)
            records[f"{split}_accuracy"].append(accuracy)
        records["weight_angle"].append(weight_alignment(rule, net, feedback))
        records["norm_ratio"].append(feedback_norm_ratio(rule, net, feedback))
        records["update_angle"].append(
            update_alignment(rule, net, feedback, probe_x, probe_t, config.loss)
        )

    started, cpu_started = time.perf_counter(), time.process_time()
    with np.errstate(invalid="ignore", divide="ignore"):
        record(0)
    step = 0
    lr = config.learning_rate
    # Overflow on the way to a NaN is reported by _check_finite, naming layer and step.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, config.epochs + 1):
            order = rng.permutation(len(targets))
            for start in range(0, len(order), config.batch_size):
                batch = order[start : start + config.batch_size]
                net, feedback, gradients = train_step(
                    rule, net, feedback, data.x_train[batch], targets[batch], config, rng
                )
                step += 1
                _check_finite(net.weights, "the weights", step, epoch, label, lr)
                _check_finite(feedback, "the feedback weights", step, epoch, label, lr)
            if epoch % config.evaluate_every == 0 or epoch == config.epochs:
                record(epoch)
            if on_epoch is not None:
                on_epoch(epoch)
    history = History(**{k: np.asarray(v, dtype=float) for k, v in records.items()})
    return TrainResult(
        label,
        net,
        feedback,
        history,
        time.perf_counter() - started,
        time.process_time() - cpu_started,
    )
