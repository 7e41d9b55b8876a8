"""The bridge experiments: rule comparison, reward prediction, alignment vs regularisation.

Each function returns an :class:`ExperimentResult`: a JSON-able ``summary`` (tables, settings,
run times) and named ``arrays`` (curves), which :func:`save_experiment` writes atomically as
``<name>.json``, ``<name>.npz`` and, with a figure, ``<name>.png``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .datasets import load_task, reward_prediction_task
from .errors import IncompatibleRuleError, ShapeError
from .network import init_network, layer_sizes
from .rules import get_rule
from .training import Dataset, TrainConfig, TrainResult, train

__all__ = [
    "ExperimentResult",
    "DEFAULT_COMPARE_RULES",
    "compare_rules",
    "reward_prediction",
    "alignment_vs_regularization",
    "song_xu_lafferty_run",
    "save_experiment",
]

DEFAULT_COMPARE_RULES = (
    "bp", "fa", "dfa", "usf", "brsf", "frsf", "fa_ex", "fa_ex_signed",
    "sa", "aa", "wm", "ia", "kp", "gait",
)  # fmt: skip

Progress = Callable[[int], None] | None


class ExperimentResult(NamedTuple):
    """Tables and settings (``summary``, JSON-able) and curves (``arrays``, for .npz)."""

    name: str
    summary: dict[str, Any]
    arrays: dict[str, np.ndarray]


def _timed(function: Callable[..., ExperimentResult]) -> Callable[..., ExperimentResult]:
    """Add the experiment's total wall-clock and CPU seconds to its summary."""

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> ExperimentResult:
        wall, cpu = time.perf_counter(), time.process_time()
        result = function(*args, **kwargs)
        result.summary["wall_seconds"] = time.perf_counter() - wall
        result.summary["cpu_seconds"] = time.process_time() - cpu
        return result

    return timed


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _nanmean(stack: np.ndarray, axis: int = 0) -> np.ndarray:
    # all-NaN columns (rules without feedback) stay NaN without a RuntimeWarning
    count = np.sum(np.isfinite(stack), axis=axis)
    total = np.nansum(stack, axis=axis)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _network_for(rule_name: str, data: Dataset, hidden: Sequence[int], activation: str):
    """The shared network, or GAIT-prop's square, invertible version of it."""
    n_in = data.x_train.shape[1]
    n_out = data.n_classes or 1
    if rule_name == "gait":
        sizes = [n_in] * (len(hidden) + 2)
        return sizes, dict(hidden="leaky_relu", output="leaky_relu", orthogonal=True), "mse"
    loss = "cross_entropy" if data.n_classes else "mse"
    output = "softmax" if data.n_classes else "linear"
    return [n_in, *hidden, n_out], dict(hidden=activation, output=output), loss


def _summarise_runs(rule_name: str, runs: list[TrainResult]) -> tuple[dict, dict]:
    accuracies = [r.history.test_accuracy[-1] for r in runs]
    losses = [r.history.test_loss[-1] for r in runs]
    mean, sd = _mean_sd(accuracies)
    fields = ("test_accuracy", "train_loss", "test_loss", "weight_angle", "update_angle")
    stack = {f: np.stack([getattr(r.history, f) for r in runs]) for f in (*fields, "norm_ratio")}
    row = {
        "rule": rule_name,
        "test_accuracy_mean": mean,
        "test_accuracy_sd": sd,
        "test_loss_mean": float(np.mean(losses)),
        "weight_angle_deg": _nanmean(stack["weight_angle"][:, -1]).tolist(),
        "update_angle_deg": _nanmean(stack["update_angle"][:, -1]).tolist(),
        "norm_ratio": _nanmean(stack["norm_ratio"][:, -1]).tolist(),
        "layer_sizes": list(layer_sizes(runs[0].net)),
        "seconds": float(sum(r.seconds for r in runs)),
        "cpu_seconds": float(sum(r.cpu_seconds for r in runs)),
    }
    arrays = {f"{rule_name}/{k}": v for k, v in stack.items()}
    arrays[f"{rule_name}/epoch"] = runs[0].history.epoch
    return row, arrays


