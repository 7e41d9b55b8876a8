"""Fine-dt NumPy references for voltage-based rules (Clopath et al. 2010, Convallis).

A voltage rule cannot be checked against spike times alone: its weight follows the membrane
potential. These references integrate the same neuron and rule equations as the Brian2 code, but
written directly in NumPy, one time step at a time, in the order Brian2 uses within a step:

1. ``start``: presynaptic traces decay by ``exp(-dt/tau)``; delay lines shift; the per-step part
   of the rule runs with the values at ``t`` (voltage, filters, traces before this step's spikes);
2. ``groups``: forward-Euler update of the postsynaptic neuron and of the low-pass filters (all
   from the values at ``t``; ``v`` and ``w_adapt`` frozen while a spike is clamped/refractory);
3. ``thresholds``: spikes (``v`` above threshold and not refractory) and the end of a clamped spike;
4. ``synapses``: the rule's presynaptic-spike code (and postsynaptic-spike code, if any);
5. ``resets``: spike resets, trace jumps, filter jumps, the end-of-clamp reset.

The postsynaptic neuron is driven by one-step current pulses at the prescribed spike times (as
:func:`spikeplast.protocols.run_protocol` does) and, optionally, by the presynaptic spikes through a
delta synapse. All synapses are simulated in parallel (one pre/post pair each); weights are
returned after every step, like a Brian2 ``StateMonitor`` recording in the ``end`` slot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["PostNeuron", "simulate", "clopath_stdp", "convallis", "spike_steps"]


def _si(value) -> float:
    return float(value)


def spike_steps(trains: Sequence[np.ndarray], dt: float, steps: int) -> np.ndarray:
    """Boolean (steps, n) array: neuron k spikes in step n."""
    spikes = np.zeros((steps, len(trains)), dtype=bool)
    for k, times in enumerate(trains):
        index = np.round(np.asarray(times, dtype=float) / dt).astype(int)
        spikes[index[index < steps], k] = True
    return spikes


class PostNeuron:
    """Forward-Euler NumPy model of a postsynaptic ``clopath-adex`` or ``lif`` neuron group."""

    def __init__(self, model, n: int, dt: float):
        self.kind = model.kind
        if self.kind not in ("clopath-adex", "lif", "adex"):
            raise ValueError(f"no NumPy reference for neuron kind {self.kind!r}")
        if self.kind == "lif" and model.synapse != "conductance":
            raise ValueError("the NumPy reference integrates LIF with Euler (conductance synapses)")
        self.p = {name: _si(value) for name, value in model.values().items() if name != "synapse"}
        self.dt = dt
        self.n = n
        p = self.p
        self.v = np.full(n, p["E_L"])
        self.I_ext = np.zeros(n)
        self.lastspike = np.full(n, -1e4)
        self.w_adapt = np.zeros(n)
        self.z = np.zeros(n)
        self.V_T = np.full(n, p.get("V_T_rest", p.get("V_T", 0.0)))
        self.clamped = np.zeros(n)
        self.refractory = p.get("t_clamp", p.get("t_ref", 0.0))
        self.refractory_steps = int(round(self.refractory / dt))
        self.active = np.ones(n, dtype=bool)

    def not_refractory(self, step: int) -> np.ndarray:
        if self.kind == "clopath-adex" and self.p["t_clamp"] > 0:
            return self.clamped < 0.5  # refractory while the spike is clamped
        elapsed = step - np.round(self.lastspike / self.dt).astype(np.int64)
        return elapsed >= self.refractory_steps

    def derivative_v(self, delta_input: np.ndarray) -> np.ndarray:
        p, v = self.p, self.v
        if self.kind == "lif":
            return (p["g_L"] * (p["E_L"] - v) + self.I_ext) / p["C_m"]
        current = -p["g_L"] * (v - p["E_L"]) + p["g_L"] * p["Delta_T"] * np.exp(
            (v - self.V_T) / p["Delta_T"]
        )
        current += -self.w_adapt + self.I_ext
        if self.kind == "clopath-adex":
            current += self.z
        return current / p["C_m"]

    def update(self, step: int) -> None:
        """Euler step of the neuron (filters are updated by the caller from the old ``v``)."""
        p, dt = self.p, self.dt
        active = self.not_refractory(step)
        self.active = active  # Brian2's not_refractory during this step
        dv = self.derivative_v(np.zeros(self.n))
        if self.kind == "lif":
            self.v = self.v + dt * dv * active
            return
        dw = (p["a"] * (self.v - p["E_L"]) - self.w_adapt) / p["tau_w"]
        if self.kind == "clopath-adex":
            dz = -self.z / p["tau_z"]
            dV_T = (p["V_T_rest"] - self.V_T) / p["tau_VT"]
            self.z = self.z + dt * dz
            self.V_T = self.V_T + dt * dV_T
            self.w_adapt = self.w_adapt + dt * dw * active
        else:
            self.w_adapt = self.w_adapt + dt * dw
        self.v = self.v + dt * dv * active

    def thresholds(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """(spiking, end of clamp) masks of this step."""
        p, t = self.p, step * self.dt
        threshold = p["V_th"] if self.kind == "lif" else p["V_peak"]
        spiking = (self.v > threshold) & self.not_refractory(step)
        ending = np.zeros(self.n, dtype=bool)
        if self.kind == "clopath-adex" and p["t_clamp"] > 0:
            ending = (self.clamped > 0.5) & (t - self.lastspike > p["t_clamp"] - 0.5 * self.dt)
        self.lastspike = np.where(spiking, t, self.lastspike)
        self.active = self.active & ~spiking
        return spiking, ending

    def _after_spike(self, mask: np.ndarray) -> None:
        p = self.p
        self.v = np.where(mask, p["V_reset"], self.v)
        if self.kind == "lif":
            return
        self.w_adapt = np.where(mask, self.w_adapt + p["b"], self.w_adapt)
        if self.kind == "clopath-adex":
            self.z = np.where(mask, p["I_sp"], self.z)
            self.V_T = np.where(mask, p["V_T_max"], self.V_T)

    def resets(self, spiking: np.ndarray, ending: np.ndarray) -> None:
        p = self.p
        if self.kind == "clopath-adex" and p["t_clamp"] > 0:
            self.v = np.where(spiking, p["V_clamp"], self.v)
            self.clamped = np.where(spiking, 1.0, self.clamped)
            self._after_spike(ending)
            self.clamped = np.where(ending, 0.0, self.clamped)
        else:
            self._after_spike(spiking)


@dataclass
class _Filter:
    """``tau dx/dt = f(neuron) - x``, Euler with the neuron, optional delay line."""

    source: Callable[[PostNeuron], np.ndarray]
    tau: float
    value: np.ndarray
    delay_steps: int = 0
    register: list[np.ndarray] = field(default_factory=list)

    def shift(self) -> None:
        if self.delay_steps:
            self.register = [self.value.copy(), *self.register[:-1]]

    @property
    def delayed(self) -> np.ndarray:
        return self.register[-1] if self.delay_steps else self.value


def _delay_steps(delay: float, dt: float) -> int:
    steps = delay / dt
    if abs(steps - round(steps)) > 1e-6:
        raise ValueError("the delay must be a multiple of dt")
    return int(round(steps))


@dataclass
class VoltageRun:
    """Weights after every step, ``(steps, synapses)``, and the postsynaptic spike steps."""

    weights: np.ndarray
    post_spikes: np.ndarray
    v: np.ndarray | None = None


def simulate(
    rule,
    neuron,
    pre_trains: Sequence[np.ndarray],
    post_trains: Sequence[np.ndarray],
    dt: float,
    duration: float,
    w0: float = 1.0,
    pulse_charge: float = 1e-9,
    delta_weight: float = 0.0,
    record_v: bool = False,
) -> VoltageRun:
    """Run a voltage rule on one synapse per pre/post train pair (see module doc).

    Parameters
    ----------
    rule
        A ``clopath-stdp`` or ``convallis`` rule.
    neuron
        The postsynaptic neuron model (``clopath-adex``, ``adex`` or Euler ``lif``).
    post_trains
        Times at which current pulses force postsynaptic spikes.
    pulse_charge
        Charge of each one-step pulse (coulomb).
    delta_weight
        If non-zero, each presynaptic spike also raises ``v`` by ``w * delta_weight`` (volts),
        a delta synapse driven by the plastic weight itself.
    """
    if rule.kind not in _RULES:
        raise ValueError(f"no voltage reference for rule kind {rule.kind!r}")
    steps = int(round(duration / dt))
    post = PostNeuron(neuron, len(pre_trains), dt)
    plasticity = _RULES[rule.kind](rule, post, dt)
    pre_spikes = spike_steps(pre_trains, dt, steps)
    pulses = spike_steps(post_trains, dt, steps)
    return _run(plasticity, post, pre_spikes, pulses, dt, w0, pulse_charge, delta_weight, record_v)


@dataclass
class _Plasticity:
    """What a rule adds to the common step loop of :func:`_run`.

    ``every_step(w, x)`` runs at the start of a step (``x``: presynaptic trace, decayed to ``t``,
    before this step's spikes) and ``at_pre(w, fired)`` in the synapse slot; both return ``w``.
    """

    tau_x: float
    filters: list[_Filter]
    every_step: Callable[[np.ndarray, np.ndarray], np.ndarray]
    at_pre: Callable[[np.ndarray, np.ndarray], np.ndarray]


def _run(
    plasticity: _Plasticity,
    post: PostNeuron,
    pre_spikes: np.ndarray,
    pulses: np.ndarray,
    dt: float,
    w0: float,
    pulse_charge: float,
    delta_weight: float,
    record_v: bool,
) -> VoltageRun:
    steps, n = pre_spikes.shape
    decay_x = np.exp(-dt / plasticity.tau_x)
    x = np.zeros(n)
    w = np.full(n, float(w0))
    weights = np.empty((steps, n))
    post_spikes = np.zeros((steps, n), dtype=bool)
    v_trace = np.empty((steps, n)) if record_v else None
    current = pulse_charge / dt
    for step in range(steps):
        # start: trace decay, delay lines, the rule's per-step code with the values at t
        x = x * decay_x
        for f in plasticity.filters:
            f.shift()
        w = plasticity.every_step(w, x)
        # groups: Euler step of the neuron and the filters, from the values at t
        sources = [f.source(post) for f in plasticity.filters]
        post.I_ext = np.where(pulses[step], current, 0.0)
        post.update(step)
        for f, source in zip(plasticity.filters, sources, strict=True):
            f.value = f.value + dt * (source - f.value) / f.tau
        # thresholds
        spiking, ending = post.thresholds(step)
        post_spikes[step] = spiking
        # synapses: transmission, then the rule's presynaptic code
        fired = pre_spikes[step]
        if delta_weight:  # like Brian2, synapses cannot write v while it is refractory
            post.v = np.where(fired & post.active, post.v + w * delta_weight, post.v)
        w = plasticity.at_pre(w, fired)
        # resets
        post.resets(spiking, ending)
        x = x + fired
        weights[step] = w
        if record_v:
            v_trace[step] = post.v
    return VoltageRun(weights, post_spikes, v_trace)


def _filter(post: PostNeuron, source, tau: float, delay: int = 0) -> _Filter:
    start = source(post)
    registers = [start.copy() for _ in range(delay + 1)] if delay else []
    return _Filter(source, tau, start.copy(), delay, registers)


def _above(value: np.ndarray, threshold: float) -> np.ndarray:
    return (value - threshold) * (value > threshold)


def _clopath(rule, post: PostNeuron, dt: float) -> _Plasticity:
    A_LTD, A_LTP = _si(rule.A_LTD), _si(rule.A_LTP)
    theta_minus, theta_plus = _si(rule.theta_minus), _si(rule.theta_plus)
    tau_x = _si(rule.tau_x)
    w_min, w_max = float(rule.w_min), float(rule.w_max)
    delay = _delay_steps(_si(rule.delay), dt)
    E_L = post.p["E_L"]
    u_minus = _filter(post, lambda neuron: neuron.v, _si(rule.tau_minus), delay)
    u_plus = _filter(post, lambda neuron: neuron.v, _si(rule.tau_plus), delay)
    filters = [u_minus, u_plus]
    squared = None
    if rule.homeostasis == "on":
        squared = _filter(post, lambda neuron: (neuron.v - E_L) ** 2, _si(rule.tau_homeostasis))
        filters.append(squared)
    u_ref_squared = _si(rule.u_ref_squared)

    def every_step(w: np.ndarray, x: np.ndarray) -> np.ndarray:
        ltp = A_LTP * dt * (x / tau_x) * _above(post.v, theta_plus)
        return np.clip(w + ltp * _above(u_plus.delayed, theta_minus), w_min, w_max)

    def at_pre(w: np.ndarray, fired: np.ndarray) -> np.ndarray:
        # the homeostatic filter is read after this step's neuron update, as in Brian2's
        # synapse slot; the delayed filters come from the start of the step
        amplitude = A_LTD * squared.value / u_ref_squared if squared is not None else A_LTD
        ltd = amplitude * _above(u_minus.delayed, theta_minus)
        return np.where(fired, np.clip(w - ltd, w_min, w_max), w)

    return _Plasticity(tau_x, filters, every_step, at_pre)


def _convallis(rule, post: PostNeuron, dt: float) -> _Plasticity:
    eta, tau_x, tau_c = _si(rule.eta), _si(rule.tau_x), _si(rule.tau_c)
    theta_low, theta_valley = _si(rule.theta_low), _si(rule.theta_valley)
    threshold = float(rule.lambda_)
    w_min, w_max = float(rule.w_min), float(rule.w_max)
    u = _filter(post, lambda neuron: neuron.v, _si(rule.tau_v))
    c = np.zeros(post.n)

    def every_step(w: np.ndarray, x: np.ndarray) -> np.ndarray:
        nonlocal c
        drive = _above(u.value, theta_low) * (u.value - theta_valley)
        c = c + dt * (eta * (x / tau_x) * drive - c / tau_c)
        excess = (c - threshold) * (c > threshold) + (c + threshold) * (c < -threshold)
        c = c - excess
        return np.clip(w + excess, w_min, w_max)

    def at_pre(w: np.ndarray, fired: np.ndarray) -> np.ndarray:
        return w

    return _Plasticity(tau_x, [u], every_step, at_pre)


def clopath_stdp(rule, neuron, pre_trains, post_trains, dt, duration, w0=1.0, **options):
    """Weights after every step of the Clopath rule (see :func:`simulate`)."""
    return simulate(rule, neuron, pre_trains, post_trains, dt, duration, w0, **options)


def convallis(rule, neuron, pre_trains, post_trains, dt, duration, w0=1.0, **options):
    """Weights after every step of the Convallis rule (see :func:`simulate`)."""
    return simulate(rule, neuron, pre_trains, post_trains, dt, duration, w0, **options)


_RULES = {"clopath-stdp": _clopath, "convallis": _convallis}
