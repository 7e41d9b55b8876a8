"""Sweep configs: points of grids, lists and samples, stable IDs, clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sweep_helpers import TINY_NETWORK

from spikeplast.errors import ConfigurationError
from spikeplast.sweep import load_sweep_config, sweep_from_dict
from spikeplast.sweep.points import split_unit

GRID = (
    TINY_NETWORK
    + """
[sweep]
seeds = [1, 2]
[sweep.grid]
"populations.inputs.rate" = ["10 Hz", "20 Hz", "30 Hz"]
"projections.ff.rule_parameters.A_plus" = [0.005, 0.01]
"""
)


def test_grid_points_are_every_combination_with_seeds_innermost(write_config):
    config = load_sweep_config(write_config(GRID))
    assert len(config.points) == 3 * 2 * 2
    assert config.grid_shape == (3, 2)
    assert config.swept == ("populations.inputs.rate", "projections.ff.rule_parameters.A_plus")
    first, second = config.points[:2]
    assert first.values == second.values and (first.seed, second.seed) == (1, 2)
    assert config.points[2].values["projections.ff.rule_parameters.A_plus"] == 0.01
    assert config.output.as_posix() == "results/sweeps/sweep"
    assert len({p.point_id for p in config.points}) == len(config.points)


def test_point_ids_are_stable_and_follow_the_model(write_config):
    ids = [p.point_id for p in load_sweep_config(write_config(GRID)).points]
    assert ids == [p.point_id for p in load_sweep_config(write_config(GRID, "again")).points]
    longer = GRID.replace('"run.duration" = "0.2 s"', '"run.duration" = "0.3 s"')
    other = [p.point_id for p in load_sweep_config(write_config(longer, "longer")).points]
    assert not set(ids) & set(other)


def test_explicit_points(write_config):
    config = load_sweep_config(
        write_config(
            TINY_NETWORK
            + """
            [sweep]
            points = [{ "populations.inputs.rate" = "5 Hz" },
                      { "populations.inputs.rate" = "7 Hz", "run.duration" = "0.1 s" }]
            """.replace("            ", "")
        )
    )
    assert [p.values for p in config.points] == [
        {"populations.inputs.rate": "5 Hz"},
        {"populations.inputs.rate": "7 Hz", "run.duration": "0.1 s"},
    ]
    assert config.seeds == [None] and config.grid_shape is None


@pytest.mark.parametrize("method", ["latin_hypercube", "random"])
def test_samples_keep_units_stay_in_range_and_repeat_with_the_seed(write_config, method):
    text = (
        TINY_NETWORK
        + f"""
