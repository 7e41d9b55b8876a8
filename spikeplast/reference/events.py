"""Event bookkeeping shared by the references: merged spike streams and weight trajectories."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

__all__ = ["Trajectory", "merged_events", "History"]

PRE, POST = 0, 1


@dataclass(frozen=True)
class Trajectory:
    """Weight after each spike event.

    Attributes
    ----------
    times
        Event times in seconds (non-decreasing).
    sides
        0 for a presynaptic, 1 for a postsynaptic spike.
    weights
        Weight just after the event was processed.
    """

    times: np.ndarray
    sides: np.ndarray
    weights: np.ndarray

    @property
    def final(self) -> float:
        """Weight after the last event (the initial weight if there was none)."""
        return float(self.weights[-1]) if self.weights.size else float("nan")

    def at_times(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct event times and the weight after all events at each of them."""
        if self.times.size == 0:
            return self.times, self.weights
        last = np.r_[self.times[1:] != self.times[:-1], True]
        return self.times[last], self.weights[last]


def merged_events(pre: np.ndarray, post: np.ndarray) -> Iterator[tuple[float, int]]:
    """Yield ``(time, side)`` in time order; at equal times the presynaptic spike comes first."""
    times = np.concatenate([pre, post])
    sides = np.concatenate([np.full(pre.size, PRE), np.full(post.size, POST)])
    order = np.lexsort((sides, times))
    for index in order:
        yield float(times[index]), int(sides[index])


class History:
    """Spike times of one neuron seen so far, with trace values computed from the history."""

    def __init__(self) -> None:
        self._times: list[float] = []

    def add(self, time: float) -> None:
        self._times.append(time)

    def trace(self, now: float, tau: float, nearest: bool) -> float:
        """Sum of ``exp(-(now - t_k)/tau)`` over stored spikes (only the latest if nearest)."""
        if not self._times:
            return 0.0
        if nearest:
            return float(np.exp(-(now - self._times[-1]) / tau))
        past = np.asarray(self._times)
        return float(np.sum(np.exp(-(now - past) / tau)))
