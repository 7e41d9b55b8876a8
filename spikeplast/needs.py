"""Neuron-side state that rules request by key: spike traces and low-pass filtered variables.

A rule does not keep per-synapse copies of quantities that depend only on one neuron's spikes.
It asks the composer for them (``ctx.pre(Trace(16.8*ms))``); the composer adds each distinct
request once to the neuron group, whatever the number of projections and rules that use it, and
hands back a :class:`TraceRef` whose attributes are expressions to use in synaptic code.

Trace semantics
---------------
A trace is stored in one of two ways (chosen for the whole network, ``storage``):

* ``"clock"`` (default): the trace decays by the exact factor ``exp(-dt/tau)`` at the start of
  every time step, for every neuron; synaptic code reads it with a plain load. Best for networks,
  where many synapses read each trace.
* ``"event"``: the value just after the neuron's last spike and the time of that spike are stored
  (one ``t_trace`` variable per group); reading decays it in closed form,
  ``x * exp(-(t - t_trace)/tau)``: nothing happens between spikes, but every read costs an
  ``exp``. Best for few neurons over very long times.

Both give the same values (to rounding). Traces jump in the group's reset, i.e. *after* all
synaptic pathways of a time step have run. Hence in synaptic code:

* :attr:`TraceRef.value` is the trace just before any spike of the current time step. Read in a
  neuron's own spike pathway, it is the value just before its own jump (``x(t - ε)``).
* :attr:`TraceRef.value_now` adds a spike of this time step. Rules use it for the presynaptic
  trace read at a postsynaptic spike, so that a presynaptic spike in the same time step counts as
  coming first (Brian2 runs the pre pathway before the post pathway).

All-to-all traces add 1 at every spike; nearest-spike traces are set to 1 (they only remember the
most recent spike).

Arrival traces
--------------
With plasticity at the synapse (``Projection(plasticity_at="arrival")``), a presynaptic spike
counts when it arrives, ``delay_steps`` time steps after it was emitted, as in Brian2 models whose
plasticity code sits in the delayed pathway. Such a trace (``Trace(..., delay_steps=d)``, clock
storage only) does not jump in the reset: the composer adds one delay line per group and delay
(a one-to-one ``Synapses`` with that delay) that makes it jump on arrival. The delay line runs in
the synapses slot after the plastic projections' presynaptic pathways and before their
postsynaptic pathways, so :attr:`TraceRef.value` read at an arrival is the value before it and
the postsynaptic pathway already sees it (:attr:`TraceRef.value_now` is the plain value).

Low-pass filters
----------------
:class:`Lowpass` filters a neuron expression (``v``, ``(v - E_L)**2``) with a time constant,
``tau dx/dt = expression - x``, integrated with the neuron's equations (clock-driven), optionally
with a jump at each spike. It starts at the expression's initial value. Rules read it as
``ref.value`` (the value at the start of the time step, before this step's spikes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar

from brian2 import second
from brian2.units.fundamentalunits import Quantity, get_dimensions

from .errors import ParameterError

__all__ = [
    "Need",
    "Trace",
    "TraceRef",
    "Lowpass",
    "Delayed",
    "NeedRef",
    "TRACE_TIME",
    "INTERACTIONS",
    "STORAGES",
]

#: Group variable holding the time of the last trace update (the last spike).
TRACE_TIME = "t_trace"

#: Spike-interaction schemes of a trace.
INTERACTIONS = ("all-to-all", "nearest")

#: How traces are stored and decayed (see module doc).
STORAGES = ("clock", "event")


def _tag(tau: Quantity) -> str:
    """Deterministic identifier fragment for a time constant: 16.8 ms -> ``16p8ms``."""
    text = f"{float(tau / second) * 1e3:.12g}"
    return text.replace(".", "p").replace("-", "m").replace("+", "") + "ms"


class Need:
    """Base class of neuron-side requests. Subclasses are frozen dataclasses with a `key`."""

    prefix: ClassVar[str] = "need"
    #: Capability the neuron model must have (see ``NeuronModel.capabilities``), if any.
    capability: ClassVar[str | None] = None
    #: Whether the need uses the group's shared ``t_trace`` variable.
    uses_trace_time: ClassVar[bool] = False
    #: Whether the added equations are linear (so exact integration stays possible).
    linear: ClassVar[bool] = True

    def initial_value(self) -> str | None:
        """Expression the group variable starts at (``None``: zero)."""
        return None

    def initial_values(self) -> dict[str, str]:
        """Initial value expression of every group variable the need adds (default: the one
        variable of :meth:`initial_value`, if it has one)."""
        value = self.initial_value()
        return {} if value is None else {self.variable_name(): value}

    def group_every_step(self) -> str:
        """Statements run for every neuron at the start of each time step (before anything)."""
        return ""

    def key(self) -> tuple:
        raise NotImplementedError

    def variable_name(self) -> str:
        raise NotImplementedError

    def group_equations(self) -> str:
        """Lines added to the neuron group's equations."""
        raise NotImplementedError

    def group_reset(self) -> str:
        """Statements added to the neuron group's reset (run once per spike of a neuron)."""
        raise NotImplementedError

    def group_namespace(self) -> dict:
        raise NotImplementedError

    def validate(self) -> None:
        """Raise :class:`ParameterError` for impossible requests."""


