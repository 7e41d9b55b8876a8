"""Neuron models and spike sources that populations are made of.

Neuron models (:class:`LIF`, :class:`AdEx`) are frozen parameter objects that render Brian2
equations, threshold, reset and refractoriness. Each has receptors (``exc``, ``inh``) that
projections target; a receptor is current-based (exponentially decaying current, ``I_exc``) or
conductance-based (``g_exc`` with reversal potential ``E_exc``), chosen by the ``synapse``
parameter. Published parameter sets are in ``models/neurons/*.toml``.

Spike sources (:class:`SpikeTrains`, :class:`PoissonSource`) are neuron groups too, so that they
can carry the traces that rules request. :class:`SpikeTrains` fires at given times: the times are
stored in a 2-D ``TimedArray`` indexed by spike count, which works on every backend and keeps
exact spike times on the simulation grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from brian2 import Hz, TimedArray, amp, farad, ms, mV, nA, nS, pA, pF, second, siemens, volt
from brian2.units.fundamentalunits import Quantity

from .errors import ConfigurationError, ParameterError, UnknownNameError, suggest
from .params import ParameterSet, Params, load_parameter_file, option, param
from .resources import models_dir

__all__ = [
    "NeuronModel",
    "Receptor",
    "LIF",
    "AdEx",
    "Izhikevich",
    "ClopathAdEx",
    "SpikeTrains",
    "PoissonSource",
    "NEURON_MODELS",
    "get_neuron",
    "neuron_parameter_sets",
]


@dataclass(frozen=True)
class Receptor:
    """A synaptic input of a neuron model.

    Attributes
    ----------
    variable
        Group variable a presynaptic spike increments (``g_exc``, ``I_inh``).
    unit
        Unit of the increment; a projection's ``weight_scale`` must have it.
    sign
        ``+1`` or ``-1``: whether a spike adds or subtracts ``w * weight_scale`` (delta synapses
        subtract inhibitory input from ``v``; other receptors carry the sign in the equations).
    """

    variable: str
    unit: Any
    sign: int = 1


class NeuronModel(Params):
    """Interface of everything a population can be made of."""

    kind: ClassVar[str] = ""
    #: Groups of this model fire only when told to (no membrane, no receptors).
    is_source: ClassVar[bool] = False

    def capabilities(self) -> frozenset[str]:
        """What rules may rely on: ``"voltage"`` (a membrane potential ``v``), ``"receptors"``."""
        return frozenset()

    def receptors(self) -> dict[str, Receptor]:
        return {}

    def equations(self) -> str:
        raise NotImplementedError

    def threshold(self) -> str:
        raise NotImplementedError

    def reset(self) -> str:
        return ""

    def refractory(self) -> Quantity:
        return 0 * ms

    def method(self) -> str | None:
        return None

    def events(self) -> dict[str, tuple[str, str]]:
        """Custom events: ``{name: (condition, statements)}``; the statements run in the reset
        slot of every step where the condition holds (e.g. the end of a clamped spike)."""
        return {}

    def namespace(self, name: str) -> dict[str, Any]:
        """Constants used by the model's code; `name` is the population name (for unique names)."""
        return {}

    def initial_values(self, n: int, dt: Quantity) -> dict[str, Any]:
        return {}

    def size(self) -> int | None:
        """Number of neurons implied by the model itself (spike sources), else ``None``."""
        return None


# --------------------------------------------------------------------------------------------
# Integrate-and-fire neurons
# --------------------------------------------------------------------------------------------
_SYNAPSE_TYPES = ("conductance", "current", "delta")


