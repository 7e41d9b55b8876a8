"""convallis — voltage-valley plasticity with a consolidation threshold (after Yger & Harris 2013).

What is verified and what is chosen
-----------------------------------
Yger & Harris (2013) derive the "Convallis rule" from unsupervised learning by constrained
optimisation: the weight follows the gradient of the time average of a function ``F`` of the
postsynaptic membrane potential whose *valley* (convallis, Latin) lies below the spike threshold,
gated by presynaptic activity, and only changes that are consolidated count [abstract, figure
captions: verified]. The paper's Methods (the exact ``F``, the filtering, the consolidation
dynamics and their constants) could not be read for this implementation, and no public code of
the authors was found. The equations below are therefore **a choice** made to follow that
description; the parameter set ``yger2013-invitro`` is tuned here, not taken from the paper.

Description (as implemented)
----------------------------
``ū`` is the postsynaptic membrane potential low-pass filtered with ``tau_v``; ``x̄`` a
presynaptic trace jumping by ``1/tau_x`` (the presynaptic PSP, in units of a rate). The drive

    φ(ū) = F'(ū) = [ū - theta_low]+ (ū - theta_valley)

is zero below ``theta_low`` (no plasticity at rest), negative between ``theta_low`` and
``theta_valley`` (depression when moderately depolarised) and positive above ``theta_valley``
(potentiation when strongly depolarised, e.g. by a spike): ``F`` is flat, then falls into a
valley at ``theta_valley`` (below threshold), then rises. Each synapse integrates the drive into
an unconsolidated change ``c`` that decays with ``tau_c``::

    every time step:  c <- c + dt (eta x̄ φ(ū) - c/tau_c)
                      excess = sign(c) [|c| - lambda]+        (what exceeds the threshold)
                      w <- clip(w + excess, w_min, w_max);  c <- c - excess

so only changes that accumulate beyond ``±lambda`` within about ``tau_c`` reach the weight: a
single weak or isolated coincidence decays away, repeated ones are consolidated (the soft
threshold / "shrinkage" step, chosen because it is the simplest consolidation with a threshold
that keeps the rule continuous in time and dt-invariant). Forward Euler, with all values at the
start of the step (before this step's neuron update and spikes), like the Clopath rule.

Why these choices
    The quadratic ``φ`` is the simplest smooth function with the required sign pattern (the
    two-threshold shape of Artola, Bröcher & Singer 1990 and Clopath et al. 2010); filtering ``u``
    makes the rule see the recent depolarisation rather than the instantaneous one. The
    consolidation threshold also gives a frequency dependence: at 0.1 Hz each pre-post pairing's
    potentiation stays below ``lambda`` and decays, while at 20–50 Hz the pairings accumulate.
    The paper's network-level rate constraint (a homeostatic normalisation of the weights) is not
    part of this synapse rule.

Neurons
    Any neuron with a membrane potential; the spike must be visible in ``u`` for potentiation
    (``clopath-adex`` holds it for 2 ms; protocols use ``clopath2010-adex``).

Parameters
----------
eta : 1/volt**2         learning rate of the drive
theta_low : volt        lower edge of the plastic range (no change below)
theta_valley : volt     bottom of the valley of F: depression below, potentiation above
tau_v : time            low-pass of the membrane potential
tau_x : time            presynaptic trace
tau_c : time            decay of the unconsolidated change
lambda_ : 1             consolidation threshold (``lambda`` is a Python keyword)
w_min, w_max : 1        hard bounds

Neuron-side needs
-----------------
Presynaptic ``Trace(tau_x)``; postsynaptic ``Lowpass("v", tau_v)``. Synaptic variable ``c``
(probeable).

References
----------
.. [1] Yger P, Harris KD (2013) The Convallis rule for unsupervised learning in cortical
       networks. PLoS Comput Biol 9:e1003272.
.. [2] Artola A, Bröcher S, Singer W (1990) Nature 347:69–72.
.. [3] Clopath C, Büsing L, Vasilaki E, Gerstner W (2010) Nat Neurosci 13:344–352.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from brian2 import ms, mV, second, volt
from brian2.units.fundamentalunits import Quantity

from ..errors import ParameterError
from ..needs import Lowpass, Trace
from ..params import param
from ..rule import Contribution, Rule, RuleContext

__all__ = ["Convallis"]


@dataclass(frozen=True, eq=False, kw_only=True)
class Convallis(Rule):
    """Convallis-type rule (see module doc: the equations are a documented choice)."""

    kind: ClassVar[str] = "convallis"
    summary: ClassVar[str] = "voltage valley + consolidation threshold, after Yger & Harris 2013"
    #: In-vitro protocols drive the authors'-style AdEx with current pulses (as for Clopath).
    protocol_conventions: ClassVar[dict[str, Any]] = {"neuron": "clopath2010-adex", "w0": 1.0}

    eta: Quantity = param(1e-4 / mV**2, volt**-2, "learning rate of the drive", nonnegative=True)
    theta_low: Quantity = param(-70 * mV, volt, "lower edge of the plastic range")
    theta_valley: Quantity = param(-55 * mV, volt, "bottom of the valley of F")
    tau_v: Quantity = param(10 * ms, ms, "low-pass of the membrane potential", positive=True)
    tau_x: Quantity = param(15 * ms, ms, "presynaptic trace", positive=True)
    tau_c: Quantity = param(1 * second, ms, "decay of the unconsolidated change", positive=True)
    lambda_: float = param(0.001, 1, "consolidation threshold", nonnegative=True)

    def check(self) -> None:
        super().check()
        if not self.theta_valley > self.theta_low:
            raise ParameterError("convallis: theta_valley must be above theta_low")

    def contribute(self, ctx: RuleContext) -> Contribution:
        x = ctx.pre(Trace(self.tau_x))
        u = ctx.post(Lowpass("v", self.tau_v)).value
        drive = f"(({u} - theta_low)*int({u} > theta_low)*({u} - theta_valley))"
        return Contribution(
            model="c : 1",
            every_step=(
                f"c = c + dt*(plastic*eta*({x.value}/tau_x)*{drive} - c/tau_c)\n"
                "c_excess = (c - lambda_)*int(c > lambda_) + (c + lambda_)*int(c < -lambda_)\n"
                "w = clip(w + c_excess, w_min, w_max)\n"
                "c = c - c_excess"
            ),
            namespace={
                "eta": self.eta,
                "theta_low": self.theta_low,
                "theta_valley": self.theta_valley,
                "tau_x": self.tau_x,
                "tau_c": self.tau_c,
                "lambda_": self.lambda_,
                **self.bounds_namespace(),
            },
            init={"c": 0.0},
            probeable=("c",),
        )
