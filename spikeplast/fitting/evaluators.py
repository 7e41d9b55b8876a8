"""Evaluators: rule parameters in, weight change per protocol condition out.

The fitting code only talks to the :class:`Evaluator` interface, so any way of running a rule on
the protocol conditions can be plugged in:

:class:`TraceRuleEvaluator`
    Exact event-driven evaluation with Numba (:mod:`spikeplast.fitting.kernels`) for the
    trace-based rules listed in :data:`FAST_RULES` (``triplet-stdp``, ``pair-stdp``). Batches
    of parameter sets are evaluated in one call.
:class:`BrianEvaluator`
    Runs the conditions through Brian2. With the C++ standalone device, parameters that are
    constants of the rule's code are passed to a compiled binary at run time
    (:class:`spikeplast.compiled.CompiledNetwork`), so a fit recompiles only when a structural
    parameter (a trace time constant) changes. This is the path for rules without a fast
    kernel (voltage-based rules such as Clopath's, once the protocols drive a neuron model).

:func:`make_evaluator` picks the fast evaluator where one exists.

Values are passed as an array of shape ``(n_sets, n_parameters)`` in SI units (seconds,
dimensionless), columns in :attr:`Evaluator.parameter_names` order; results have shape
``(n_sets, n_conditions)``, as ``dw_percent = 100 (w_end - w0)/w0``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigurationError, ParameterError, SpikeplastError
from ..protocols import Condition, Protocol
from ..rule import Rule
from .events import EventTable, event_table
from .parameters import fittable_names, si_value

__all__ = [
    "Evaluator",
    "TraceRuleEvaluator",
    "BrianEvaluator",
    "FastRule",
    "FAST_RULES",
    "make_evaluator",
    "EVALUATORS",
]


class Evaluator(abc.ABC):
    """Weight changes of a rule on fixed protocol conditions, for many parameter values.

    Parameters
    ----------
    rule
        The rule with every non-free parameter at its value (validated).
    conditions
        Protocol conditions (spike trains in seconds).
    parameter_names
        The rule fields that :meth:`evaluate` takes, in column order.
    w0
        Initial weight of every condition's synapse.
    """

    #: Whether an evaluation costs microseconds (True) or seconds (False); fits use cheaper
    #: finite differences and no bootstrap by default for slow evaluators.
    fast: ClassVar[bool] = True
    #: Short name for reports.
    label: ClassVar[str] = ""

    def __init__(
        self,
        rule: Rule,
        conditions: Sequence[Condition],
        parameter_names: Sequence[str] = (),
        w0: float = 1.0,
    ):
        rule.validate()
        fittable = fittable_names(rule)
        unknown = [n for n in parameter_names if n not in fittable]
        if unknown:
            raise ParameterError(
                f"{rule.kind}: cannot evaluate with free {', '.join(unknown)} "
                f"(fittable: {', '.join(fittable)})"
            )
        if not conditions:
            raise ConfigurationError("an evaluator needs at least one protocol condition")
        self.rule = rule
        self.conditions = tuple(conditions)
        self.parameter_names = tuple(parameter_names)
        self.w0 = float(w0)

    @property
    def n_conditions(self) -> int:
        return len(self.conditions)

    def _as_batch(self, values: Any) -> np.ndarray:
        batch = np.asarray(values, dtype=float)
        if batch.ndim == 1:
            batch = batch[None, :]
        if batch.ndim != 2 or batch.shape[1] != len(self.parameter_names):
            raise ParameterError(
                f"expected values of shape (n_sets, {len(self.parameter_names)}) for "
                f"{', '.join(self.parameter_names) or 'no parameters'}, got {batch.shape}"
            )
        if not np.all(np.isfinite(batch)):
            raise ParameterError("parameter values must be finite")
        return batch

    @abc.abstractmethod
    def final_weights(self, values: Any) -> np.ndarray:
        """Final weight of every condition, shape ``(n_sets, n_conditions)``."""

    def evaluate(self, values: Any) -> np.ndarray:
        """``dw_percent`` of every condition, shape ``(n_sets, n_conditions)``."""
        return 100.0 * (self.final_weights(values) - self.w0) / self.w0

    def rule_with(self, values: Sequence[float]) -> Rule:
        """The rule with the free parameters at `values` (SI floats)."""
        changes = {}
        for name, value in zip(self.parameter_names, values, strict=True):
            current = getattr(self.rule, name)
            changes[name] = value * _si_unit(current) if _has_unit(current) else float(value)
        return self.rule.replace(**changes) if changes else self.rule  # type: ignore[return-value]


def _has_unit(value: Any) -> bool:
    return hasattr(value, "dim") and not getattr(value, "is_dimensionless", True)


# -- fast, Numba ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FastRule:
    """How a rule family maps onto a Numba kernel.

    Attributes
    ----------
    columns
        Parameter columns the kernel reads, in order.
    kernel
        ``kernel(params, *options, w0, sides, interval_index, offsets, intervals, final,
        trajectory)`` (see :mod:`spikeplast.fitting.kernels`).
    options
        The rule's options (pairing scheme, weight dependence) encoded as kernel arguments.
    """

    columns: tuple[str, ...]
    kernel: Callable[..., None]
    options: Callable[[Rule], tuple]

    def run(self, rule: Rule, params, table: EventTable, w0: float, final, trajectory) -> None:
        """Evaluate the kernel for `rule`'s options on `table`."""
        self.kernel(
            params,
            *self.options(rule),
            w0,
            table.sides,
            table.interval_index,
            table.offsets,
            table.intervals,
            final,
            trajectory,
        )


