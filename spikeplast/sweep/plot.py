"""The figure of a sweep: the plotted summary against each swept parameter.

One panel per swept parameter: the mean over seeds with the standard deviation over seeds as error
bars, one line per combination of the other parameters when there are few (otherwise the points
alone). A grid over two parameters adds a heat map of the mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .config import SweepConfig
from .points import magnitudes

__all__ = ["plot_sweep", "plotted_summary"]

#: At most this many lines per panel; more combinations of the other parameters are not joined.
MAX_LINES = 6


def plotted_summary(config: SweepConfig, rows: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The summary to draw: ``[record] plot`` if reported, else the first one reported."""
    names = list(
        dict.fromkeys(
            name
            for row in rows.values()
            if row.get("status") == "done"
            for name in row.get("summary", {})
        )
    )
    if config.target.record.plot in names:
        return config.target.record.plot
    return names[0] if names else None


def _statistics(
    config: SweepConfig, rows: Mapping[str, Mapping[str, Any]], quantity: str
) -> tuple[list[tuple], dict[tuple, list[float]]]:
    """Values of each parameter set (in sweep order) and the quantity of each of its seeds."""
    order: list[tuple] = []
    samples: dict[tuple, list[float]] = {}
    for point in config.points:
        key = tuple(_hashable(point.values.get(path)) for path in config.swept)
        if key not in samples:
            order.append(key)
            samples[key] = []
        row = rows.get(point.point_id)
        if row and row.get("status") == "done" and quantity in row.get("summary", {}):
            value = row["summary"][quantity]
            samples[key].append(float("nan") if value is None else float(value))
    return order, samples


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, list | dict) else value


def _axis_values(
    keys: list[tuple], column: int, path: str
) -> tuple[np.ndarray, list[str] | None, str]:
    """Positions on the x axis, the category names if the values are not numbers, the unit."""
    raw = [key[column] for key in keys]
    numbers, unit = magnitudes(raw, path)
    if all(n is not None for n in numbers):
        return np.array(numbers, dtype=float), None, unit
    categories = list(dict.fromkeys(map(str, raw)))
    return np.array([categories.index(str(v)) for v in raw], dtype=float), categories, ""


def plot_sweep(config: SweepConfig, rows: Mapping[str, Mapping[str, Any]]) -> Any:
    """Figure of the sweep's plotted summary, or ``None`` if no point is done."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quantity = plotted_summary(config, rows)
    if quantity is None:
        return None
    keys, samples = _statistics(config, rows, quantity)
    means = np.array([np.nanmean(samples[k]) if samples[k] else np.nan for k in keys])
    spreads = np.array([np.nanstd(samples[k]) if len(samples[k]) > 1 else 0.0 for k in keys])
    paths = list(config.swept)
    heat_map = config.method == "grid" and len(paths) == 2
    panels = max(1, len(paths)) + (1 if heat_map else 0)
    figure, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 3.8), squeeze=False)
    axes = axes[0]
    if not paths:  # seeds only
        seeds = [p.seed for p in config.points]
        values = [rows.get(p.point_id, {}).get("summary", {}).get(quantity) for p in config.points]
        axes[0].plot(range(len(seeds)), [np.nan if v is None else v for v in values], "o")
        axes[0].set_xticks(range(len(seeds)), [str(s) for s in seeds])
        axes[0].set(xlabel="seed", ylabel=quantity)
    for column, path in enumerate(paths):
        axis = axes[column]
        x, categories, unit = _axis_values(keys, column, path)
        others = [tuple(k[c] for c in range(len(paths)) if c != column) for k in keys]
        groups = list(dict.fromkeys(others))
        if len(groups) <= MAX_LINES:
            for group in groups:
                members = [i for i, o in enumerate(others) if o == group]
                members.sort(key=lambda i: x[i])
                label = ", ".join(
                    f"{paths[c].rsplit('.', 1)[-1]}={v}"
                    for c, v in zip(
                        [c for c in range(len(paths)) if c != column], group, strict=True
                    )
                )
                axis.errorbar(
                    x[members],
                    means[members],
                    yerr=spreads[members],
                    marker="o",
                    capsize=3,
                    label=label or None,
                )
            if len(groups) > 1:
                axis.legend(frameon=False, fontsize=7)
        else:
            axis.errorbar(x, means, yerr=spreads, fmt="o", capsize=2, ms=3)
        if categories:
            axis.set_xticks(range(len(categories)), categories, rotation=30, fontsize=7)
        axis.set(xlabel=f"{path} ({unit})" if unit else path, ylabel=quantity)
        if path in config.log_scale:
            axis.set_xscale("log")
    if heat_map and config.grid_shape is not None:
        axis = axes[-1]
        shape = config.grid_shape
        image = axis.imshow(means.reshape(shape), origin="lower", aspect="auto", cmap="viridis")
        labels = [[str(v) for v in dict.fromkeys(k[c] for k in keys)] for c in range(2)]
        axis.set_yticks(range(shape[0]), labels[0], fontsize=7)
        axis.set_xticks(range(shape[1]), labels[1], fontsize=7, rotation=30)
        axis.set(ylabel=paths[0], xlabel=paths[1], title=f"{quantity} (mean over seeds)")
        figure.colorbar(image, ax=axis)
    seeds = len(config.seeds)
    figure.suptitle(
        f"{config.name}: {quantity}" + (f" (mean ± s.d. over {seeds} seeds)" if seeds > 1 else ""),
        fontsize=10,
    )
    figure.tight_layout()
    return figure
