"""Figures of the bridge experiments (Matplotlib, Agg backend). Plots only, no training."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .experiments import ExperimentResult  # noqa: E402

__all__ = ["plot_experiment", "plot_rule_curves", "plot_alignment_vs_regularization"]


def _mean(stack: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        count = np.sum(np.isfinite(stack), axis=0)
        return np.where(count > 0, np.nansum(stack, axis=0) / np.maximum(count, 1), np.nan)


def plot_rule_curves(result: ExperimentResult) -> Any:
    """Accuracy, loss, alignments and norm ratio against epochs, one line per rule (seed mean)."""
    rows = result.summary["rows"]
    x_label = "block of trials" if result.summary["experiment"] == "reward-prediction" else "epoch"
    figure, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    colours = plt.get_cmap("tab20")(np.linspace(0, 1, max(len(rows), 2)))
    panels = [
        ("test_accuracy", "test accuracy", None),
        ("train_loss", "training loss", "log"),
        ("update_angle", "∠(ΔW₁, ΔW₁ᴮᴾ), first layer (°)", None),
        ("weight_angle", "∠(Wᵀ, B), top feedback (°)", None),
        ("norm_ratio", "‖B‖/‖W‖, top feedback", "log"),
    ]
    for row, colour in zip(rows, colours, strict=False):
        rule = row["rule"]
        epoch = result.arrays[f"{rule}/epoch"]
        for axis, (key, label, scale) in zip(axes.flat, panels, strict=False):
            stack = result.arrays[f"{rule}/{key}"]
            if stack.ndim == 3:  # per-layer: first layer for updates, top layer for feedback
                stack = stack[:, :, 0] if key == "update_angle" else stack[:, :, -1]
            if stack.shape[-1] == 0 or not np.isfinite(stack).any():
                continue
            axis.plot(epoch, _mean(stack), color=colour, label=rule, lw=1.5)
            axis.set_ylabel(label)
            axis.set_xlabel(x_label)
            if scale:
                axis.set_yscale(scale)
    bars = axes.flat[5]
    names = [row["rule"] for row in rows]
    bars.bar(
        names,
        [row["test_accuracy_mean"] for row in rows],
        yerr=[row["test_accuracy_sd"] for row in rows],
        color=colours[: len(rows)],
        capsize=3,
    )
    bars.set_ylabel("final test accuracy (mean ± sd)")
    bars.tick_params(axis="x", rotation=60)
    low = min(row["test_accuracy_mean"] for row in rows)
    bars.set_ylim(max(0.0, low - 0.1), 1.0)
    axes.flat[0].legend(fontsize=7, ncol=2)
    if any(row.get("loss") != rows[0].get("loss") for row in rows):
        axes.flat[1].set_ylabel("training loss (gait: squared error, others: cross-entropy)")
    task = result.summary.get("task")
    figure.suptitle(result.summary["experiment"] + (f" — {task}" if task else ""))
    figure.tight_layout()
    return figure


def plot_alignment_vs_regularization(result: ExperimentResult) -> Any:
    """Training error vs time per λ, and cos∠(b, β) against λ and time, per width."""
    summary = result.summary
    widths, penalties = summary["widths"], summary["penalties"]
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    shades = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(penalties)))
    widest = max(widths)
    for penalty, colour in zip(penalties, shades, strict=True):
        key = f"p{widest}_lambda{penalty:g}"
        step = result.arrays[f"{key}/step"]
        axes[0].semilogy(step, result.arrays[f"{key}/train_error"].mean(0), color=colour,
                         label=f"λ = {penalty:g}")  # fmt: skip
        axes[2].plot(
            step, result.arrays[f"{key}/cosine"].mean(0), color=colour, label=f"λ = {penalty:g}"
        )
    axes[0].set(xlabel="step", ylabel="training error", title=f"FA training error, p = {widest}")
    axes[2].set(xlabel="step", ylabel="cos∠(b, β)", title=f"alignment over time, p = {widest}")
    positive = [p for p in penalties if p > 0]
    floor = min(positive) / 10 if positive else 1e-4
    for width in widths:
        rows = [r for r in summary["rows"] if r["width"] == width]
        x = [r["penalty"] if r["penalty"] > 0 else floor for r in rows]
        axes[1].errorbar(x, [r["cosine_mean"] for r in rows], yerr=[r["cosine_sd"] for r in rows],
                         marker="o", capsize=3, label=f"p = {width}")  # fmt: skip
    axes[1].set_xscale("log")
    axes[1].set(xlabel=f"λ (λ = 0 drawn at {floor:g})", ylabel="final cos∠(b, β)",
                title="alignment needs regularisation")  # fmt: skip
    for axis in axes:
        axis.legend(fontsize=8)
    figure.suptitle("Song, Xu & Lafferty 2021: two-layer FA, L2 penalty on the output weights")
    figure.tight_layout()
    return figure


def plot_experiment(result: ExperimentResult) -> Any:
    """The figure that goes with an experiment result."""
    if result.summary["experiment"] == "alignment-vs-regularization":
        return plot_alignment_vs_regularization(result)
    return plot_rule_curves(result)
