"""The points of a sweep: grids, explicit lists, random and Latin-hypercube samples, stable IDs.

A point is a set of swept values (dotted paths of the target, e.g.
``"populations.inputs.rate" = "15 Hz"``) and a seed. Its ID hashes the values, the seed and the
model hash, so the same point of the same model has the same ID in every run of a sweep: that is
what resuming relies on.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigurationError

__all__ = [
    "Point",
    "Range",
    "point_id",
    "grid_values",
    "sample_values",
    "make_points",
    "split_unit",
]

_NUMBER_AND_UNIT = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Point:
    """One simulation of a sweep.

    Attributes
    ----------
    index
        Position in the sweep (parameter sets in order, seeds innermost).
    values
        Swept values by dotted path, as written in the config (numbers or strings with units).
    seed
        Random seed (``None``: the target's own).
    point_id
        Stable identifier (see :func:`point_id`).
    """

    index: int
    values: Mapping[str, Any]
    seed: int | None
    point_id: str

    def label(self) -> str:
        """Short human-readable description: ``rate=15 Hz, A_plus=0.01, seed 2``."""
        parts = [f"{path.rsplit('.', 1)[-1]}={value}" for path, value in self.values.items()]
        if self.seed is not None:
            parts.append(f"seed {self.seed}")
        return ", ".join(parts) or "default"


def point_id(model_hash: str, values: Mapping[str, Any], seed: int | None) -> str:
    """Hash of the model hash, the swept values and the seed (16 hexadecimal digits)."""
    text = json.dumps([model_hash, dict(values), seed], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def split_unit(value: Any) -> tuple[float, str] | None:
    """``"15 Hz"`` -> ``(15.0, "Hz")``, ``0.01`` -> ``(0.01, "")``; ``None`` if not numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value), ""
    if isinstance(value, str):
        match = _NUMBER_AND_UNIT.match(value)
        if match:
            return float(match.group(1)), match.group(2)
    return None


def _in_unit(value: Any, unit: str, where: str) -> float:
    """Magnitude of `value` in `unit` (``"0.02 s"`` in ``"ms"`` -> 20.0)."""
    from ..params import parse_quantity

    split = split_unit(value)
    if split is None:
        raise ConfigurationError(
            f"{where}: expected a number or a number with a unit, got {value!r}"
        )
    number, own_unit = split
    if own_unit == unit:
        return number
    from brian2.units.fundamentalunits import have_same_dimensions

    quantity = parse_quantity(f"{number} {own_unit}".strip(), where)
    reference = parse_quantity(f"1 {unit}".strip(), where)
    if not have_same_dimensions(quantity, reference):
        raise ConfigurationError(
            f"{where}: {value!r} is not in the unit of the other values ({unit or 'no unit'})"
        )
    return float(quantity / reference)


def grid_values(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the listed values (the first path varies slowest)."""
    paths = list(grid)
    return [
        dict(zip(paths, combination, strict=True))
        for combination in itertools.product(*(grid[p] for p in paths))
    ]


@dataclass(frozen=True)
class Range:
    """Where a sampled value lies: ``low`` to ``high`` (numbers or strings with one unit)."""

    low: Any
    high: Any
    scale: str = "linear"  # "linear" or "log"
    integer: bool = False

    def unit(self) -> str:
        split = split_unit(self.low)
        return split[1] if split else ""

    def bounds(self, where: str) -> tuple[float, float]:
        unit = self.unit()
        low, high = _in_unit(self.low, unit, where), _in_unit(self.high, unit, where)
        if not low < high:
            raise ConfigurationError(
                f"{where}: low must be below high, got {self.low!r}..{self.high!r}"
            )
        if self.scale == "log" and low <= 0:
            raise ConfigurationError(f"{where}: a log scale needs a positive low, got {self.low!r}")
        return low, high

    def value(self, fraction: float, where: str) -> Any:
        """The value at `fraction` (0..1) of the range, in the unit of `low`."""
        low, high = self.bounds(where)
        if self.integer:  # low..high inclusive, each integer equally likely
            return int(min(np.floor(low + fraction * (high - low + 1)), high))
        if self.scale == "log":
            number = float(np.exp(np.log(low) + fraction * (np.log(high) - np.log(low))))
        else:
            number = low + fraction * (high - low)
        number = float(f"{number:.10g}")  # readable, and stable in the point IDs
        unit = self.unit()
        return f"{number:.10g} {unit}" if unit else number


def sample_values(
    ranges: Mapping[str, Range], samples: int, seed: int, method: str
) -> list[dict[str, Any]]:
    """`samples` points drawn in `ranges`: ``"random"`` (uniform) or ``"latin_hypercube"``.

    A Latin hypercube puts exactly one sample in each of `samples` equal strata of every range.
    The same seed gives the same samples.
    """
    rng = np.random.default_rng(seed)
    paths = list(ranges)
    if method == "random":
        fractions = rng.random((samples, len(paths)))
    elif method == "latin_hypercube":
        fractions = np.empty((samples, len(paths)))
        for column in range(len(paths)):
            strata = rng.permutation(samples)
            fractions[:, column] = (strata + rng.random(samples)) / samples
    else:
        raise ConfigurationError(f"unknown sampling method {method!r}")
    return [
        {
            path: ranges[path].value(row[c], f"sweep.{method}.ranges.{path}")
            for c, path in enumerate(paths)
        }
        for row in fractions
    ]


def make_points(
    model_hash: str, value_sets: Sequence[Mapping[str, Any]], seeds: Sequence[int | None]
) -> list[Point]:
    """Points for every value set and seed (seeds innermost), with their IDs."""
    points = []
    for values in value_sets:
        for seed in seeds:
            identifier = point_id(model_hash, values, seed)
            points.append(Point(len(points), dict(values), seed, identifier))
    seen: dict[str, Point] = {}
    for point in points:
        if point.point_id in seen:
            raise ConfigurationError(
                f"the sweep lists the same point twice ({point.label()}); remove the duplicate"
            )
        seen[point.point_id] = point
    return points


def magnitudes(values: Sequence[Any], where: str) -> tuple[list[float | None], str]:
    """Numbers of `values` in the unit of the first with a unit (for tables and plots).

    Values that are not numbers give ``None``; if some numbers have incompatible units, all are
    ``None`` (the values are then shown as written).
    """
    unit = next((s[1] for s in map(split_unit, values) if s is not None and s[1]), "")
    numbers: list[float | None] = []
    for value in values:
        if split_unit(value) is None:
            numbers.append(None)
            continue
        if isinstance(value, int) and not unit:
            numbers.append(value)  # integers stay integers
            continue
        try:
            numbers.append(_in_unit(value, unit, where))
        except ConfigurationError:
            return [None] * len(values), ""
    return numbers, unit