@dataclass(frozen=True)
class NeedRef:
    """Expression reading a need's group variable in synaptic code (``side``: pre or post)."""

    need: Need
    side: str

    @property
    def name(self) -> str:
        return self.need.variable_name()

    @property
    def value(self) -> str:
        return f"{self.name}_{self.side}"

    def namespace(self) -> dict:
        return {}


@dataclass(frozen=True, eq=False)
class Trace(Need):
    """Exponentially decaying spike trace of a neuron.

    Parameters
    ----------
    tau
        Decay time constant.
    interaction
        ``"all-to-all"`` (+1 per spike) or ``"nearest"`` (set to 1 per spike).
    """

    tau: Quantity
    interaction: str = "all-to-all"
    storage: str = "clock"
    delay_steps: int = 0

    @property
    def uses_trace_time(self) -> bool:  # type: ignore[override]
        return self.storage == "event"

    def key(self) -> tuple:
        return (
            "trace",
            self.interaction,
            round(float(self.tau / second), 15),
            self.storage,
            int(self.delay_steps),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Trace) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def validate(self) -> None:
        if not isinstance(self.tau, Quantity) or get_dimensions(self.tau) is not get_dimensions(
            second
        ):
            raise ParameterError(f"a trace time constant must be a time, got {self.tau!r}")
        if not float(self.tau) > 0:
            raise ParameterError(f"a trace time constant must be positive, got {self.tau!r}")
        if self.interaction not in INTERACTIONS:
            raise ParameterError(
                f"trace interaction must be one of {INTERACTIONS}, got {self.interaction!r}"
            )
        if self.storage not in STORAGES:
            raise ParameterError(f"trace storage must be one of {STORAGES}, got {self.storage!r}")
        steps = self.delay_steps
        if isinstance(steps, bool) or int(steps) != steps or steps < 0:
            raise ParameterError(f"a trace delay must be a whole number of steps, got {steps!r}")
        if steps and self.storage != "clock":
            raise ParameterError(
                "plasticity at arrival needs clock-driven traces; use trace_storage='clock'"
            )

    def variable_name(self) -> str:
        scheme = "aa" if self.interaction == "all-to-all" else "nn"
        arrival = f"_arr{int(self.delay_steps)}" if self.delay_steps else ""
        return f"trace_{scheme}_{_tag(self.tau)}{arrival}"

    def tau_name(self) -> str:
        return f"tau_{self.variable_name()}"

    def group_equations(self) -> str:
        return f"{self.variable_name()} : 1"

    def group_reset(self) -> str:
        if self.delay_steps:
            return ""  # jumps on arrival, through the composer's delay line
        name = self.variable_name()
        if self.interaction == "nearest":
            return f"{name} = 1"
        if self.storage == "clock":
            return f"{name} += 1"
        return f"{name} = {name}*exp(-(t - {TRACE_TIME})/{self.tau_name()}) + 1"

    def arrival_code(self) -> str:
        """Statement of the delay line (a group onto itself) when a spike arrives."""
        name = f"{self.variable_name()}_post"
        return f"{name} = 1" if self.interaction == "nearest" else f"{name} += 1"

    def group_every_step(self) -> str:
        if self.storage != "clock":
            return ""
        return f"{self.variable_name()} = {self.variable_name()}*exp(-dt/{self.tau_name()})"

    def group_namespace(self) -> dict:
        return {self.tau_name(): self.tau}

    def ref(self, side: str) -> TraceRef:
        return TraceRef(self, side)


@dataclass(frozen=True)
class TraceRef(NeedRef):
    """Expressions reading a :class:`Trace` in synaptic code, from the ``pre`` or ``post`` side."""

    need: Trace

    @property
    def value(self) -> str:
        """Trace value just before any spike of the current time step."""
        s = self.side
        if self.need.storage == "clock":
            return f"{self.name}_{s}"
        return f"({self.name}_{s}*exp(-(t - {TRACE_TIME}_{s})/{self.need.tau_name()}))"

    @property
    def spiked_now(self) -> str:
        """``1`` if the neuron spiked in the current time step, else ``0``."""
        return f"int(lastspike_{self.side} == t)"

    @property
    def value_now(self) -> str:
        """Trace value including a spike of the current time step."""
        if self.need.delay_steps:
            return self.value  # the delay line ran before the postsynaptic pathways
        if self.need.interaction == "nearest":
            return f"({self.value} + {self.spiked_now}*(1 - {self.value}))"
        return f"({self.value} + {self.spiked_now})"

    def namespace(self) -> dict:
        return {self.need.tau_name(): self.need.tau}


def _expression_tag(expression: str) -> str:
    compact = expression.replace(" ", "")
    if compact.isidentifier():
        return compact
    return "expr" + hashlib.sha1(compact.encode()).hexdigest()[:6]


