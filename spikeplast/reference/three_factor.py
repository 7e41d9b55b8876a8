"""References for the three-factor rules, from the spike and modulator histories (no state).

Both references compute every quantity as a sum over pairs of past events with closed-form
integrals, rather than by carrying decaying state from event to event as the Brian2 rules do:

* ``dopamine_stdp``: the eligibility is the sum of its STDP jumps, each decaying with tau_c,
  and dopamine the sum of the modulator jumps decaying with tau_d; the weight change between
  two update times is the sum over (eligibility jump, dopamine jump) pairs of the integral of
  the product of two exponentials, plus the tonic part.
* ``global_error``: the eligibility at a broadcast is the sum over (presynaptic spike, gate
  interval) pairs of the integral of the spike's trace over the part of the interval since the
  last reset, weighted by the eligibility decay up to the broadcast.

Event codes in the returned :class:`Trajectory` ``sides``: 0 presynaptic spike, 1 postsynaptic
spike, 2 modulator spike, 3 periodic update (the smallest code at a time with several events).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .events import PRE, History, Trajectory, merged_events

__all__ = ["dopamine_stdp", "global_error", "MODULATOR", "PERIODIC"]

MODULATOR, PERIODIC = 2, 3


def _times(values) -> np.ndarray:
    return np.asarray(values, dtype=float).ravel()


def _exprel(x: np.ndarray) -> np.ndarray:
    """(exp(x) - 1)/x with the limit 1 at x = 0."""
    x = np.asarray(x, dtype=float)
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 1.0, np.expm1(safe) / safe)


def _eligibility_jumps(rule, pre: np.ndarray, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Times and sizes of the STDP jumps of the eligibility (pre first at equal times)."""
    nearest = rule.interaction == "nearest"
    tau_plus, tau_minus = float(rule.tau_plus), float(rule.tau_minus)
    pre_history, post_history = History(), History()
    times, sizes = [], []
    for time, side in merged_events(pre, post):
        if side == PRE:
            sizes.append(-rule.A_minus * post_history.trace(time, tau_minus, nearest))
            pre_history.add(time)
        else:
            pre_history_now = pre_history.trace(time, tau_plus, nearest)
            sizes.append(rule.A_plus * pre_history_now)
            post_history.add(time)
        times.append(time)
    return np.asarray(times), np.asarray(sizes)


def dopamine_stdp(
    rule,
    pre_times,
    post_times,
    w0: float = 1.0,
    *,
    modulator_times: Sequence[float] = (),
    end: float | None = None,
) -> Trajectory:
    """Dopamine-gated STDP (:class:`spikeplast.rules.DopamineSTDP`) for one synapse.

    Parameters
    ----------
    rule
        The rule (its parameters).
    pre_times, post_times, modulator_times
        Spike times in seconds (modulator: every spike of the modulator population).
    w0
        Initial weight.
    end
        Last time (s) of the periodic updates (default: the last event).

    Returns
    -------
    Trajectory
        The weight after each update: every spike of the synapse's neurons, every modulator
        spike and every multiple of ``update_interval`` up to `end`.
    """
    pre, post, modulator = _times(pre_times), _times(post_times), _times(modulator_times)
    jump_times, jump_sizes = _eligibility_jumps(rule, pre, post)
    tau_c, tau_d = float(rule.tau_c), float(rule.tau_d)
    tau_s = 1.0 / (1.0 / tau_c + 1.0 / tau_d)
    d_tonic, d_jump = float(rule.d_tonic), float(rule.d_jump)
    w_min, w_max = float(rule.w_min), float(rule.w_max)
    interval = float(rule.update_interval)
    last = max([end or 0.0, *(t[-1] for t in (pre, post, modulator) if t.size)])
    # integer multiples, as the simulator's clock counts them
    grid = np.arange(int(math.floor(last / interval + 1e-9)) + 1) * interval

    events = [(t, 0) for t in pre] + [(t, 1) for t in post] + [(t, MODULATOR) for t in modulator]
    events += [(t, PERIODIC) for t in grid]
    update_times = np.unique(np.round([t for t, _ in events], 12))
    kinds = {}
    for time, kind in events:
        key = round(time, 12)
        kinds[key] = min(kinds.get(key, kind), kind)

    w = float(w0)
    weights = []
    previous = 0.0
    for now in update_times:
        if now > previous:
            # eligibility and dopamine jumps at or before the interval's start act over it
            c_mask = jump_times <= previous + 1e-12
            n_mask = modulator <= previous + 1e-12
            c_times, c_sizes = jump_times[c_mask], jump_sizes[c_mask]
            length = now - previous
            c_start = c_sizes * np.exp(-(previous - c_times) / tau_c)  # each jump at `previous`
            n_start = d_jump * np.exp(-(previous - modulator[n_mask]) / tau_d)
            phasic = np.sum(c_start) * np.sum(n_start) * tau_s * -np.expm1(-length / tau_s)
            tonic = np.sum(c_start) * d_tonic * tau_c * -np.expm1(-length / tau_c)
            w = min(max(w + phasic + tonic, w_min), w_max)
        weights.append(w)
        previous = now
    sides = np.array([kinds[round(t, 12)] for t in update_times], dtype=int)
    return Trajectory(update_times, sides, np.asarray(weights))


