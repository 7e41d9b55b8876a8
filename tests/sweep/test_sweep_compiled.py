"""Sweeps on cpp_standalone: compiled once per structure, rerun per point; same numbers as fresh
builds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spikeplast.backend import available_backends
from spikeplast.netspec import load_network, run_network
from spikeplast.sweep import run_sweep, sweep_from_dict

pytestmark = [
    pytest.mark.slow,
    pytest.mark.standalone,
    pytest.mark.skipif("cpp_standalone" not in available_backends(), reason="no C++ compiler"),
]

FIXED = {
    "run.duration": "0.3 s",
    "record.state": [],
    "populations.inputs.n": 200,
    "projections.ff.weight_scale": "0.5 nS",
    "projections.ff.w_init": 0.5,
}


def test_compiled_sweep_equals_fresh_builds_and_says_what_rebuilds(tmp_path):
    config = sweep_from_dict(
        {
            "target": {"network": "song2000", "backend": "cpp_standalone"},
            "fixed": FIXED,
            "sweep": {
                "seeds": [3],
                "grid": {
                    "projections.ff.rule_parameters.tau_plus": ["15 ms", "20 ms"],
                    "populations.inputs.rate": ["15 Hz", "25 Hz"],
                },
            },
            "record": {"weights": True},
            "output": {"directory": str(tmp_path / "out")},
        }
    )
    notes: list[str] = []
    report = run_sweep(config, serial=True, progress=False, plot=False, echo=notes.append)
    assert report.exit_code == 0
    assert any("tau_plus change the compiled model's structure" in n for n in notes)
    from spikeplast.sweep.runners import runner_for

    assert len(runner_for(config.target).compiled) == 2  # one build per tau_plus
    point = config.points[-1]
    fresh = run_network(
        load_network("song2000", {**FIXED, **point.values}), backend="cpp_standalone", seed=3
    )
    swept = np.load(tmp_path / "out" / "points" / f"{point.point_id}.npz")["weights.ff"]
    np.testing.assert_array_equal(swept, fresh.weights["ff"])


def test_compiled_protocol_sweep_equals_the_protocol_run(tmp_path):
    """A protocol on cpp_standalone is compiled once and rerun with each rule constant."""
    from spikeplast.experiment import run_protocol_experiment

    settings = {"dts_ms": [-10.0, 10.0], "pairings": 5, "freq_hz": 20.0}
    config = sweep_from_dict(
        {
            "target": {"protocol": "pairing", "backend": "cpp_standalone", "settings": settings},
            "sweep": {"grid": {"A3_plus": [0.0, 0.01]}},
            "output": {"directory": str(tmp_path / "out")},
        }
    )
    assert config.target.structural_paths(list(config.swept)) == []
    report = run_sweep(config, serial=True, progress=False, plot=False)
    assert report.exit_code == 0
    from spikeplast.sweep.runners import runner_for

    assert len(runner_for(config.target).compiled) == 1
    for point in config.points:
        row = json.loads((tmp_path / "out" / "points" / f"{point.point_id}.json").read_text())
        reference = run_protocol_experiment(
            "pairing", settings, overrides=dict(point.values), backend="numpy"
        )
        for condition in reference["rows"]:
            label = f"dw_percent[dt_ms={condition['dt_ms']:g}]"
            assert row["summary"][label] == pytest.approx(condition["dw_percent"], abs=1e-6)
