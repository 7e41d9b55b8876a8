"""Registry of plasticity rules and of the published parameter sets in ``models/rules``.

``get_rule`` accepts a rule family (``"triplet-stdp"``, default parameters), a parameter-set name
(``"pfister2006-visual-aa-full"``) or the path of a TOML parameter file, plus overrides.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, UnknownNameError, suggest
from ..params import ParameterSet, load_parameter_file
from ..resources import models_dir
from ..rule import Rule
from .clopath import ClopathSTDP
from .convallis import Convallis
from .dopamine_stdp import DopamineSTDP
from .global_error import GlobalError
from .nonlinear_hebbian import NonlinearHebbian
from .stdp_pair import PairSTDP
from .stdp_triplet import TripletSTDP
from .vogels import VogelsISTDP

__all__ = [
    "RULES",
    "get_rule",
    "parameter_sets",
    "rule_source",
    "PairSTDP",
    "TripletSTDP",
    "DopamineSTDP",
    "GlobalError",
    "VogelsISTDP",
    "ClopathSTDP",
    "Convallis",
    "NonlinearHebbian",
]

#: Rule families by kind. A new rule adds one line here.
RULES: dict[str, type[Rule]] = {
    PairSTDP.kind: PairSTDP,
    TripletSTDP.kind: TripletSTDP,
    DopamineSTDP.kind: DopamineSTDP,
    GlobalError.kind: GlobalError,
    VogelsISTDP.kind: VogelsISTDP,
    ClopathSTDP.kind: ClopathSTDP,
    Convallis.kind: Convallis,
    NonlinearHebbian.kind: NonlinearHebbian,
}


@lru_cache(maxsize=1)
def parameter_sets() -> dict[str, ParameterSet]:
    """Published parameter sets shipped in ``models/rules/*.toml``, by name."""
    sets = {}
    for path in sorted((models_dir() / "rules").glob("*.toml")):
        parameter_set = load_parameter_file(path, kind_key="rule")
        sets[parameter_set.name] = parameter_set
    return sets


def _from_parameter_set(parameter_set: ParameterSet) -> Rule:
    if parameter_set.kind not in RULES:
        where = f" in {parameter_set.path}" if parameter_set.path else ""
        raise ConfigurationError(
            f"unknown rule kind {parameter_set.kind!r}{where}.{suggest(parameter_set.kind, RULES)}"
            f" Known kinds: {', '.join(RULES)}"
        )
    context = str(parameter_set.path) if parameter_set.path else parameter_set.name
    return RULES[parameter_set.kind].from_mapping(parameter_set.parameters, context=context)


def resolve(name: str) -> tuple[Rule, ParameterSet | None]:
    """Rule and (if any) the parameter set it came from, without overrides or validation."""
    if name.endswith(".toml") or Path(name).is_file():
        parameter_set = load_parameter_file(name, kind_key="rule")
        return _from_parameter_set(parameter_set), parameter_set
    sets = parameter_sets()
    if name in sets:
        return _from_parameter_set(sets[name]), sets[name]
    if name in RULES:
        return RULES[name](), None
    known = list(sets) + list(RULES)
    raise UnknownNameError(
        f"unknown rule {name!r}.{suggest(name, known)} Run 'spikeplast rules' to list rules and "
        "parameter sets, or pass the path of a .toml parameter file"
    )


def get_rule(name: str | Rule, **overrides: Any) -> Rule:
    """Return a validated rule.

    Parameters
    ----------
    name
        Rule family, parameter-set name, path of a TOML file, or a :class:`Rule` instance.
    **overrides
        Parameters to change, with units (``tau_plus=20*ms`` or ``tau_plus="20 ms"``).
    """
    rule = name if isinstance(name, Rule) else resolve(name)[0]
    if overrides:
        rule = rule.replace(**overrides)  # type: ignore[assignment]
    rule.validate()
    return rule


def rule_source(name: str) -> str:
    """Publication a named parameter set comes from ('' for families and files without one)."""
    _, parameter_set = resolve(name)
    return parameter_set.source if parameter_set else ""