@dataclass(frozen=True, eq=False, kw_only=True)
class _SynapticInputs(NeuronModel):
    """Receptor parameters shared by LIF and AdEx."""

    synapse: str = option(
        "conductance", _SYNAPSE_TYPES, "conductance, current (exponential) or delta (v jumps)"
    )
    tau_exc: Quantity = param(5 * ms, ms, "decay time constant of excitatory input", positive=True)
    tau_inh: Quantity = param(10 * ms, ms, "decay time constant of inhibitory input", positive=True)
    E_exc: Quantity = param(0 * mV, mV, "excitatory reversal potential (conductance synapses)")
    E_inh: Quantity = param(-80 * mV, mV, "inhibitory reversal potential (conductance synapses)")

    def capabilities(self) -> frozenset[str]:
        return frozenset({"voltage", "receptors"})

    def receptors(self) -> dict[str, Receptor]:
        if self.synapse == "conductance":
            return {"exc": Receptor("g_exc", siemens), "inh": Receptor("g_inh", siemens)}
        if self.synapse == "delta":
            return {"exc": Receptor("v", volt), "inh": Receptor("v", volt, sign=-1)}
        return {"exc": Receptor("I_exc", amp), "inh": Receptor("I_inh", amp)}

    def _input_current(self) -> str:
        if self.synapse == "conductance":
            return "g_exc*(E_exc - v) + g_inh*(E_inh - v)"
        if self.synapse == "delta":
            return "0*amp"
        return "I_exc - I_inh"

    def _input_equations(self) -> str:
        if self.synapse == "conductance":
            return "dg_exc/dt = -g_exc/tau_exc : siemens\ndg_inh/dt = -g_inh/tau_inh : siemens\n"
        if self.synapse == "delta":
            return ""
        return "dI_exc/dt = -I_exc/tau_exc : amp\ndI_inh/dt = -I_inh/tau_inh : amp\n"

    def namespace(self, name: str) -> dict[str, Any]:
        return dict(self.values())


@dataclass(frozen=True, eq=False, kw_only=True)
class LIF(_SynapticInputs):
    """Leaky integrate-and-fire neuron.

    ``C_m dv/dt = g_L (E_L - v) + I_syn + I_ext`` with a fixed threshold ``V_th``, reset to
    ``V_reset`` and an absolute refractory period ``t_ref``. ``I_ext`` is a per-neuron external
    current (settable, e.g. by protocols). Defaults are the Vogels & Abbott (2005) COBA neuron.
    """

    kind: ClassVar[str] = "lif"

    C_m: Quantity = param(200 * pF, farad, "membrane capacitance", positive=True)
    g_L: Quantity = param(10 * nS, siemens, "leak conductance", positive=True)
    E_L: Quantity = param(-60 * mV, volt, "leak reversal potential")
    V_th: Quantity = param(-50 * mV, volt, "spike threshold")
    V_reset: Quantity = param(-60 * mV, volt, "reset potential")
    t_ref: Quantity = param(5 * ms, ms, "absolute refractory period", nonnegative=True)

    def check(self) -> None:
        if not self.V_reset < self.V_th:
            raise ParameterError("lif: V_reset must be below V_th")

    def equations(self) -> str:
        return (
            f"dv/dt = (g_L*(E_L - v) + {self._input_current()} + I_ext)/C_m : volt "
            "(unless refractory)\n" + self._input_equations() + "I_ext : amp\n"
        )

    def threshold(self) -> str:
        return "v > V_th"

    def reset(self) -> str:
        return "v = V_reset"

    def refractory(self) -> Quantity:
        return self.t_ref

    def method(self) -> str:
        return "euler" if self.synapse == "conductance" else "exact"

    def initial_values(self, n: int, dt: Quantity) -> dict[str, Any]:
        return {"v": self.E_L}