def _fast_rules() -> dict[str, FastRule]:
    from .kernels import (
        PAIR_COLUMNS,
        TRIPLET_COLUMNS,
        WEIGHT_DEPENDENCE_CODES,
        pair_kernel,
        triplet_kernel,
    )

    return {
        "triplet-stdp": FastRule(
            TRIPLET_COLUMNS, triplet_kernel, lambda rule: (rule.interaction == "nearest",)
        ),
        "pair-stdp": FastRule(
            PAIR_COLUMNS,
            pair_kernel,
            lambda rule: (
                rule.interaction == "nearest",
                WEIGHT_DEPENDENCE_CODES[rule.weight_dependence],
            ),
        ),
    }


#: Rule kinds with a Numba kernel. A new trace-based rule adds a kernel and one entry here.
FAST_RULES: dict[str, FastRule] = _fast_rules()


class TraceRuleEvaluator(Evaluator):
    """Exact event-driven evaluation of a trace-based rule with Numba (see module doc).

    The protocol's events and the distinct intervals between them are precomputed once
    (:func:`spikeplast.fitting.events.event_table`); an evaluation then walks the events with
    closed-form trace decay. Results agree with the history-based references in
    :mod:`spikeplast.reference` and with Brian2 runs to rounding (tested to rtol 1e-9).
    """

    fast = True
    label = "numba (exact, event-driven)"

    def __init__(
        self,
        rule: Rule,
        conditions: Sequence[Condition],
        parameter_names: Sequence[str] = (),
        w0: float = 1.0,
    ):
        super().__init__(rule, conditions, parameter_names, w0)
        if rule.kind not in FAST_RULES:
            raise ConfigurationError(
                f"no fast evaluator for rule kind {rule.kind!r} (available for "
                f"{', '.join(FAST_RULES)}); use the Brian2 evaluator"
            )
        self.spec = FAST_RULES[rule.kind]
        self.table = event_table([c.pre for c in conditions], [c.post for c in conditions])
        self.base = np.array([si_value(rule, c) for c in self.spec.columns], dtype=float)
        self.free_columns = np.array(
            [self.spec.columns.index(n) for n in self.parameter_names], dtype=np.int64
        )
        self._time_columns = np.array(
            [i for i, c in enumerate(self.spec.columns) if c.startswith("tau")], dtype=np.int64
        )

    def kernel_parameters(self, values: Any) -> np.ndarray:
        """Full kernel parameter rows (fixed values plus the free `values`)."""
        batch = self._as_batch(values)
        params = np.repeat(self.base[None, :], batch.shape[0], axis=0)
        params[:, self.free_columns] = batch
        if np.any(params[:, self._time_columns] <= 0):
            raise ParameterError("time constants must be positive")
        return np.ascontiguousarray(params)

    def final_weights(self, values: Any) -> np.ndarray:
        params = self.kernel_parameters(values)
        final = np.empty((params.shape[0], self.table.n_conditions))
        self.spec.run(self.rule, params, self.table, self.w0, final, np.zeros((0, 0)))
        return final

    def trajectories(self, values: Any) -> np.ndarray:
        """Weight after every event, shape ``(n_sets, n_events)`` (events in
        :attr:`table` order: conditions concatenated, presynaptic first at equal times)."""
        params = self.kernel_parameters(values)
        final = np.empty((params.shape[0], self.table.n_conditions))
        trajectory = np.empty((params.shape[0], self.table.n_events))
        self.spec.run(self.rule, params, self.table, self.w0, final, trajectory)
        return trajectory