@_timed
def compare_rules(
    task: str = "digits",
    *,
    rules: Sequence[str] = DEFAULT_COMPARE_RULES,
    seeds: Sequence[int] = (0, 1, 2),
    hidden: Sequence[int] = (100, 100),
    activation: str = "relu",
    epochs: int = 30,
    batch_size: int = 32,
    learning_rate: float = 0.02,
    gait_learning_rate: float | None = None,
    mnist_dir: str | Path | None = None,
    data: Dataset | None = None,
    progress: Progress = None,
) -> ExperimentResult:
    """Train every rule on the same network, seeds and budget; tabulate accuracy and alignment.

    GAIT-prop cannot use the shared network (it needs square invertible layers), so it trains a
    network as wide as the input with the same depth, leaky-ReLU units and the squared error on
    the first outputs; its row says so. Rules that cannot handle the task (FA_Ex-100% on a
    multi-class task) are listed with the reason instead of numbers.
    """
    for name in rules:
        get_rule(name)  # unknown names fail before any training
    data = load_task(task, mnist_dir=mnist_dir) if data is None else data
    rows, arrays, skipped = [], {}, []
    for name in rules:
        sizes, kwargs, loss = _network_for(name, data, hidden, activation)
        rate = gait_learning_rate if name == "gait" and gait_learning_rate else learning_rate
        config = TrainConfig(loss, epochs, batch_size, rate, free_outputs=name == "gait")
        runs = []
        for seed in seeds:
            net = init_network(sizes, rng=seed, **kwargs)
            try:
                runs.append(train(net, get_rule(name), data, config, seed=seed + 1000))
            except IncompatibleRuleError as why:
                skipped.append({"rule": name, "reason": str(why)})
                break
            finally:
                if progress is not None:
                    progress(1)
        if runs:
            row, rule_arrays = _summarise_runs(name, runs)
            row.update(loss=loss, learning_rate=rate)
            rows.append(row)
            arrays.update(rule_arrays)
    summary = {
        "experiment": "compare",
        "task": data.name,
        "n_train": len(data.y_train),
        "n_test": len(data.y_test),
        "hidden": list(hidden),
        "activation": activation,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "seeds": list(seeds),
        "rows": rows,
        "skipped": skipped,
    }
    return ExperimentResult(f"bridge_compare_{data.name}", summary, arrays)


@_timed
def reward_prediction(
    *,
    rules: Sequence[str] = ("bp", "fa", "fa_ex", "fa_ex_dale", "elm"),
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    n_hidden: int = 20,
    epochs: int = 20,
    n_train: int = 500,
    learning_rate: float = 0.01,
    noise: float = 0.1,
    progress: Progress = None,
) -> ExperimentResult:
    """The scalar reward-amount task: FA_Ex-100% against BP, FA and a fixed middle layer.

    One trial is one update (batch size 1) with η = 0.01, as in Konishi et al. 2023; an "epoch"
    is a block of `n_train` trials. A network input → `n_hidden` ReLU → 1 linear output.
    """
    for name in rules:
        get_rule(name)
    rows, arrays = [], {}
    for name in rules:
        runs = []
        for seed in seeds:
            data = reward_prediction_task(n_train=n_train, noise=noise, seed=seed)
            net = init_network([data.x_train.shape[1], n_hidden, 1], hidden="relu", rng=seed)
            config = TrainConfig("mse", epochs, 1, learning_rate, evaluate_every=1)
            runs.append(train(net, get_rule(name), data, config, seed=seed + 1000))
            if progress is not None:
                progress(1)
        row, rule_arrays = _summarise_runs(name, runs)
        mse = [2 * r.history.test_loss[-1] for r in runs]  # loss is half the squared error
        row["test_mse_mean"], row["test_mse_sd"] = _mean_sd(mse)
        rows.append(row)
        arrays.update(rule_arrays)
    by_rule = {row["rule"]: row for row in rows}
    summary = {
        "experiment": "reward-prediction",
        "n_hidden": n_hidden,
        "epochs": epochs,
        "trials_per_epoch": n_train,
        "learning_rate": learning_rate,
        "noise": noise,
        "seeds": list(seeds),
        "rows": rows,
    }
    if "bp" in by_rule and "fa_ex" in by_rule:
        summary["fa_ex_over_bp_mse"] = (
            by_rule["fa_ex"]["test_mse_mean"] / by_rule["bp"]["test_mse_mean"]
        )
    return ExperimentResult("bridge_reward_prediction", summary, arrays)


