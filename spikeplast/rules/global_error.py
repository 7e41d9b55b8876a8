"""global-error — three-factor rule with a signed global error (FA_Ex-100%, Konishi et al. 2023).

Description
-----------
The spiking counterpart of the FA_Ex-100% update ``ΔW_ij = -η x_j θ(I_i) e`` of Konishi,
Igarashi & Miura (2023): presynaptic activity ``x_j`` times a binary postsynaptic gate ``θ_i``
times a signed scalar error ``e`` broadcast to every synapse (feedback alignment with all
feedback weights equal to 1, since all hidden neurons are excitatory). As implemented, per
synapse::

    x(t)   = Σ_k exp(-(t - t_pre,k)/tau_pre) / tau_pre          presynaptic rate estimate (Hz)
    θ(t)   = 1 if a postsynaptic spike occurred in (t - gate_window, t], else 0
    dε/dt  = -ε/tau_eligibility + x(t) θ(t)                      eligibility (dimensionless)
    at a broadcast of error E:  w <- clip(w - eta * E * ε, w_min, w_max)
                                ε <- 0   if eligibility_after_error == "reset"

With the default ``tau_eligibility = inf`` and ``"reset"``, ``ε`` is the integral of ``x θ`` since
the previous broadcast: broadcasting the error of a trial at its end applies
``Δw = -eta E ∫_trial x(t) θ(t) dt ≈ -eta E ν_j T_active`` (ν_j the presynaptic rate, T_active the
time the gate was open), i.e. the rate rule with ``η_rate = eta T_trial`` when ``x_j`` is a rate
in Hz and the gate is open all trial. A positive error (prediction above target) depresses.

Integration (exact, event-driven)
    Between events ``x`` decays exponentially and ``θ`` switches off at most once, so ``ε`` is
    brought up to date in closed form at presynaptic, postsynaptic and modulator spikes;
    weights change only at broadcasts and are therefore always current. ``ε`` as recorded is
    the value at the synapse's last update.

Coincident spikes
    The gate opens at the postsynaptic spike's time step; a presynaptic spike in the same step
    starts contributing from that step on. A broadcast in the same step does not see them
    (they have contributed over zero time), whatever the order in which Brian2 runs the
    pathways.

Third factor
    Needs ``Projection(modulator=<population>)`` whose model carries a signed ``error``: an
    :class:`spikeplast.modulators.ErrorSignal` (scheduled values on every backend, or values set
    per trial with :func:`spikeplast.modulators.broadcast_error` on runtime backends), or a
    custom model with the ``"error-signal"`` capability. Building fails with an error naming the
    missing modulator or the missing error value.

    ``error_target = "all"`` (FA_Ex-100%): every broadcast applies to every synapse; use a
    one-neuron modulator (with several, each broadcast in a step applies its error; with
    ``"reset"`` the first one consumes the eligibility). ``"postsynaptic"``: the modulator has
    one neuron per postsynaptic neuron, and neuron k's error applies only to the synapses onto
    postsynaptic neuron k (a per-neuron modulator ``M_i``, e.g. ``Σ_k B_ik e_k`` of direct
    feedback alignment). Each modulator neuron still reaches every synapse (the composer's
    pathway), so a broadcast costs (modulator neurons × synapses) operations.

Parameters
----------
eta : 1                      learning rate (Konishi et al.: 0.01)
tau_pre : time               presynaptic trace time constant
gate_window : time           the gate stays open this long after each postsynaptic spike
tau_eligibility : time       eligibility decay (inf: pure integration between broadcasts)
eligibility_after_error : "reset" | "keep"
error_target : "all" | "postsynaptic"
w_min, w_max : 1             hard bounds

Neuron-side needs
-----------------
None: the presynaptic trace, the gate's closing time (``gate_until``), ``eligibility`` and
``t_last_update`` are synaptic state, so that the modulator pathway can update them.

References
----------
.. [1] Konishi M, Igarashi KM, Miura K (2023) Biologically plausible local synaptic learning
       rules robustly implement deep supervised learning. Front Neurosci 17:1160899.
.. [2] Frémaux N, Gerstner W (2016) Front Neural Circuits 9:85 (three-factor rules).
.. [3] Lillicrap TP et al. (2016) Nat Commun 7:13276 (feedback alignment).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from brian2 import Hz, ms, second
from brian2.units.fundamentalunits import Quantity

from ..errors import ConfigurationError, ParameterError
from ..modulators import ERROR_SIGNAL
from ..params import option, param
from ..rule import Contribution, Rule, RuleContext
from ._lazy import CATCH_UP_MARKER, silence_expected_order_warning

__all__ = ["GlobalError", "AFTER_ERROR", "ERROR_TARGETS"]

AFTER_ERROR = ("reset", "keep")
ERROR_TARGETS = ("all", "postsynaptic")

#: Brings ε from ``t_last_update`` to ``t``: the gate is open for ``gate_open`` of the elapsed
#: time (from its start), during which the integrand is ``x0 exp(-s/tau_pre) exp(-(Δ-s)/tau_e)``.
_CATCH_UP = f"""{CATCH_UP_MARKER}
gate_open = clip(gate_until - t_last_update, 0*second, since_update)
eligibility = exp(-since_update*rate_e)*(eligibility + pre_rate*gate_open*exprel(-gate_open*rate_k))
pre_rate = pre_rate*exp(-since_update/tau_pre)
t_last_update = t
"""  # noqa: E501


@dataclass(frozen=True, eq=False, kw_only=True)
class GlobalError(Rule):
    """Presynaptic trace × postsynaptic gate × signed broadcast error (see module doc)."""

    kind: ClassVar[str] = "global-error"
    summary: ClassVar[str] = (
        "signed global error × pre trace × post gate (FA_Ex-100%, Konishi 2023)"
    )

    eta: float = param(0.01, 1, "learning rate", nonnegative=True)
    tau_pre: Quantity = param(20 * ms, ms, "presynaptic trace time constant", positive=True)
    gate_window: Quantity = param(
        20 * ms, ms, "gate open time after a postsynaptic spike", positive=True
    )
    tau_eligibility: Quantity = param(
        float("inf") * second, ms, "eligibility decay (inf: none)", positive=True
    )
    eligibility_after_error: str = option("reset", AFTER_ERROR, "eligibility after a broadcast")
    error_target: str = option("all", ERROR_TARGETS, "synapses an error neuron reaches")

    def check(self) -> None:
        super().check()
        if math.isinf(float(self.gate_window)):
            raise ParameterError("global-error: gate_window must be finite")

    def contribute(self, ctx: RuleContext) -> Contribution:
        modulator = ctx.require_modulator(self.kind)
        if ERROR_SIGNAL not in modulator.capabilities():
            raise ConfigurationError(
                f"rule {self.kind!r} on projection {ctx.projection!r} needs a modulator that "
                f"carries a signed error value (an ErrorSignal population, or a model with the "
                f"{ERROR_SIGNAL!r} capability and an 'error' variable), but the modulator is a "
                f"{type(modulator).__name__}"
            )
        silence_expected_order_warning()
        rate_e = 0 * Hz if math.isinf(float(self.tau_eligibility)) else 1 / self.tau_eligibility
        model = "eligibility : 1\npre_rate : Hz\ngate_until : second\nt_last_update : second\n"
        init: dict[str, Any] = {
            "eligibility": 0.0,
            "pre_rate": 0 * Hz,
            "gate_until": -1 * second,
            "t_last_update": 0 * second,
        }
        if self.error_target == "all":
            apply = "w = clip(w - plastic*eta*error_pre*eligibility, w_min, w_max)"
            after = "\neligibility = 0"
        else:
            # every modulator neuron reaches every synapse; only neuron `post_neuron` applies
            model += "post_neuron : integer (constant)\n"
            init["post_neuron"] = "j"
            apply = (
                "own_error = int(i == post_neuron)\n"
                "w = clip(w - plastic*own_error*eta*error_pre*eligibility, w_min, w_max)"
            )
            after = "\neligibility = eligibility*(1 - own_error)"
        if self.eligibility_after_error == "keep":
            after = ""
        return Contribution(
            model=model,
            on_pre=_CATCH_UP + "pre_rate += 1/tau_pre",
            on_post=_CATCH_UP + "gate_until = t + gate_window",
            on_modulator=_CATCH_UP + apply + after,
            namespace={
                "eta": float(self.eta),
                "tau_pre": self.tau_pre,
                "gate_window": self.gate_window,
                "rate_e": rate_e,
                "rate_k": 1 / self.tau_pre - rate_e,
                **self.bounds_namespace(),
            },
            init=init,
            probeable=("eligibility",),
        )