@dataclass(frozen=True, eq=False, kw_only=True)
class AdEx(_SynapticInputs):
    """Adaptive exponential integrate-and-fire neuron (Brette & Gerstner 2005).

    ``C_m dv/dt = -g_L (v - E_L) + g_L Δ_T exp((v - V_T)/Δ_T) - w_adapt + I_syn + I_ext`` and
    ``tau_w dw_adapt/dt = a (v - E_L) - w_adapt``; a spike is registered when ``v > V_peak``, then
    ``v = V_reset`` and ``w_adapt += b``. Defaults: Brette & Gerstner (2005), Table 1, with the
    spike cut-off at ``V_T + 5 Δ_T`` (as in Brian2's example of the model) rather than the paper's
    20 mV, which keeps the exponential term finite with forward Euler at dt = 0.1 ms.
    """

    kind: ClassVar[str] = "adex"

    C_m: Quantity = param(281 * pF, farad, "membrane capacitance", positive=True)
    g_L: Quantity = param(30 * nS, siemens, "leak conductance", positive=True)
    E_L: Quantity = param(-70.6 * mV, volt, "leak reversal potential")
    V_T: Quantity = param(-50.4 * mV, volt, "threshold potential of the exponential term")
    Delta_T: Quantity = param(2 * mV, volt, "slope factor", positive=True)
    tau_w: Quantity = param(144 * ms, ms, "adaptation time constant", positive=True)
    a: Quantity = param(4 * nS, siemens, "subthreshold adaptation")
    b: Quantity = param(0.0805 * nA, amp, "spike-triggered adaptation")
    V_reset: Quantity = param(-70.6 * mV, volt, "reset potential")
    V_peak: Quantity = param(-40.4 * mV, volt, "spike detection (cut-off) potential")
    t_ref: Quantity = param(0 * ms, ms, "absolute refractory period", nonnegative=True)

    def check(self) -> None:
        if not self.V_peak > self.V_T:
            raise ParameterError("adex: V_peak must be above V_T")

    def equations(self) -> str:
        return (
            "dv/dt = (-g_L*(v - E_L) + g_L*Delta_T*exp((v - V_T)/Delta_T) - w_adapt"
            f" + {self._input_current()} + I_ext)/C_m : volt (unless refractory)\n"
            "dw_adapt/dt = (a*(v - E_L) - w_adapt)/tau_w : amp\n"
            + self._input_equations()
            + "I_ext : amp\n"
        )

    def threshold(self) -> str:
        return "v > V_peak"

    def reset(self) -> str:
        return "v = V_reset\nw_adapt += b"

    def refractory(self) -> Quantity:
        return self.t_ref

    def method(self) -> str:
        return "euler"

    def initial_values(self, n: int, dt: Quantity) -> dict[str, Any]:
        return {"v": self.E_L}