def song_xu_lafferty_run(
    width: int,
    penalty: float,
    *,
    n_samples: int = 20,
    n_inputs: int = 10,
    steps: int = 3000,
    learning_rate: float = 0.5,
    record_every: int = 10,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """One FA run of the Song, Xu & Lafferty 2021 two-layer model.

    :math:`f(x) = p^{-1/2} \\sum_r \\beta_r \\tanh(w_r^\\top x)`, loss
    :math:`\\tfrac{1}{2n}\\sum_i (f(x_i) - y_i)^2 + \\tfrac{\\lambda}{2}\\lVert\\beta\\rVert^2`.
    :math:`\\beta` follows its gradient; each :math:`w_r` follows FA with a fixed random
    :math:`b_r` in place of :math:`\\beta_r`. Full-batch gradient descent on `n_samples` unit-norm
    inputs with targets from a random teacher of the same form. Returns the step, the training
    error :math:`\\tfrac{1}{2n}\\sum e^2` and :math:`\\cos\\angle(b, \\beta)` at every record.
    """
    if width < 1 or penalty < 0 or steps < 1:
        raise ShapeError("width >= 1, penalty >= 0 and steps >= 1 are needed")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_samples, n_inputs))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    teacher = rng.standard_normal((5, n_inputs))
    y = np.tanh(x @ teacher.T) @ rng.standard_normal(5) / np.sqrt(5)
    w = rng.standard_normal((width, n_inputs))
    beta = rng.standard_normal(width)
    b = rng.standard_normal(width)
    scale = 1.0 / np.sqrt(width)
    records: dict[str, list] = {"step": [], "train_error": [], "cosine": []}
    for step in range(steps + 1):
        features = np.tanh(x @ w.T)
        error = scale * features @ beta - y
        if step % record_every == 0 or step == steps:
            records["step"].append(step)
            records["train_error"].append(0.5 * np.mean(error**2))
            records["cosine"].append(b @ beta / np.linalg.norm(b) / np.linalg.norm(beta))
        if step == steps:
            break
        grad_beta = scale * features.T @ error / n_samples + penalty * beta
        slope = 1.0 - features**2
        grad_w = scale * ((error[:, None] * slope) * b[None, :]).T @ x / n_samples  # FA: b, not β
        beta = beta - learning_rate * grad_beta
        w = w - learning_rate * grad_w
    return {k: np.asarray(v, dtype=float) for k, v in records.items()}


@_timed
def alignment_vs_regularization(
    *,
    widths: Sequence[int] = (50, 200, 800),
    penalties: Sequence[float] = (0.0, 1e-3, 1e-2, 1e-1),
    seeds: Sequence[int] = (0, 1, 2),
    steps: int = 3000,
    learning_rate: float = 0.5,
    n_samples: int = 20,
    progress: Progress = None,
) -> ExperimentResult:
    """Sweep the L2 penalty λ on the output weights and the width p (Song, Xu & Lafferty 2021).

    Expected: without the penalty the training error still falls exponentially but
    :math:`\\cos\\angle(b, \\beta)` stays near its random start (:math:`O(p^{-1/2})`); with
    :math:`\\lambda > 0` the alignment grows with λ, at the price of a training-error floor.
    """
    rows, arrays = [], {}
    for width in widths:
        for penalty in penalties:
            runs = []
            for seed in seeds:
                runs.append(
                    song_xu_lafferty_run(
                        width,
                        penalty,
                        steps=steps,
                        learning_rate=learning_rate,
                        n_samples=n_samples,
                        seed=seed,
                    )
                )
                if progress is not None:
                    progress(1)
            key = f"p{width}_lambda{penalty:g}"
            arrays[f"{key}/step"] = runs[0]["step"]
            arrays[f"{key}/train_error"] = np.stack([r["train_error"] for r in runs])
            arrays[f"{key}/cosine"] = np.stack([r["cosine"] for r in runs])
            cos_mean, cos_sd = _mean_sd([r["cosine"][-1] for r in runs])
            err_mean, err_sd = _mean_sd([r["train_error"][-1] for r in runs])
            rows.append(
                {
                    "width": int(width),
                    "penalty": float(penalty),
                    "cosine_mean": cos_mean,
                    "cosine_sd": cos_sd,
                    "initial_cosine_mean": float(np.mean([r["cosine"][0] for r in runs])),
                    "train_error_mean": err_mean,
                    "train_error_sd": err_sd,
                }
            )
    summary = {
        "experiment": "alignment-vs-regularization",
        "widths": list(widths),
        "penalties": list(penalties),
        "seeds": list(seeds),
        "steps": steps,
        "learning_rate": learning_rate,
        "n_samples": n_samples,
        "rows": rows,
    }
    return ExperimentResult("bridge_alignment_vs_regularization", summary, arrays)


def save_experiment(result: ExperimentResult, out: str | Path, figure: Any = None) -> list[Path]:
    """Write ``<name>.json``, ``<name>.npz`` (and ``<name>.png``) atomically into `out`."""
    from ..results import save_figure, save_json, save_npz

    out = Path(out)
    written = [
        save_json(out / f"{result.name}.json", result.summary),
        save_npz(out / f"{result.name}.npz", result.arrays),
    ]
    if figure is not None:
        written.append(save_figure(out / f"{result.name}.png", figure))
    return written
