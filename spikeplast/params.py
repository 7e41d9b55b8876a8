"""Parameter declarations with units, validation, and parameter-set files.

Rules and neuron models are frozen dataclasses whose fields are declared with :func:`param`
(a number with a unit) or :func:`option` (one of a fixed set of strings). Construction stores
the values and does nothing else; :meth:`Params.validate` checks units, signs and choices when a
model is built, so that every mistake is reported with the parameter's name and expected unit.

Parameter sets live in TOML files (``models/rules/*.toml``, ``models/neurons/*.toml``) with units as
strings, e.g. ``tau_plus = "16.8 ms"``, and a ``source`` field naming the publication.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import brian2.units.allunits as _allunits
import brian2.units.stdunits as _stdunits
from brian2.units.fundamentalunits import (
    DIMENSIONLESS,
    Quantity,
    Unit,
    get_dimensions,
    get_unit,
)

from .errors import ConfigurationError, ParameterError, suggest

__all__ = [
    "param",
    "option",
    "Params",
    "parse_quantity",
    "format_quantity",
    "ParameterSet",
    "load_parameter_file",
]

_UNIT_NAMES: dict[str, Unit] = {
    name: value
    for module in (_allunits, _stdunits)
    for name, value in vars(module).items()
    if isinstance(value, Unit)
}
# SI symbols that Brian2 spells out (second, siemens, volt, amp, farad)
_UNIT_NAMES.update(
    s=_allunits.second,
    S=_allunits.siemens,
    V=_allunits.volt,
    A=_allunits.amp,
    F=_allunits.farad,
    Ohm=_allunits.ohm,
)
_NUMBER = re.compile(r"^\s*([+-]?(?:inf|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))\s*(.*?)\s*$")


def param(
    default: Any,
    unit: Unit | int = 1,
    doc: str = "",
    *,
    positive: bool = False,
    nonnegative: bool = False,
) -> Any:
    """Declare a numeric parameter field.

    Parameters
    ----------
    default
        Default value (a Brian2 quantity for dimensional parameters, a float otherwise).
    unit
        The Brian2 unit whose dimensions the value must have, or ``1`` for dimensionless.
    doc
        One-line description shown by ``spikeplast rules``.
    positive, nonnegative
        Sign constraints checked at validation.
    """
    meta = {"unit": unit, "doc": doc, "positive": positive, "nonnegative": nonnegative}
    if isinstance(default, Quantity):
        return dataclasses.field(default_factory=lambda d=default: d, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def option(default: str, choices: tuple[str, ...], doc: str = "") -> Any:
    """Declare a parameter that takes one of a fixed set of string values."""
    return dataclasses.field(default=default, metadata={"choices": choices, "doc": doc})


def _unit_text(unit: Unit | int) -> str:
    return "1 (dimensionless)" if isinstance(unit, int) else str(unit)


def _eval_unit(text: str, context: str) -> Quantity:
    expression = text.replace("^", "**").strip()
    if not expression:
        return Quantity(1.0)
    if expression.startswith("/"):
        expression = "1" + expression

    def evaluate(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return evaluate(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in _UNIT_NAMES:
                raise ParameterError(
                    f"{context}: unknown unit {node.id!r}.{suggest(node.id, _UNIT_NAMES)}"
                )
            return _UNIT_NAMES[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -evaluate(node.operand)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Div | ast.Pow):
            left, right = evaluate(node.left), evaluate(node.right)
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.Div):
                return left / right
            return left**right
        raise ParameterError(f"{context}: cannot read the unit {text!r}")

    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise ParameterError(f"{context}: cannot read the unit {text!r}") from None
    return evaluate(tree)


def parse_quantity(value: Any, context: str = "value") -> Quantity | float:
    """Turn ``"16.8 ms"``, ``"8e-5 mV^-2"``, ``"inf"`` or a number into a quantity or float.

    Dimensionless results are returned as plain floats.
    """
    if isinstance(value, Quantity):
        return value
    if isinstance(value, bool):
        raise ParameterError(f"{context}: expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ParameterError(f"{context}: expected a number with a unit, got {value!r}")
    match = _NUMBER.match(value)
    if match is None:
        raise ParameterError(
            f"{context}: cannot read {value!r}; write a number and a unit, e.g. '16.8 ms'"
        )
    number = float(match.group(1))
    unit = _eval_unit(match.group(2), context)
    result = number * unit
    if isinstance(result, Quantity) and result.is_dimensionless:
        return float(result)
    return result


def format_quantity(value: Any) -> str:
    """Render a parameter value for humans and TOML files (``16.8 ms``)."""
    if isinstance(value, Quantity) and not value.is_dimensionless:
        unit = get_unit(value.dim)
        best = value.get_best_unit() if hasattr(value, "get_best_unit") else unit
        if not math.isfinite(float(value)):
            best = unit  # "inf s", not "inf Ys"
        number = float(value / best)
        return f"{number:.10g} {best}"
    if isinstance(value, float):
        return "inf" if math.isinf(value) and value > 0 else f"{value:.10g}"
    return str(value)


def _has_dimensions_of(value: Any, unit: Unit | int) -> bool:
    wanted = DIMENSIONLESS if isinstance(unit, int) else get_dimensions(unit)
    return get_dimensions(value) is wanted


class Params:
    """Mixin for frozen dataclasses of parameters (rules and neuron models).

    Subclasses are declared as ``@dataclass(frozen=True, eq=False)`` with fields made by
    :func:`param` and :func:`option`. Equality and hashing use the parameter values, so two
    objects with the same values are interchangeable (and share compiled code).
    """

    kind: ClassVar[str] = ""

    # -- introspection -------------------------------------------------------------------------
    @classmethod
    def parameter_fields(cls) -> list[dataclasses.Field]:
        """The declared parameter fields, in declaration order."""
        return [f for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]

    def values(self) -> dict[str, Any]:
        """Parameter values as a dictionary."""
        return {f.name: getattr(self, f.name) for f in self.parameter_fields()}

    def replace(self, **changes: Any) -> Params:
        """Return a copy with some parameters changed (values may be strings with units)."""
        names = {f.name for f in self.parameter_fields()}
        for name in changes:
            if name not in names:
                raise ParameterError(
                    f"{self.kind or type(self).__name__} has no parameter {name!r}."
                    f"{suggest(name, names)} Known: {', '.join(sorted(names))}"
                )
        parsed = {k: self._coerce(k, v) for k, v in changes.items()}
        return dataclasses.replace(self, **parsed)  # type: ignore[type-var]

    @classmethod
    def _coerce(cls, name: str, value: Any) -> Any:
        fields = {f.name: f for f in cls.parameter_fields()}
        meta = fields[name].metadata
        if "choices" in meta or not isinstance(value, str):
            return value
        return parse_quantity(value, f"parameter {name!r} of {cls.kind or cls.__name__}")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], context: str = "") -> Params:
        """Build from a mapping of names to values (strings with units allowed)."""
        names = {f.name for f in cls.parameter_fields()}
        label = context or (cls.kind or cls.__name__)
        for key in mapping:
            if key not in names:
                raise ParameterError(
                    f"{label}: unknown parameter {key!r} for {cls.kind or cls.__name__}."
                    f"{suggest(key, names)} Known: {', '.join(sorted(names))}"
                )
        values = {k: cls._coerce(k, v) for k, v in mapping.items()}
        return cls(**values)

    # -- validation ----------------------------------------------------------------------------
    def validate(self) -> None:
        """Check every parameter's unit, sign and choice; raise :class:`ParameterError`."""
        owner = self.kind or type(self).__name__
        for f in self.parameter_fields():
            value = getattr(self, f.name)
            meta = f.metadata
            if "choices" in meta:
                if value not in meta["choices"]:
                    raise ParameterError(
                        f"{owner}: parameter {f.name!r} must be one of "
                        f"{', '.join(repr(c) for c in meta['choices'])}; got {value!r}."
                        f"{suggest(str(value), meta['choices'])}"
                    )
                continue
            if "unit" not in meta:
                continue
            unit = meta["unit"]
            if isinstance(value, bool) or not isinstance(value, int | float | Quantity):
                raise ParameterError(
                    f"{owner}: parameter {f.name!r} must be a number in {_unit_text(unit)}, "
                    f"got {value!r}"
                )
            if not _has_dimensions_of(value, unit):
                hint = (
                    f"give it with a unit, e.g. {f.name}={format_quantity(f.default_factory())}"
                    if f.default_factory is not dataclasses.MISSING
                    else f"expected {_unit_text(unit)}"
                )
                raise ParameterError(
                    f"{owner}: parameter {f.name!r} must have the unit of {_unit_text(unit)}, "
                    f"got {format_quantity(value)}; {hint}"
                )
            number = float(value / unit) if not isinstance(unit, int) else float(value)
            if math.isnan(number):
                raise ParameterError(f"{owner}: parameter {f.name!r} is NaN")
            if meta.get("positive") and not number > 0:
                raise ParameterError(
                    f"{owner}: parameter {f.name!r} must be positive, got {format_quantity(value)}"
                )
            if meta.get("nonnegative") and number < 0:
                raise ParameterError(
                    f"{owner}: parameter {f.name!r} must not be negative, "
                    f"got {format_quantity(value)}"
                )
        self.check()

    def check(self) -> None:
        """Hook for cross-parameter checks in subclasses (raise :class:`ParameterError`)."""

    # -- identity ------------------------------------------------------------------------------
    def key(self) -> tuple:
        """A hashable identity made of the class and the parameter values."""
        items = []
        for name, value in self.values().items():
            if isinstance(value, Quantity):
                value = (float(value), repr(get_dimensions(value)))
            items.append((name, value))
        return (type(self).__qualname__, tuple(items))

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.key() == other.key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self.key())

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={format_quantity(v)}" for k, v in self.values().items())
        return f"{type(self).__name__}({inner})"


