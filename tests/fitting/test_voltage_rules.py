"""Voltage rules (Clopath) are fitted through neuron-driven protocols with their conventions."""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.fitting.evaluators import BrianEvaluator, make_evaluator
from spikeplast.fitting.parameters import default_free_names, free_parameters
from spikeplast.fitting.targets import all_conditions, load_targets
from spikeplast.protocols import pairing, run_protocol
from spikeplast.rules import get_rule


def test_clopath_defaults_free_the_amplitudes_with_bounds_around_them():
    rule = get_rule("clopath2010-visual")
    assert default_free_names(rule) == ["A_LTD", "A_LTP"]
    for parameter in free_parameters(rule, ["A_LTD", "A_LTP"]):
        value = float(getattr(rule, parameter.name))
        assert parameter.scale == "log"
        assert parameter.lower == pytest.approx(value / 1000)
        assert parameter.upper == pytest.approx(value * 1000)


def test_clopath_evaluator_drives_a_neuron_like_the_protocol_command():
    rule = get_rule("clopath2010-visual")
    targets = load_targets(["sjostrom2001"], {"convention": "clopath2010", "pairings": 1})
    assert all_conditions(targets)
    protocol = pairing(dts_ms=[10.0], pairings=3, freq_hz=20.0)
    evaluator = make_evaluator(rule, protocol.conditions, ["A_LTP"], w0=0.5, backend="numpy")
    assert isinstance(evaluator, BrianEvaluator)
    fitted = evaluator.final_weights(np.array([[float(rule.A_LTP)]]))
    expected = run_protocol(rule, protocol, backend="numpy", w0=0.5).final_weights
    np.testing.assert_allclose(fitted[0], expected, rtol=1e-12)
    assert not np.allclose(fitted, 0.5)
