"""clopath-stdp — voltage-based STDP of Clopath et al. (2010), with the homeostatic variant.

Description
-----------
The weight follows the postsynaptic membrane potential ``u`` (the neuron's ``v``), two low-pass
filtered copies of it and a presynaptic trace ``x̄`` that jumps by ``1/tau_x`` at each
presynaptic spike (so it has units of a rate)::

    tau_minus dū-/dt = u - ū-        tau_plus dū+/dt = u - ū+        tau_x dx̄/dt = -x̄ (+1/tau_x)

    at a presynaptic spike:  w <- clip(w - A_LTD(ū̄) [ū-(t - D) - theta_minus]+, w_min, w_max)
    every time step:         w <- clip(w + dt A_LTP x̄ [u - theta_plus]+ [ū+(t - D) - theta_minus]+,
                                       w_min, w_max)

where ``[.]+`` is rectification and ``D = delay``. Depression needs a presynaptic spike while
the (recent) membrane potential is above ``theta_minus``; potentiation needs presynaptic
activity, a depolarised moment ``u > theta_plus`` (in practice a spike) and a depolarised recent
past (e.g. an earlier spike: the frequency dependence). The filtered voltages are read ``delay``
late, as in the authors' code (3 steps of 1 ms), so that at a spike the rule sees the filtered
voltage from before it; ``delay`` must be a multiple of the time step (0: no delay).

Homeostatic variant (``homeostasis = "on"``)
    ``A_LTD(ū̄) = A_LTD ū̄/u_ref_squared`` with ``ū̄`` the low-pass (``tau_homeostasis``) of
    ``(u - E_L)**2``, as in the authors' network code (``RFdevelop.m``: a 1.2-s low-pass of the
    squared depolarisation divided by 60 mV²). The paper writes ``A_LTD ū̄²/u_ref²`` with ū̄ a
    mean depolarisation; NEST's ``aeif_psc_delta_clopath`` squares a 500-ms low-pass of ū- (an
    absolute voltage) instead. ``E_L`` is the postsynaptic neuron's parameter.

Numerical scheme and order within a time step
    Forward Euler, as in the authors' code: the potentiation term uses the values at the start of
    the step (``u`` and ``ū+`` before this step's neuron update, ``x̄`` before this step's
    presynaptic spikes); depression at a presynaptic spike uses ``ū-`` read ``delay`` late. A
    presynaptic spike raises ``x̄`` from the next step on. Halving dt (0.1 to 0.05 ms) changes
    the weight change of pairing sequences by about 0.4 % (tested to 1 %). The authors' code
    steps at 1 ms, where its presynaptic trace lags the continuous-time one by two steps (13 % at
    tau_x = 15 ms); this implementation converges to the continuous-time equations instead.

Neurons
    Any neuron with a membrane potential works (``voltage`` capability), but potentiation needs
    ``u > theta_plus``, so the spike must be visible in ``u``: use ``clopath-adex`` (the authors'
    AdEx with a 2-ms clamped spike, parameter set ``clopath2010-adex``). A plain LIF or AdEx
    resets at once and gives depression only, unless ``theta_plus`` is below its threshold.

Pairing scheme
    Not pair-based: every presynaptic spike interacts with the whole voltage history through the
    filters; the presynaptic trace sums all earlier spikes (all-to-all).

Parameters
----------
A_LTD : 1/volt      depression amplitude (14e-5 /mV visual cortex)
A_LTP : 1/volt**2   potentiation amplitude (8e-5 /mV² visual cortex)
theta_minus : volt  depression threshold, also the floor of the filtered voltages (-70.6 mV)
theta_plus : volt   potentiation threshold of the instantaneous voltage (-45.3 mV)
tau_x : time        presynaptic trace (15 ms)
tau_minus : time    filter for depression (10 ms)
tau_plus : time     filter for potentiation (7 ms)
delay : time        read delay of the filtered voltages (3 ms; multiple of dt)
homeostasis : "off" | "on"
u_ref_squared : volt**2  reference squared depolarisation of the homeostatic variant
tau_homeostasis : time   low-pass of the squared depolarisation (1.2 s in the authors' code)
w_min, w_max : 1    hard bounds (default 0 and +inf)

Neuron-side needs
-----------------
Presynaptic ``Trace(tau_x)``; postsynaptic ``Lowpass("v", tau_minus)``, ``Lowpass("v",
tau_plus)``, their ``Delayed`` copies (``delay/dt`` steps) and, with homeostasis,
``Lowpass("(v - E_L)**2", tau_homeostasis, "volt**2")``. A second Clopath projection onto the same
neurons with the same time constants shares them.

References
----------
.. [1] Clopath C, Büsing L, Vasilaki E, Gerstner W (2010) Connectivity reflects coding: a model of
       voltage-based STDP with homeostasis. Nat Neurosci 13:344–352. Table 1b.
.. [2] Authors' code, ModelDB 144566: ``VoTri.m``, ``aEIF.m``, ``FrequencyDependence.m``,
       ``RFdevelop.m``.
.. [3] NEST ``clopath_synapse`` and ``aeif_psc_delta_clopath``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from brian2 import ms, mV, second, volt
from brian2.units.fundamentalunits import Quantity

from ..errors import ConfigurationError, ParameterError
from ..needs import Delayed, Lowpass, Trace
from ..params import option, param
from ..rule import Contribution, Rule, RuleContext

__all__ = ["ClopathSTDP", "delay_steps"]


def delay_steps(delay: Quantity, dt: Quantity | None, rule: str) -> int:
    """Number of time steps of a read delay; it must be a whole multiple of dt."""
    if dt is None:  # the context only inspects the rule: any delay line will do
        return 1
    steps = float(delay / dt)
    if abs(steps - round(steps)) > 1e-6:
        raise ConfigurationError(
            f"{rule}: delay = {float(delay / ms):g} ms must be a multiple of the time step "
            f"dt = {float(dt / ms):g} ms"
        )
    return round(steps)


@dataclass(frozen=True, eq=False, kw_only=True)
class ClopathSTDP(Rule):
    """Clopath et al. (2010) voltage-based STDP (see module doc). Defaults: visual cortex fit."""

    kind: ClassVar[str] = "clopath-stdp"
    summary: ClassVar[str] = "voltage-based STDP, Clopath et al. 2010 (optional homeostasis)"
    #: How in-vitro protocols run this rule: the postsynaptic neuron (forced to spike by current
    #: pulses), the authors' initial weight 0.5, and their Sjöström convention (VoTri.m).
    protocol_conventions: ClassVar[dict[str, Any]] = {
        "neuron": "clopath2010-adex",
        "w0": 0.5,
        "settings": {"sjostrom": {"convention": "clopath2010"}},
    }

    A_LTD: Quantity = param(14e-5 / mV, volt**-1, "depression amplitude", nonnegative=True)
    A_LTP: Quantity = param(8e-5 / mV**2, volt**-2, "potentiation amplitude", nonnegative=True)
    theta_minus: Quantity = param(-70.6 * mV, volt, "depression threshold")
    theta_plus: Quantity = param(-45.3 * mV, volt, "potentiation threshold")
    tau_x: Quantity = param(15 * ms, ms, "presynaptic trace time constant", positive=True)
    tau_minus: Quantity = param(10 * ms, ms, "voltage filter for depression", positive=True)
    tau_plus: Quantity = param(7 * ms, ms, "voltage filter for potentiation", positive=True)
    delay: Quantity = param(3 * ms, ms, "read delay of the filtered voltages", nonnegative=True)
    homeostasis: str = option("off", ("off", "on"), "homeostatic depression amplitude")
    u_ref_squared: Quantity = param(
        60 * mV**2, volt**2, "reference squared depolarisation (homeostasis)", positive=True
    )
    tau_homeostasis: Quantity = param(
        1.2 * second, ms, "low-pass of the squared depolarisation (homeostasis)", positive=True
    )

    def check(self) -> None:
        super().check()
        if not self.theta_plus > self.theta_minus:
            raise ParameterError("clopath-stdp: theta_plus must be above theta_minus")

    def _filtered(self, ctx: RuleContext, tau: Quantity) -> str:
        """Expression of the postsynaptic voltage filtered with `tau`, read `delay` late."""
        lowpass = ctx.post(Lowpass("v", tau))
        if float(self.delay) == 0:
            return lowpass.value
        steps = delay_steps(self.delay, ctx.dt, self.kind)
        return ctx.post(Delayed(lowpass.need, steps)).value

    def contribute(self, ctx: RuleContext) -> Contribution:
        x = ctx.pre(Trace(self.tau_x))
        u_minus = self._filtered(ctx, self.tau_minus)
        u_plus = self._filtered(ctx, self.tau_plus)
        namespace: dict[str, Any] = {
            "A_LTD": self.A_LTD,
            "A_LTP": self.A_LTP,
            "theta_minus": self.theta_minus,
            "theta_plus": self.theta_plus,
            "tau_x": self.tau_x,
            **self.bounds_namespace(),
        }
        depression = "A_LTD"
        if self.homeostasis == "on":
            squared = ctx.post(Lowpass("(v - E_L)**2", self.tau_homeostasis, unit="volt**2"))
            depression = f"A_LTD*{squared.value}/u_ref_squared"
            namespace["u_ref_squared"] = self.u_ref_squared

        def above(value: str, threshold: str) -> str:
            return f"({value} - {threshold})*int({value} > {threshold})"

        return Contribution(
            on_pre=(
                f"w = clip(w - plastic*{depression}*{above(u_minus, 'theta_minus')}, w_min, w_max)"
            ),
            every_step=(
                f"w = clip(w + plastic*A_LTP*dt*({x.value}/tau_x)*{above('v_post', 'theta_plus')}"
                f"*{above(u_plus, 'theta_minus')}, w_min, w_max)"
            ),
            namespace=namespace,
        )
