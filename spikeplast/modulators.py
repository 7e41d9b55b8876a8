"""Modulator populations that carry a value, for three-factor rules with a signed third factor.

A dopamine-like modulator only needs spikes (any population: :class:`~spikeplast.neurons.
SpikeTrains`, neurons). A *signed error* (the third factor of the ``global-error`` rule) also
needs a value: :class:`ErrorSignal` is a population whose spikes broadcast its current ``error``
to the synapses of the projections it modulates: one neuron with one error for all synapses
(FA_Ex-100%), or one neuron per postsynaptic neuron with the rule's
``error_target="postsynaptic"`` (a per-neuron modulator, e.g. ``M_i = Σ_k B_ik e_k`` of direct
feedback alignment).

Driving an :class:`ErrorSignal`
-------------------------------
* **Scheduled** (every backend, including standalone): ``ErrorSignal(times, errors)`` broadcasts
  ``errors[k]`` at ``times[k]`` (seconds, on the time grid).
* **Per trial** (runtime backends, numpy and cython): ``ErrorSignal()`` without a schedule; run
  a trial, compute the error from the network's output, then :func:`broadcast_error`
  ``(built, "error", value)``; the error is sent in the first time step of the next
  ``session.run``.
* **Computed in the network** (every backend): any neuron model whose ``capabilities()`` include
  ``"error-signal"`` and whose equations define a state variable ``error`` (not a subexpression:
  synapses read it as ``error_pre``) can be the modulator; it broadcasts ``error`` whenever it
  spikes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from brian2 import TimedArray, second
from brian2.units.fundamentalunits import Quantity

from .errors import ConfigurationError, UnknownNameError, suggest
from .neurons import SpikeTrains

__all__ = ["ErrorSignal", "ERROR_SIGNAL", "broadcast_error"]

#: Capability of modulator models that broadcast a signed ``error`` value.
ERROR_SIGNAL = "error-signal"


class ErrorSignal(SpikeTrains):
    """Neurons that broadcast signed errors (see module doc).

    Parameters
    ----------
    times
        Times of scheduled broadcasts in seconds (floats or a Brian2 quantity), increasing and
        on the time grid; empty for per-trial broadcasts only.
    errors
        The error sent at each scheduled time (dimensionless, any sign): shape ``(times,)``, or
        ``(times, n)`` for one error per neuron.
    n
        Number of neurons (default: 1, or the number of columns of `errors`). With more than one
        neuron, use a rule that routes neuron k's error to the synapses onto postsynaptic neuron
        k (``global-error`` with ``error_target="postsynaptic"``).

    Notes
    -----
    Variables: ``error``, the value the next broadcast sends (with a schedule: the next scheduled
    value), and ``broadcast`` (without a schedule, set to 1 to send ``error`` at the next step;
    :func:`broadcast_error` sets both). All neurons broadcast together.
    """

    kind = "error-signal"

    def __init__(
        self,
        times: Sequence[float] | np.ndarray | Quantity = (),
        errors: Sequence[float] | np.ndarray = (),
        n: int | None = None,
    ):
        values = np.asarray(errors, dtype=float)
        columns = values.shape[1] if values.ndim == 2 else 1
        n = columns if n is None else n
        if not (isinstance(n, int | np.integer) and n >= 1):
            raise ConfigurationError(f"ErrorSignal: n must be a positive integer, got {n!r}")
        if values.ndim == 2 and columns != n:
            raise ConfigurationError(
                f"ErrorSignal: errors have {columns} columns but n = {n}; one column per neuron"
            )
        super().__init__([times] * int(n))
        count = self.trains[0].size
        if values.ndim > 2 or values.shape[0] != count:
            raise ConfigurationError(
                f"ErrorSignal: {count} broadcast times but errors of shape {values.shape}; give "
                "one error (or one row of n errors) per time"
            )
        if not np.all(np.isfinite(values)):
            raise ConfigurationError("ErrorSignal: error values must be finite numbers")
        rows = values.reshape(count, -1) if values.size else np.zeros((count, 1))
        self.errors = np.broadcast_to(rows, (count, int(n))).copy()

    def key(self) -> tuple:
        return ("ErrorSignal", self.trains[0].size, len(self.trains))

    def __repr__(self) -> str:
        return (
            f"ErrorSignal({len(self.trains)} neurons, {self.trains[0].size} scheduled broadcasts)"
        )

    def capabilities(self) -> frozenset[str]:
        return frozenset({ERROR_SIGNAL})

    @property
    def scheduled(self) -> bool:
        """Whether the signal has a schedule (else it is driven per trial)."""
        return self.trains[0].size > 0

    def error_table_name(self, name: str) -> str:
        return f"{name}_error_values"

    def equations(self) -> str:
        # `error` is the value the next broadcast sends (read by synapses as error_pre)
        return super().equations() + "error : 1\nbroadcast : 1\n"

    def threshold(self) -> str:
        return super().threshold() if self.scheduled else "broadcast > 0"

    def reset(self) -> str:
        if not self.scheduled:
            return "broadcast = 0"
        # after the k-th broadcast, get the (k+1)-th value ready
        return super().reset() + "\nerror = error_values(spike_count*second, i)"

    def namespace(self, name: str) -> dict[str, Any]:
        values = np.vstack([self.errors, np.zeros((1, len(self.trains)))])  # padded like the times
        return {
            "error_values": TimedArray(values, dt=1 * second, name=self.error_table_name(name)),
            _SCHEDULED: float(self.scheduled),
        }

    def initial_values(self, n: int, dt: Quantity) -> dict[str, Any]:
        first = self.errors[0] if self.scheduled else np.zeros(n)
        return {**super().initial_values(n, dt), "error": first, "broadcast": 0.0}


#: Namespace entry that marks an ErrorSignal group as scheduled (1) or driven per trial (0).
_SCHEDULED = "error_signal_scheduled"


def broadcast_error(built: Any, population: str, value: float | Sequence[float]) -> None:
    """Send `value` from an :class:`ErrorSignal` population at the next step (runtime backends).

    Parameters
    ----------
    built
        The :class:`~spikeplast.compose.Built` network.
    population
        Name of the :class:`ErrorSignal` population (created without a schedule).
    value
        The signed error (e.g. prediction minus target), or one per neuron of the population.
    """
    if population not in built.groups:
        raise UnknownNameError(f"no population {population!r}.{suggest(population, built.groups)}")
    group = built.groups[population]
    if _SCHEDULED not in group.namespace:
        raise ConfigurationError(
            f"population {population!r} is not an ErrorSignal; broadcast_error needs one"
        )
    if group.namespace[_SCHEDULED]:
        raise ConfigurationError(
            f"population {population!r} broadcasts on a schedule; use ErrorSignal() without "
            "times for per-trial broadcasts"
        )
    values = np.asarray(value, dtype=float)
    if values.ndim > 1 or values.size not in (1, len(group)):
        raise ConfigurationError(
            f"broadcast_error: give one error or one per neuron ({len(group)}), got shape "
            f"{values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ConfigurationError(f"broadcast_error: errors must be finite numbers, got {value}")
    group.error = values if values.size > 1 else float(values.ravel()[0])
    group.broadcast = 1.0
