"""vogels-istdp — symmetric inhibitory STDP with a target rate (Vogels et al. 2011).

Description
-----------
A presynaptic (inhibitory) trace ``x`` and a postsynaptic trace ``y``, both with time constant
``tau``, jump by 1 at each spike of their neuron and decay exponentially in between. The weight
of the inhibitory synapse follows::

    at a presynaptic spike:  w <- clip(w + eta * (y - alpha), w_min, w_max)
    at a postsynaptic spike: w <- clip(w + eta * x,           w_min, w_max)

with ``alpha = 2 rho0 tau``. Near pre- and postsynaptic spikes, in either order, potentiate
(the window ``eta exp(-|Δt|/tau)`` is symmetric); every presynaptic spike also depresses by
``eta alpha``. For independent Poisson trains at rates ``rho_pre`` and ``rho_post`` the mean drift
is ``eta rho_pre (2 tau rho_post - alpha) = 2 eta tau rho_pre (rho_post - rho0)``: inhibition
grows while the postsynaptic neuron fires above the target rate ``rho0`` and shrinks below it,
which balances excitation and inhibition. Use it on inhibitory projections
(``Projection(..., receptor="inh")``); ``w`` stays non-negative and the receptor carries the sign.

Pairing scheme
    All-to-all: traces add 1 per spike, every earlier partner spike counts.

Coincident spikes
    A pre- and a postsynaptic spike in the same time step: the presynaptic spike is processed
    first and does not see the simultaneous postsynaptic spike; the postsynaptic spike sees the
    presynaptic one, so a coincidence potentiates by ``eta`` once (not twice).

Differences from NEST's ``vogels_sprekeler_synapse``
    NEST applies the presynaptic update in two clipped steps (``+eta y`` capped at ``Wmax``, then
    ``-eta alpha`` floored at 0); here one clip follows the sum. Results differ only when the upper
    bound is reached at a presynaptic spike. NEST's weights change only when a presynaptic spike
    is delivered (postsynaptic potentiation is applied late); here it is applied at once.

Parameters
----------
tau : time     time constant of both traces (20 ms in the paper)
eta : 1        learning rate (weight change per unit of trace)
rho0 : Hz      target postsynaptic rate; ``alpha = 2 rho0 tau`` is the depression per pre spike
               in units of ``eta``
w_min, w_max : 1   hard bounds (default 0 and +inf)

Neuron-side needs
-----------------
Presynaptic ``Trace(tau)`` and postsynaptic ``Trace(tau)`` (all-to-all); shared with any other
rule of the same groups that asks for the same time constant.

References
----------
.. [1] Vogels TP, Sprekeler H, Zenke F, Clopath C, Gerstner W (2011) Inhibitory plasticity
       balances excitation and inhibition in sensory pathways and memory networks.
       Science 334:1569–1573. Code: ModelDB 143751 (``inhib_plasticity.m``, ``isp_brian.py``).
.. [2] NEST ``vogels_sprekeler_synapse`` (models/vogels_sprekeler_synapse.h).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from brian2 import Hz, ms
from brian2.units.fundamentalunits import Quantity

from ..needs import Trace
from ..params import param
from ..rule import Contribution, Rule, RuleContext

__all__ = ["VogelsISTDP"]


@dataclass(frozen=True, eq=False, kw_only=True)
class VogelsISTDP(Rule):
    """Vogels et al. (2011) inhibitory STDP (see module doc). Defaults: the network parameters."""

    kind: ClassVar[str] = "vogels-istdp"
    summary: ClassVar[str] = "inhibitory STDP with target rate, Vogels et al. 2011 (symmetric)"

    tau: Quantity = param(20 * ms, ms, "time constant of the pre and post traces", positive=True)
    eta: float = param(1e-2, 1, "learning rate", nonnegative=True)
    rho0: Quantity = param(3 * Hz, Hz, "target postsynaptic rate", nonnegative=True)

    @property
    def alpha(self) -> float:
        """Depression per presynaptic spike in units of ``eta``: ``2 rho0 tau``."""
        return float(2 * self.rho0 * self.tau)

    def contribute(self, ctx: RuleContext) -> Contribution:
        x = ctx.pre(Trace(self.tau))
        y = ctx.post(Trace(self.tau))
        return Contribution(
            on_pre=f"w = clip(w + plastic*eta*({y.value} - alpha), w_min, w_max)",
            on_post=f"w = clip(w + plastic*eta*{x.value_now}, w_min, w_max)",
            namespace={"eta": self.eta, "alpha": self.alpha, **self.bounds_namespace()},
        )
