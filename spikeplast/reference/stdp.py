"""References for pair and triplet STDP, from the spike history (no traces)."""

from __future__ import annotations

import numpy as np

from .events import PRE, History, Trajectory, merged_events

__all__ = ["pair_stdp", "triplet_stdp"]


def _seconds(value) -> float:
    return float(value)


def _replay(pre_times, post_times, w0: float, at_pre, at_post) -> Trajectory:
    """Run the events in order; ``at_pre(w, t, pre, post)`` returns the new weight (likewise
    ``at_post``), with ``pre``/``post`` the histories *before* the current spike is added."""
    pre = np.asarray(pre_times, dtype=float).ravel()
    post = np.asarray(post_times, dtype=float).ravel()
    pre_history, post_history = History(), History()
    w = float(w0)
    times, sides, weights = [], [], []
    for time, side in merged_events(pre, post):
        if side == PRE:
            w = at_pre(w, time, pre_history, post_history)
            pre_history.add(time)
        else:
            w = at_post(w, time, pre_history, post_history)
            post_history.add(time)
        times.append(time)
        sides.append(side)
        weights.append(w)
    return Trajectory(np.asarray(times), np.asarray(sides, dtype=int), np.asarray(weights))


def pair_stdp(rule, pre_times, post_times, w0: float = 1.0) -> Trajectory:
    """Pair STDP (:class:`spikeplast.rules.PairSTDP`) for one synapse.

    At a presynaptic spike the weight drops by ``F-(w) * Σ exp(-(t - t_post)/tau_minus)`` over
    earlier postsynaptic spikes; at a postsynaptic spike it grows by
    ``F+(w) * Σ exp(-(t - t_pre)/tau_plus)`` over presynaptic spikes at or before ``t``.
    """
    nearest = rule.interaction == "nearest"
    tau_plus, tau_minus = _seconds(rule.tau_plus), _seconds(rule.tau_minus)
    w_min, w_max = float(rule.w_min), float(rule.w_max)
    a_plus, a_minus = float(rule.A_plus), float(rule.A_minus)
    dependence = rule.weight_dependence

    def potentiation(w: float, x: float) -> float:
        if dependence == "multiplicative":
            return a_plus * (w_max - w) * x
        if dependence == "gutig":
            return a_plus * w_max * min(max(1 - w / w_max, 0.0), 1.0) ** rule.mu_plus * x
        return a_plus * x

    def depression(w: float, y: float) -> float:
        if dependence == "multiplicative":
            return a_minus * (w - w_min) * y
        if dependence == "gutig":
            return a_minus * w_max * min(max(w / w_max, 0.0), 1.0) ** rule.mu_minus * y
        if dependence == "van-rossum":
            return a_minus * w * y
        return a_minus * y

    def at_pre(w: float, time: float, pre_history: History, post_history: History) -> float:
        y = post_history.trace(time, tau_minus, nearest)  # posts strictly before: pre goes first
        return min(max(w - depression(w, y), w_min), w_max)

    def at_post(w: float, time: float, pre_history: History, post_history: History) -> float:
        x = pre_history.trace(time, tau_plus, nearest)  # includes a presynaptic spike at `time`
        return min(max(w + potentiation(w, x), w_min), w_max)

    return _replay(pre_times, post_times, w0, at_pre, at_post)


def triplet_stdp(rule, pre_times, post_times, w0: float = 1.0) -> Trajectory:
    """Triplet STDP (:class:`spikeplast.rules.TripletSTDP`) for one synapse.

    At a presynaptic spike: ``w -= o1 (A2- + A3- r2)`` with ``o1`` summed over earlier
    postsynaptic spikes (tau_minus) and ``r2`` over earlier presynaptic spikes (tau_x). At a
    postsynaptic spike: ``w += r1 (A2+ + A3+ o2)`` with ``r1`` over presynaptic spikes at or
    before ``t`` (tau_plus) and ``o2`` over earlier postsynaptic spikes (tau_y).
    """
    nearest = rule.interaction == "nearest"
    tau_plus, tau_minus = _seconds(rule.tau_plus), _seconds(rule.tau_minus)
    tau_x, tau_y = _seconds(rule.tau_x), _seconds(rule.tau_y)
    w_min, w_max = float(rule.w_min), float(rule.w_max)

    def at_pre(w: float, time: float, pre_history: History, post_history: History) -> float:
        o1 = post_history.trace(time, tau_minus, nearest)
        r2 = pre_history.trace(time, tau_x, nearest)
        return min(max(w - o1 * (rule.A2_minus + rule.A3_minus * r2), w_min), w_max)

    def at_post(w: float, time: float, pre_history: History, post_history: History) -> float:
        r1 = pre_history.trace(time, tau_plus, nearest)
        o2 = post_history.trace(time, tau_y, nearest)
        return min(max(w + r1 * (rule.A2_plus + rule.A3_plus * o2), w_min), w_max)

    return _replay(pre_times, post_times, w0, at_pre, at_post)
