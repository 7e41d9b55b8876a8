"""Fit results as a JSON-ready record, a text table, saved files and a figure.

``--out DIR`` writes ``fit.json`` (the record), ``fit.npz`` (arrays: data, SEM, fitted and
published model, best values, intervals, starts, profiles, bootstrap samples) and ``fit.png``
(model vs data with SEM bars per data set, and the profiles), each atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..params import format_quantity
from ..results import save_figure, save_json, save_npz, to_jsonable, versions
from .fit import FitResult

__all__ = ["fit_record", "format_fit", "save_fit", "plot_fit", "ERROR_MEASURE"]

#: The error measure, as stated in every output.
ERROR_MEASURE = (
    "E = mean over the N data rows of ((model - data)/SEM)^2 (SEM-normalised squared error, "
    "Pfister & Gerstner 2006; chi2 = N*E)"
)


def _ci_description(ci: dict[str, Any]) -> str:
    if ci["method"] == "profile":
        return (
            f"{ci['level']:.0%} profile-likelihood interval (chi2 rise {ci['delta_chi2']:.3g}, "
            "SEMs taken as the data's standard deviations)"
        )
    if ci["method"] == "bootstrap":
        return (
            f"{ci['level']:.0%} percentile interval of {ci['samples']} bootstrap refits "
            "(data resampled with their SEM)"
        )
    return "no confidence intervals computed"


def fit_record(result: FitResult) -> dict[str, Any]:
    """A JSON-ready record of `result` (values in display units and as text with units)."""
    parameters = []
    for estimate in result.estimates:
        p = estimate.parameter
        parameters.append(
            {
                "name": p.name,
                "unit": p.unit,
                "value": p.display(estimate.value),
                "ci_low": p.display(estimate.lower),
                "ci_high": p.display(estimate.upper),
                "published": p.display(estimate.published),
                "text": p.format(estimate.value),
                "bounds": [p.display(p.lower), p.display(p.upper)],
                "scale": p.scale,
                "start": p.display(p.start),
                "constrained": estimate.constrained,
                "notes": estimate.notes,
            }
        )
    rows = []
    offset = 0
    published_model = result.published["model"] if result.published else None
    for target in result.targets:
        for k, condition in enumerate(target.protocol.conditions):
            row = {
                "data_set": target.name,
                "condition": target.labels[k],
                **condition.variables,
                "data_dw_percent": float(target.data[k]),
                "data_sem_percent": float(target.sem[k]),
                "dw_percent": float(result.model[offset + k]),
            }
            if published_model is not None:
                row["published_dw_percent"] = float(published_model[offset + k])
            rows.append(row)
        offset += len(target.protocol.conditions)
    published = None
    if result.published:
        published = {key: result.published[key] for key in ("name", "source", "error", "chi2")}
    record = {
        "command": "fit",
        "rule": result.rule_name,
        "rule_kind": result.rule.kind,
        "fitted_rule": {k: format_quantity(v) for k, v in result.rule.values().items()},
        "fixed": result.fixed,
        "free": [e.name for e in result.estimates],
        "data": [
            {
                "name": t.name,
                "source": t.dataset.source,
                "protocol": t.protocol.name,
                "settings": t.protocol.settings,
                "rows": len(t.data),
            }
            for t in result.targets
        ],
        "error_measure": ERROR_MEASURE,
        "error": result.error,
        "chi2": result.chi2,
        "n_data": result.n_data,
        "published": published,
        "converged": result.converged,
        "problems": result.problems,
        "parameters": parameters,
        "ci": {**result.ci, "description": _ci_description(result.ci)},
        "identifiability": {
            "no_effect": [result.estimates[i].name for i in result.identifiability.no_effect],
            "degenerate": [
                [result.estimates[i].name for i in c] for c in result.identifiability.degenerate
            ],
            "condition_number": result.identifiability.condition_number,
        },
        "rows": rows,
        "starts": result.starts,
        "method": result.method,
        "evaluator": result.evaluator,
        "seed": result.seed,
        "evaluations": result.evaluations,
        "timings_s": result.timings,
        "versions": versions(),
    }
    return to_jsonable(record)


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    text = f"{value:.4g}"
    return f"{text} {unit}" if unit else text


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(header)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in body]
    return lines


def format_fit(record: dict[str, Any]) -> str:
    """Plain-text report of a fit record."""
    data_names = ", ".join(f"{d['name']} ({d['rows']} rows)" for d in record["data"])
    starts = record["starts"]
    lines = [
        f"fit of {record['rule']} ({record['rule_kind']}) to {data_names}",
        f"evaluator {record['evaluator']}; method {record['method']}; {len(starts)} starts "
        f"({record['ci']['starts_at_best']} reached the lowest error), seed {record['seed']}; "
        f"{record['evaluations']} evaluations in {record['timings_s']['total']:.1f} s",
        f"error measure: {record['error_measure']}",
        "",
    ]
    published = record["published"]
    header = ["parameter", "fitted", f"{record['ci']['level']:.0%} CI", "published", "notes"]
    body = []
    for p in record["parameters"]:
        interval = ""
        if record["ci"]["method"] != "none":
            ends = [
                "unconstrained" if value is None else _number(value, p["unit"])
                for value in (p["ci_low"], p["ci_high"])
            ]
            interval = f"[{ends[0]}, {ends[1]}]"
        body.append(
            [
                p["name"],
                _number(p["value"], p["unit"]),
                interval,
                _number(p["published"], p["unit"]) if published else "",
                "; ".join(p["notes"]),
            ]
        )
    lines += _table(header, body)
    lines.append(f"CI: {record['ci']['description']}")
    free = set(record["free"])
    fixed = [f"{k} = {v}" for k, v in record["fitted_rule"].items() if k not in free]
    lines.append("held fixed: " + ", ".join(fixed))
    lines.append("")
    lines.append(
        f"E (fit) = {record['error']:.4g}   (chi2 = {record['chi2']:.4g}, N = {record['n_data']})"
    )
    if published:
        lines.append(
            f"E (published {published['name']}) = {published['error']:.4g}   "
            f"(chi2 = {published['chi2']:.4g}; {published['source']})"
        )
    lines.append("")
    header = ["data set", "condition", "data ± SEM (%)", "fit (%)"]
    if published:
        header.append("published (%)")
    body = []
    for row in record["rows"]:
        cells = [
            row["data_set"],
            row["condition"],
            f"{row['data_dw_percent']:+.1f} ± {row['data_sem_percent']:.1f}",
            f"{row['dw_percent']:+.1f}",
        ]
        if published:
            cells.append(f"{row['published_dw_percent']:+.1f}")
        body.append(cells)
    lines += _table(header, body)
    if record["problems"]:
        lines.append("")
        lines.append("PROBLEMS:" if not record["converged"] else "warnings:")
        lines += [f"  - {p}" for p in record["problems"]]
    if not record["converged"]:
        lines.append("the fit did NOT converge; the values above are the best found, not a fit")
    return "\n".join(lines)


def _panel(axis: Any, rows: list[dict[str, Any]], protocol: str, title: str) -> None:
    if protocol in ("sjostrom", "pairing", "quadruplets"):
        x_key = {"sjostrom": "freq_hz", "pairing": "dt_ms", "quadruplets": "T_ms"}[protocol]
        groups: dict[Any, list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(row["dt_ms"] if protocol == "sjostrom" else None, []).append(row)
        palette = iter(["tab:red", "tab:blue", "tab:green", "tab:purple"])
        for key, members in sorted(groups.items(), key=lambda kv: -(kv[0] or 0)):
            members = sorted(members, key=lambda r: r[x_key])
            colour = next(palette, "black")
            suffix = f" Δt = {key:+g} ms" if key is not None else ""
            x = [r[x_key] for r in members]
            axis.errorbar(
                x,
                [r["data_dw_percent"] for r in members],
                yerr=[r["data_sem_percent"] for r in members],
                fmt="s",
                mfc="white",
                capsize=3,
                color=colour,
                label=f"data{suffix}",
            )
            axis.plot(
                x,
                [r["dw_percent"] for r in members],
                "-o",
                color=colour,
                ms=3,
                label=f"fit{suffix}",
            )
            if "published_dw_percent" in members[0]:
                axis.plot(
                    x,
                    [r["published_dw_percent"] for r in members],
                    "--",
                    color=colour,
                    lw=1,
                    label=f"published{suffix}",
                )
        axis.set_xlabel(
            {"freq_hz": "pairing frequency (Hz)", "dt_ms": "Δt (ms)", "T_ms": "T (ms)"}[x_key]
        )
    else:
        positions = np.arange(len(rows))
        axis.errorbar(
            positions,
            [r["data_dw_percent"] for r in rows],
            yerr=[r["data_sem_percent"] for r in rows],
            fmt="s",
            mfc="white",
            capsize=3,
            color="black",
            label="data",
        )
        axis.plot(positions, [r["dw_percent"] for r in rows], "o", color="tab:red", label="fit")
        if "published_dw_percent" in rows[0]:
            axis.plot(
                positions,
                [r["published_dw_percent"] for r in rows],
                "x",
                color="tab:blue",
                label="published",
            )
        axis.set_xticks(
            positions, [r["condition"] for r in rows], rotation=60, fontsize=6, ha="right"
        )
    axis.axhline(0, color="grey", lw=0.5)
    axis.set_ylabel("Δw (%)")
    axis.set_title(title, fontsize=9)
    axis.legend(frameon=False, fontsize=7)


def _error(rows: list[dict[str, Any]], column: str) -> float:
    """E of one data set's rows for a model column."""
    return float(
        np.mean([((r[column] - r["data_dw_percent"]) / r["data_sem_percent"]) ** 2 for r in rows])
    )