@dataclass(frozen=True, eq=False, kw_only=True)
class ClopathAdEx(_SynapticInputs):
    """AdEx neuron with a clamped spike, a spike afterpotential and an adaptive threshold.

    The neuron of Clopath et al. (2010), as in the authors' code (ModelDB 144566, ``aEIF.m``)::

        C_m dv/dt = -g_L (v - E_L) + g_L Δ_T exp((v - V_T)/Δ_T) - w_adapt + z + I_syn + I_ext
        tau_w dw_adapt/dt = a (v - E_L) - w_adapt
        tau_z dz/dt = -z                   (depolarising spike afterpotential current)
        tau_VT dV_T/dt = V_T_rest - V_T    (adaptive threshold)

    When ``v > V_peak`` a spike is registered and ``v`` is held at ``V_clamp`` for ``t_clamp``
    (``v`` and ``w_adapt`` are not integrated meanwhile; ``z`` and ``V_T`` keep decaying), so that
    the spike's depolarisation is seen by voltage-based plasticity. At the end of the clamp, as in
    the authors' code, ``v = V_reset``, ``w_adapt += b``, ``z = I_sp`` and ``V_T = V_T_max``.
    The neuron is refractory while clamped; the end of the clamp is a custom event run in the
    reset slot of the step ``t_clamp`` after the spike, so the steps ``t_spike + dt`` ...
    ``t_spike + t_clamp`` all start at ``V_clamp`` and integration resumes one step later from
    ``V_reset``. ``t_clamp`` must be a multiple of the time step (``0``: no clamp, the jumps
    happen at the spike). Defaults: the parameter set ``clopath2010-adex``.
    """

    kind: ClassVar[str] = "clopath-adex"

    synapse: str = option(
        "delta", _SYNAPSE_TYPES, "conductance, current (exponential) or delta (v jumps)"
    )
    C_m: Quantity = param(281 * pF, farad, "membrane capacitance", positive=True)
    g_L: Quantity = param(30 * nS, siemens, "leak conductance", positive=True)
    E_L: Quantity = param(-70.6 * mV, volt, "leak reversal potential")
    Delta_T: Quantity = param(2 * mV, volt, "slope factor", positive=True)
    V_T_rest: Quantity = param(-50.4 * mV, volt, "resting value of the adaptive threshold")
    V_T_max: Quantity = param(-30.4 * mV, volt, "adaptive threshold after a spike")
    tau_VT: Quantity = param(50 * ms, ms, "time constant of the adaptive threshold", positive=True)
    tau_w: Quantity = param(144 * ms, ms, "adaptation time constant", positive=True)
    a: Quantity = param(4 * nS, siemens, "subthreshold adaptation")
    b: Quantity = param(0.0805 * pA, amp, "spike-triggered adaptation")
    I_sp: Quantity = param(400 * pA, amp, "spike afterpotential current after a spike")
    tau_z: Quantity = param(40 * ms, ms, "decay of the afterpotential current", positive=True)
    V_peak: Quantity = param(20 * mV, volt, "spike detection potential")
    V_clamp: Quantity = param(31.131 * mV, volt, "membrane potential during the clamped spike")
    t_clamp: Quantity = param(2 * ms, ms, "duration of the clamped spike", nonnegative=True)
    V_reset: Quantity = param(-49.5016 * mV, volt, "membrane potential after the clamp")

    def check(self) -> None:
        if not self.V_peak > self.V_T_rest:
            raise ParameterError("clopath-adex: V_peak must be above V_T_rest")

    def equations(self) -> str:
        return (
            "dv/dt = (-g_L*(v - E_L) + g_L*Delta_T*exp((v - V_T)/Delta_T) - w_adapt + z"
            f" + {self._input_current()} + I_ext)/C_m : volt (unless refractory)\n"
            "dw_adapt/dt = (a*(v - E_L) - w_adapt)/tau_w : amp (unless refractory)\n"
            "dz/dt = -z/tau_z : amp\n"
            "dV_T/dt = (V_T_rest - V_T)/tau_VT : volt\n"
            "clamped : 1\n" + self._input_equations() + "I_ext : amp\n"
        )

    def threshold(self) -> str:
        return "v > V_peak"

    def _after_spike(self) -> str:
        return "v = V_reset\nw_adapt += b\nz = I_sp\nV_T = V_T_max"

    def reset(self) -> str:
        if float(self.t_clamp) == 0:
            return self._after_spike()
        return "v = V_clamp\nclamped = 1"

    def refractory(self) -> Any:
        # Refractory (not integrated, no new spike) while clamped: the steps starting at
        # t_spike + dt ... t_spike + t_clamp all see v = V_clamp, so the filters integrate the
        # clamped voltage for exactly t_clamp at any dt.
        return "clamped > 0.5" if float(self.t_clamp) > 0 else 0 * ms

    def events(self) -> dict[str, tuple[str, str]]:
        if float(self.t_clamp) == 0:
            return {}
        return {
            "end_of_clamp": (
                "clamped > 0.5 and t - lastspike > t_clamp - 0.5*dt",
                self._after_spike() + "\nclamped = 0",
            )
        }

    def method(self) -> str:
        return "euler"

    def initial_values(self, n: int, dt: Quantity) -> dict[str, Any]:
        steps = float(self.t_clamp / dt)
        if abs(steps - round(steps)) > 1e-6:
            raise ConfigurationError(
                f"clopath-adex: t_clamp = {float(self.t_clamp / ms):g} ms must be a multiple of "
                f"the time step dt = {float(dt / ms):g} ms"
            )
        return {"v": self.E_L, "V_T": self.V_T_rest}


# --------------------------------------------------------------------------------------------
# Izhikevich neurons
# --------------------------------------------------------------------------------------------
_IZHIKEVICH_SYNAPSES = ("delta", "current")