[sweep.{method}]
samples = 8
seed = 5
[sweep.{method}.ranges]
"populations.inputs.rate" = {{ low = "5 Hz", high = "0.025 kHz" }}
"projections.ff.rule_parameters.A_plus" = {{ low = 0.001, high = 0.1, scale = "log" }}
"populations.inputs.n" = {{ low = 10, high = 13, integer = true }}
"""
    )
    config = load_sweep_config(write_config(text))
    assert all(p.values["populations.inputs.rate"].endswith(" Hz") for p in config.points)
    rates = np.array([split_unit(p.values["populations.inputs.rate"])[0] for p in config.points])
    amplitudes = np.array(
        [p.values["projections.ff.rule_parameters.A_plus"] for p in config.points]
    )
    sizes = [p.values["populations.inputs.n"] for p in config.points]
    assert np.all((rates >= 5) & (rates <= 25)) and np.all(
        (amplitudes >= 1e-3) & (amplitudes <= 0.1)
    )
    assert set(sizes) <= {10, 11, 12, 13} and all(isinstance(n, int) for n in sizes)
    if method == "latin_hypercube":  # one sample in each eighth of every range
        assert sorted(np.floor((rates - 5) / 20 * 8).astype(int)) == list(range(8))
        decades = np.log(amplitudes / 1e-3) / np.log(100)
        assert sorted(np.floor(decades * 8).astype(int)) == list(range(8))
    again = load_sweep_config(write_config(text, "again"))
    assert [p.values for p in again.points] == [p.values for p in config.points]


def test_protocol_and_function_targets():
    protocol = sweep_from_dict(
        {
            "target": {"protocol": "pairing", "settings": {"dts_ms": [-10, 10], "pairings": 5}},
            "sweep": {"grid": {"A3_plus": [0.005, 0.01], "settings.freq_hz": [1.0, 5.0]}},
        }
    )
    assert len(protocol.points) == 4 and protocol.target.data["rule"]
    function = sweep_from_dict(
        {
            "target": {"function": "spikeplast.sweep.probe:probe"},
            "fixed": {"y": 2},
            "sweep": {"grid": {"x": [1, 2]}, "seeds": 3},
        }
    )
    assert function.seeds == [1, 2, 3] and len(function.points) == 6


BAD_CONFIGS = [
    ({"targte": {}}, "unknown key 'targte'. Did you mean 'target'"),
    ({"target": {}}, "give exactly one of network"),
    ({"target": {"network": "song2001"}}, "unknown network 'song2001'"),
    ({"target": {"network": "song2000", "backend": "numpi"}}, "unknown backend 'numpi'"),
    ({"sweep": {"grid": {"projections.fff.rule_parameters.A_plus": [1]}}}, "'projections.fff'"),
    ({"sweep": {"grid": {"projections.ff.rule_parameters.A_plux": [1]}}}, "no parameter 'A_plux'"),
    ({"sweep": {"grid": {"populations.inputs.rte": ["5 Hz"]}}}, "unknown key 'rte'"),
    ({"sweep": {"grid": {"populations.inputs.rate": []}}}, "non-empty list"),
    ({"sweep": {"grid": {"run.seed": [1, 2]}}}, "seeds = [...]"),
    ({"sweep": {"grid": {"x": [1]}, "points": [{}]}}, "exactly one of grid, points"),
    ({"sweep": {"seeds": [1, 1], "grid": {"run.duration": ["1 s"]}}}, "repeated seed"),
    ({"sweep": {"points": [{"run.duration": "1 s"}, {"run.duration": "1 s"}]}}, "twice"),
    (
        {
            "sweep": {
                "random": {"samples": 3, "ranges": {"run.duration": {"low": "2 s", "high": 1}}}
            }
        },
        "not in the unit",
    ),
    (
        {
            "sweep": {
                "random": {"samples": 3, "ranges": {"run.duration": {"low": "2 s", "high": "1 s"}}}
            }
        },
        "low must be below high",
    ),
    ({"fixed": {"run.seed": 3}}, "seeds = [...]"),
    ({"record": {"summaries": "some"}}, 'give "all" or a list'),
    ({"execution": {"retries": -1}}, "retries"),
]


@pytest.mark.parametrize(("change", "message"), BAD_CONFIGS)
def test_bad_configs_get_one_line_errors(change, message):
    raw = {
        "target": {"network": "song2000", "backend": "numpy"},
        "sweep": {"grid": {"populations.inputs.rate": ["5 Hz"]}},
    }
    raw.update(change)
    with pytest.raises(ConfigurationError) as caught:
        sweep_from_dict(raw)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_bad_values_fail_their_points_only():
    """A value that cannot be applied (wrong unit) is not an unknown parameter."""
    config = sweep_from_dict(
        {
            "target": {"network": "song2000", "backend": "numpy"},
            "sweep": {"grid": {"projections.ff.rule_parameters.A_plus": ["5 ms", 0.01]}},
        }
    )
    assert len(config.points) == 2


def test_bad_protocol_and_function_targets():
    with pytest.raises(ConfigurationError, match="has no setting 'pairingz'"):
        sweep_from_dict(
            {"target": {"protocol": "pairing"}, "sweep": {"grid": {"settings.pairingz": [5]}}}
        )
    with pytest.raises(ConfigurationError, match="cannot import 'no_such_module'"):
        sweep_from_dict({"target": {"function": "no_such_module:f"}, "sweep": {"grid": {"x": [1]}}})


def test_structural_paths_of_compiled_networks_are_named():
    from spikeplast.backend import available_backends

    if "cpp_standalone" not in available_backends():
        pytest.skip("no C++ compiler")
    config = sweep_from_dict(
        {
            "target": {"network": "song2000", "backend": "cpp_standalone"},
            "sweep": {
                "grid": {
                    "projections.ff.rule_parameters.A_plus": [0.01],
                    "projections.ff.rule_parameters.tau_plus": ["20 ms"],
                }
            },
        }
    )
    assert config.target.structural_paths(list(config.swept)) == [
        "projections.ff.rule_parameters.tau_plus"
    ]


def test_shipped_sweep_configs_load():
    from pathlib import Path

    shipped = sorted((Path(__file__).parents[2] / "models" / "sweeps").glob("*.toml"))
    assert shipped
    for path in shipped:
        config = load_sweep_config(path)
        assert config.points and config.name == path.stem.replace("_", "-")
