"""Reference for the nonlinear Hebbian rule: a weight matrix updated on the rule's grid.

The rule (:class:`spikeplast.rules.NonlinearHebbian`) integrates rates, so its reference is not
an event replay but the rule's update grid ``t_k = k * update_interval`` (``t_k < end``). At each
``t_k`` the traces are sums of ``exp(-(t_k - t_s)/tau)`` over all spikes up to and including
``t_k`` (the update runs at the end of the time step, after the step's spikes), computed from the
spike history rather than decayed step by step; every postsynaptic column of the weight matrix
is first rescaled to L2 norm ``w_norm``, then changed by
``eta * update_interval * (r_pre - pre_offset) * f(u)``
and clipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["WeightHistory", "nonlinear_hebbian"]


@dataclass(frozen=True)
class WeightHistory:
    """Weights after each update.

    Attributes
    ----------
    times
        Update times in seconds.
    weights
        ``(len(times), n_pre, n_post)``: the weight matrix just after each update.
    """

    times: np.ndarray
    weights: np.ndarray


def _trace_at(train: np.ndarray, now: float, tau: float, tolerance: float) -> float:
    past = train[train <= now + tolerance]
    return float(np.sum(np.exp(-(now - past) / tau)))


def nonlinear_hebbian(
    rule,
    pre_trains: Sequence[np.ndarray],
    post_trains: Sequence[np.ndarray],
    w0: np.ndarray | float,
    *,
    dt: float,
    end: float,
    filtered_voltage: Callable[[float], np.ndarray] | None = None,
) -> WeightHistory:
    """Weights of all-to-all synapses ``pre -> post`` under the nonlinear Hebbian rule.

    Parameters
    ----------
    rule
        A :class:`~spikeplast.rules.NonlinearHebbian`.
    pre_trains, post_trains
        Spike times (seconds, on the time grid) of each neuron; the postsynaptic trains are
        used with ``post_signal = "rate"``.
    w0
        Initial weights ``(n_pre, n_post)`` or one number for all.
    dt, end
        Time step and run duration (seconds); updates happen at multiples of the rule's
        ``update_interval`` below `end`.
    filtered_voltage
        For ``post_signal = "voltage"``: ``t -> v̄`` of every postsynaptic neuron (volts as
        floats) at time `t`; it is called with ``t_k + dt``, the end of the update's time step.
    """
    n_pre, n_post = len(pre_trains), len(post_trains)
    if rule.post_signal == "voltage" and filtered_voltage is None:
        raise ValueError("post_signal 'voltage' needs filtered_voltage")
    weights = np.broadcast_to(np.asarray(w0, dtype=float), (n_pre, n_post)).copy()
    interval = float(rule.update_interval)
    tau_pre, tau_post = float(rule.tau_pre), float(rule.tau_post)
    pre = [np.asarray(t, dtype=float) for t in pre_trains]
    post = [np.asarray(t, dtype=float) for t in post_trains]
    tolerance = dt / 2  # spike and update times are both on the grid
    steps = int(np.ceil(end / interval - 1e-9))
    times = np.arange(steps) * interval
    history = np.empty((steps, n_pre, n_post))
    for k, now in enumerate(times):
        rate_pre = np.array([_trace_at(t, now, tau_pre, tolerance) for t in pre]) / tau_pre
        rate_pre = rate_pre - float(rule.pre_offset)
        if rule.post_signal == "rate":
            rate_post = np.array([_trace_at(t, now, tau_post, tolerance) for t in post]) / tau_post
            u = rate_post / float(rule.rate_unit)
        else:
            v_bar = np.asarray(filtered_voltage(now + dt), dtype=float)
            u = (v_bar - float(rule.v_offset)) / float(rule.v_unit)
        if rule.normalization == "l2":
            norms = np.sqrt(np.sum(weights**2, axis=0))
            weights = weights * (rule.w_norm / np.where(norms > 0, norms, np.inf))
        change = rule.eta * interval * np.outer(rate_pre, rule.f(u))
        weights = np.clip(weights + change, rule.w_min, rule.w_max)
        history[k] = weights
    return WeightHistory(times, history)
