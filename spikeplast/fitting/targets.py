"""Fit targets: a data set, the protocol conditions that reproduce its rows, and the data vector.

Each data row becomes one protocol condition built with the protocol's public factory
(:func:`spikeplast.protocols.sjostrom` and friends), so a fit simulates exactly what
``spikeplast protocol`` simulates. Protocol settings (``pairings``, ``repetitions``,
``freq_hz``, ``pair_dt_ms``) default to the factories' defaults and can be changed per fit.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Dataset, load_dataset
from ..errors import ConfigurationError, ProtocolError
from ..protocols import PROTOCOLS, Condition, Protocol

__all__ = ["Target", "load_targets", "condition_label", "all_conditions"]


@dataclass(frozen=True)
class Target:
    """One data set to fit.

    Attributes
    ----------
    dataset
        The data set (rows in file order).
    protocol
        One condition per data row, in the same order.
    data
        ``dw_percent`` of each row.
    sem
        ``sem_percent`` of each row (NaN where the file gives none).
    """

    dataset: Dataset
    protocol: Protocol
    data: np.ndarray
    sem: np.ndarray

    @property
    def name(self) -> str:
        return self.dataset.name

    @property
    def labels(self) -> list[str]:
        return [condition_label(c.variables) for c in self.protocol.conditions]


def condition_label(variables: Mapping[str, Any]) -> str:
    """Short text naming a condition (``"20 Hz, +10 ms"``)."""
    parts = []
    for key, value in variables.items():
        if key == "freq_hz":
            parts.append(f"{value:g} Hz")
        elif key == "pattern":
            parts.append(str(value))
        elif key.endswith("_ms"):
            name = {"dt_ms": "Δt", "dt1_ms": "Δt1", "dt2_ms": "Δt2", "T_ms": "T"}.get(key, key)
            parts.append(f"{name} {value:+g} ms")
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def _row_protocol(protocol: str, row: Mapping[str, Any], settings: Mapping[str, Any]) -> Protocol:
    factory = PROTOCOLS[protocol]
    if protocol == "sjostrom":
        return factory(freqs_hz=[float(row["freq_hz"])], dts_ms=[float(row["dt_ms"])], **settings)
    if protocol == "pairing":
        return factory(dts_ms=[float(row["dt_ms"])], **settings)
    if protocol == "triplets":
        condition = (str(row["pattern"]), float(row["dt1_ms"]), float(row["dt2_ms"]))
        return factory(conditions=[condition], **settings)
    if protocol == "quadruplets":
        return factory(T_ms=[float(row["T_ms"])], **settings)
    raise ConfigurationError(f"no fitting support for protocol {protocol!r}")


_ROW_ARGUMENTS = {"freqs_hz", "dts_ms", "conditions", "T_ms"}


def _settings_for(protocol: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    accepted = set(inspect.signature(PROTOCOLS[protocol]).parameters) - _ROW_ARGUMENTS
    return {k: v for k, v in settings.items() if k in accepted}


def _target(dataset: Dataset, settings: Mapping[str, Any]) -> Target:
    own = _settings_for(dataset.protocol, settings)
    conditions: list[Condition] = []
    described = None
    for index, row in enumerate(dataset.rows):
        try:
            single = _row_protocol(dataset.protocol, row, own)
        except ProtocolError as error:
            raise ProtocolError(
                f"data set {dataset.name!r}, row {index + 1}: the {dataset.protocol} protocol "
                f"cannot realise it: {error}"
            ) from None
        except (TypeError, ValueError) as error:
            raise ConfigurationError(
                f"data set {dataset.name!r}, row {index + 1}: {error}"
            ) from None
        conditions.extend(single.conditions)
        described = single
    assert described is not None  # a Dataset has at least one row
    protocol = Protocol(
        name=described.name,
        conditions=tuple(conditions),
        columns=described.columns,
        description=described.description,
        default_rule=described.default_rule,
        data=dataset.name,
        settings=described.settings,
    )
    data = np.array([float(r["dw_percent"]) for r in dataset.rows])
    sem = np.array(
        [
            float(r["sem_percent"]) if r.get("sem_percent") is not None else np.nan
            for r in dataset.rows
        ]
    )
    return Target(dataset, protocol, data, sem)


def load_targets(
    data: Sequence[str | Path | Dataset],
    settings: Mapping[str, Any] | None = None,
    require_sem: bool = True,
) -> list[Target]:
    """Load data sets (shipped names, TOML/CSV paths or :class:`Dataset` objects) as targets.

    Parameters
    ----------
    data
        One or more data sets.
    settings
        Protocol settings (``pairings``, ``repetitions``, ``freq_hz``, ``pair_dt_ms``); each is
        passed to every protocol that takes it, and one that no protocol takes is an error.
    require_sem
        Refuse rows without a positive SEM (the error measure divides by it).
    """
    if not data:
        raise ConfigurationError("no data to fit: give at least one --data set")
    settings = dict(settings or {})
    datasets = [d if isinstance(d, Dataset) else load_dataset(d) for d in data]
    names = [d.name for d in datasets]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigurationError(f"data set {', '.join(repeated)} given more than once")
    unused = [
        key
        for key in settings
        if not any(key in _settings_for(d.protocol, {key: 0}) for d in datasets)
    ]
    if unused:
        raise ConfigurationError(
            f"protocol setting {', '.join(unused)} is not used by the protocols of these data "
            f"sets ({', '.join(sorted({d.protocol for d in datasets}))})"
        )
    targets = [_target(d, settings) for d in datasets]
    if require_sem:
        for target in targets:
            missing = [i + 1 for i, s in enumerate(target.sem) if not (np.isfinite(s) and s > 0)]
            if missing:
                rows = ", ".join(str(i) for i in missing)
                raise ConfigurationError(
                    f"data set {target.name!r} has no positive SEM in row(s) {rows}; the error "
                    "measure mean(((model - data)/SEM)^2) needs one for every row (add "
                    "sem_percent to the file)"
                )
    return targets


def all_conditions(targets: Sequence[Target]) -> tuple[Condition, ...]:
    """The conditions of every target, concatenated in order."""
    return tuple(c for t in targets for c in t.protocol.conditions)
