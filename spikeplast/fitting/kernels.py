"""Numba kernels: exact event-driven evaluation of trace-based rules over an :class:`EventTable`.

Between two events every trace decays in closed form, ``trace *= exp(-interval/tau)``, with the
factor looked up in a per-time-constant table over the table's distinct intervals (recomputed
only when a time constant changes from one parameter set to the next). At an event the rule's
update is applied exactly as the Brian2 rule and the reference do it:

* triplet STDP (:mod:`spikeplast.rules.stdp_triplet`): at a presynaptic spike
  ``w <- clip(w - o1 (A2- + A3- r2))`` then ``r1``, ``r2`` jump; at a postsynaptic spike
  ``w <- clip(w + r1 (A2+ + A3+ o2))`` then ``o1``, ``o2`` jump;
* pair STDP (:mod:`spikeplast.rules.stdp_pair`): ``w <- clip(w - F-(w) y)`` at a presynaptic
  spike, ``w <- clip(w + F+(w) x)`` at a postsynaptic spike, for the four weight dependences;

with jumps ``+1`` (all-to-all) or ``=1`` (nearest), presynaptic spikes first at equal times, and
``clip(v) = min(max(v, w_min), w_max)``.

Every kernel takes a batch of parameter sets (one row each, SI units) and writes the final
weight of every condition; ``trajectory`` (shape ``(n_sets, n_events)``, or ``(0, 0)``) receives
the weight after every event when it is not empty.

Batches are processed in blocks of :data:`BLOCK` parameter sets that walk through the events
together: the event's side and interval are shared, and the innermost loop over the block's
parameter sets has no branches (nearest-spike jumps are ``trace*keep + 1`` with ``keep`` 0 or 1,
which is exact), so it compiles to SIMD instructions. Each parameter set still sees exactly the
same floating-point operations in the same order as the scalar algorithm.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "TRIPLET_COLUMNS",
    "PAIR_COLUMNS",
    "WEIGHT_DEPENDENCE_CODES",
    "triplet_kernel",
    "pair_kernel",
    "BLOCK",
]

#: Parameter sets evaluated together (SIMD lanes share the event loop).
BLOCK = 64

#: Parameter columns of :func:`triplet_kernel`, in order (times in seconds).
TRIPLET_COLUMNS = (
    "tau_plus",
    "tau_minus",
    "tau_x",
    "tau_y",
    "A2_plus",
    "A3_plus",
    "A2_minus",
    "A3_minus",
    "w_min",
    "w_max",
)

#: Parameter columns of :func:`pair_kernel`, in order (times in seconds).
PAIR_COLUMNS = (
    "tau_plus",
    "tau_minus",
    "A_plus",
    "A_minus",
    "mu_plus",
    "mu_minus",
    "w_min",
    "w_max",
)

#: ``weight_dependence`` option of pair STDP → code used by :func:`pair_kernel`.
WEIGHT_DEPENDENCE_CODES = {"additive": 0, "multiplicative": 1, "gutig": 2, "van-rossum": 3}


@njit(cache=True, nogil=True)
def _decay_column(table, column, intervals, tau):
    for k in range(intervals.size):
        table[k, column] = math.exp(-intervals[k] / tau)


@njit(cache=True, nogil=True)
def triplet_kernel(
    params, nearest, w0, sides, interval_index, offsets, intervals, final, trajectory
):  # pragma: no cover - compiled
    """Triplet STDP over every condition for every parameter row (see module doc)."""
    n_sets = params.shape[0]
    n_intervals = intervals.size
    record = trajectory.shape[0] > 0
    keep = 0.0 if nearest else 1.0
    decay_r1 = np.empty((n_intervals, BLOCK))
    decay_r2 = np.empty((n_intervals, BLOCK))
    decay_o1 = np.empty((n_intervals, BLOCK))
    decay_o2 = np.empty((n_intervals, BLOCK))
    r1 = np.empty(BLOCK)
    r2 = np.empty(BLOCK)
    o1 = np.empty(BLOCK)
    o2 = np.empty(BLOCK)
    w = np.empty(BLOCK)
    a2_plus = np.empty(BLOCK)
    a3_plus = np.empty(BLOCK)
    a2_minus = np.empty(BLOCK)
    a3_minus = np.empty(BLOCK)
    w_min = np.empty(BLOCK)
    w_max = np.empty(BLOCK)
    for first in range(0, n_sets, BLOCK):
        size = min(BLOCK, n_sets - first)
        for j in range(size):
            row = params[first + j]
            _decay_column(decay_r1, j, intervals, row[0])
            _decay_column(decay_o1, j, intervals, row[1])
            _decay_column(decay_r2, j, intervals, row[2])
            _decay_column(decay_o2, j, intervals, row[3])
            a2_plus[j] = row[4]
            a3_plus[j] = row[5]
            a2_minus[j] = row[6]
            a3_minus[j] = row[7]
            w_min[j] = row[8]
            w_max[j] = row[9]
        for c in range(offsets.size - 1):
            for j in range(size):
                r1[j] = 0.0
                r2[j] = 0.0
                o1[j] = 0.0
                o2[j] = 0.0
                w[j] = w0
            for e in range(offsets[c], offsets[c + 1]):
                k = interval_index[e]
                if sides[e] == 0:  # presynaptic: depression, then r1 and r2 jump
                    for j in range(size):
                        x1 = r1[j] * decay_r1[k, j]
                        x2 = r2[j] * decay_r2[k, j]
                        y1 = o1[j] * decay_o1[k, j]
                        o1[j] = y1
                        o2[j] = o2[j] * decay_o2[k, j]
                        value = max(w[j] - y1 * (a2_minus[j] + a3_minus[j] * x2), w_min[j])
                        w[j] = min(value, w_max[j])
                        r1[j] = x1 * keep + 1.0
                        r2[j] = x2 * keep + 1.0
                else:  # postsynaptic: potentiation, then o1 and o2 jump
                    for j in range(size):
                        x1 = r1[j] * decay_r1[k, j]
                        r1[j] = x1
                        r2[j] = r2[j] * decay_r2[k, j]
                        y1 = o1[j] * decay_o1[k, j]
                        y2 = o2[j] * decay_o2[k, j]
                        value = max(w[j] + x1 * (a2_plus[j] + a3_plus[j] * y2), w_min[j])
                        w[j] = min(value, w_max[j])
                        o1[j] = y1 * keep + 1.0
                        o2[j] = y2 * keep + 1.0
                if record:
                    for j in range(size):
                        trajectory[first + j, e] = w[j]
            for j in range(size):
                final[first + j, c] = w[j]


@njit(cache=True, nogil=True)
def _pair_change(side, dependence, w, trace, amplitude, mu, w_min, w_max):
    """Weight change magnitude F(w)*trace (side 0: depression F-, side 1: potentiation F+)."""
    if dependence == 1:  # multiplicative
        return amplitude * ((w - w_min) if side == 0 else (w_max - w)) * trace
    if dependence == 2:  # gutig
        ratio = w / w_max if side == 0 else 1.0 - w / w_max
        return amplitude * w_max * min(max(ratio, 0.0), 1.0) ** mu * trace
    if dependence == 3 and side == 0:  # van Rossum: multiplicative depression
        return amplitude * w * trace
    return amplitude * trace


@njit(cache=True, nogil=True)
def pair_kernel(
    params, nearest, dependence, w0, sides, interval_index, offsets, intervals, final, trajectory
):  # pragma: no cover - compiled
    """Pair STDP over every condition for every parameter row (see module doc)."""
    n_sets = params.shape[0]
    n_intervals = intervals.size
    record = trajectory.shape[0] > 0
    keep = 0.0 if nearest else 1.0
    decay_x = np.empty((n_intervals, BLOCK))
    decay_y = np.empty((n_intervals, BLOCK))
    x = np.empty(BLOCK)
    y = np.empty(BLOCK)
    w = np.empty(BLOCK)
    a_plus = np.empty(BLOCK)
    a_minus = np.empty(BLOCK)
    mu_plus = np.empty(BLOCK)
    mu_minus = np.empty(BLOCK)
    w_min = np.empty(BLOCK)
    w_max = np.empty(BLOCK)
    for first in range(0, n_sets, BLOCK):
        size = min(BLOCK, n_sets - first)
        for j in range(size):
            row = params[first + j]
            _decay_column(decay_x, j, intervals, row[0])
            _decay_column(decay_y, j, intervals, row[1])
            a_plus[j] = row[2]
            a_minus[j] = row[3]
            mu_plus[j] = row[4]
            mu_minus[j] = row[5]
            w_min[j] = row[6]
            w_max[j] = row[7]
        for c in range(offsets.size - 1):
            for j in range(size):
                x[j] = 0.0
                y[j] = 0.0
                w[j] = w0
            for e in range(offsets[c], offsets[c + 1]):
                k = interval_index[e]
                side = sides[e]
                if side == 0:  # presynaptic: depression with the postsynaptic trace y
                    for j in range(size):
                        decayed_y = y[j] * decay_y[k, j]
                        y[j] = decayed_y
                        change = _pair_change(
                            0,
                            dependence,
                            w[j],
                            decayed_y,
                            a_minus[j],
                            mu_minus[j],
                            w_min[j],
                            w_max[j],
                        )
                        w[j] = min(max(w[j] - change, w_min[j]), w_max[j])
                        x[j] = x[j] * decay_x[k, j] * keep + 1.0
                else:  # postsynaptic: potentiation with the presynaptic trace x
                    for j in range(size):
                        decayed_x = x[j] * decay_x[k, j]
                        x[j] = decayed_x
                        change = _pair_change(
                            1,
                            dependence,
                            w[j],
                            decayed_x,
                            a_plus[j],
                            mu_plus[j],
                            w_min[j],
                            w_max[j],
                        )
                        w[j] = min(max(w[j] + change, w_min[j]), w_max[j])
                        y[j] = y[j] * decay_y[k, j] * keep + 1.0
                if record:
                    for j in range(size):
                        trajectory[first + j, e] = w[j]
            for j in range(size):
                final[first + j, c] = w[j]
