"""pair-stdp — pair-based spike-timing-dependent plasticity.

Description
-----------
Each pair of a presynaptic spike at ``t_pre`` and a postsynaptic spike at ``t_post`` changes the
weight by ``F+(w) exp(-Δt/tau_plus)`` if ``Δt = t_post - t_pre >= 0`` (potentiation, applied at
the postsynaptic spike) and by ``-F-(w) exp(Δt/tau_minus)`` if ``Δt < 0`` (depression, applied at
the presynaptic spike). Implemented with a presynaptic trace ``x`` (tau_plus) and a postsynaptic
trace ``y`` (tau_minus), both kept on the neurons::

    at a presynaptic spike:  w <- clip(w - F-(w) * y, w_min, w_max)
    at a postsynaptic spike: w <- clip(w + F+(w) * x, w_min, w_max)

Pairing scheme (``interaction``)
    ``all-to-all``: every earlier spike of the partner counts (traces add 1 per spike).
    ``nearest``: only the most recent partner spike counts (traces are set to 1; the symmetric
    nearest-neighbour scheme, Morrison et al. 2008 Fig. 7A, NEST ``stdp_nn_symm_synapse``).

Weight dependence (``weight_dependence``), with ``x``/``y`` the trace values
    ``additive``:        F+ = A_plus,                              F- = A_minus
    ``multiplicative``:  F+ = A_plus (w_max - w),                  F- = A_minus (w - w_min)
    ``gutig``:           F+ = A_plus w_max (1 - w/w_max)^mu_plus,
                         F- = A_minus w_max (w/w_max)^mu_minus
                         (Gütig et al. 2003; NEST ``stdp_synapse`` with lambda = A_plus and
                         alpha = A_minus/A_plus; needs w_min = 0 and a finite w_max)
    ``van-rossum``:      F+ = A_plus,                              F- = A_minus w
                         (additive potentiation, multiplicative depression; van Rossum et al. 2000)
All variants then clip to the hard bounds ``[w_min, w_max]``.

Coincident spikes
    A pre- and a postsynaptic spike in the same time step: the presynaptic spike is processed
    first. Its depression does not see the simultaneous postsynaptic spike; the postsynaptic
    spike's potentiation does see the presynaptic one, so Δt = 0 counts as a causal pair
    (potentiation ``F+``), none as depression.

Parameters
----------
interaction : "all-to-all" | "nearest"
weight_dependence : "additive" | "multiplicative" | "gutig" | "van-rossum"
tau_plus : time        decay of the presynaptic trace (potentiation window)
tau_minus : time       decay of the postsynaptic trace (depression window)
A_plus : 1             potentiation amplitude (per pair, in weight units)
A_minus : 1            depression amplitude (per pair, in weight units)
mu_plus, mu_minus : 1  exponents of the ``gutig`` weight dependence
w_min, w_max : 1       hard bounds (default 0 and +inf; multiplicative and gutig need a
                       finite w_max)

Neuron-side needs
-----------------
Presynaptic ``Trace(tau_plus, interaction)``, postsynaptic ``Trace(tau_minus, interaction)``.

References
----------
.. [1] Bi GQ, Poo MM (1998) J Neurosci 18:10464–10472.
.. [2] Song S, Miller KD, Abbott LF (2000) Nat Neurosci 3:919–926.
.. [3] van Rossum MCW, Bi GQ, Turrigiano GG (2000) J Neurosci 20:8812–8821.
.. [4] Gütig R, Aharonov R, Rotter S, Sompolinsky H (2003) J Neurosci 23:3697–3714.
.. [5] Morrison A, Diesmann M, Gerstner W (2008) Biol Cybern 98:459–478.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from brian2 import ms
from brian2.units.fundamentalunits import Quantity

from ..errors import ParameterError
from ..needs import INTERACTIONS, Trace
from ..params import option, param
from ..rule import Contribution, Rule, RuleContext

__all__ = ["PairSTDP", "WEIGHT_DEPENDENCES"]

WEIGHT_DEPENDENCES = ("additive", "multiplicative", "gutig", "van-rossum")


@dataclass(frozen=True, eq=False, kw_only=True)
class PairSTDP(Rule):
    """Pair-based STDP with a choice of pairing scheme and weight dependence (see module doc)."""

    kind: ClassVar[str] = "pair-stdp"
    summary: ClassVar[str] = "pair STDP (all-to-all/nearest; additive, multiplicative, soft bounds)"

    interaction: str = option("all-to-all", INTERACTIONS, "spike pairing scheme")
    weight_dependence: str = option("additive", WEIGHT_DEPENDENCES, "how changes scale with w")
    tau_plus: Quantity = param(20 * ms, ms, "presynaptic trace time constant", positive=True)
    tau_minus: Quantity = param(20 * ms, ms, "postsynaptic trace time constant", positive=True)
    A_plus: float = param(0.01, 1, "potentiation amplitude", nonnegative=True)
    A_minus: float = param(0.0105, 1, "depression amplitude", nonnegative=True)
    mu_plus: float = param(1.0, 1, "exponent of potentiation (gutig)", nonnegative=True)
    mu_minus: float = param(1.0, 1, "exponent of depression (gutig)", nonnegative=True)

    def check(self) -> None:
        super().check()
        if self.weight_dependence in ("multiplicative", "gutig") and math.isinf(self.w_max):
            raise ParameterError(
                f"pair-stdp: weight_dependence {self.weight_dependence!r} needs a finite w_max"
            )
        if self.weight_dependence == "gutig" and self.w_min != 0:
            raise ParameterError("pair-stdp: weight_dependence 'gutig' needs w_min = 0")

    def potentiation(self, trace: str) -> str:
        """Expression of the weight increase at a postsynaptic spike, given the pre trace."""
        return {
            "additive": f"A_plus*{trace}",
            "multiplicative": f"A_plus*(w_max - w)*{trace}",
            "gutig": f"A_plus*w_max*clip(1 - w/w_max, 0, 1)**mu_plus*{trace}",
            "van-rossum": f"A_plus*{trace}",
        }[self.weight_dependence]

    def depression(self, trace: str) -> str:
        """Expression of the weight decrease at a presynaptic spike, given the post trace."""
        return {
            "additive": f"A_minus*{trace}",
            "multiplicative": f"A_minus*(w - w_min)*{trace}",
            "gutig": f"A_minus*w_max*clip(w/w_max, 0, 1)**mu_minus*{trace}",
            "van-rossum": f"A_minus*w*{trace}",
        }[self.weight_dependence]

    def contribute(self, ctx: RuleContext) -> Contribution:
        x = ctx.pre(Trace(self.tau_plus, self.interaction))
        y = ctx.post(Trace(self.tau_minus, self.interaction))
        namespace = {"A_plus": self.A_plus, "A_minus": self.A_minus, **self.bounds_namespace()}
        if self.weight_dependence == "gutig":
            namespace.update(mu_plus=self.mu_plus, mu_minus=self.mu_minus)
        return Contribution(
            on_pre=f"w = clip(w - plastic*{self.depression(y.value)}, w_min, w_max)",
            on_post=f"w = clip(w + plastic*{self.potentiation(x.value_now)}, w_min, w_max)",
            namespace=namespace,
        )
