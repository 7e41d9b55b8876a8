"""Fitting plasticity rules to experimental data, fast.

``spikeplast fit RULE --data sjostrom2001`` (see :mod:`spikeplast.fitting.cli` and
``docs/fitting.md``) fits a rule's free parameters to shipped or user data sets:

* :mod:`~spikeplast.fitting.events`, :mod:`~spikeplast.fitting.kernels` — exact event-driven
  evaluation of trace-based rules with Numba, batched over parameter sets;
* :mod:`~spikeplast.fitting.evaluators` — the evaluator interface (parameters in, weight change
  per condition out), with the Numba and the Brian2 implementations;
* :mod:`~spikeplast.fitting.targets` — data sets as protocol conditions;
* :mod:`~spikeplast.fitting.parameters` — free/fixed parameters, aliases, bounds, log space;
* :mod:`~spikeplast.fitting.problem` — the error measure and local optimisation;
* :mod:`~spikeplast.fitting.uncertainty` — profile likelihood, bootstrap, identifiability;
* :mod:`~spikeplast.fitting.fit` — multi-start fits in parallel processes (:func:`fit_rule`);
* :mod:`~spikeplast.fitting.report` — tables, JSON/NPZ/PNG output.

The names below are imported lazily, so ``import spikeplast.fitting`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "fit_rule",
    "FitResult",
    "Evaluator",
    "TraceRuleEvaluator",
    "BrianEvaluator",
    "make_evaluator",
    "load_targets",
    "fit_record",
    "format_fit",
    "save_fit",
]

_WHERE = {
    "fit_rule": "fit",
    "FitResult": "fit",
    "Evaluator": "evaluators",
    "TraceRuleEvaluator": "evaluators",
    "BrianEvaluator": "evaluators",
    "make_evaluator": "evaluators",
    "load_targets": "targets",
    "fit_record": "report",
    "format_fit": "report",
    "save_fit": "report",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
