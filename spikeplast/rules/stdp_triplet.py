"""triplet-stdp — triplet spike-timing-dependent plasticity (Pfister & Gerstner 2006).

Description
-----------
Four traces decay exponentially between spikes: presynaptic ``r1`` (tau_plus) and ``r2``
(tau_x), postsynaptic ``o1`` (tau_minus) and ``o2`` (tau_y). With ``ε`` meaning "just before the
trace's own jump"::

    at a presynaptic spike:  w <- clip(w - o1(t) * [A2_minus + A3_minus * r2(t - ε)], w_min, w_max)
    at a postsynaptic spike: w <- clip(w + r1(t) * [A2_plus  + A3_plus  * o2(t - ε)], w_min, w_max)

then the spiking neuron's traces jump. The weight change is additive and absolute (not scaled by
w), as in the paper and in NEST's ``stdp_triplet_synapse``. "Minimal" models set the terms their
fit does not need to zero (visual: A2_plus = A3_minus = 0; hippocampal: A3_minus = 0); a zero term
requests no trace.

Pairing scheme (``interaction``)
    ``all-to-all``: traces add 1 per spike. ``nearest``: traces are set to 1 per spike
    (Pfister & Gerstner's "nearest-spike" model). The published parameters are specific to a
    scheme; use the matching registry name (``pfister2006-visual-aa-full``, ``...-nn-full``).

Coincident spikes
    Pre- and postsynaptic spikes in the same time step: the presynaptic spike is processed first.
    Its depression sees ``o1`` before the simultaneous postsynaptic spike; the postsynaptic
    potentiation sees ``r1`` including the simultaneous presynaptic spike (so Δt = 0 potentiates
    by ``A2_plus + A3_plus o2``), and ``o2``/``r2`` are always read before their own neuron's jump.

Parameters
----------
interaction : "all-to-all" | "nearest"
tau_plus : time    presynaptic pair trace r1 (16.8 ms in the paper)
tau_minus : time   postsynaptic pair trace o1 (33.7 ms)
tau_x : time       presynaptic triplet trace r2
tau_y : time       postsynaptic triplet trace o2
A2_plus, A3_plus, A2_minus, A3_minus : 1   pair and triplet amplitudes
w_min, w_max : 1   hard bounds (default 0 and +inf: additive changes from w0 = 1)

Neuron-side needs
-----------------
Presynaptic ``Trace(tau_plus)`` and, if A3_minus != 0, ``Trace(tau_x)``; postsynaptic
``Trace(tau_minus)`` and, if A3_plus != 0, ``Trace(tau_y)`` — all with the rule's interaction.

References
----------
.. [1] Pfister JP, Gerstner W (2006) Triplets of spikes in a model of spike timing-dependent
       plasticity. J Neurosci 26:9673–9682. Tables 3 (visual cortex) and 4 (hippocampus).
.. [2] Sjöström PJ, Turrigiano GG, Nelson SB (2001) Neuron 32:1149–1164.
.. [3] Wang HX, Gerkin RC, Nauen DW, Bi GQ (2005) Nat Neurosci 8:187–193.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from brian2 import ms
from brian2.units.fundamentalunits import Quantity

from ..needs import INTERACTIONS, Trace
from ..params import option, param
from ..rule import Contribution, Rule, RuleContext

__all__ = ["TripletSTDP"]


@dataclass(frozen=True, eq=False, kw_only=True)
class TripletSTDP(Rule):
    """Pfister & Gerstner (2006) triplet STDP (see module doc). Defaults: visual cortex, AA full."""

    kind: ClassVar[str] = "triplet-stdp"
    summary: ClassVar[str] = "triplet STDP, Pfister & Gerstner 2006 (all-to-all/nearest)"

    interaction: str = option("all-to-all", INTERACTIONS, "spike pairing scheme")
    tau_plus: Quantity = param(16.8 * ms, ms, "presynaptic pair trace", positive=True)
    tau_minus: Quantity = param(33.7 * ms, ms, "postsynaptic pair trace", positive=True)
    tau_x: Quantity = param(101 * ms, ms, "presynaptic triplet trace", positive=True)
    tau_y: Quantity = param(125 * ms, ms, "postsynaptic triplet trace", positive=True)
    A2_plus: float = param(5e-10, 1, "pair potentiation amplitude", nonnegative=True)
    A3_plus: float = param(6.2e-3, 1, "triplet potentiation amplitude", nonnegative=True)
    A2_minus: float = param(7e-3, 1, "pair depression amplitude", nonnegative=True)
    A3_minus: float = param(2.3e-4, 1, "triplet depression amplitude", nonnegative=True)

    def contribute(self, ctx: RuleContext) -> Contribution:
        r1 = ctx.pre(Trace(self.tau_plus, self.interaction))
        o1 = ctx.post(Trace(self.tau_minus, self.interaction))
        depression = "A2_minus"
        if self.A3_minus != 0:
            depression += f" + A3_minus*{ctx.pre(Trace(self.tau_x, self.interaction)).value}"
        potentiation = "A2_plus"
        if self.A3_plus != 0:
            potentiation += f" + A3_plus*{ctx.post(Trace(self.tau_y, self.interaction)).value}"
        return Contribution(
            on_pre=f"w = clip(w - plastic*{o1.value}*({depression}), w_min, w_max)",
            on_post=f"w = clip(w + plastic*{r1.value_now}*({potentiation}), w_min, w_max)",
            namespace={
                "A2_plus": self.A2_plus,
                "A3_plus": self.A3_plus,
                "A2_minus": self.A2_minus,
                "A3_minus": self.A3_minus,
                **self.bounds_namespace(),
            },
        )
