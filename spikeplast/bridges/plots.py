"""Figures of the bridge experiments (Matplotlib, Agg backend). Plots only, no training."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .experiments import ExperimentResult  # noqa: E402

__all__ = [
    "plot_experiment",
    "plot_rule_curves",
    "plot_alignment_vs_regularization",
    "plot_spiking_angle",
    "plot_spiking_training",
]


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


def plot_spiking_angle(result: ExperimentResult) -> Any:
    """Angle between the trial-averaged spiking update and rate updates against trial length."""
    summary, arrays = result.summary, result.arrays
    durations = arrays["durations"]
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    labels = {
        "rate": "FA_Ex rate rule, gate θ(I)",
        "measured_gate": "rate rule, gate measured from spikes",
        "lif_gate": "rate rule, deterministic LIF gate",
        "bp": "backprop",
    }
    for key, label in labels.items():
        axes[0].plot(durations, arrays[f"angle_{key}"], marker="o", label=label)
    axes[0].set(xscale="log", xlabel="trial length T (s)", ylabel="angle to the spiking update (°)",
                title=f"mean over K = {summary['trials']} trials")  # fmt: skip
    shades = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(summary["trial_subsets"])))
    for column, (k, colour) in enumerate(zip(summary["trial_subsets"], shades, strict=True)):
        axes[1].plot(durations, arrays["angle_by_trials"][:, column], marker="o", color=colour,
                     label=f"K = {k}")  # fmt: skip
    axes[1].set(xscale="log", xlabel="trial length T (s)", ylabel="∠(E_K[ΔW_spk], ΔW_rate) (°)",
                title="against the FA_Ex rate update, by trials averaged")  # fmt: skip
    current = arrays["pre_activation"].ravel()
    gate = arrays["gate_open"][-1].mean(axis=1).ravel()
    order = np.argsort(current)
    axes[2].plot(current, gate, ".", alpha=0.5, label="measured (longest trials)")
    axes[2].step(current[order], (current[order] > 0).astype(float), where="post", color="k",
                 label="θ(I)")  # fmt: skip
    if "lif_gate" in arrays:
        axes[2].plot(current[order], arrays["lif_gate"].ravel()[order], color="C3",
                     label="deterministic LIF gate")  # fmt: skip
    axes[2].set(xlabel="pre-activation I = Wx + b", ylabel="fraction of the trial the gate is open",
                title="postsynaptic factor")  # fmt: skip
    for axis in axes:
        axis.legend(fontsize=8)
    figure.suptitle("the spiking three-factor rule against the rate rule on the same weights")
    figure.tight_layout()
    return figure


def plot_spiking_training(result: ExperimentResult) -> Any:
    """Loss curves of the rate and the spiking network trained side by side."""
    summary, arrays = result.summary, result.arrays
    trials = arrays["block"] * summary["trials_per_block"]
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    axes[0].plot(trials[1:], arrays["rate_train_mse"][1:], marker="o", label="rate (FA_Ex-100%)")
    axes[0].plot(trials[1:], arrays["spiking_train_mse"][1:], marker="s",
                 label="spiking (global-error rule)")  # fmt: skip
    axes[0].set(xlabel="trials", ylabel="training MSE (mean over the block)", yscale="log",
                title="training error, each on its own output")  # fmt: skip
    axes[1].plot(trials, arrays["rate_test_mse"], marker="o", label="rate network")
    axes[1].plot(trials, arrays["transfer_test_mse"], marker="s",
                 label="spiking network's weights in the rate network")  # fmt: skip
    final = summary["final"]
    axes[1].axhline(final["spiking_test_mse"], color="C2", ls="--",
                    label="spiking network (frozen), final")  # fmt: skip
    axes[1].set(xlabel="trials", ylabel="test MSE", yscale="log", title="test error")
    for axis in axes:
        axis.legend(fontsize=8)
    figure.suptitle(f"reward prediction: rate and spiking networks, same init and trials "
                    f"(T = {1e3 * summary['trial_length_s']:.0f} ms per trial)")  # fmt: skip
    figure.tight_layout()
    return figure


def plot_experiment(result: ExperimentResult) -> Any:
    """The figure that goes with an experiment result."""
    if result.summary["experiment"] == "alignment-vs-regularization":
        return plot_alignment_vs_regularization(result)
    if result.summary["experiment"] == "spiking-angle":
        return plot_spiking_angle(result)
    if result.summary["experiment"] == "spiking-train":
        return plot_spiking_training(result)
    return plot_rule_curves(result)
