"""The composer: populations and projections in, Brian2 objects and a name map out.

:func:`build` turns :class:`Population` and :class:`Projection` specifications into Brian2
``NeuronGroup`` and ``Synapses`` objects inside an explicit ``Network``:

* each neuron-side need (a trace, a filtered voltage) requested by any rule is added once per
  group, keyed by what it computes, so projections with different rules share it;
* each projection is its own ``Synapses`` object, so rule variables never collide between
  projections; collisions with neuron variables are reported before Brian2 sees them;
* the returned :class:`Built` maps ``(projection or population, variable)`` to Brian2 names, so
  monitors never guess, and freezes or unfreezes plasticity per projection.

Build inside a :class:`spikeplast.backend.Session` (it selects the target or device first).
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from brian2 import Network, NeuronGroup, PoissonInput, SpikeMonitor, StateMonitor, Synapses
from brian2.units.fundamentalunits import Quantity, get_dimensions

from .errors import ConfigurationError, SimulationError, UnknownNameError, suggest
from .needs import STORAGES, TRACE_TIME, Need, Trace
from .neurons import NeuronModel, SpikeTrains
from .params import format_quantity
from .poisson_input import AliasPoissonInput
from .rule import RESERVED_SYNAPSE_NAMES, Contribution, Rule, RuleContext

__all__ = ["Population", "PoissonDrive", "Projection", "Built", "build", "DEFAULT_RUNAWAY_LIMIT"]

#: |w| above which an unbounded weight counts as having run away.
DEFAULT_RUNAWAY_LIMIT = 1e4

_BRIAN_RESERVED = {"t", "dt", "i", "j", "N", "xi", "lastspike", "not_refractory", "network"}


@dataclass(frozen=True)
class PoissonDrive:
    """External Poisson input onto a receptor of every neuron of a population.

    Equivalent to `n` independent Poisson sources at `rate`, each adding `weight` (in the
    receptor's unit, e.g. ``0.1*mV`` for delta synapses or ``1*nS``) at each spike; drawn as one
    binomial number per neuron and step, which is far cheaper than simulating the sources.

    ``sampler`` chooses how the binomial number is drawn: ``"inversion"`` (Brian2's
    ``PoissonInput``: sequential inversion, a normal approximation for ``n*rate*dt > 5``) or
    ``"alias"`` (:class:`~spikeplast.poisson_input.AliasPoissonInput`: the exact binomial
    distribution from an alias table, one uniform number per draw; several times faster, a
    different random stream).
    """

    n: int
    rate: Quantity
    weight: Quantity
    receptor: str = "exc"
    sampler: str = "inversion"


#: Ways of drawing the binomial count of a :class:`PoissonDrive`.
DRIVE_SAMPLERS = ("inversion", "alias")


@dataclass(frozen=True)
class Population:
    """A group of neurons of one model.

    Parameters
    ----------
    name
        Identifier, unique in the network; becomes the Brian2 group name.
    model
        Neuron model or spike source.
    n
        Number of neurons (implied by :class:`SpikeTrains`).
    init
        Initial values overriding the model's (``{"v": -65*mV}``, strings allowed).
    drives
        External Poisson inputs (:class:`PoissonDrive`).
    """

    name: str
    model: NeuronModel
    n: int | None = None
    init: Mapping[str, Any] = field(default_factory=dict)
    drives: tuple[PoissonDrive, ...] = ()

    def size(self) -> int:
        implied = self.model.size()
        if implied is not None:
            if self.n is not None and self.n != implied:
                raise ConfigurationError(
                    f"population {self.name!r}: n = {self.n} but the spike source has "
                    f"{implied} trains"
                )
            return implied
        if self.n is None or int(self.n) != self.n or self.n < 1:
            raise ConfigurationError(
                f"population {self.name!r}: give the number of neurons n >= 1, got {self.n!r}"
            )
        return int(self.n)


@dataclass(frozen=True)
class Projection:
    """Synapses from one population to another, with an optional plasticity rule.

    Parameters
    ----------
    name
        Identifier, unique in the network; becomes the Brian2 ``Synapses`` name.
    pre, post
        Population names.
    rule
        Plasticity rule (``None`` for static synapses).
    receptor
        Receptor of the postsynaptic model that spikes drive (``"exc"``/``"inh"``); ``None``
        for no transmission (e.g. onto spike sources in plasticity protocols). Default: ``"exc"``
        if the target has receptors, else ``None``.
    weight_scale
        Converts the dimensionless weight into the receptor's unit (e.g. ``0.5*nS``).
    connect
        ``"all-to-all"``, ``"one-to-one"``, or keyword arguments of ``Synapses.connect``
        (``{"p": 0.1}``, ``{"condition": "i != j"}``, ``{"i": [...], "j": [...]}``).
    w_init
        Initial weight: number, array (one per synapse) or string expression.
    delay
        Transmission delay.
    plasticity_at
        Where plasticity sees presynaptic spikes: ``"soma"`` (default: at their emission; only
        transmission is delayed) or ``"arrival"`` (at the synapse, `delay` later, as in Brian2
        models that put the plasticity code in the delayed pathway; presynaptic traces then
        jump on arrival, see :mod:`.needs`). Postsynaptic spikes count at the soma in both.
        With ``"arrival"`` transmission and plasticity share one delayed pathway, which saves a
        pass over the synapses per presynaptic spike.
    plastic
        Start with plasticity on (can be switched later with :meth:`Built.set_plastic`).
    modulator
        Population whose spikes act as the third factor of a three-factor rule (e.g. dopamine
        neurons); every spike runs the rule's ``on_modulator`` code on all synapses.
    runtime_parameters
        Rule constants to declare as shared synaptic variables instead of compiled-in constants,
        so that compiled backends can change them between runs without recompiling.
    weight_dtype
        ``"float64"`` (default) or ``"float32"`` weights: half the memory traffic per synapse,
        at a relative precision of ~1e-7 per update.
    """

    name: str
    pre: str
    post: str
    rule: Rule | None = None
    receptor: str | None = "default"
    weight_scale: Quantity | None = None
    connect: str | Mapping[str, Any] = "all-to-all"
    w_init: Any = 1.0
    delay: Quantity | None = None
    plastic: bool = True
    modulator: str | None = None
    runtime_parameters: tuple[str, ...] = ()
    weight_dtype: str = "float64"
    plasticity_at: str = "soma"


#: Where a plastic projection sees presynaptic spikes (:attr:`Projection.plasticity_at`).
PLASTICITY_SITES = ("soma", "arrival")


def _arrival_steps(projection: Projection, dt: Quantity) -> int:
    """Delay in steps at which the projection's plasticity sees presynaptic spikes (0: soma)."""
    if projection.plasticity_at not in PLASTICITY_SITES:
        raise ConfigurationError(
            f"projection {projection.name!r}: plasticity_at must be one of "
            f"{', '.join(PLASTICITY_SITES)}, got {projection.plasticity_at!r}"
        )
    if projection.plasticity_at == "soma" or projection.delay is None:
        return 0
    return int(round(float(projection.delay / dt)))


@dataclass
class Built:
    """Brian2 objects of a composed network and the names that address them.

    Attributes
    ----------
    network
        The explicit ``brian2.Network`` holding every object.
    groups, synapses
        Brian2 objects by population / projection name.
    rules
        Rule of each plastic projection.
    names
        ``(owner, variable) -> "brian_object.variable"`` for rule variables, weights and
        neuron-side needs (e.g. ``("pre", "trace_aa_16p8ms")``).
    """

    network: Network
    groups: dict[str, NeuronGroup]
    synapses: dict[str, Synapses]
    rules: dict[str, Rule]
    names: dict[tuple[str, str], str]
    monitors: dict[str, Any] = field(default_factory=dict)

    # -- access ------------------------------------------------------------------------------
    def _owner(self, owner: str) -> Any:
        if owner in self.synapses:
            return self.synapses[owner]
        if owner in self.groups:
            return self.groups[owner]
        known = list(self.synapses) + list(self.groups)
        raise UnknownNameError(f"no population or projection {owner!r}.{suggest(owner, known)}")

    def variable_name(self, owner: str, variable: str) -> str:
        """Brian2 variable name of `variable` of a population or projection."""
        obj = self._owner(owner)
        if (owner, variable) in self.names:
            return self.names[(owner, variable)].split(".", 1)[1]
        if variable in obj.variables:
            return variable
        known = [v for (o, v) in self.names if o == owner]
        raise UnknownNameError(
            f"{owner!r} has no variable {variable!r}.{suggest(variable, known)}"
            f" Known: {', '.join(sorted(known))}"
        )

    def weights(self, projection: str) -> np.ndarray:
        """Current weights of a projection (after the run on standalone backends)."""
        if projection not in self.synapses:
            raise UnknownNameError(
                f"no projection {projection!r}.{suggest(projection, self.synapses)}"
            )
        return np.asarray(self.synapses[projection].w[:], dtype=float).copy()

    def set_plastic(self, projection: str, on: bool) -> None:
        """Switch plasticity of a projection on or off (no rebuild)."""
        if projection not in self.rules:
            raise UnknownNameError(
                f"no plastic projection {projection!r}.{suggest(projection, self.rules)}"
            )
        self.synapses[projection].plastic = 1.0 if on else 0.0

    # -- monitors ----------------------------------------------------------------------------
    def monitor(
        self,
        owner: str,
        variables: str | Sequence[str],
        record: Any = True,
        dt: Quantity | None = None,
        when: str = "end",
        name: str | None = None,
    ) -> StateMonitor:
        """Record variables of a population or projection (indices are checked)."""
        obj = self._owner(owner)
        if isinstance(variables, str):
            variables = [variables]
        resolved = [self.variable_name(owner, v) for v in variables]
        if record is not True and record is not False:
            indices = np.atleast_1d(np.asarray(record))
            try:
                size = len(obj)
            except Exception:  # synapse counts are unknown before a standalone run
                size = None
            if indices.size and (indices.min() < 0 or (size is not None and indices.max() >= size)):
                raise ConfigurationError(
                    f"monitor on {owner!r}: record indices must be in 0..{(size or 1) - 1}, "
                    f"got {indices.min()}..{indices.max()}"
                )
            record = indices
        monitor = StateMonitor(
            obj, resolved, record=record, dt=dt, when=when, name=name or f"{owner}_state_monitor"
        )
        self.network.add(monitor)
        self.monitors[monitor.name] = monitor
        return monitor

    def spike_monitor(self, population: str, name: str | None = None) -> SpikeMonitor:
        """Record the spikes of a population."""
        if population not in self.groups:
            raise UnknownNameError(
                f"no population {population!r}.{suggest(population, self.groups)}"
            )
        monitor = SpikeMonitor(self.groups[population], name=name or f"{population}_spikes")
        self.network.add(monitor)
        self.monitors[monitor.name] = monitor
        return monitor

    def check_monitor_indices(self) -> None:
        """After a standalone run: fail if a monitor recorded synapse indices that do not exist
        (Brian2 cannot check them before the run and would return uninitialised memory)."""
        for monitor in self.monitors.values():
            if not isinstance(monitor, StateMonitor):
                continue
            size = len(monitor.source)
            indices = np.asarray(monitor.record)
            if indices.size and indices.max() >= size:
                raise ConfigurationError(
                    f"monitor {monitor.name!r} records index {int(indices.max())}, but "
                    f"{monitor.source.name!r} has only {size} elements"
                )

    # -- health ------------------------------------------------------------------------------
    def check_weights(self, runaway_limit: float = DEFAULT_RUNAWAY_LIMIT) -> None:
        """Raise :class:`SimulationError` if a plastic weight is NaN, infinite or runs away."""
        for name, rule in self.rules.items():
            w = self.weights(name)
            if w.size == 0:
                continue
            if not np.all(np.isfinite(w)):
                bad = int(np.argmax(~np.isfinite(w)))
                raise SimulationError(
                    f"projection {name!r}: weight of synapse {bad} became {w[bad]}; the rule "
                    f"{rule.kind!r} is numerically unstable with these parameters (reduce the "
                    "amplitudes or the time step, or add weight bounds)"
                )
            limit = runaway_limit if math.isinf(rule.w_max) else math.inf
            if np.max(np.abs(w)) > limit:
                bad = int(np.argmax(np.abs(w)))
                raise SimulationError(
                    f"projection {name!r}: weight of synapse {bad} ran away to {w[bad]:.4g} "
                    f"(limit {limit:g}); set a finite w_max or smaller amplitudes"
                )


def _check_identifier(name: str, what: str) -> None:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ConfigurationError(
            f"{what} name {name!r} must be a Python identifier (letters, digits, underscores)"
        )
    if name.startswith("_") or name in _BRIAN_RESERVED:
        raise ConfigurationError(f"{what} name {name!r} is reserved; choose another name")


def _variables_of(equations: str) -> set[str]:
    """Names declared by Brian2 equation lines (``dx/dt = ...``, ``x = ...``, ``x : unit``)."""
    names = set()
    for line in equations.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or ":" not in line:
            continue
        head = line.split(":", 1)[0].split("=", 1)[0].strip()
        if head.startswith("d") and "/dt" in head:
            head = head[1 : head.index("/dt")]
        names.add(head.strip())
    return names


class _GroupPlan:
    """Neuron-side state collected for one population before its group is created."""

    def __init__(self, population: Population):
        self.population = population
        self.needs: dict[tuple, Need] = {}

    def add(self, needs: Mapping[tuple, Need]) -> None:
        for key, need in needs.items():
            self.needs.setdefault(key, need)

    @property
    def uses_trace_time(self) -> bool:
        return any(need.uses_trace_time for need in self.needs.values())

    def equations(self) -> str:
        model = self.population.model
        lines = [model.equations().strip()]
        lines += [need.group_equations() for need in self.needs.values()]
        if self.uses_trace_time:
            lines.append(f"{TRACE_TIME} : second")
        return "\n".join(line for line in lines if line) + "\n"

    def reset(self) -> str:
        lines = [self.population.model.reset().strip()]
        lines += [need.group_reset() for need in self.needs.values()]
        if self.uses_trace_time:
            lines.append(f"{TRACE_TIME} = t")
        return "\n".join(line for line in lines if line)

    def method(self) -> Any:
        method = self.population.model.method()
        if method == "exact" and not all(need.linear for need in self.needs.values()):
            return ("exact", "euler")  # a nonlinear filter makes exact integration impossible
        return method

    def namespace(self, dt: Quantity) -> dict[str, Any]:
        model = self.population.model
        namespace = dict(model.namespace(self.population.name))
        for need in self.needs.values():
            namespace.update(need.group_namespace())
        if isinstance(model, SpikeTrains):
            namespace["spike_times"] = model.build_table(self.population.name, dt)
        return namespace


def _connect(synapses: Synapses, spec: str | Mapping[str, Any], name: str) -> None:
    if spec == "all-to-all":
        synapses.connect()
    elif spec == "one-to-one":
        if len(synapses.source) != len(synapses.target):
            raise ConfigurationError(
                f"projection {name!r}: one-to-one needs equal sizes, got "
                f"{len(synapses.source)} -> {len(synapses.target)}"
            )
        synapses.connect(j="i")
    elif isinstance(spec, Mapping):
        allowed = {"condition", "i", "j", "p", "n", "skip_if_invalid"}
        unknown = set(spec) - allowed
        if unknown:
            raise ConfigurationError(
                f"projection {name!r}: unknown connect option(s) {sorted(unknown)}; "
                f"use {sorted(allowed)}"
            )
        synapses.connect(**dict(spec))
    else:
        raise ConfigurationError(
            f"projection {name!r}: connect must be 'all-to-all', 'one-to-one' or a mapping of "
            f"Synapses.connect arguments, got {spec!r}"
        )


def _transmission(projection: Projection, post_model: NeuronModel) -> str:
    receptors = post_model.receptors()
    receptor = projection.receptor
    if receptor == "default":
        receptor = "exc" if "exc" in receptors else None
    if receptor is None:
        return ""
    if receptor not in receptors:
        if not receptors:
            raise ConfigurationError(
                f"projection {projection.name!r} targets {projection.post!r}, a "
                f"{type(post_model).__name__} without receptors; use receptor=None"
            )
        raise ConfigurationError(
            f"projection {projection.name!r}: unknown receptor {receptor!r}."
            f"{suggest(receptor, receptors)} Known: {', '.join(receptors)}"
        )
    target = receptors[receptor]
    scale = projection.weight_scale
    if scale is None or get_dimensions(scale) is not get_dimensions(target.unit):
        raise ConfigurationError(
            f"projection {projection.name!r}: weight_scale must have the unit of {target.unit} "
            f"for receptor {receptor!r} of {type(post_model).__name__} ({post_model.synapse} "
            f"synapses), got {format_quantity(scale) if scale is not None else 'nothing'}"
        )
    operator = "+=" if target.sign > 0 else "-="
    return f"{target.variable}_post {operator} w*weight_scale"


def _check_names(
    projection: Projection,
    contribution: Contribution,
    namespace: Mapping[str, Any],
    pre: NeuronGroup,
    post: NeuronGroup,
) -> None:
    group_variables = set(pre.variables) | set(post.variables)
    declared = _variables_of(contribution.model)
    for name in declared & set(RESERVED_SYNAPSE_NAMES):
        raise ConfigurationError(
            f"projection {projection.name!r}: the rule declares {name!r}, which the composer "
            "declares itself; rename it in the rule"
        )
    for name in sorted((declared | {"w", "plastic"}) & group_variables):
        raise ConfigurationError(
            f"projection {projection.name!r}: synaptic variable {name!r} has the same name as a "
            f"variable of population {projection.pre!r} or {projection.post!r}; rename one"
        )
    for name in sorted(set(namespace) & group_variables):
        raise ConfigurationError(
            f"projection {projection.name!r}: rule constant {name!r} would be shadowed by the "
            f"neuron variable {name!r}; rename the constant in the rule"
        )


def _set_initial(obj: Any, values: Mapping[str, Any], owner: str) -> None:
    for variable, value in values.items():
        if variable not in obj.variables:
            raise ConfigurationError(
                f"{owner!r}: cannot set initial value of unknown variable {variable!r}."
                f"{suggest(variable, obj.variables)}"
            )
        try:
            setattr(obj, variable, value)
        except Exception as error:  # Brian2 raises several types for bad values/units
            raise ConfigurationError(
                f"{owner!r}: cannot set {variable} = {value!r}: {error}"
            ) from None


_BASE_UNITS = ("metre", "kilogram", "second", "amp", "kelvin", "mole", "candela")


def unit_expression(value: Any) -> str:
    """Brian2 equation unit of a value: ``"1"``, ``"second"``, ``"metre**2*kilogram*..."``."""
    dimensions = get_dimensions(value)
    exponents = getattr(dimensions, "_dims", ())
    parts = [
        f"{base}**{float(e):g}" if e != 1 else base
        for base, e in zip(_BASE_UNITS, exponents, strict=False)
        if e != 0
    ]
    return "*".join(parts) if parts else "1"


def _promote(projection: Projection, namespace: dict[str, Any]) -> dict[str, Any]:
    """Move `projection.runtime_parameters` out of the namespace; return their values."""
    promoted = {}
    for name in projection.runtime_parameters:
        if name not in namespace:
            raise ConfigurationError(
                f"projection {projection.name!r}: {name!r} is not a constant of its rule's code, "
                "so it cannot change without rebuilding (constants: "
                f"{', '.join(sorted(namespace))})"
            )
        promoted[name] = namespace.pop(name)
    return promoted


def _drives(population: Population, group: NeuronGroup) -> list[Any]:
    receptors = population.model.receptors()
    inputs = []
    for index, drive in enumerate(population.drives):
        where = f"population {population.name!r}, drive {index}"
        if drive.receptor not in receptors:
            raise ConfigurationError(
                f"{where}: unknown receptor {drive.receptor!r}.{suggest(drive.receptor, receptors)}"
            )
        target = receptors[drive.receptor]
        if get_dimensions(drive.weight) is not get_dimensions(target.unit):
            raise ConfigurationError(
                f"{where}: weight must have the unit of {target.unit}, got "
                f"{format_quantity(drive.weight)}"
            )
        if not (int(drive.n) == drive.n and drive.n >= 1) or not float(drive.rate) >= 0:
            raise ConfigurationError(f"{where}: n must be >= 1 and rate >= 0")
        if drive.sampler not in DRIVE_SAMPLERS:
            raise ConfigurationError(
                f"{where}: unknown sampler {drive.sampler!r}."
                f"{suggest(drive.sampler, DRIVE_SAMPLERS)}"
            )
        if not float(drive.rate * group.clock.dt) <= 1:
            raise ConfigurationError(
                f"{where}: rate {format_quantity(drive.rate)} is more than one spike per source "
                f"and time step ({format_quantity(group.clock.dt)}); lower the rate or dt"
            )
        source = AliasPoissonInput if drive.sampler == "alias" else PoissonInput
        inputs.append(
            source(
                group, target.variable, int(drive.n), drive.rate, weight=drive.weight * target.sign
            )
        )
    return inputs


def _delay_lines(plan: _GroupPlan, group: NeuronGroup, dt: Quantity) -> list[Any]:
    """One delay line per arrival delay of the group's traces (see :mod:`.needs`)."""
    by_steps: dict[int, list[Trace]] = {}
    for need in plan.needs.values():
        if isinstance(need, Trace) and need.delay_steps:
            by_steps.setdefault(int(need.delay_steps), []).append(need)
    lines = []
    for steps, traces in sorted(by_steps.items()):
        line = Synapses(
            group,
            group,
            on_pre="\n".join(trace.arrival_code() for trace in traces),
            delay=steps * dt,
            name=f"{group.name}_arrivals_{steps}",
        )
        line.connect(j="i")
        # after the plastic projections' presynaptic pathways (order -1), which read the value
        # before an arrival, and before their postsynaptic pathways (order 1), which read it after
        line.pre.order = 0
        lines.append(line)
    return lines


def _scheduled_code(
    projection: Projection,
    contribution: Contribution,
    synapse: Synapses,
    groups: Mapping[str, NeuronGroup],
    namespace: Mapping[str, Any],
) -> list[Any]:
    """Per-step and periodic synaptic code, and the modulator pathway of a projection."""
    if contribution.every_step:
        synapse.run_regularly(
            contribution.every_step, when="start", name=f"{projection.name}_every_step"
        )
    for index, (code, interval) in enumerate(contribution.periodic):
        # order -1: before monitors (order 0) in the same slot, which then record updated values
        synapse.run_regularly(
            code, dt=interval, when="end", order=-1, name=f"{projection.name}_periodic_{index}"
        )
    if projection.modulator is None:
        return []
    if not contribution.on_modulator:
        raise ConfigurationError(
            f"projection {projection.name!r} has a modulator population, but its rule "
            f"{projection.rule.kind if projection.rule else None!r} does not use one"
        )
    modulation = Synapses(
        groups[projection.modulator],
        synapse,
        on_pre=contribution.on_modulator,
        namespace=dict(namespace),
        name=f"{projection.name}_modulation",
    )
    modulation.connect()
    return [modulation]


def build(
    populations: Sequence[Population],
    projections: Sequence[Projection],
    dt: Quantity,
    trace_storage: str = "clock",
) -> Built:
    """Create the Brian2 objects of a network (inside an active backend session).

    Parameters
    ----------
    populations, projections
        The network specification.
    dt
        Simulation time step (spike trains are checked against it).
    trace_storage
        ``"clock"`` or ``"event"``: how neuron-side traces are stored (see :mod:`.needs`).
    """
    if trace_storage not in STORAGES:
        raise ConfigurationError(
            f"trace_storage must be one of {', '.join(STORAGES)}, got {trace_storage!r}"
        )
    names_seen: set[str] = set()
    by_name: dict[str, Population] = {}
    for population in populations:
        _check_identifier(population.name, "population")
        if population.name in names_seen:
            raise ConfigurationError(f"duplicate name {population.name!r}")
        names_seen.add(population.name)
        by_name[population.name] = population
        if hasattr(population.model, "validate") and not isinstance(population.model, SpikeTrains):
            population.model.validate()
    plans = {name: _GroupPlan(p) for name, p in by_name.items()}

    contributions: dict[str, tuple[Contribution, dict[str, Any]]] = {}
    arrival_steps: dict[str, int] = {}
    for projection in projections:
        _check_identifier(projection.name, "projection")
        if projection.name in names_seen:
            raise ConfigurationError(f"duplicate name {projection.name!r}")
        names_seen.add(projection.name)
        for end in (projection.pre, projection.post):
            if end not in by_name:
                raise UnknownNameError(
                    f"projection {projection.name!r} refers to unknown population {end!r}."
                    f"{suggest(end, by_name)}"
                )
        if projection.modulator is not None and projection.modulator not in by_name:
            raise UnknownNameError(
                f"projection {projection.name!r}: unknown modulator population "
                f"{projection.modulator!r}.{suggest(projection.modulator, by_name)}"
            )
        arrival_steps[projection.name] = _arrival_steps(projection, dt)
        if projection.rule is None:
            continue
        if not isinstance(projection.rule, Rule):
            raise ConfigurationError(
                f"projection {projection.name!r}: rule must be a Rule object (use get_rule(name))"
            )
        projection.rule.validate()
        ctx = RuleContext(
            projection.name,
            by_name[projection.pre].model,
            by_name[projection.post].model,
            by_name[projection.modulator].model if projection.modulator else None,
            rule_kind=projection.rule.kind,
            trace_storage=trace_storage,
            dt=dt,
            arrival_steps=arrival_steps[projection.name],
        )
        contribution = projection.rule.contribute(ctx)
        plans[projection.pre].add(ctx.pre_needs)
        plans[projection.post].add(ctx.post_needs)
        contributions[projection.name] = (contribution, {**ctx.namespace})

    names: dict[tuple[str, str], str] = {}
    groups: dict[str, NeuronGroup] = {}
    extra_objects: list[Any] = []
    for name, plan in plans.items():
        population = plan.population
        model = population.model
        n = population.size()
        group = NeuronGroup(
            n,
            plan.equations(),
            threshold=model.threshold(),
            reset=plan.reset() or None,
            refractory=model.refractory(),
            method=plan.method(),
            namespace=plan.namespace(dt),
            events={event: condition for event, (condition, _) in model.events().items()} or None,
            name=name,
        )
        for event, (_, statements) in model.events().items():
            group.run_on_event(event, statements)
        _set_initial(group, model.initial_values(n, dt), name)
        _set_initial(group, population.init, name)
        for need in plan.needs.values():
            names[(name, need.variable_name())] = f"{name}.{need.variable_name()}"
            _set_initial(group, need.initial_values(), name)
        every_step = "\n".join(filter(None, (n.group_every_step() for n in plan.needs.values())))
        if every_step:
            # before everything else in the step, so synaptic code sees values at time t
            group.run_regularly(every_step, when="start", order=-100, name=f"{name}_traces")
        groups[name] = group
        extra_objects += _drives(population, group)
        extra_objects += _delay_lines(plan, group, dt)

    synapses: dict[str, Synapses] = {}
    rules: dict[str, Rule] = {}
    for projection in projections:
        pre, post = groups[projection.pre], groups[projection.post]
        transmit = _transmission(projection, by_name[projection.post].model)
        contribution, need_namespace = contributions.get(projection.name, (Contribution(), {}))
        namespace = {**need_namespace, **contribution.namespace}
        if transmit:
            namespace["weight_scale"] = projection.weight_scale
        _check_names(projection, contribution, namespace, pre, post)
        model = "w : 1\n"
        if projection.rule is not None:
            model += "plastic : 1 (shared)\n" + contribution.model
        promoted = _promote(projection, namespace)
        model += "".join(
            f"{name} : {unit_expression(value)} (shared, constant)\n"
            for name, value in promoted.items()
        )
        delay: Any = None
        if projection.rule is not None and arrival_steps[projection.name]:
            # plasticity at the synapse: transmission and plasticity in one delayed pathway
            on_pre = "\n".join(code for code in (transmit, contribution.on_pre) if code)
            delay = projection.delay
        elif projection.delay is not None and float(projection.delay) > 0 and transmit:
            if contribution.on_pre:
                # Plasticity runs on somatic spike times; only transmission is delayed.
                on_pre: Any = {"pre": contribution.on_pre, "transmit": transmit}
                delay = {"transmit": projection.delay}
            else:  # nothing to do at the soma: one delayed pathway
                on_pre, delay = transmit, projection.delay
        else:
            on_pre = "\n".join(code for code in (transmit, contribution.on_pre) if code)
        if projection.weight_dtype not in ("float64", "float32"):
            raise ConfigurationError(
                f"projection {projection.name!r}: weight_dtype must be 'float64' or 'float32', "
                f"got {projection.weight_dtype!r}"
            )
        synapse = Synapses(
            pre,
            post,
            model=model,
            dtype={"w": np.dtype(projection.weight_dtype)},
            on_pre=on_pre or None,
            on_post=contribution.on_post or None,
            namespace=namespace,
            delay=delay,
            name=projection.name,
        )
        _connect(synapse, projection.connect, projection.name)
        _set_initial(synapse, {"w": projection.w_init}, projection.name)
        _set_initial(synapse, promoted, projection.name)
        _set_initial(synapse, dict(contribution.init), projection.name)
        names[(projection.name, "w")] = f"{projection.name}.w"
        for variable in _variables_of(contribution.model) | set(contribution.probeable):
            names[(projection.name, variable)] = f"{projection.name}.{variable}"
        if projection.rule is not None:
            synapse.plastic = 1.0 if projection.plastic else 0.0
            rules[projection.name] = projection.rule
        synapses[projection.name] = synapse
        extra_objects += _scheduled_code(projection, contribution, synapse, groups, namespace)

    network = Network(
        *groups.values(), *synapses.values(), *extra_objects, name="spikeplast_network"
    )
    return Built(network=network, groups=groups, synapses=synapses, rules=rules, names=names)