@dataclasses.dataclass(frozen=True)
class ParameterSet:
    """A named, published parameter set read from a TOML file.

    Attributes
    ----------
    name
        Registry name, e.g. ``"pfister2006-visual-aa-full"``.
    kind
        The rule or neuron kind the parameters belong to, e.g. ``"triplet-stdp"``.
    parameters
        Parameter values as written in the file (strings with units).
    source
        Publication (and table) the values come from.
    notes
        Free text: confidence, conventions.
    path
        The file it was read from.
    """

    name: str
    kind: str
    parameters: Mapping[str, Any]
    source: str
    notes: str = ""
    path: Path | None = None


def load_parameter_file(path: str | Path, kind_key: str = "rule") -> ParameterSet:
    """Read a parameter-set TOML file; errors name the file and the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(
            f"cannot read parameter file {str(path)!r}: {error.strerror}"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(
            f"parameter file {str(path)!r} is not valid TOML: {error}"
        ) from None
    for required in (kind_key, "parameters"):
        if required not in data:
            raise ConfigurationError(
                f"parameter file {str(path)!r} has no {required!r} entry; see models/rules/*.toml "
                "for the format"
            )
    if not isinstance(data["parameters"], dict):
        raise ConfigurationError(f"parameter file {str(path)!r}: 'parameters' must be a table")
    return ParameterSet(
        name=str(data.get("name", path.stem)),
        kind=str(data[kind_key]),
        parameters=dict(data["parameters"]),
        source=str(data.get("source", "")),
        notes=str(data.get("notes", "")),
        path=path,
    )