@dataclass(frozen=True, eq=False, kw_only=True)
class Izhikevich(NeuronModel):
    """Izhikevich (2003) simple spiking neuron.

    ``dv/dt = (0.04 v²/mV + 5 v + 140 mV - u + I_syn + I_ext)/ms`` and ``du/dt = a (b v - u)``;
    when ``v >= v_peak``: ``v = c``, ``u += d``. As in the paper, inputs ("currents") are in mV
    (the model's time unit is the ms), so ``I_ext`` (per neuron, settable) and receptor weights
    are voltages. Receptors: ``synapse = "delta"`` (default, as in Izhikevich's network code) makes
    an excitatory spike raise ``v`` by ``w*weight_scale`` and an inhibitory one lower it;
    ``"current"`` uses exponentially decaying inputs ``I_exc``, ``I_inh`` (tau_exc, tau_inh).
    Integrated with forward Euler (the paper's code uses 0.5-ms steps for ``v``). Defaults: the
    regular-spiking (RS) cell; parameter sets ``izhikevich2003-rs`` and ``izhikevich2003-fs``.
    """

    kind: ClassVar[str] = "izhikevich"

    synapse: str = option("delta", _IZHIKEVICH_SYNAPSES, "voltage jumps or decaying inputs")
    a: Quantity = param(20 * Hz, Hz, "recovery rate (0.02/ms)", positive=True)
    b: float = param(0.2, 1, "sensitivity of the recovery variable u to v")
    c: Quantity = param(-65 * mV, volt, "reset potential")
    d: Quantity = param(8 * mV, volt, "increase of u at a spike")
    v_peak: Quantity = param(30 * mV, volt, "spike cut-off")
    tau_exc: Quantity = param(
        5 * ms, ms, "excitatory input decay (current synapses)", positive=True
    )
    tau_inh: Quantity = param(
        10 * ms, ms, "inhibitory input decay (current synapses)", positive=True
    )

    def check(self) -> None:
        if not self.c < self.v_peak:
            raise ParameterError("izhikevich: the reset c must be below v_peak")

    def capabilities(self) -> frozenset[str]:
        return frozenset({"voltage", "receptors"})

    def receptors(self) -> dict[str, Receptor]:
        if self.synapse == "delta":
            return {"exc": Receptor("v", volt), "inh": Receptor("v", volt, sign=-1)}
        return {"exc": Receptor("I_exc", volt), "inh": Receptor("I_inh", volt)}

    def equations(self) -> str:
        inputs = "I_ext" if self.synapse == "delta" else "I_exc - I_inh + I_ext"
        lines = (
            f"dv/dt = (0.04*v**2/mV + 5*v + 140*mV - u + {inputs})/ms : volt\n"
            "du/dt = a*(b*v - u) : volt\n"
            "I_ext : volt\n"
        )
        if self.synapse == "current":
            lines += "dI_exc/dt = -I_exc/tau_exc : volt\ndI_inh/dt = -I_inh/tau_inh : volt\n"
        return lines

    def threshold(self) -> str:
        return "v >= v_peak"

    def reset(self) -> str:
        return "v = c\nu += d"

    def method(self) -> str:
        return "euler"

    def namespace(self, name: str) -> dict[str, Any]:
        return {k: v for k, v in self.values().items() if k != "synapse"}

    def initial_values(self, n: int, dt: Quantity) -> dict[str, Any]:
        return {"v": self.c, "u": self.b * self.c}


# --------------------------------------------------------------------------------------------
# Spike sources
# --------------------------------------------------------------------------------------------
#: Time used to pad spike-time tables after a neuron's last spike (never reached).
_NEVER = 1e9


class SpikeTrains(NeuronModel):
    """Neurons that fire at prescribed times.

    Parameters
    ----------
    trains
        One sequence of spike times per neuron, in seconds (floats) or as Brian2 quantities.
        Times must be non-negative, increasing, and lie on the simulation time grid.
    """

    kind: ClassVar[str] = "spike-trains"
    is_source: ClassVar[bool] = True

    def __init__(self, trains: Sequence[Sequence[float] | np.ndarray | Quantity]):
        self.trains = tuple(
            np.asarray(t / second if isinstance(t, Quantity) else t, dtype=float).ravel()
            for t in trains
        )

    def key(self) -> tuple:
        return ("SpikeTrains", len(self.trains), max((len(t) for t in self.trains), default=0))

    def __repr__(self) -> str:
        counts = [len(t) for t in self.trains]
        return f"SpikeTrains({len(counts)} neurons, {sum(counts)} spikes)"

    def values(self) -> dict[str, Any]:
        return {}

    def size(self) -> int:
        return len(self.trains)

    def validate_on_grid(self, dt: Quantity, population: str) -> np.ndarray:
        """Check the trains against the time step; return the padded (spikes+1, n) time table."""
        step = float(dt / second)
        longest = max((len(t) for t in self.trains), default=0)
        table = np.full((longest + 1, len(self.trains)), _NEVER)
        for index, times in enumerate(self.trains):
            where = f"population {population!r}, neuron {index}"
            if times.size == 0:
                continue
            if not np.all(np.isfinite(times)):
                raise ConfigurationError(f"{where}: spike times must be finite numbers")
            if times[0] < 0:
                raise ConfigurationError(
                    f"{where}: spike time {times[0] * 1e3:g} ms is negative; times start at 0"
                )
            steps = times / step
            rounded = np.round(steps)
            off_grid = np.abs(steps - rounded) > 1e-6
            if np.any(off_grid):
                bad = times[np.argmax(off_grid)]
                raise ConfigurationError(
                    f"{where}: spike time {bad * 1e3:.6g} ms is not a multiple of the time step "
                    f"dt = {step * 1e3:g} ms; use times on the grid or a smaller dt"
                )
            if np.any(np.diff(rounded) <= 0):
                position = int(np.argmax(np.diff(rounded) <= 0))
                raise ConfigurationError(
                    f"{where}: spike times must increase by at least one time step "
                    f"(dt = {step * 1e3:g} ms); {times[position] * 1e3:g} ms is followed by "
                    f"{times[position + 1] * 1e3:g} ms"
                )
            table[: times.size, index] = rounded * step
        return table

    def timed_array_name(self, name: str) -> str:
        return f"{name}_spike_times"

    def equations(self) -> str:
        return "spike_count : 1\nnext_spike : second\n"

    def threshold(self) -> str:
        return "timestep(t, dt) >= timestep(next_spike, dt)"

    def reset(self) -> str:
        # The TimedArray is indexed by spike count (dt = 1 s, called with count*second).
        return "spike_count += 1\nnext_spike = spike_times(spike_count*second, i)"

    def build_table(self, name: str, dt: Quantity) -> TimedArray:
        """The spike-time table as a TimedArray, for the group namespace key ``spike_times``."""
        table = self.validate_on_grid(dt, name)
        return TimedArray(table * second, dt=1 * second, name=self.timed_array_name(name))

    def initial_values(self, n: int, dt: Quantity) -> dict[str, Any]:
        first = np.array([t[0] if t.size else _NEVER for t in self.trains])
        step = float(dt / second)
        return {"next_spike": np.round(first / step) * step * second, "spike_count": 0}


