"""A cheap function target for trying a sweep setup (and for the sweep's own tests).

``function = "spikeplast.sweep.probe:probe"`` in a sweep config runs no simulation: it returns
``value = x * y + seed`` (``x``, ``y`` default 1), can sleep, fail and count its calls, so a new
cluster setup (Slurm, PBS) can be checked in seconds before a real sweep.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["probe", "ProbeFailure"]


class ProbeFailure(RuntimeError):
    """The failure a probe was asked to raise."""


def _calls(counter_dir: str | None, point: str) -> int:
    """Record one call of `point` in `counter_dir` (one line per call); return the count."""
    if not counter_dir:
        return 1
    path = Path(counter_dir) / f"{point}.calls"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(f"{os.getpid()}\n")
    return len(path.read_text(encoding="utf-8").splitlines())


def probe(parameters: Mapping[str, Any], seed: int | None) -> tuple[dict, dict]:
    """Summaries ``value`` and ``calls`` and an array ``trace`` of a fake simulation.

    Parameters (all optional)
    -------------------------
    x, y
        Numbers: ``value = x * y + seed``.
    sleep_s
        Seconds to sleep (a stand-in for simulation time).
    fail
        ``"always"`` raises :class:`ProbeFailure`; ``"first"`` raises on the first call of a
        point only (needs ``counter_dir``), so a retry succeeds.
    counter_dir
        Folder where each call appends a line to ``<x>_<y>_<seed>.calls``.
    """
    x, y = float(parameters.get("x", 1.0)), float(parameters.get("y", 1.0))
    point = f"{x:g}_{y:g}_{seed}"
    calls = _calls(parameters.get("counter_dir"), point)
    time.sleep(float(parameters.get("sleep_s", 0.0)))
    fail = parameters.get("fail", "never")
    if fail == "always" or (fail == "first" and calls == 1):
        raise ProbeFailure(f"probe asked to fail at x={x:g}, y={y:g}, seed {seed} (call {calls})")
    value = x * y + (seed or 0)
    return {"value": value, "calls": float(calls)}, {"trace": np.linspace(0.0, value, 5)}
