"""Independent event-driven references for the plasticity rules (NumPy only, no Brian2).

Each reference takes a rule object, presynaptic and postsynaptic spike times (seconds) and an
initial weight, and returns the weight after every spike, computed from the spike history
directly (sums of exponentials over earlier spikes, no traces). They are deliberately written
differently from the Brian2 rules so that agreement between the two means something.

Same-time spikes are processed presynaptic first, as the rules state in their headers.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import UnknownNameError, suggest
from .events import Trajectory
from .nonlinear_hebbian import WeightHistory, nonlinear_hebbian
from .stdp import pair_stdp, triplet_stdp
from .three_factor import dopamine_stdp, global_error
from .vogels import vogels_istdp

__all__ = [
    "Trajectory",
    "pair_stdp",
    "triplet_stdp",
    "dopamine_stdp",
    "global_error",
    "vogels_istdp",
    "nonlinear_hebbian",
    "WeightHistory",
    "REFERENCES",
    "reference_for",
]

#: Reference implementation by rule kind.
REFERENCES: dict[str, Callable[..., Trajectory | WeightHistory]] = {
    "pair-stdp": pair_stdp,
    "triplet-stdp": triplet_stdp,
    "dopamine-stdp": dopamine_stdp,  # also takes modulator_times=, end=
    "global-error": global_error,  # also takes error_times=, errors=
    "vogels-istdp": vogels_istdp,
    # trains per neuron and a weight matrix, dt=, end= (returns a WeightHistory)
    "nonlinear-hebbian": nonlinear_hebbian,
}


def reference_for(kind: str) -> Callable[..., Trajectory]:
    """The reference of a rule kind."""
    if kind not in REFERENCES:
        raise UnknownNameError(
            f"no reference implementation for rule kind {kind!r}.{suggest(kind, REFERENCES)}"
        )
    return REFERENCES[kind]