# -- Brian2 -----------------------------------------------------------------------------------


def _exact_text(rule: Rule, name: str) -> Any:
    """A parameter as a value the network files accept without losing precision."""
    value = getattr(rule, name)
    if isinstance(value, str):
        return value
    if _has_unit(value):
        return f"{float(value)!r} {_si_unit_text(value)}"
    return float(value)


def _si_unit(value: Any) -> Any:
    from brian2.units.fundamentalunits import get_unit

    return get_unit(value.dim)


def _si_unit_text(value: Any) -> str:
    return str(_si_unit(value))


class BrianEvaluator(Evaluator):
    """Evaluate by running the protocol conditions through Brian2 (one synapse per condition).

    Parameters
    ----------
    rule, conditions, parameter_names, w0
        See :class:`Evaluator`.
    backend
        ``"compiled"`` (default): C++ standalone, compiled once per structure and rerun with
        the free rule constants as run-time arguments. Any other value is a
        :class:`spikeplast.backend.Session` backend (``"numpy"``, ``"cython"``,
        ``"cpp_standalone"``) running :func:`spikeplast.protocols.run_protocol` per set.
    dt_ms
        Simulation time step in ms (spike times must lie on its grid).
    """

    fast = False
    label = "brian2"

    def __init__(
        self,
        rule: Rule,
        conditions: Sequence[Condition],
        parameter_names: Sequence[str] = (),
        w0: float = 1.0,
        backend: str = "compiled",
        dt_ms: float = 0.1,
    ):
        super().__init__(rule, conditions, parameter_names, w0)
        self.backend = backend
        self.dt_ms = float(dt_ms)
        self.label = f"brian2 ({backend})"
        self.protocol = Protocol(
            name="fit",
            conditions=self.conditions,
            columns=(),
            description="fit conditions",
            default_rule=rule.kind,
        )
        self._compiled: dict[tuple, Any] = {}
        from ..protocols import needs_post_neuron, protocol_conventions

        needs_neuron = needs_post_neuron(rule)
        if needs_neuron and "neuron" not in protocol_conventions(rule):
            raise ConfigurationError(
                f"rule {rule.kind!r} cannot run the protocol conditions: it needs a postsynaptic "
                "neuron with voltage, and declares none in protocol_conventions['neuron'] "
                "(Clopath's rule names 'clopath2010-adex')"
            )
        self._needs_neuron = needs_neuron
        compiled = backend == "compiled" and not needs_neuron
        self._runtime = self._runtime_names() if compiled else ()

    def _runtime_names(self) -> tuple[str, ...]:
        from ..neurons import SpikeTrains
        from ..rule import RuleContext

        dimensionless = [n for n in self.parameter_names if not _has_unit(getattr(self.rule, n))]
        placeholder = self.rule.replace(**{n: 1.0 for n in dimensionless})
        context = RuleContext("synapse", SpikeTrains([[]]), SpikeTrains([[]]), None)
        try:
            constants = set(placeholder.contribute(context).namespace)
        except SpikeplastError as error:
            raise ConfigurationError(
                f"rule {self.rule.kind!r} cannot run the protocol conditions: {error}"
            ) from None
        return tuple(n for n in self.parameter_names if n in constants)

    def final_weights(self, values: Any) -> np.ndarray:
        batch = self._as_batch(values)
        rows = []
        for row in batch:
            rows.append(self._run_one(row))
        return np.array(rows)

    def _run_one(self, row: np.ndarray) -> np.ndarray:
        rule = self.rule_with(row)
        try:
            if self.backend != "compiled" or self._needs_neuron:
                # Voltage rules drive a neuron model, which the compiled protocol network (spike
                # trains on both sides) cannot express yet: one cpp_standalone run per set, the
                # object cache making rebuilds cheap (seconds) next to the run.
                backend = "cpp_standalone" if self.backend == "compiled" else self.backend
                from brian2 import ms

                from ..protocols import run_protocol

                result = run_protocol(
                    rule, self.protocol, backend=backend, dt=self.dt_ms * ms, w0=self.w0
                )
                return np.asarray(result.final_weights, dtype=float)
            return self._run_compiled(rule, row)
        except SpikeplastError as error:
            raise ConfigurationError(
                f"rule {self.rule.kind!r} cannot run the protocol conditions: {error}"
            ) from None

    def _run_compiled(self, rule: Rule, row: np.ndarray) -> np.ndarray:
        from ..compiled import CompiledNetwork
        from ..protocols import protocol_network_data

        runtime = set(self._runtime)
        # Structure: every value except the run-time constants, which are compiled as a non-zero
        # placeholder so that no term is left out of the code (a rule may drop a zero term).
        structural = {
            f.name: _exact_text(rule, f.name)
            for f in rule.parameter_fields()
            if f.name not in runtime
        }
        structural.update({n: 1.0 for n in runtime})
        key = tuple(sorted((k, str(v)) for k, v in structural.items()))
        if key not in self._compiled:
            data = protocol_network_data(self.protocol, rule.kind, structural, self.dt_ms)
            data["projections"]["synapse"]["w_init"] = self.w0
            paths = [f"projections.synapse.rule_parameters.{n}" for n in sorted(runtime)]
            self._compiled[key] = CompiledNetwork.from_data(data, runtime=paths)
        compiled = self._compiled[key]
        values = {
            f"projections.synapse.rule_parameters.{n}": float(getattr(rule, n)) for n in runtime
        }
        result = compiled.run(values)
        return np.asarray(result.weights["synapse"], dtype=float)


#: Evaluator classes by ``--evaluator`` name.
EVALUATORS: dict[str, type[Evaluator]] = {"numba": TraceRuleEvaluator, "brian2": BrianEvaluator}


def make_evaluator(
    rule: Rule,
    conditions: Sequence[Condition],
    parameter_names: Sequence[str] = (),
    method: str = "auto",
    w0: float = 1.0,
    **options: Any,
) -> Evaluator:
    """An evaluator for `rule` on `conditions`.

    Parameters
    ----------
    method
        ``"auto"`` (Numba where the rule has a kernel, else Brian2), ``"numba"`` or
        ``"brian2"``.
    **options
        Passed to :class:`BrianEvaluator` (``backend``, ``dt_ms``).
    """
    if method == "auto":
        method = "numba" if rule.kind in FAST_RULES else "brian2"
    if method not in EVALUATORS:
        raise ConfigurationError(f"unknown evaluator {method!r}; use auto, {', '.join(EVALUATORS)}")
    if method == "numba":
        return TraceRuleEvaluator(rule, conditions, parameter_names, w0)
    return BrianEvaluator(rule, conditions, parameter_names, w0, **options)
