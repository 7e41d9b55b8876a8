"""Running a protocol end to end: rule lookup, simulation, comparison with data, saved results.

This is what ``spikeplast protocol ...`` and the scripts in ``protocols/`` call. The result record
(a JSON-ready dict) holds the rule and its parameters with units, how the simulation was run,
one row per condition with the model's ``dw_percent`` next to the data, and the error measure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from brian2 import ms

from .data import compare, load_dataset
from .errors import UnknownNameError
from .params import format_quantity
from .protocols import get_protocol, protocol_conventions, run_protocol
from .results import save_figure, save_json, save_npz, to_jsonable, versions
from .rules import get_rule, resolve

__all__ = ["run_protocol_experiment", "format_table", "save_record"]


def run_protocol_experiment(
    protocol: str,
    settings: dict[str, Any] | None = None,
    rule: str | None = None,
    overrides: dict[str, Any] | None = None,
    backend: str | None = "auto",
    seed: int | None = None,
    dt_ms: float = 0.1,
    data: str | None = None,
    out: str | Path | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run a protocol and return its result record (and save it under `out` if given).

    Parameters
    ----------
    protocol
        ``"pairing"``, ``"sjostrom"``, ``"triplets"`` or ``"quadruplets"``.
    settings
        Keyword arguments of the protocol factory (``pairings``, ``freqs_hz``, ...).
    rule
        Registry name, rule kind or TOML file; ``None`` uses the protocol's default.
    overrides
        Rule parameters to change (values with units as strings or quantities).
    data
        Data set to compare with; ``None`` uses the protocol's shipped data set if present.
    """
    rule_name = rule or get_protocol(protocol).default_rule
    rule_object = get_rule(rule_name, **(overrides or {}))
    _, parameter_set = resolve(rule_name)
    # A rule may ask for its paper's protocol convention (Clopath: Sjöström bursts of 5);
    # settings given explicitly win.
    defaults = protocol_conventions(rule_object).get("settings", {}).get(protocol, {})
    spec = get_protocol(protocol, **{**defaults, **(settings or {})})
    dataset = None  # loaded before the simulation, so that a bad data set fails at once
    data_name = data or spec.data
    if data_name is not None:
        try:
            dataset = load_dataset(data_name)
        except UnknownNameError:
            if data is not None:  # asked for explicitly: report it
                raise
    result = run_protocol(
        rule_object,
        spec,
        backend=None if backend == "auto" else backend,
        dt=dt_ms * ms,
        seed=seed,
        rule_name=rule_name,
        progress=progress,
    )
    rows = result.rows
    comparison = compare(rows, dataset) if dataset is not None else None
    record: dict[str, Any] = {
        "protocol": spec.name,
        "description": spec.description,
        "settings": spec.settings,
        "conventions": f"dt_ms = t_post - t_pre; w0 = {result.w0:g}; dw_percent = "
        "100*(w_end - w0)/w0 after the last spike"
        + (
            f"; postsynaptic {result.post_neuron.kind} neuron forced to spike by one-step "
            "current pulses, presynaptic spikes drive plasticity only"
            if result.post_neuron is not None
            else ""
        ),
        "rule": rule_name,
        "rule_kind": rule_object.kind,
        "parameters": {k: format_quantity(v) for k, v in rule_object.values().items()},
        "overrides": {k: str(v) for k, v in (overrides or {}).items()},
        "source": parameter_set.source if parameter_set else "",
        "backend": result.backend,
        "dt_ms": dt_ms,
        "seed": seed,
        "columns": [*spec.columns, "dw_percent"],
        "rows": comparison.rows if comparison else rows,
        "data": None,
        "error": {"measure": "mean ((model - data)/SEM)^2", "value": None},
        "timings_s": result.timings,
        "versions": versions(),
    }
    if dataset is not None and comparison is not None:
        record["data"] = {
            "name": dataset.name,
            "source": dataset.source,
            "transcribed_from": dataset.transcribed_from,
            "matched_rows": comparison.matched,
        }
        record["error"]["value"] = comparison.error
        record["columns"] += ["data_dw_percent", "data_sem_percent"]
    record = to_jsonable(record)
    if out is not None:
        save_record(record, Path(out), final_weights=result.final_weights)
    return record


