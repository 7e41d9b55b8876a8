"""Shared helpers for the fitting tests: synthetic data sets made by the model itself."""

from __future__ import annotations

import numpy as np

from spikeplast.data import Dataset, load_dataset
from spikeplast.fitting.evaluators import TraceRuleEvaluator
from spikeplast.fitting.targets import load_targets
from spikeplast.rules import get_rule


def synthetic_dataset(
    rule_name: str,
    template: str | Dataset = "sjostrom2001",
    noise_seed: int | None = 0,
    name: str = "synthetic",
    **overrides,
) -> Dataset:
    """`template`'s rows with dw_percent replaced by the rule's prediction (+ noise at the SEM)."""
    template = template if isinstance(template, Dataset) else load_dataset(template)
    (target,) = load_targets([template])
    rule = get_rule(rule_name, **overrides)
    model = TraceRuleEvaluator(rule, target.protocol.conditions).evaluate(np.zeros((1, 0)))[0]
    if noise_seed is not None:
        model = model + target.sem * np.random.default_rng(noise_seed).standard_normal(model.size)
    rows = tuple(
        {**row, "dw_percent": float(m)} for row, m in zip(template.rows, model, strict=True)
    )
    return Dataset(**{**template.__dict__, "name": name, "rows": rows, "path": None})


def pairing_dataset(sem: float = 3.0) -> Dataset:
    """A Bi & Poo-style STDP window template (values replaced by synthetic_dataset)."""
    rows = tuple(
        {"dt_ms": float(dt), "dw_percent": 0.0, "sem_percent": sem}
        for dt in (-80, -40, -20, -10, -5, 5, 10, 20, 40, 80)
    )
    return Dataset(
        name="window",
        title="synthetic STDP window",
        source="synthetic",
        transcribed_from="",
        protocol="pairing",
        protocol_notes="",
        rows=rows,
    )
