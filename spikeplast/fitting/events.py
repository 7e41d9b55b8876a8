"""Event tables: what a protocol fixes, precomputed once for thousands of rule evaluations.

A protocol's conditions are spike trains. For a trace-based rule the weight at the end of a
condition depends on the trains only through the ordered sequence of events (which side spiked)
and the intervals between consecutive events, over which every trace decays by
``exp(-interval/tau)``. :func:`event_table` merges each condition's trains into that sequence,
once, and stores each interval as an index into a small table of *distinct* intervals, so an
evaluation computes ``exp`` a few dozen times per time constant instead of once per event.

Ordering follows the rules' coincident-spike convention: at equal times the presynaptic spike
comes first (interval 0 between them). Intervals are rounded to :data:`INTERVAL_RESOLUTION_S`
(1 ps) before they are deduplicated; the resulting relative change of a decay factor is below
``1e-12 s / tau``, far inside the 1e-9 agreement the evaluator is tested to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["EventTable", "event_table", "INTERVAL_RESOLUTION_S", "PRE", "POST"]

PRE, POST = 0, 1

#: Intervals closer than this (seconds) share one decay factor.
INTERVAL_RESOLUTION_S = 1e-12


@dataclass(frozen=True)
class EventTable:
    """Merged spike events of several conditions, ready for the Numba kernels.

    Attributes
    ----------
    sides
        ``uint8`` per event: 0 presynaptic, 1 postsynaptic; conditions are concatenated.
    interval_index
        ``int32`` per event: index into `intervals` of the time since the condition's previous
        event (0 s for a condition's first event, when every trace is still zero).
    offsets
        ``int64``, ``n_conditions + 1``: condition ``k`` owns events
        ``offsets[k]:offsets[k + 1]``.
    intervals
        Distinct intervals in seconds (sorted).
    times
        Event times in seconds (for trajectories and tests).
    """

    sides: np.ndarray
    interval_index: np.ndarray
    offsets: np.ndarray
    intervals: np.ndarray
    times: np.ndarray

    @property
    def n_conditions(self) -> int:
        return int(self.offsets.size - 1)

    @property
    def n_events(self) -> int:
        return int(self.sides.size)


def _merge(pre: np.ndarray, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    times = np.concatenate([pre, post])
    sides = np.concatenate([np.full(pre.size, PRE), np.full(post.size, POST)]).astype(np.uint8)
    order = np.lexsort((sides, times))  # by time, presynaptic first at equal times
    return times[order], sides[order]


def event_table(pre_trains: Sequence[np.ndarray], post_trains: Sequence[np.ndarray]) -> EventTable:
    """Merge pre/post spike trains (seconds), one pair per condition, into an :class:`EventTable`.

    Parameters
    ----------
    pre_trains, post_trains
        Spike times in seconds of the presynaptic and postsynaptic neuron of each condition.
    """
    if len(pre_trains) != len(post_trains):
        raise ValueError("need as many presynaptic as postsynaptic trains")
    all_times, all_sides, all_gaps, offsets = [], [], [], [0]
    for pre, post in zip(pre_trains, post_trains, strict=True):
        pre = np.asarray(pre, dtype=float).ravel()
        post = np.asarray(post, dtype=float).ravel()
        if not (np.all(np.isfinite(pre)) and np.all(np.isfinite(post))):
            raise ValueError("spike times must be finite")
        times, sides = _merge(pre, post)
        gaps = np.diff(times, prepend=times[:1]) if times.size else times
        all_times.append(times)
        all_sides.append(sides)
        all_gaps.append(gaps)
        offsets.append(offsets[-1] + times.size)
    times = np.concatenate(all_times) if all_times else np.zeros(0)
    sides = np.concatenate(all_sides) if all_sides else np.zeros(0, np.uint8)
    gaps = np.concatenate(all_gaps) if all_gaps else np.zeros(0)
    ticks = np.round(gaps / INTERVAL_RESOLUTION_S).astype(np.int64)
    distinct, index = np.unique(ticks, return_inverse=True)
    if distinct.size == 0:
        distinct = np.zeros(1, dtype=np.int64)
    return EventTable(
        sides=np.ascontiguousarray(sides, dtype=np.uint8),
        interval_index=np.ascontiguousarray(index.ravel(), dtype=np.int32),
        offsets=np.asarray(offsets, dtype=np.int64),
        intervals=distinct.astype(float) * INTERVAL_RESOLUTION_S,
        times=times,
    )