def _number(value: Any) -> float:
    return float(value) if value is not None else 0.0


@dataclass(frozen=True, eq=False)
class Lowpass(Need):
    """Low-pass filter of a neuron expression: ``tau dx/dt = expression - x``.

    Parameters
    ----------
    expression
        Expression in the neuron group's variables and constants (``"v"``, ``"(v - E_L)**2"``).
    tau
        Filter time constant.
    unit
        Brian2 unit of the expression (``"volt"``, ``"volt**2"``).
    jump
        Added to the filtered value at each spike of the neuron (in the reset), e.g. to model a
        spike's contribution when the membrane potential is reset (Auryn's state traces).
    """

    expression: str
    tau: Quantity
    unit: str = "volt"
    jump: Any = None

    capability: ClassVar[str | None] = "voltage"

    def key(self) -> tuple:
        return (
            "lowpass",
            self.expression.replace(" ", ""),
            round(float(self.tau / second), 15),
            self.unit.replace(" ", ""),
            _number(self.jump),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lowpass) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def group_every_step(self) -> str:
        return ""

    @property
    def linear(self) -> bool:  # type: ignore[override]
        return _expression_tag(self.expression) == self.expression.replace(" ", "")

    def validate(self) -> None:
        if not isinstance(self.tau, Quantity) or get_dimensions(self.tau) is not get_dimensions(
            second
        ):
            raise ParameterError(f"a low-pass time constant must be a time, got {self.tau!r}")
        if not float(self.tau) > 0:
            raise ParameterError(f"a low-pass time constant must be positive, got {self.tau!r}")

    def variable_name(self) -> str:
        name = f"lowpass_{_expression_tag(self.expression)}_{_tag(self.tau)}"
        if self.jump is not None and _number(self.jump) != 0:
            name += "_jump" + hashlib.sha1(repr(_number(self.jump)).encode()).hexdigest()[:4]
        return name

    def tau_name(self) -> str:
        return f"tau_{self.variable_name()}"

    def jump_name(self) -> str:
        return f"jump_{self.variable_name()}"

    def group_equations(self) -> str:
        name = self.variable_name()
        return f"d{name}/dt = ({self.expression} - {name})/{self.tau_name()} : {self.unit}"

    def group_reset(self) -> str:
        if self.jump is None or _number(self.jump) == 0:
            return ""
        return f"{self.variable_name()} += {self.jump_name()}"

    def group_namespace(self) -> dict:
        namespace = {self.tau_name(): self.tau}
        if self.jump is not None and _number(self.jump) != 0:
            namespace[self.jump_name()] = self.jump
        return namespace

    def initial_value(self) -> str | None:
        return self.expression

    def ref(self, side: str) -> NeedRef:
        return NeedRef(self, side)


@dataclass(frozen=True, eq=False)
class Delayed(Need):
    """A neuron variable of another need, read a fixed number of time steps late.

    Kept as a shift register of ``steps + 1`` group variables updated at the start of every time
    step (before any synaptic code), so that synaptic code reads the source's value at
    ``t - steps*dt``. Used by rules that must see a filtered voltage from before a spike, e.g.
    Clopath et al. (2010), whose authors read the filtered voltages 3 ms late.

    Parameters
    ----------
    source
        The need to delay (typically a :class:`Lowpass`); request it on the same side first.
    steps
        Delay in time steps (``>= 1``).
    """

    source: Need
    steps: int

    @property
    def capability(self) -> str | None:  # type: ignore[override]
        return self.source.capability

    def key(self) -> tuple:
        return ("delayed", self.source.key(), int(self.steps))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Delayed) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def validate(self) -> None:
        if isinstance(self.steps, bool) or int(self.steps) != self.steps or self.steps < 1:
            raise ParameterError(
                f"a delay must be a whole number of steps >= 1, got {self.steps!r}"
            )
        self.source.validate()

    def register_names(self) -> list[str]:
        """Group variables of the register; the last one holds the delayed value."""
        return [f"{self.source.variable_name()}_d{k}" for k in range(int(self.steps) + 1)]

    def variable_name(self) -> str:
        return self.register_names()[-1]

    def _unit(self) -> str:
        return self.source.group_equations().rsplit(":", 1)[1].strip()

    def group_equations(self) -> str:
        return "\n".join(f"{name} : {self._unit()}" for name in self.register_names())

    def group_every_step(self) -> str:
        # Oldest first, so that each register takes its neighbour's value of the previous step;
        # the first register copies the source's value at time t.
        names = self.register_names()
        lines = [f"{names[k]} = {names[k - 1]}" for k in range(len(names) - 1, 0, -1)]
        lines.append(f"{names[0]} = {self.source.variable_name()}")
        return "\n".join(lines)

    def group_reset(self) -> str:
        return ""

    def group_namespace(self) -> dict:
        return {}

    def initial_values(self) -> dict[str, str]:
        start = self.source.initial_value()
        return {} if start is None else dict.fromkeys(self.register_names(), start)

    def ref(self, side: str) -> NeedRef:
        """Reads the source's value ``steps`` time steps ago."""
        return NeedRef(self, side)
