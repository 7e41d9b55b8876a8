"""Modulator populations that carry a value, for three-factor rules with a signed third factor.

A dopamine-like modulator only needs spikes (any population: :class:`~spikeplast.neurons.
SpikeTrains`, neurons). A *signed global error* (the third factor of the ``global-error`` rule)
also needs a value: :class:`ErrorSignal` is a one-neuron population whose spikes broadcast its
current ``error`` to every synapse of the projections it modulates.

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
from .neurons import _NEVER, SpikeTrains

__all__ = ["ErrorSignal", "ERROR_SIGNAL", "broadcast_error"]

#: Capability of modulator models that broadcast a signed ``error`` value.
ERROR_SIGNAL = "error-signal"


class ErrorSignal(SpikeTrains):
    """One neuron that broadcasts a signed scalar error (see module doc).

    Parameters
    ----------
    times
        Times of scheduled broadcasts in seconds (floats or a Brian2 quantity), increasing and
        on the time grid; empty for per-trial broadcasts only.
    errors
        The error sent at each scheduled time (dimensionless, any sign).

    Notes
    -----
    Variables: ``error``, the value the next broadcast sends (with a schedule: the next scheduled
    value), and ``broadcast`` (without a schedule, set to 1 to send ``error`` at the next step;
    :func:`broadcast_error` sets both).
    """

    kind = "error-signal"

    def __init__(
        self,
        times: Sequence[float] | np.ndarray | Quantity = (),
        errors: Sequence[float] | np.ndarray = (),
    ):
        super().__init__([times])
        self.errors = np.asarray(errors, dtype=float).ravel()
        if self.errors.size != self.trains[0].size:
            raise ConfigurationError(
                f"ErrorSignal: {self.trains[0].size} broadcast times but {self.errors.size} "
                "error values; give one error per time"
            )
        if not np.all(np.isfinite(self.errors)):
            raise ConfigurationError("ErrorSignal: error values must be finite numbers")

    def key(self) -> tuple:
        return ("ErrorSignal", self.trains[0].size)

    def __repr__(self) -> str:
        return f"ErrorSignal({self.trains[0].size} scheduled broadcasts)"

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
        return super().reset() + "\nerror = error_values(spike_count*second)"

    def namespace(self, name: str) -> dict[str, Any]:
        values = np.r_[self.errors, 0.0]  # padded like the spike-time table
        return {"error_values": TimedArray(values, dt=1 * second, name=self.error_table_name(name))}

    def initial_values(self, n: int, dt: Quantity) -> dict[str, Any]:
        first = float(self.errors[0]) if self.scheduled else 0.0
        return {**super().initial_values(n, dt), "error": first, "broadcast": 0.0}


def broadcast_error(built: Any, population: str, value: float) -> None:
    """Send `value` from the :class:`ErrorSignal` population at the next step (runtime backends).

    Parameters
    ----------
    built
        The :class:`~spikeplast.compose.Built` network.
    population
        Name of the :class:`ErrorSignal` population.
    value
        The signed error (e.g. prediction minus target).
    """
    if population not in built.groups:
        raise UnknownNameError(f"no population {population!r}.{suggest(population, built.groups)}")
    group = built.groups[population]
    if "broadcast" not in group.variables:
        raise ConfigurationError(
            f"population {population!r} is not an ErrorSignal; broadcast_error needs one"
        )
    if group.spike_count[0] == 0 and float(group.next_spike[0] / second) < _NEVER:
        raise ConfigurationError(
            f"population {population!r} broadcasts on a schedule; use ErrorSignal() without "
            "times for per-trial broadcasts"
        )
    if not np.isfinite(value):
        raise ConfigurationError(f"broadcast_error: the error must be a finite number, got {value}")
    group.error = float(value)
    group.broadcast = 1.0
