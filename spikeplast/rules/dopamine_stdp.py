"""dopamine-stdp — dopamine-gated three-factor STDP (Izhikevich 2007; NEST stdp_dopamine_synapse).

Description
-----------
Pair STDP does not change the weight directly; it tags the synapse with an eligibility trace
``c``, and dopamine ``n`` turns the tag into a weight change. Per synapse, as implemented::

    dc/dt = -c/tau_c + A_plus x(t) Σ δ(t - t_post) - A_minus y(t) Σ δ(t - t_pre)
    dn/dt = -n/tau_d + d_jump Σ δ(t - t_modulator)
    dw/dt = c (n + d_tonic)

``x`` and ``y`` are the pre- and postsynaptic STDP traces (tau_plus, tau_minus), ``n`` is the
phasic dopamine concentration (unit Hz, i.e. per second) and ``d_tonic`` a constant tonic level
(any sign; NEST's baseline ``b`` is ``-d_tonic``). A modulator spike adds ``d_jump`` to ``n``;
with ``d_jump = 1/tau_d`` (the default, as in NEST) one spike integrates to a total of 1, so a
constant eligibility ``c`` then changes the weight by ``c``.

Integration (exact, event-driven)
    ``c`` and ``n`` decay exponentially between events, so the weight is integrated in closed form
    (as NEST and NESTML do): over an interval Δ since the synapse's last update,
    ``w += c0 [n0 tau_s (1 - exp(-Δ/tau_s)) + d_tonic tau_c (1 - exp(-Δ/tau_c))]`` with
    ``1/tau_s = 1/tau_c + 1/tau_d``, then ``c`` and ``n`` decay by their exact factors. A synapse
    is brought up to date at its presynaptic spikes, its postsynaptic spikes, every modulator
    spike, and every ``update_interval`` (all synapses, at the end of the time step, before
    monitors). Each update is exact, for any ``dt`` (no discretisation error; spike times are on
    the time grid). A weight read between updates is the value of the synapse's last update,
    less than ``update_interval`` old; read right after a periodic update (e.g. by a monitor
    with ``dt = update_interval``) it is exact.

Bounds
    The weight is clipped to ``[w_min, w_max]`` at each update (NEST clips at its updates,
    Izhikevich's code every 10 ms). When a bound is hit, the result depends on the update times,
    so a reference must use the same times (``update_interval`` is part of the rule).

Pairing scheme (``interaction``)
    ``all-to-all``: traces add 1 per spike (NEST). ``nearest``: traces are set to 1 per spike
    (Izhikevich's code sets its STDP trace to 0.1 at each spike: A_plus = 0.1).

Coincident spikes
    Pre- and postsynaptic spikes in the same time step: the presynaptic spike is processed first
    (as in ``pair-stdp``): its depression sees the postsynaptic trace before the simultaneous
    spike; the postsynaptic potentiation sees the presynaptic trace including it (Δt = 0 tags
    ``+A_plus``). The order relative to a modulator spike in the same step does not matter:
    every update first brings the synapse to the current time, so jumps at one time commute.

Transmission
    Without a delay, the composer transmits before the rule runs at a presynaptic spike, so the
    transmitted weight is the one of the synapse's last update (at most ``update_interval`` old,
    as in Izhikevich's code, where weights change every 10 ms); with a transmission delay it is
    the weight at the presynaptic spike.

Third factor
    Needs ``Projection(modulator=<population>)``: every spike of that population (a
    :class:`~spikeplast.neurons.SpikeTrains` of reward times, dopaminergic neurons, or a
    population that fires when the network earns a reward) adds ``d_jump`` on all synapses of
    the projection. Without one, building fails with an error naming the missing modulator.

Parameters
----------
interaction : "all-to-all" | "nearest"
tau_plus, tau_minus : time   STDP trace time constants
A_plus, A_minus : 1          eligibility increments per pair (potentiation / depression)
tau_c : time                 eligibility time constant
tau_d : time                 dopamine time constant
d_tonic : Hz                 tonic dopamine (constant, any sign)
d_jump : Hz                  dopamine increase per modulator spike
update_interval : time       interval of the periodic update (a multiple of dt)
w_min, w_max : 1             hard bounds

Parameter sets: ``izhikevich2007-daspnet`` (the original MATLAB code, converted to continuous
time), ``izhikevich2007-nest-defaults`` (NEST's ``stdp_dopamine_synapse`` defaults).

Neuron-side needs
-----------------
Presynaptic ``Trace(tau_plus, interaction)``, postsynaptic ``Trace(tau_minus, interaction)``.
Synaptic state: ``eligibility`` (c), ``dopamine`` (n), ``t_last_update``.

References
----------
.. [1] Izhikevich EM (2007) Solving the distal reward problem through linkage of STDP and
       dopamine signaling. Cereb Cortex 17:2443–2452; code: ModelDB 84167 (daspnet.m).
.. [2] Potjans W, Morrison A, Diesmann M (2010) Enabling functional neural circuit simulations
       with distributed computing of neuromodulated plasticity. Front Comput Neurosci 4:141
       (NEST ``stdp_dopamine_synapse``; NESTML ``neuromodulated_stdp_synapse``).
.. [3] Frémaux N, Gerstner W (2016) Neuromodulated spike-timing-dependent plasticity, and theory
       of three-factor learning rules. Front Neural Circuits 9:85.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from brian2 import Hz, ms, second
from brian2.units.fundamentalunits import Quantity

from ..needs import INTERACTIONS, Trace
from ..params import option, param
from ..rule import Contribution, Rule, RuleContext
from ._lazy import CATCH_UP_MARKER, silence_expected_order_warning

__all__ = ["DopamineSTDP"]

#: Brings a synapse from ``t_last_update`` to ``t`` (exact; see module doc).
#: ``Δ exprel(-Δ/τ) = τ (1 - exp(-Δ/τ))`` without cancellation for small Δ.
_CATCH_UP = f"""{CATCH_UP_MARKER}
w = clip(w + plastic*eligibility*since_update*(dopamine*exprel(-since_update*rate_s) + d_tonic*exprel(-since_update/tau_c)), w_min, w_max)
eligibility = eligibility*exp(-since_update/tau_c)
dopamine = dopamine*exp(-since_update/tau_d)
t_last_update = t
"""  # noqa: E501


@dataclass(frozen=True, eq=False, kw_only=True)
class DopamineSTDP(Rule):
    """Dopamine-gated STDP with an eligibility trace (see module doc). Defaults: NEST's."""

    kind: ClassVar[str] = "dopamine-stdp"
    summary: ClassVar[str] = "dopamine-gated STDP, Izhikevich 2007 (eligibility trace, modulator)"

    interaction: str = option("all-to-all", INTERACTIONS, "spike pairing scheme")
    tau_plus: Quantity = param(20 * ms, ms, "presynaptic STDP trace time constant", positive=True)
    tau_minus: Quantity = param(20 * ms, ms, "postsynaptic STDP trace time constant", positive=True)
    A_plus: float = param(1.0, 1, "eligibility increase per pre-post pair", nonnegative=True)
    A_minus: float = param(1.5, 1, "eligibility decrease per post-pre pair", nonnegative=True)
    tau_c: Quantity = param(1000 * ms, ms, "eligibility trace time constant", positive=True)
    tau_d: Quantity = param(200 * ms, ms, "dopamine time constant", positive=True)
    d_tonic: Quantity = param(0 * Hz, Hz, "tonic dopamine level (NEST: -b)")
    d_jump: Quantity = param(5 * Hz, Hz, "dopamine increase per modulator spike")
    update_interval: Quantity = param(
        10 * ms, ms, "interval of the periodic weight update", positive=True
    )

    def contribute(self, ctx: RuleContext) -> Contribution:
        ctx.require_modulator(self.kind)
        silence_expected_order_warning()
        x = ctx.pre(Trace(self.tau_plus, self.interaction))
        y = ctx.post(Trace(self.tau_minus, self.interaction))
        rate_s = 1 / self.tau_c + 1 / self.tau_d
        return Contribution(
            model="eligibility : 1\ndopamine : Hz\nt_last_update : second\n",
            on_pre=_CATCH_UP + f"eligibility -= A_minus*{y.value}",
            on_post=_CATCH_UP + f"eligibility += A_plus*{x.value_now}",
            on_modulator=_CATCH_UP + "dopamine += d_jump",
            periodic=((_CATCH_UP, self.update_interval),),
            namespace={
                "A_plus": float(self.A_plus),
                "A_minus": float(self.A_minus),
                "tau_c": self.tau_c,
                "tau_d": self.tau_d,
                "rate_s": rate_s,
                "d_tonic": self.d_tonic,
                "d_jump": self.d_jump,
                **self.bounds_namespace(),
            },
            init={"eligibility": 0.0, "dopamine": 0 * Hz, "t_last_update": 0 * second},
            probeable=("eligibility", "dopamine"),
        )
