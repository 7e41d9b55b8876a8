"""Experimental plasticity data shipped in ``models/data`` (or given as a user file).

A data set is a TOML file with metadata (``source``, ``transcribed_from``, ``protocol``) and one
``[[rows]]`` table per condition holding the protocol's variables, ``dw_percent`` and, where known,
``sem_percent``. :func:`compare` lines model results up with the data and computes the error
measure used for fitting:

``E = (1/N) Σ_k ((dw_model,k - dw_data,k) / SEM_k)²``

i.e. the mean squared deviation in units of the standard error (Pfister & Gerstner 2006 use the
SEM-normalised squared error; the mean makes values comparable between data sets).
"""

from __future__ import annotations

import csv
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .errors import ConfigurationError, UnknownNameError, suggest
from .resources import models_dir

__all__ = ["Dataset", "load_dataset", "available_datasets", "compare", "Comparison"]

_KEYS = {
    "pairing": ("dt_ms",),
    "sjostrom": ("freq_hz", "dt_ms"),
    "triplets": ("pattern", "dt1_ms", "dt2_ms"),
    "quadruplets": ("T_ms",),
}


@dataclass(frozen=True)
class Dataset:
    """Experimental results of one protocol.

    Attributes
    ----------
    name, title, source
        Identification and the publication.
    transcribed_from
        Where the numbers come from and how confident they are.
    protocol
        The spikeplast protocol that reproduces the experiment.
    rows
        One mapping per condition (protocol variables, ``dw_percent``, ``sem_percent``).
    """

    name: str
    title: str
    source: str
    transcribed_from: str
    protocol: str
    protocol_notes: str
    rows: tuple[Mapping[str, Any], ...]
    path: Path | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        return _KEYS[self.protocol]

    @property
    def has_sem(self) -> bool:
        return all(_is_number(r.get("sem_percent")) and r["sem_percent"] > 0 for r in self.rows)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _validate(data: Mapping[str, Any], where: str) -> Dataset:
    protocol = data.get("protocol")
    if protocol not in _KEYS:
        raise ConfigurationError(
            f"{where}: 'protocol' must be one of {', '.join(_KEYS)}, got {protocol!r}"
        )
    rows = data.get("rows")
    if not isinstance(rows, list) or not rows:
        raise ConfigurationError(f"{where}: no [[rows]] with data")
    for index, row in enumerate(rows):
        missing = [k for k in (*_KEYS[protocol], "dw_percent") if k not in row]
        if missing:
            raise ConfigurationError(f"{where}: row {index + 1} lacks {', '.join(missing)}")
        if not _is_number(row["dw_percent"]):
            raise ConfigurationError(f"{where}: row {index + 1}: dw_percent must be a number")
        if "sem_percent" in row and not (
            _is_number(row["sem_percent"]) and row["sem_percent"] >= 0
        ):
            raise ConfigurationError(
                f"{where}: row {index + 1}: sem_percent must be a non-negative number"
            )
    return Dataset(
        name=str(data.get("name", "")),
        title=str(data.get("title", "")),
        source=str(data.get("source", "")),
        transcribed_from=str(data.get("transcribed_from", "")),
        protocol=protocol,
        protocol_notes=str(data.get("protocol_notes", "")),
        rows=tuple(dict(r) for r in rows),
    )


def _read_csv(path: Path) -> dict[str, Any]:
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        rows = []
        for row in reader:
            parsed: dict[str, Any] = {}
            for key, value in row.items():
                try:
                    parsed[key] = float(value)
                except (TypeError, ValueError):
                    parsed[key] = value
            rows.append(parsed)
    columns = set(rows[0]) if rows else set()
    protocol = next((p for p, keys in _KEYS.items() if set(keys) <= columns), None)
    return {"name": path.stem, "protocol": protocol, "rows": rows, "source": str(path)}


@cache
def available_datasets() -> dict[str, Path]:
    """Shipped data sets by name."""
    return {p.stem: p for p in sorted((models_dir() / "data").glob("*.toml"))}


def load_dataset(name: str | Path) -> Dataset:
    """Load a shipped data set by name, or a user's TOML/CSV file (CSV: a header row naming the
    protocol variables, ``dw_percent`` and optionally ``sem_percent``)."""
    path = Path(name)
    if not path.is_file():
        shipped = available_datasets()
        if str(name) not in shipped:
            raise UnknownNameError(
                f"unknown data set {str(name)!r}.{suggest(str(name), shipped)} Shipped: "
                f"{', '.join(shipped) or 'none'}; or give the path of a .toml or .csv file"
            )
        path = shipped[str(name)]
    try:
        if path.suffix == ".csv":
            data = _read_csv(path)
        else:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"data file {str(path)!r} is not valid TOML: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"cannot read data file {str(path)!r}: {error}") from None
    dataset = _validate(data, str(path))
    return Dataset(**{**dataset.__dict__, "path": path, "name": dataset.name or path.stem})


@dataclass(frozen=True)
class Comparison:
    """Model rows matched with data rows, and the SEM-normalised error (``None`` without SEM)."""

    rows: list[dict[str, Any]]
    error: float | None
    matched: int


def _row_key(row: Mapping[str, Any], keys: Sequence[str]) -> tuple:
    return tuple(round(row[k], 9) if _is_number(row[k]) else row[k] for k in keys)


def compare(model_rows: Sequence[Mapping[str, Any]], dataset: Dataset) -> Comparison:
    """Add ``data_dw_percent``/``data_sem_percent`` to matching model rows; compute the error."""
    by_key = {_row_key(r, dataset.keys): r for r in dataset.rows}
    merged, squared, matched = [], [], 0
    for row in model_rows:
        out = dict(row)
        data = (
            by_key.get(_row_key(row, dataset.keys)) if all(k in row for k in dataset.keys) else None
        )
        if data is not None:
            matched += 1
            out["data_dw_percent"] = float(data["dw_percent"])
            sem = data.get("sem_percent")
            out["data_sem_percent"] = float(sem) if _is_number(sem) else None
            if _is_number(sem) and sem > 0:
                squared.append(((row["dw_percent"] - data["dw_percent"]) / sem) ** 2)
        merged.append(out)
    error = sum(squared) / len(squared) if squared and len(squared) == matched else None
    return Comparison(merged, error, matched)
