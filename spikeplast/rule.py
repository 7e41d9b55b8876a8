"""The rule abstraction: a frozen parameter object that contributes code to one projection.

A rule is declared as a frozen dataclass (fields made with :func:`spikeplast.params.param`) and
implements :meth:`Rule.contribute`. Given a :class:`RuleContext`, it requests the neuron-side
state it needs (``ctx.pre(Trace(...))``, ``ctx.post(...)``) and returns a :class:`Contribution`:
synaptic equations, the statements to run at pre- and postsynaptic spikes, and the constants
those statements use. The composer (:mod:`spikeplast.compose`) turns contributions into Brian2
``Synapses`` and adds the requested neuron-side state to the groups, once per group.

Conventions every rule follows
------------------------------
* The weight ``w`` is dimensionless; the projection's ``weight_scale`` turns it into a current,
  conductance or voltage jump. The composer declares ``w``; rules update it.
* Every weight change is multiplied by the shared variable ``plastic`` (1 or 0), so a projection
  can be frozen (``Projection(plastic=False)`` or ``built.set_plastic(name, False)``) without
  rebuilding.
* Hard bounds ``w_min <= w <= w_max`` are applied with ``clip`` after each change.
* A rule's header states its pairing scheme and the order of coincident pre/post spikes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import ConfigurationError, ParameterError
from .needs import Need, Trace
from .params import Params, param

if TYPE_CHECKING:
    from .neurons import NeuronModel

__all__ = [
    "Rule",
    "Contribution",
    "RuleContext",
    "RESERVED_SYNAPSE_NAMES",
    "required_capabilities",
]

#: Names the composer declares in every plastic Synapses object.
RESERVED_SYNAPSE_NAMES = ("w", "plastic", "weight_scale", "w_min", "w_max")


@dataclass(frozen=True, kw_only=True)
class Contribution:
    """What a rule adds to the ``Synapses`` object of one projection.

    Attributes
    ----------
    model
        Extra synaptic equations (``w`` and ``plastic`` are declared by the composer).
    on_pre
        Statements run at each presynaptic spike, after synaptic transmission.
    on_post
        Statements run at each postsynaptic spike.
    namespace
        Constants used by the statements (rule parameters with units).
    init
        Initial values of synaptic variables declared in `model`.
    probeable
        Synaptic variables a monitor may record, besides ``w``.
    every_step
        Statements run on every synapse at the start of each time step (before the neurons are
        updated), e.g. the continuous part of a voltage-based rule (forward Euler in ``dt``).
    periodic
        ``(statements, interval)`` pairs run on every synapse every `interval`, e.g. to bring
        lazily integrated weights up to date.
    on_modulator
        Statements run on every synapse of the projection at each spike of the projection's
        modulator population (see ``Projection.modulator``); plain synaptic variable names.
    """

    model: str = ""
    on_pre: str = ""
    on_post: str = ""
    namespace: Mapping[str, Any] = field(default_factory=dict)
    init: Mapping[str, Any] = field(default_factory=dict)
    probeable: tuple[str, ...] = ()
    every_step: str = ""
    periodic: tuple[tuple[str, Any], ...] = ()
    on_modulator: str = ""


@dataclass(frozen=True, eq=False, kw_only=True)
class Rule(Params):
    """Base class of plasticity rules.

    Subclasses set the class attribute `kind` (the registry name of the rule family), declare
    their parameters as fields and implement :meth:`contribute`.
    """

    kind: ClassVar[str] = ""
    #: One-line description for ``spikeplast rules``.
    summary: ClassVar[str] = ""

    w_min: float = param(0.0, 1, "lower hard bound of the weight")
    w_max: float = param(float("inf"), 1, "upper hard bound of the weight")

    def contribute(self, ctx: RuleContext) -> Contribution:
        """Request neuron-side state through `ctx` and return the synaptic code."""
        raise NotImplementedError

    def check(self) -> None:
        if not self.w_min < self.w_max:
            raise ParameterError(
                f"{self.kind}: w_min ({self.w_min}) must be smaller than w_max ({self.w_max})"
            )

    def bounds_namespace(self) -> dict[str, float]:
        return {"w_min": float(self.w_min), "w_max": float(self.w_max)}

    def with_parameters(self, **changes: Any) -> Rule:
        """Copy with parameters changed; values may be strings with units (``"20 ms"``)."""
        return self.replace(**changes)  # type: ignore[return-value]


class RuleContext:
    """Handed to :meth:`Rule.contribute`: resolves neuron-side requests to variable names.

    Parameters
    ----------
    projection
        Name of the projection being built.
    pre_model, post_model
        The neuron models of the pre- and postsynaptic populations.
    dt
        The simulation time step, for rules whose neuron-side state depends on it (a delay line
        of a whole number of steps); ``None`` when the context only inspects a rule's code.
    arrival_steps
        Plasticity at the synapse: presynaptic spikes count this many steps late (the
        transmission delay), so presynaptic traces become arrival traces (see :mod:`.needs`).
    """

    def __init__(
        self,
        projection: str,
        pre_model: NeuronModel,
        post_model: NeuronModel,
        modulator_model: NeuronModel | None = None,
        rule_kind: str = "",
        trace_storage: str = "clock",
        dt: Any = None,
        arrival_steps: int = 0,
    ):
        self.projection = projection
        self.arrival_steps = arrival_steps
        self.dt = dt
        self.pre_model = pre_model
        self.post_model = post_model
        self.modulator_model = modulator_model
        self.rule_kind = rule_kind
        self.trace_storage = trace_storage
        self.pre_needs: dict[tuple, Need] = {}
        self.post_needs: dict[tuple, Need] = {}
        self.namespace: dict[str, Any] = {}

    def _request(self, need: Need, side: str) -> Any:
        if isinstance(need, Trace) and need.storage != self.trace_storage:
            need = dataclasses.replace(need, storage=self.trace_storage)
        if side == "pre" and self.arrival_steps:
            if not isinstance(need, Trace):
                raise ConfigurationError(
                    f"projection {self.projection!r}: plasticity at arrival delays presynaptic "
                    f"spike traces only, but rule {self.rule_kind or 'this rule'!r} needs a "
                    f"presynaptic {type(need).__name__}; use plasticity_at='soma'"
                )
            need = dataclasses.replace(need, delay_steps=self.arrival_steps)
        need.validate()
        if need.capability is not None:
            self.require(side, need.capability, self.rule_kind or "this rule")
        store = self.pre_needs if side == "pre" else self.post_needs
        store.setdefault(need.key(), need)
        ref = need.ref(side)  # type: ignore[attr-defined]
        self.namespace.update(ref.namespace())
        return ref

    def pre(self, need: Need) -> Any:
        """Request `need` on the presynaptic group; return its reference for synaptic code."""
        return self._request(need, "pre")

    def post(self, need: Need) -> Any:
        """Request `need` on the postsynaptic group; return its reference for synaptic code."""
        return self._request(need, "post")

    def require(self, side: str, capability: str, rule: str) -> None:
        """Fail clearly if the `side` neuron model lacks `capability` (e.g. ``"voltage"``)."""
        model = self.pre_model if side == "pre" else self.post_model
        if capability not in model.capabilities():
            raise ConfigurationError(
                f"rule {rule!r} on projection {self.projection!r} needs a {side}synaptic neuron "
                f"with {capability}, but {type(model).__name__} has none; use a neuron model "
                "such as LIF or AdEx"
            )

    def require_modulator(self, rule: str) -> NeuronModel:
        """Fail clearly if the projection has no modulator population; return its model."""
        if self.modulator_model is None:
            raise ConfigurationError(
                f"rule {rule!r} on projection {self.projection!r} needs a modulator (the third "
                "factor, e.g. dopamine): give Projection(modulator=<population name>)"
            )
        return self.modulator_model


def rule_fields(rule_class: type[Rule]) -> list[dataclasses.Field]:
    """Parameter fields of a rule class (for documentation)."""
    return rule_class.parameter_fields()


class _ProbeContext(RuleContext):
    """A context that records the capabilities a rule asks for instead of checking them."""

    def __init__(self, rule: Rule):
        from .neurons import LIF

        super().__init__("probe", LIF(), LIF(), LIF(), rule_kind=rule.kind)
        self.required: dict[str, set[str]] = {"pre": set(), "post": set()}

    def require(self, side: str, capability: str, rule: str) -> None:
        self.required[side].add(capability)


def required_capabilities(rule: Rule) -> dict[str, frozenset[str]]:
    """Capabilities (``"voltage"``, ...) a rule needs of its pre- and postsynaptic neurons.

    Found by letting the rule contribute its code to a probing context, so it reflects exactly
    what :meth:`Rule.contribute` requests (e.g. a voltage rule on a spike source would fail).
    """
    probe = _ProbeContext(rule)
    rule.contribute(probe)
    return {side: frozenset(capabilities) for side, capabilities in probe.required.items()}
