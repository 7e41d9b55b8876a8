"""Figures of protocol results: model against data with SEM bars. Plots only, no simulation.

Each function takes the result record written by ``spikeplast protocol`` (the JSON payload:
``protocol``, ``rule``, ``rows`` with ``dw_percent`` and, where data exist, ``data_dw_percent``
and ``data_sem_percent``) and returns a Matplotlib figure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["plot_protocol_result", "plot_network_result", "PLOTTERS"]

_MODEL = {"color": "black", "marker": "o", "lw": 1.5}
_DATA = {"fmt": "s", "capsize": 3, "ms": 5, "lw": 1.0}


def _title(record: Mapping[str, Any]) -> str:
    title = f"{record['protocol']} — {record['rule']}"
    error = record.get("error", {}).get("value")
    if error is not None:
        title += f"\nE = {error:.2f} (mean squared error in SEM units)"
    return title


def _data_points(rows: list[Mapping[str, Any]], x_key: str) -> tuple[np.ndarray, ...]:
    with_data = [r for r in rows if r.get("data_dw_percent") is not None]
    x = np.array([r[x_key] for r in with_data], dtype=float)
    y = np.array([r["data_dw_percent"] for r in with_data], dtype=float)
    sem = np.array([r.get("data_sem_percent") or 0.0 for r in with_data], dtype=float)
    return x, y, sem


def _plot_sjostrom(record: Mapping[str, Any]) -> Any:
    rows = record["rows"]
    figure, axes = plt.subplots(figsize=(5.5, 4))
    colours = {10.0: "tab:red", -10.0: "tab:blue"}
    for dt in sorted({r["dt_ms"] for r in rows}, reverse=True):
        series = sorted((r for r in rows if r["dt_ms"] == dt), key=lambda r: r["freq_hz"])
        colour = colours.get(dt, None)
        freqs = [r["freq_hz"] for r in series]
        axes.plot(
            freqs,
            [r["dw_percent"] for r in series],
            label=f"model Δt = {dt:+g} ms",
            **{**_MODEL, "color": colour or "black"},
        )
        x, y, sem = _data_points(series, "freq_hz")
        if x.size:
            axes.errorbar(
                x, y, yerr=sem, label=f"data Δt = {dt:+g} ms", color=colour, mfc="white", **_DATA
            )
    axes.axhline(0, color="grey", lw=0.5)
    axes.set(xlabel="pairing frequency (Hz)", ylabel="Δw (%)", title=_title(record))
    axes.legend(frameon=False, fontsize=8)
    return figure


def _plot_pairing(record: Mapping[str, Any]) -> Any:
    rows = sorted(record["rows"], key=lambda r: r["dt_ms"])
    figure, axes = plt.subplots(figsize=(5.5, 4))
    axes.plot(
        [r["dt_ms"] for r in rows],
        [r["dw_percent"] for r in rows],
        label="model",
        **{**_MODEL, "ms": 3},
    )
    x, y, sem = _data_points(rows, "dt_ms")
    if x.size:
        axes.errorbar(x, y, yerr=sem, label="data", color="tab:green", mfc="white", **_DATA)
    axes.axhline(0, color="grey", lw=0.5)
    axes.axvline(0, color="grey", lw=0.5)
    axes.set(xlabel="Δt = t_post − t_pre (ms)", ylabel="Δw (%)", title=_title(record))
    axes.legend(frameon=False, fontsize=8)
    return figure


def _plot_triplets(record: Mapping[str, Any]) -> Any:
    rows = record["rows"]
    figure, axes = plt.subplots(figsize=(7, 4))
    labels = [f"{r['pattern']}\n({r['dt1_ms']:g}, {r['dt2_ms']:g})" for r in rows]
    positions = np.arange(len(rows))
    axes.bar(
        positions - 0.2, [r["dw_percent"] for r in rows], width=0.4, color="0.3", label="model"
    )
    if any(r.get("data_dw_percent") is not None for r in rows):
        data = [r.get("data_dw_percent") or 0.0 for r in rows]
        sem = [r.get("data_sem_percent") or 0.0 for r in rows]
        axes.bar(
            positions + 0.2,
            data,
            yerr=sem,
            width=0.4,
            color="white",
            edgecolor="black",
            capsize=3,
            label="data",
        )
    axes.axhline(0, color="grey", lw=0.5)
    axes.set_xticks(positions, labels, fontsize=7)
    axes.set(ylabel="Δw (%)", title=_title(record))
    axes.legend(frameon=False, fontsize=8)
    return figure


def _plot_quadruplets(record: Mapping[str, Any]) -> Any:
    rows = sorted(record["rows"], key=lambda r: r["T_ms"])
    figure, axes = plt.subplots(figsize=(5.5, 4))
    axes.plot(
        [r["T_ms"] for r in rows],
        [r["dw_percent"] for r in rows],
        label="model",
        **{**_MODEL, "ms": 3},
    )
    x, y, sem = _data_points(rows, "T_ms")
    if x.size:
        axes.errorbar(x, y, yerr=sem, label="data", color="tab:green", mfc="white", **_DATA)
    axes.axhline(0, color="grey", lw=0.5)
    axes.set(xlabel="T (ms): > 0 post-pre then pre-post", ylabel="Δw (%)", title=_title(record))
    axes.legend(frameon=False, fontsize=8)
    return figure


#: Figure function by protocol name.
PLOTTERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "sjostrom": _plot_sjostrom,
    "pairing": _plot_pairing,
    "triplets": _plot_triplets,
    "quadruplets": _plot_quadruplets,
}


def plot_protocol_result(record: Mapping[str, Any]) -> Any:
    """Figure of a protocol result record (see module doc)."""
    figure = PLOTTERS[record["protocol"]](record)
    figure.tight_layout()
    return figure


def plot_network_result(
    weights: Mapping[str, np.ndarray],
    spikes: Mapping[str, tuple[np.ndarray, np.ndarray]],
    states: Mapping[str, Mapping[str, np.ndarray]],
    title: str = "",
) -> Any:
    """Standard figure of a network run: weight histograms, spike rasters, recorded traces."""
    panels = [("weights", k) for k in weights] + [("spikes", k) for k in spikes]
    panels += [("state", (owner, v)) for owner, rec in states.items() for v in rec if v != "t"]
    if not panels:
        panels = [("empty", "")]
    columns = min(3, len(panels))
    rows = int(np.ceil(len(panels) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    for axis, (kind, key) in zip(axes.ravel(), panels, strict=False):
        if kind == "weights":
            axis.hist(weights[key], bins=40, color="0.3")
            axis.set(xlabel="w", ylabel="synapses", title=f"{key}: final weights")
        elif kind == "spikes":
            indices, times = spikes[key]
            axis.plot(times, indices, "|", color="black", ms=3)
            axis.set(xlabel="time (s)", ylabel="neuron", title=f"{key}: spikes")
        elif kind == "state":
            owner, variable = key
            record = states[owner]
            axis.plot(record["t"], record[variable], lw=1)
            axis.set(xlabel="time (s)", ylabel=variable, title=f"{owner}.{variable}")
    for axis in axes.ravel()[len(panels) :]:
        axis.set_visible(False)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure
