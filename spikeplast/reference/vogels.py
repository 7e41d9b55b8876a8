"""Event-driven reference for Vogels et al. (2011) inhibitory STDP, from the spike history."""

from __future__ import annotations

from .events import History, Trajectory
from .stdp import _replay as replay  # same event loop as pair and triplet STDP

__all__ = ["vogels_istdp"]


def vogels_istdp(rule, pre_times, post_times, w0: float = 1.0) -> Trajectory:
    """Inhibitory STDP (:class:`spikeplast.rules.VogelsISTDP`) for one synapse.

    At a presynaptic spike ``w += eta (Σ exp(-(t - t_post)/tau) - 2 rho0 tau)`` over earlier
    postsynaptic spikes; at a postsynaptic spike ``w += eta Σ exp(-(t - t_pre)/tau)`` over
    presynaptic spikes at or before ``t``; clipped to ``[w_min, w_max]`` after each spike.
    """
    tau = float(rule.tau)
    eta = float(rule.eta)
    alpha = 2.0 * float(rule.rho0) * tau
    w_min, w_max = float(rule.w_min), float(rule.w_max)

    def at_pre(w: float, time: float, pre_history: History, post_history: History) -> float:
        y = post_history.trace(time, tau, nearest=False)
        return min(max(w + eta * (y - alpha), w_min), w_max)

    def at_post(w: float, time: float, pre_history: History, post_history: History) -> float:
        x = pre_history.trace(time, tau, nearest=False)
        return min(max(w + eta * x, w_min), w_max)

    return replay(pre_times, post_times, w0, at_pre, at_post)
