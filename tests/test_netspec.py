"""Network files: validation with clear errors, dotted-path overrides, runs."""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.errors import ConfigurationError, ParameterError, UnknownNameError
from spikeplast.netspec import apply_overrides, load_network, network_from_dict, run_network

MINIMAL = {
    "run": {"duration": "200 ms", "seed": 1},
    "populations": {
        "inputs": {"model": "poisson", "n": 20, "rate": "40 Hz"},
        "cell": {"model": "lif", "n": 2},
    },
    "projections": {
        "ff": {
            "pre": "inputs",
            "post": "cell",
            "rule": "pair-stdp",
            "rule_parameters": {"w_max": 1.0},
            "weight_scale": "3 nS",
            "w_init": 0.5,
        }
    },
    "record": {"spikes": ["cell"]},
}


def test_minimal_network_runs_and_is_deterministic():
    spec = network_from_dict(MINIMAL)
    first = run_network(spec, backend="numpy")
    second = run_network(spec, backend="numpy")
    np.testing.assert_array_equal(first.weights["ff"], second.weights["ff"])
    assert first.weights["ff"].shape == (40,) and "cell.spike_count" in first.summary()


def test_overrides_change_values():
    data = apply_overrides(
        MINIMAL,
        {
            "projections.ff.rule_parameters.A_plus": 0.5,
            "run.seed": 9,
            "populations.inputs.rate": "5 Hz",
        },
    )
    spec = network_from_dict(data)
    assert spec.seed == 9 and spec.projections[0].rule.A_plus == 0.5
    assert MINIMAL["run"]["seed"] == 1  # the original is untouched
    with pytest.raises(ConfigurationError, match="'projectons' does not exist"):
        apply_overrides(MINIMAL, {"projectons.ff.w_init": 1})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"run": {"seed": 1}}, "needs a duration"),
        ({"populations": {"cell": {"model": "lif", "n": 2, "rat": "1 Hz"}}}, "Did you mean 'rate'"),
        (
            {"projections": {"ff": {"pre": "inputs", "post": "cell", "weight_scale": "3 mV"}}},
            "weight_scale must have the unit of S",
        ),
        ({"run": {"duration": "2 mV"}}, "expected a value in s"),
        ({"record": {"spikes": ["cell"], "statte": []}}, "Did you mean 'state'"),
    ],
)
def test_bad_network_files(change, message):
    data = {**MINIMAL, **change}
    with pytest.raises((ConfigurationError, ParameterError)) as error:
        spec = network_from_dict(data)
        run_network(spec, backend="numpy")
    assert message in str(error.value)


def test_shipped_network_and_unknown_names():
    spec = load_network("song2000")
    assert spec.source and float(spec.duration) == 100.0
    with pytest.raises(UnknownNameError, match="Did you mean 'song2000'"):
        load_network("song200")