def plot_fit(record: dict[str, Any], result: FitResult | None = None) -> Any:
    """Figure: model vs data (SEM bars) per data set; profiles below when available."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data_sets = record["data"]
    profiles = result.profiles if result is not None else []
    n_profiles = len(record["parameters"]) if profiles else 0
    columns = max(len(data_sets), n_profiles, 1)
    rows = 2 if n_profiles else 1
    figure, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.8 * rows), squeeze=False)
    for column, data_set in enumerate(data_sets):
        members = [r for r in record["rows"] if r["data_set"] == data_set["name"]]
        title = f"{data_set['name']}: E(fit) = {_error(members, 'dw_percent'):.3g}"
        if record["published"]:
            published_error = _error(members, "published_dw_percent")
            title += f", E({record['published']['name']}) = {published_error:.3g}"
        _panel(axes[0, column], members, data_set["protocol"], title)
    for axis in axes[0, len(data_sets) :]:
        axis.set_visible(False)
    if n_profiles and result is not None:
        threshold = record["ci"].get("delta_chi2", 3.84)
        for i, estimate in enumerate(result.estimates):
            axis = axes[1, i]
            points = sorted(p for s in profiles if s.index == i for p in s.points)
            parameter = estimate.parameter
            if points:
                x = [parameter.display(float(parameter.to_si(c))) for c, _ in points]
                axis.plot(x, [d for _, d in points], "-", color="black", lw=1)
            axis.axhline(threshold, color="tab:red", lw=0.8, ls="--", label="CI threshold")
            axis.axvline(parameter.display(estimate.value), color="tab:green", lw=0.8, label="fit")
            if estimate.published is not None:
                axis.axvline(
                    parameter.display(estimate.published),
                    color="tab:blue",
                    lw=0.8,
                    ls=":",
                    label="published",
                )
            if i == 0:
                axis.legend(frameon=False, fontsize=7)
            if parameter.scale == "log":
                axis.set_xscale("log")
            unit = f" ({parameter.unit})" if parameter.unit else ""
            axis.set(xlabel=f"{parameter.name}{unit}", ylabel="Δχ² (profile)")
            axis.set_ylim(bottom=min(0.0, axis.get_ylim()[0]), top=max(3 * threshold, 1.0))
        for axis in axes[1, n_profiles:]:
            axis.set_visible(False)
    figure.suptitle(f"{record['rule']} fitted ({record['rule_kind']})", fontsize=10)
    figure.tight_layout()
    return figure


def save_fit(record: dict[str, Any], out: Path, result: FitResult | None = None) -> list[Path]:
    """Write ``fit.json``, ``fit.npz`` and ``fit.png`` into `out` (atomically)."""
    import matplotlib.pyplot as plt

    out = Path(out)
    written = [save_json(out / "fit.json", record)]
    arrays: dict[str, Any] = {
        "data_dw_percent": [r["data_dw_percent"] for r in record["rows"]],
        "data_sem_percent": [r["data_sem_percent"] for r in record["rows"]],
        "dw_percent": [r["dw_percent"] for r in record["rows"]],
        "parameter_names": np.array([p["name"] for p in record["parameters"]]),
        "values": [np.nan if p["value"] is None else p["value"] for p in record["parameters"]],
        "ci_low": [np.nan if p["ci_low"] is None else p["ci_low"] for p in record["parameters"]],
        "ci_high": [np.nan if p["ci_high"] is None else p["ci_high"] for p in record["parameters"]],
        "start_errors": [s["error"] for s in record["starts"]],
        "start_values_si": [s["start"] for s in record["starts"]],
        "end_values_si": [s["end"] for s in record["starts"]],
    }
    if record["published"]:
        arrays["published_dw_percent"] = [r["published_dw_percent"] for r in record["rows"]]
    if result is not None:
        for i, estimate in enumerate(result.estimates):
            points = sorted(p for s in result.profiles if s.index == i for p in s.points)
            if points:
                internal = np.array(points)
                arrays[f"profile_{estimate.name}"] = np.column_stack(
                    [estimate.parameter.to_si(internal[:, 0]), internal[:, 1]]
                )
        if result.bootstrap is not None:
            arrays["bootstrap_values_si"] = result.bootstrap
    written.append(save_npz(out / "fit.npz", arrays))
    figure = plot_fit(record, result)
    written.append(save_figure(out / "fit.png", figure))
    plt.close(figure)
    return written