@dataclass(frozen=True, eq=False, kw_only=True)
class PoissonSource(NeuronModel):
    """Independent Poisson spike sources with a per-neuron rate variable ``rate``.

    Equivalent to Brian2's ``PoissonGroup`` (one uniform random number per neuron and step), but
    a ``NeuronGroup`` so that it can carry traces.
    """

    kind: ClassVar[str] = "poisson"
    is_source: ClassVar[bool] = True

    rate: Quantity = param(10 * Hz, Hz, "firing rate", nonnegative=True)

    def equations(self) -> str:
        return "rate : Hz\n"

    def threshold(self) -> str:
        return "rand() < rate*dt"

    def initial_values(self, n: int, dt: Quantity) -> dict[str, Any]:
        return {"rate": self.rate}


#: Neuron models that parameter files may name (``model = "lif"``).
NEURON_MODELS: dict[str, type[NeuronModel]] = {
    "lif": LIF,
    "adex": AdEx,
    "izhikevich": Izhikevich,
    "clopath-adex": ClopathAdEx,
}


def neuron_parameter_sets() -> dict[str, ParameterSet]:
    """Published neuron parameter sets in ``models/neurons/*.toml``, by name."""
    sets = {}
    for path in sorted((models_dir() / "neurons").glob("*.toml")):
        parameter_set = load_parameter_file(path, kind_key="model")
        sets[parameter_set.name] = parameter_set
    return sets


def get_neuron(name: str, **overrides: Any) -> NeuronModel:
    """A validated neuron model: a model name (``"lif"``), a parameter-set name or a TOML file."""
    if name.endswith(".toml") or Path(name).is_file():
        parameter_set = load_parameter_file(name, kind_key="model")
    elif name in NEURON_MODELS:
        parameter_set = ParameterSet(name, name, {}, "")
    else:
        sets = neuron_parameter_sets()
        if name not in sets:
            known = [*NEURON_MODELS, *sets]
            raise UnknownNameError(f"unknown neuron model {name!r}.{suggest(name, known)}")
        parameter_set = sets[name]
    if parameter_set.kind not in NEURON_MODELS:
        raise ConfigurationError(
            f"unknown neuron model kind {parameter_set.kind!r}."
            f"{suggest(parameter_set.kind, NEURON_MODELS)} Known: {', '.join(NEURON_MODELS)}"
        )
    model = NEURON_MODELS[parameter_set.kind].from_mapping(parameter_set.parameters, name)
    if overrides:
        model = model.replace(**overrides)
    model.validate()
    return model