def save_record(record: dict[str, Any], out: Path, final_weights: np.ndarray | None = None) -> None:
    """Write ``<protocol>.json``, ``<protocol>.npz`` and ``<protocol>.png`` into `out`."""
    from .plotting import plot_protocol_result

    stem = record["protocol"]
    save_json(out / f"{stem}.json", record)
    arrays: dict[str, Any] = {}
    for column in record["columns"]:
        values = [row.get(column) for row in record["rows"]]
        if all(isinstance(v, str) for v in values):
            arrays[column] = np.array(values)
        else:
            arrays[column] = np.array([np.nan if v is None else v for v in values], dtype=float)
    if final_weights is not None:
        arrays["final_weight"] = final_weights
    save_npz(out / f"{stem}.npz", arrays)
    import matplotlib.pyplot as plt

    figure = plot_protocol_result(record)
    save_figure(out / f"{stem}.png", figure)
    plt.close(figure)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:+.1f}" if abs(value) < 1e4 else f"{value:.3g}"
    return str(value)


def format_table(record: dict[str, Any]) -> str:
    """Plain-text table of a result record: condition variables, model and data side by side."""
    headers = {
        "freq_hz": "freq (Hz)",
        "dt_ms": "Δt (ms)",
        "dt1_ms": "Δt1 (ms)",
        "dt2_ms": "Δt2 (ms)",
        "T_ms": "T (ms)",
        "pattern": "pattern",
        "dw_percent": "model Δw (%)",
        "data_dw_percent": "data Δw (%)",
        "data_sem_percent": "± SEM",
    }
    columns = record["columns"]
    table = [[headers.get(c, c) for c in columns]]
    for row in record["rows"]:
        cells = []
        for column in columns:
            value = row.get(column)
            if column in ("freq_hz", "dt_ms", "dt1_ms", "dt2_ms", "T_ms") and isinstance(
                value, float
            ):
                cells.append(f"{value:g}")
            elif column == "data_sem_percent" and isinstance(value, float):
                cells.append(f"{value:.1f}")
            else:
                cells.append(_cell(value))
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(columns))]
    lines = [
        f"{record['protocol']} protocol, rule {record['rule']} ({record['rule_kind']}), "
        f"backend {record['backend']}, dt = {record['dt_ms']:g} ms",
    ]
    if record.get("source"):
        lines.append(f"parameters: {record['source']}")
    lines.append(record["description"])
    lines.append("")
    for index, row in enumerate(table):
        lines.append("  ".join(cell.rjust(widths[i]) for i, cell in enumerate(row)))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    if record.get("data"):
        lines.append("")
        lines.append(f"data: {record['data']['source']}")
        error = record["error"]["value"]
        if error is not None:
            lines.append(f"error E = {error:.3f} ({record['error']['measure']})")
    timings = record.get("timings_s", {})
    if timings:
        lines.append("time: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
    return "\n".join(lines)


def run_network_experiment(
    network: str,
    overrides: dict[str, Any] | None = None,
    backend: str | None = "auto",
    seed: int | None = None,
    out: str | Path | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run a network file; return a record with summaries (and save data and a figure)."""
    from .netspec import load_network, run_network
    from .plotting import plot_network_result

    spec = load_network(network, overrides)
    result = run_network(
        spec, backend=None if backend == "auto" else backend, progress=progress, seed=seed
    )
    record = to_jsonable(
        {
            "network": spec.name,
            "source": spec.source,
            "model_hash": spec.model_hash(),
            "overrides": {k: str(v) for k, v in (overrides or {}).items()},
            "backend": result.backend,
            "seed": result.seed,
            "duration_s": result.duration_s,
            "summary": result.summary(),
            "timings_s": result.timings,
            "versions": versions(),
        }
    )
    if out is not None:
        out = Path(out)
        save_json(out / f"{spec.name}.json", record)
        arrays: dict[str, Any] = {f"weights_{k}": v for k, v in result.weights.items()}
        for name, (indices, times) in result.spikes.items():
            arrays[f"spikes_{name}_i"], arrays[f"spikes_{name}_t"] = indices, times
        for owner, values in result.states.items():
            arrays.update({f"state_{owner}_{k}": v for k, v in values.items()})
        save_npz(out / f"{spec.name}.npz", arrays)
        import matplotlib.pyplot as plt

        figure = plot_network_result(result.weights, result.spikes, result.states, spec.name)
        save_figure(out / f"{spec.name}.png", figure)
        plt.close(figure)
    return record
