"""Voltage rules (Clopath) are fitted through neuron-driven protocols with their conventions."""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.fitting.evaluators import BrianEvaluator, make_evaluator
from spikeplast.fitting.parameters import default_free_names, free_parameters
from spikeplast.fitting.targets import all_conditions, load_targets
from spikeplast.neurons import get_neuron
from spikeplast.protocols import pairing
from spikeplast.reference.voltage import simulate
from spikeplast.rules import get_rule


def test_clopath_defaults_free_the_amplitudes_with_bounds_around_them():
    rule = get_rule("clopath2010-visual")
    assert default_free_names(rule) == ["A_LTD", "A_LTP"]
    for parameter in free_parameters(rule, ["A_LTD", "A_LTP"]):
        value = float(getattr(rule, parameter.name))
        assert parameter.scale == "log"
        assert parameter.lower == pytest.approx(value / 1000)
        assert parameter.upper == pytest.approx(value * 1000)


def test_clopath_evaluator_matches_the_independent_voltage_reference():
    """The evaluator drives the rule's neuron with current pulses at the protocol's times; the
    fine-dt NumPy reference (no Brian2) integrating the same neuron and rule gives the same
    weights."""
    rule = get_rule("clopath2010-visual")
    targets = load_targets(["sjostrom2001"], {"convention": "clopath2010", "pairings": 1})
    assert all_conditions(targets)
    protocol = pairing(dts_ms=[10.0, -10.0], pairings=3, freq_hz=20.0)
    evaluator = make_evaluator(rule, protocol.conditions, ["A_LTP"], w0=0.5, backend="numpy")
    assert isinstance(evaluator, BrianEvaluator)
    fitted = evaluator.final_weights(np.array([[float(rule.A_LTP)]]))
    reference = simulate(
        rule,
        get_neuron("clopath2010-adex"),
        [c.pre for c in protocol.conditions],
        [c.post for c in protocol.conditions],
        1e-4,
        protocol.duration(),
        w0=0.5,
    ).weights[-1]
    np.testing.assert_allclose(fitted[0], reference, rtol=1e-9)
    assert fitted[0][0] > 0.5 > fitted[0][1]  # LTP for pre-post, LTD for post-pre
