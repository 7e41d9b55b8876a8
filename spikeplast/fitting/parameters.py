"""Free and fixed parameters of a fit: names, aliases, units, bounds and the fitting space.

A fit works in an *internal* space where the optimiser is well conditioned: positive parameters
(time constants, amplitudes) are fitted as ``log10`` of their value, signed ones linearly. Values
outside the fitting space are always SI floats (seconds, dimensionless); a parameter's display
unit is the unit its rule declares (``ms`` for time constants).

Names are the rule's field names (``A3_plus``, ``tau_y``); the paper's spellings are accepted as
aliases (``A3+`` → ``A3_plus``, ``tau+`` → ``tau_plus``, ``A+`` → ``A_plus``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from brian2.units.fundamentalunits import Quantity, get_dimensions

from ..errors import ConfigurationError, ParameterError, UnknownNameError, suggest
from ..params import format_quantity, parse_quantity
from ..rule import Rule

__all__ = [
    "FreeParameter",
    "canonical_name",
    "fittable_names",
    "default_free_names",
    "parse_names",
    "parse_assignments",
    "apply_fixed",
    "free_parameters",
    "si_value",
]

#: Parameters never fitted (bounds are part of the model, not of the fit).
_NOT_FITTABLE = ("w_min", "w_max")

#: Default bounds of positive dimensionless parameters by name (SI), else ``_AMPLITUDE_BOUNDS``.
_NAMED_BOUNDS = {"mu_plus": (1e-3, 10.0), "mu_minus": (1e-3, 10.0)}
_AMPLITUDE_BOUNDS = (1e-8, 1.0)
#: Default bounds of time constants (seconds).
_TIME_BOUNDS = (1e-3, 5.0)
#: Start value of a free positive amplitude whose base value is zero (minimal models).
_ZERO_AMPLITUDE_START = 1e-3


def _field_map(rule: Rule) -> dict[str, Any]:
    return {f.name: f for f in rule.parameter_fields()}


def canonical_name(name: str, rule: Rule) -> str:
    """The field name for `name` (a field name or an alias); raise with a suggestion if unknown."""
    fields = _field_map(rule)
    text = name.strip()
    if text in fields:
        return text
    candidates = [text.replace("τ", "tau")]
    for suffix, replacement in (("+", "_plus"), ("-", "_minus")):
        if candidates[0].endswith(suffix):
            stem = candidates[0][: -len(suffix)].rstrip("_")
            candidates.append(stem + replacement)
    for candidate in candidates:
        if candidate in fields:
            return candidate
    raise UnknownNameError(
        f"{rule.kind} has no parameter {name!r}.{suggest(candidates[-1], fields)} "
        f"Known: {', '.join(fields)}"
    )


def fittable_names(rule: Rule) -> list[str]:
    """Numeric parameters of `rule` that a fit may free (options and bounds excluded)."""
    return [
        f.name
        for f in rule.parameter_fields()
        if "unit" in f.metadata and f.name not in _NOT_FITTABLE
    ]


def default_free_names(rule: Rule) -> list[str]:
    """The parameters Pfister & Gerstner (2006) fit, given which terms `rule` uses.

    Triplet STDP: the non-zero amplitudes, ``tau_y`` if ``A3_plus != 0`` and ``tau_x`` if
    ``A3_minus != 0`` (``tau_plus``/``tau_minus`` stay at the Bi & Poo values). Pair STDP: the
    two amplitudes. Other rules: every amplitude-like parameter (dimensionless, non-negative).
    """
    if rule.kind == "triplet-stdp":
        names = [a for a in ("A2_plus", "A3_plus", "A2_minus", "A3_minus") if getattr(rule, a)]
        if rule.A3_minus:
            names.append("tau_x")
        if rule.A3_plus:
            names.append("tau_y")
        return names
    if rule.kind == "pair-stdp":
        return ["A_plus", "A_minus"]
    if rule.kind == "clopath-stdp":  # the amplitudes Clopath et al. (2010) fit per preparation
        return ["A_LTD", "A_LTP"]
    return [
        f.name
        for f in rule.parameter_fields()
        if _is_dimensionless(f.metadata.get("unit"))
        and f.metadata.get("nonnegative")
        and f.name not in _NOT_FITTABLE
    ]


def _is_dimensionless(unit: Any) -> bool:
    return unit is not None and (isinstance(unit, int) or get_dimensions(unit).is_dimensionless)


def parse_names(items: Iterable[str], rule: Rule) -> list[str]:
    """Comma-separated (or repeated) parameter names and aliases → field names, in order."""
    names: list[str] = []
    fittable = fittable_names(rule)
    for item in items:
        for part in item.split(","):
            if not part.strip():
                continue
            name = canonical_name(part, rule)
            if name not in fittable:
                raise ParameterError(
                    f"{rule.kind}: {name!r} cannot be fitted (fittable: {', '.join(fittable)})"
                )
            if name not in names:
                names.append(name)
    return names


def parse_assignments(items: Iterable[str], rule: Rule, what: str = "--fixed") -> dict[str, str]:
    """``NAME=VALUE`` items (comma-separated or repeated) → ``{field name: value text}``."""
    assignments: dict[str, str] = {}
    for item in items:
        for part in _split_assignments(item):
            if "=" not in part:
                raise ConfigurationError(
                    f"{what}: expected NAME=VALUE (e.g. tau_x=101ms), got {part!r}"
                )
            name, value = part.split("=", 1)
            assignments[canonical_name(name, rule)] = value.strip()
    return assignments


def _split_assignments(text: str) -> list[str]:
    """Split ``a=1ms,b=2`` at commas that start a new ``NAME=`` (values never contain '=')."""
    parts: list[str] = []
    for piece in text.split(","):
        if parts and "=" not in piece:
            parts[-1] += "," + piece
        elif piece.strip():
            parts.append(piece.strip())
    return parts


def apply_fixed(rule: Rule, fixed: Mapping[str, Any]) -> Rule:
    """`rule` with the fixed values set (strings with units allowed), validated."""
    changed = rule.replace(**dict(fixed)) if fixed else rule
    changed.validate()
    return changed  # type: ignore[return-value]


def si_value(rule: Rule, name: str) -> float:
    """A numeric parameter of `rule` as an SI float."""
    value = getattr(rule, name)
    return float(value) if isinstance(value, Quantity | int | float) else math.nan


@dataclass(frozen=True)
class FreeParameter:
    """One fitted parameter.

    Attributes
    ----------
    name
        Rule field name.
    unit
        Display unit (``"ms"``) or ``""`` for dimensionless values.
    unit_factor
        SI value of one display unit (``1e-3`` for ms).
    scale
        ``"log"`` (fitted as log10 of the value) or ``"linear"``.
    lower, upper
        Bounds in SI units.
    start
        Value of the rule the fit starts from (SI), inside the bounds.
    """

    name: str
    unit: str
    unit_factor: float
    scale: str
    lower: float
    upper: float
    start: float

    def to_internal(self, value: Any) -> Any:
        """SI value(s) → fitting space."""
        import numpy as np

        return np.log10(value) if self.scale == "log" else np.asarray(value, dtype=float) * 1.0

    def to_si(self, internal: Any) -> Any:
        """Fitting space → SI value(s)."""
        import numpy as np

        return 10.0**internal if self.scale == "log" else np.asarray(internal, dtype=float) * 1.0

    @property
    def internal_bounds(self) -> tuple[float, float]:
        return float(self.to_internal(self.lower)), float(self.to_internal(self.upper))

    def display(self, value: float | None) -> float | None:
        """SI value → number in the display unit."""
        return None if value is None else float(value) / self.unit_factor

    def format(self, value: float | None, digits: int = 4) -> str:
        """SI value as text with the display unit."""
        if value is None or not math.isfinite(value):
            return "—"
        number = f"{value / self.unit_factor:.{digits}g}"
        return f"{number} {self.unit}" if self.unit else number


def _default_bounds(rule: Rule, name: str, base: float) -> tuple[str, float, float]:
    field = _field_map(rule)[name]
    unit = field.metadata["unit"]
    positive = field.metadata.get("positive") or field.metadata.get("nonnegative")
    is_time = not isinstance(unit, int) and repr(get_dimensions(unit)) == "second"
    if is_time and positive:
        return "log", *_TIME_BOUNDS
    if positive and not _is_dimensionless(unit) and base > 0:
        # an amplitude with units (Clopath's A_LTP in 1/V^2): three decades around its value
        return "log", base / 1000, base * 1000
    if positive:
        low, high = _NAMED_BOUNDS.get(name, _AMPLITUDE_BOUNDS)
        return "log", low, high
    span = max(abs(base), float(unit) if not isinstance(unit, int) else 1.0)
    return "linear", base - span, base + span


def free_parameters(
    rule: Rule, names: Sequence[str], bounds: Mapping[str, tuple[Any, Any]] | None = None
) -> list[FreeParameter]:
    """Describe the free parameters `names` of `rule` (which holds their start values).

    Parameters
    ----------
    rule
        The rule with fixed values applied; its values of `names` are the start values.
    names
        Field names to fit.
    bounds
        Optional ``{name: (low, high)}`` with values as numbers (SI) or strings with units.
    """
    fields = _field_map(rule)
    result = []
    for name in names:
        field = fields[name]
        unit = field.metadata["unit"]
        base = si_value(rule, name)
        scale, low, high = _default_bounds(rule, name, base)
        if bounds and name in bounds:
            low, high = (_bound_value(rule, name, v) for v in bounds[name])
            if scale == "log" and low <= 0:
                raise ParameterError(
                    f"bounds of {name!r}: the lower bound must be positive (it is fitted on a "
                    f"log scale), got {format_quantity(low)}"
                )
        if not low < high:
            raise ParameterError(f"bounds of {name!r}: need low < high, got {low:g}, {high:g}")
        start = base
        if scale == "log" and base <= 0:
            start = min(max(_ZERO_AMPLITUDE_START, low), high)
        start = min(max(start, low), high)
        is_dimensionless = isinstance(unit, int)
        result.append(
            FreeParameter(
                name=name,
                unit="" if is_dimensionless else str(unit),
                unit_factor=1.0 if is_dimensionless else float(unit),
                scale=scale,
                lower=float(low),
                upper=float(high),
                start=float(start),
            )
        )
    return result


def _bound_value(rule: Rule, name: str, value: Any) -> float:
    """A bound given as a number or string: check its unit against the parameter's."""
    probe = rule.replace(**{name: value})
    try:
        probe.validate()
    except ParameterError as error:
        message = str(error)
        if "unit" in message:
            raise ParameterError(f"bounds of {name!r}: {message}") from None
    parsed = parse_quantity(value, f"bounds of {name!r}") if isinstance(value, str) else value
    return float(parsed)
