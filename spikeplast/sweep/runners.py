"""Running one point: the task function of a sweep, and the per-process runners it reuses.

:func:`run_point` is what the workers execute (and what ``--serial`` calls in a loop). It looks up
the runner of the point's target in a per-process cache keyed by the target's hash, so a worker
prepares a model once and reuses it for all its points:

* networks on ``cpp_standalone`` use :class:`spikeplast.compiled.CompiledNetwork`: one compiled
  binary per model structure, rerun with each point's values (swept values that change the
  structure get one build each, which the object cache keeps to a second or two);
* networks on runtime backends (``numpy``, ``cython``) keep the parsed network and build the Brian2
  objects per point (Brian2's runtime code cache makes repeated builds cheap);
* protocols run :func:`spikeplast.protocols.run_protocol`, or on ``cpp_standalone`` their network
  form (:func:`spikeplast.protocols.protocol_network_data`) compiled once per structure;
* function targets call the function.

Errors from bad values (:class:`~spikeplast.errors.ConfigurationError`: a wrong unit, a negative
rate) give a failed outcome at once, since running again cannot help. Anything else propagates, so
that the executor retries the point.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..errors import ConfigurationError
from .points import Point
from .targets import Target, short_hash, split_structural

__all__ = ["Outcome", "PointRunner", "run_point", "runner_for", "register_runner"]


@dataclass
class Outcome:
    """What running a point gave.

    Attributes
    ----------
    status
        ``"done"`` or ``"failed"``.
    summary
        Scalar summaries by name.
    arrays
        Arrays to save in the point's ``.npz`` (what ``[record]`` asks for).
    error
        One-line reason of a failure.
    seconds
        Wall-clock time of the point on its worker.
    worker
        ``host:pid`` of the process that ran it.
    """

    status: str
    summary: dict[str, float] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    worker: str = ""


class PointRunner(Protocol):
    """Runs points of one target; created once per process and target."""

    def run(
        self, values: Mapping[str, Any], seed: int | None
    ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        """Summaries and arrays of one point."""
        ...


def compiled_network(spec: Any, runtime: list[str]) -> Any:
    """A :class:`~spikeplast.compiled.CompiledNetwork` of `spec`, built: workers of one machine
    that need the same model wait for one compile instead of each compiling it."""
    from ..compiled import CompiledNetwork

    network = CompiledNetwork(spec, runtime)
    try:
        import fcntl
    except ImportError:  # not POSIX
        network.build()
        return network
    network.directory.parent.mkdir(parents=True, exist_ok=True)
    with open(network.directory.parent / f".{network.key}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            network.build()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return network


class NetworkRunner:
    """Runs a network file with each point's values (compiled once per structure on C++)."""

    def __init__(self, target: Target):
        self.target = target
        self.compiled: dict[str, Any] = {}

    def _compiled_network(self, values: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        structural, runtime = split_structural(self.target.network_spec({}), values)
        key = short_hash([structural, sorted(runtime)])
        if key not in self.compiled:
            spec = self.target.network_spec(structural)
            self.compiled[key] = compiled_network(spec, list(runtime))
        return self.compiled[key], runtime

    def run(
        self, values: Mapping[str, Any], seed: int | None
    ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        from ..netspec import run_network

        if self.target.backend == "cpp_standalone":
            network, runtime = self._compiled_network(values)
            result = network.run(runtime, seed=seed)
        else:
            result = run_network(
                self.target.network_spec(values), backend=self.target.backend, seed=seed
            )
        arrays: dict[str, np.ndarray] = {}
        if self.target.record.weights:
            arrays.update({f"weights.{name}": w for name, w in result.weights.items()})
        if self.target.record.spikes:
            for name, (indices, times) in result.spikes.items():
                arrays[f"spikes.{name}.i"], arrays[f"spikes.{name}.t"] = indices, times
        return result.summary(), arrays


def _condition_label(row: Mapping[str, Any], columns: list[str]) -> str:
    parts = []
    for column in columns:
        value = row[column]
        parts.append(f"{column}={value:g}" if isinstance(value, float) else f"{column}={value}")
    return f"dw_percent[{','.join(parts)}]"


class ProtocolRunner:
    """Runs a plasticity protocol with each point's rule parameters and settings.

    On ``cpp_standalone`` the protocol becomes network data
    (:func:`spikeplast.protocols.protocol_network_data`) compiled once per structure (settings
    and structural rule parameters) and rerun with the swept rule constants.
    """

    def __init__(self, target: Target):
        self.target = target
        self.compiled: dict[str, Any] = {}

    def _rows_compiled(
        self, values: Mapping[str, Any], seed: int | None
    ) -> tuple[list[dict[str, Any]], np.ndarray]:
        from ..netspec import apply_overrides, network_from_dict
        from ..protocols import get_protocol, protocol_network_data

        settings, rule_parameters = self.target.protocol_arguments(values)
        swept_rule = {k: v for k, v in values.items() if not k.startswith("settings.")}
        fixed_rule = {k: v for k, v in rule_parameters.items() if k not in swept_rule}
        protocol = get_protocol(self.target.name, **settings)
        data = protocol_network_data(
            protocol, self.target.data["rule"], fixed_rule, self.target.data["dt_ms"]
        )
        paths = {f"projections.synapse.rule_parameters.{k}": v for k, v in swept_rule.items()}
        structural, runtime = split_structural(network_from_dict(data), paths)
        key = short_hash([settings, structural, sorted(runtime)])
        if key not in self.compiled:
            spec = network_from_dict(apply_overrides(data, structural), f"{protocol.name}")
            self.compiled[key] = compiled_network(spec, list(runtime))
        weights = self.compiled[key].run(runtime, seed=seed).weights["synapse"]
        rows = [
            {**condition.variables, "dw_percent": 100.0 * (float(w) - 1.0)}
            for condition, w in zip(protocol.conditions, weights, strict=True)
        ]
        return rows, weights

    def run(
        self, values: Mapping[str, Any], seed: int | None
    ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        from ..data import compare
        from ..protocols import get_protocol, run_protocol
        from ..rules import get_rule

        settings, rule_parameters = self.target.protocol_arguments(values)
        data = self.target.data
        rule = get_rule(data["rule"], **rule_parameters)  # bad values: one-line errors
        if self.target.backend == "cpp_standalone":
            rows, weights = self._rows_compiled(values, seed)
            protocol = get_protocol(self.target.name, **settings)
        else:
            from brian2 import ms

            protocol = get_protocol(self.target.name, **settings)
            result = run_protocol(
                rule, protocol, backend=self.target.backend, dt=data["dt_ms"] * ms, seed=seed
            )
            rows, weights = result.rows, result.final_weights
        summary = {_condition_label(row, list(protocol.columns)): row["dw_percent"] for row in rows}
        dataset = _dataset(data.get("dataset"), protocol.data)
        if dataset is not None:
            error = compare(rows, dataset).error
            if error is not None:
                summary["error"] = error
        arrays = {"dw_percent": np.array([row["dw_percent"] for row in rows])}
        if self.target.record.weights:
            arrays["weights.synapse"] = np.asarray(weights)
        return summary, arrays


def _dataset(explicit: str | None, default: str | None) -> Any:
    """The data set to compare with: `explicit` (must exist), else the protocol's, if shipped."""
    from ..data import load_dataset
    from ..errors import UnknownNameError

    if explicit is not None:
        return load_dataset(explicit)
    if default is None:
        return None
    try:
        return load_dataset(default)
    except UnknownNameError:
        return None


class FunctionRunner:
    """Calls ``function(parameters, seed)`` with the fixed and swept values merged.

    The function returns a mapping of scalar summaries, or ``(summaries, arrays)``.
    """

    def __init__(self, target: Target):
        self.target = target
        self.function = target.function()

    def run(
        self, values: Mapping[str, Any], seed: int | None
    ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        parameters = {**self.target.data.get("parameters", {}), **values}
        returned = self.function(parameters, seed)
        summary, arrays = returned if isinstance(returned, tuple) else (returned, {})
        if not isinstance(summary, Mapping):
            raise ConfigurationError(
                f"function {self.target.name}: return a mapping of summaries (or a pair "
                f"(summaries, arrays)), got {type(summary).__name__}"
            )
        return dict(summary), {k: np.asarray(v) for k, v in dict(arrays).items()}


_RUNNER_CLASSES: dict[str, type] = {
    "network": NetworkRunner,
    "protocol": ProtocolRunner,
    "function": FunctionRunner,
}
_RUNNERS: dict[str, PointRunner] = {}
# Brian2 keeps global state: points in one process run one at a time, even on workers with
# several threads.
_PROCESS_LOCK = threading.Lock()


def register_runner(kind: str, runner_class: type) -> None:
    """Use `runner_class(target)` for targets of `kind` (e.g. another compiled runner)."""
    _RUNNER_CLASSES[kind] = runner_class
    _RUNNERS.clear()


def runner_for(target: Target) -> PointRunner:
    """The runner of `target` in this process (created on first use)."""
    key = short_hash([target.kind, target.name, target.backend, target.data])
    if key not in _RUNNERS:
        _RUNNERS[key] = _RUNNER_CLASSES[target.kind](target)
    return _RUNNERS[key]


def _select(summary: Mapping[str, Any], wanted: tuple[str, ...] | None) -> dict[str, float]:
    names = list(summary) if wanted is None else list(wanted)
    missing = [n for n in names if n not in summary]
    if missing:
        raise ConfigurationError(
            f"[record] summaries: no {', '.join(map(repr, missing))}; this target reports "
            f"{', '.join(summary) or 'nothing'}"
        )
    selected = {}
    for name in names:
        value = summary[name]
        try:
            selected[name] = float(value)
        except (TypeError, ValueError):
            raise ConfigurationError(f"summary {name!r} is not a number ({value!r})") from None
    return selected


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_point(target: Target, point: Point) -> Outcome:
    """Run one point of a sweep (the task function of the workers).

    Returns a failed outcome for bad values; raises for anything else (to be retried).
    """
    with _PROCESS_LOCK:
        started = time.perf_counter()
        try:
            summary, arrays = runner_for(target).run(point.values, point.seed)
            selected = _select(summary, target.record.summaries)
        except ConfigurationError as error:
            return Outcome(
                "failed",
                error=f"{type(error).__name__}: {error}",
                seconds=time.perf_counter() - started,
                worker=worker_name(),
            )
        return Outcome(
            "done",
            summary=selected,
            arrays=arrays,
            seconds=time.perf_counter() - started,
            worker=worker_name(),
        )