def _gate_intervals(post: np.ndarray, window: float) -> list[tuple[float, float]]:
    """The union of [t_post, t_post + window) as disjoint intervals."""
    merged: list[list[float]] = []
    for start in np.sort(post):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], start + window)
        else:
            merged.append([start, start + window])
    return [(a, b) for a, b in merged]


def global_error(
    rule,
    pre_times,
    post_times,
    w0: float = 1.0,
    *,
    error_times: Sequence[float] = (),
    errors: Sequence[float] = (),
) -> Trajectory:
    """Global-error rule (:class:`spikeplast.rules.GlobalError`) for one synapse.

    Parameters
    ----------
    rule
        The rule (its parameters).
    pre_times, post_times
        Spike times in seconds.
    w0
        Initial weight.
    error_times, errors
        Broadcast times (s) and the signed error sent at each.

    Returns
    -------
    Trajectory
        The weight after each broadcast (sides: ``MODULATOR``).
    """
    pre, post = _times(pre_times), _times(post_times)
    broadcast_times, values = _times(error_times), _times(errors)
    tau_pre = float(rule.tau_pre)
    decay_rate = 0.0 if math.isinf(float(rule.tau_eligibility)) else 1 / float(rule.tau_eligibility)
    gates = _gate_intervals(post, float(rule.gate_window))
    reset = rule.eligibility_after_error == "reset"
    w_min, w_max = float(rule.w_min), float(rule.w_max)

    w = float(w0)
    weights = []
    since = 0.0  # eligibility counts activity after the last reset
    for now, error in zip(broadcast_times, values, strict=True):
        eligibility = 0.0
        for spike in pre[pre < now]:
            for gate_start, gate_end in gates:
                start, stop = max(spike, gate_start, since), min(gate_end, now)
                if stop <= start:
                    continue
                # ∫ exp(-(s - spike)/tau_pre)/tau_pre * exp(-(now - s)*decay_rate) ds
                scale = np.exp(-(start - spike) / tau_pre - (now - start) * decay_rate) / tau_pre
                rate = 1 / tau_pre - decay_rate
                eligibility += scale * (stop - start) * float(_exprel(-(stop - start) * rate))
        w = min(max(w - rule.eta * error * eligibility, w_min), w_max)
        weights.append(w)
        if reset:
            since = now
        else:
            # without reset the same activity keeps counting, decayed, at later broadcasts
            since = 0.0
    sides = np.full(broadcast_times.size, MODULATOR, dtype=int)
    return Trajectory(broadcast_times, sides, np.asarray(weights))
