"""What a sweep runs: a network file, a plasticity protocol, or a Python function.

A :class:`Target` is everything a worker needs to run a point, and nothing that lives only on the
machine that started the sweep: a network target carries the network description itself (not the
path of its file), so workers on other machines need only spikeplast installed.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError, UnknownNameError

__all__ = ["Record", "Target", "TARGET_KINDS", "short_hash", "split_structural"]

TARGET_KINDS = ("network", "protocol", "function")


def short_hash(payload: Any) -> str:
    """First 16 hexadecimal digits of the SHA-256 of `payload` as sorted JSON."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Record:
    """What each point keeps.

    Attributes
    ----------
    summaries
        Names of the scalar summaries to keep (``None``: all the target reports).
    weights
        Save the final weights of every projection in the point's ``.npz``.
    spikes
        Save the recorded spikes in the point's ``.npz``.
    plot
        Summary drawn against the swept parameters at the end (``None``: the first one).
    """

    summaries: tuple[str, ...] | None = None
    weights: bool = False
    spikes: bool = False
    plot: str | None = None

    def identity(self) -> dict[str, Any]:
        """What changes the content of a row (the plot does not)."""
        return {"summaries": self.summaries, "weights": self.weights, "spikes": self.spikes}


@dataclass(frozen=True)
class Target:
    """A model ready to run with swept values.

    Attributes
    ----------
    kind
        ``"network"``, ``"protocol"`` or ``"function"``.
    name
        Network name or file, protocol name, or ``"module:function"``.
    backend
        Simulation backend (resolved: never ``"auto"``).
    data
        network: the network description with the fixed values applied; protocol:
        ``protocol``, ``rule``, ``settings``, ``rule_parameters``, ``dt_ms``, ``dataset``;
        function: ``parameters`` (the fixed values).
    record
        What each point keeps.
    """

    kind: str
    name: str
    backend: str
    data: Mapping[str, Any] = field(default_factory=dict)
    record: Record = field(default_factory=Record)

    # -- identity ------------------------------------------------------------------------------
    def model_hash(self) -> str:
        """Hash of the model with its fixed values (the network's own hash for networks)."""
        if self.kind == "network":
            return self.network_spec({}).model_hash()
        return short_hash([self.kind, self.name, self.data])

    def model_key(self) -> str:
        """What point IDs are derived from: model hash and backend."""
        return f"{self.model_hash()}/{self.backend}"

    def describe(self) -> str:
        if self.kind == "protocol":
            return f"protocol {self.name} with rule {self.data['rule']} on {self.backend}"
        if self.kind == "function":
            return f"function {self.name}"
        return f"network {self.name} on {self.backend}"

    # -- materialising a point -----------------------------------------------------------------
    def network_spec(self, values: Mapping[str, Any]) -> Any:
        """The network specification with `values` (dotted paths) applied."""
        from ..netspec import apply_overrides, network_from_dict

        data = apply_overrides(self.data, values) if values else self.data
        return network_from_dict(data, f"network {self.name}")

    def protocol_arguments(self, values: Mapping[str, Any]) -> tuple[dict, dict]:
        """``(settings, rule_parameters)`` of a protocol point: ``settings.<key>`` paths go to
        the protocol, other names are rule parameters."""
        settings = dict(self.data.get("settings", {}))
        rule_parameters = dict(self.data.get("rule_parameters", {}))
        for path, value in values.items():
            if path.startswith("settings."):
                settings[path.removeprefix("settings.")] = value
            else:
                rule_parameters[path] = value
        return settings, rule_parameters

    def check_protocol(self, values: Mapping[str, Any]) -> None:
        """Raise a one-line error if `values` name no setting or rule parameter."""
        from ..protocols import PROTOCOLS, get_protocol
        from ..rules import get_rule

        settings, rule_parameters = self.protocol_arguments(values)
        get_rule(self.data["rule"], **rule_parameters)
        accepted = inspect.signature(PROTOCOLS[self.name]).parameters
        for key in settings:
            if key not in accepted:
                raise ConfigurationError(
                    f"protocol {self.name!r} has no setting {key!r}; settings: "
                    f"{', '.join(accepted)}"
                )
        get_protocol(self.name, **settings)

    def function(self) -> Callable[..., Any]:
        """The Python function of a function target."""
        return load_function(self.name)

    def check(self, values: Mapping[str, Any]) -> None:
        """Raise a one-line :class:`ConfigurationError` if `values` cannot be applied."""
        if self.kind == "network":
            self.network_spec(values)
        elif self.kind == "protocol":
            self.check_protocol(values)

    def structural_paths(self, paths: list[str]) -> list[str]:
        """Swept paths that force a rebuild of a compiled model (empty on runtime backends)."""
        if self.backend != "cpp_standalone" or self.kind == "function":
            return []
        if self.kind == "network":
            return list(split_structural(self.network_spec({}), dict.fromkeys(paths))[0])
        from ..netspec import network_from_dict
        from ..protocols import get_protocol, protocol_network_data

        settings, rule_parameters = self.protocol_arguments({})
        data = protocol_network_data(
            get_protocol(self.name, **settings), self.data["rule"], rule_parameters
        )
        prefix = "projections.synapse.rule_parameters."
        rule_paths = {prefix + p: None for p in paths if not p.startswith("settings.")}
        structural = split_structural(network_from_dict(data), rule_paths)[0]
        return [p for p in paths if p.startswith("settings.") or prefix + p in structural]


def split_structural(spec: Any, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(structural, runtime)``: `values` by dotted path, split by whether a compiled model of
    `spec` needs a rebuild to change them (see :mod:`spikeplast.compiled`)."""
    from ..compiled import StructuralChange, runtime_paths

    structural, runtime = {}, {}
    for path, value in values.items():
        try:
            runtime_paths(spec, [path])
        except StructuralChange:
            structural[path] = value
        else:
            runtime[path] = value
    return structural, runtime


def load_function(name: str) -> Callable[..., Any]:
    """Import ``"package.module:function"``."""
    module_name, _, attribute = name.partition(":")
    if not module_name or not attribute:
        raise ConfigurationError(
            f"function {name!r}: write it as 'package.module:function' (importable on the workers)"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UnknownNameError(
            f"function {name!r}: cannot import {module_name!r}: {error}"
        ) from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise UnknownNameError(f"function {name!r}: {module_name!r} has no function {attribute!r}")
    return function
