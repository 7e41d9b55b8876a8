"""Build once, run many: reruns of a compiled model equal fresh builds (to rounding)."""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.compiled import CompiledNetwork, StructuralChange
from spikeplast.errors import ConfigurationError
from spikeplast.netspec import load_network, run_network

pytestmark = pytest.mark.standalone

# w_init is numeric here: a runtime value replacing a *random* initialisation would leave the
# compiled model drawing those random numbers, so its random stream would differ from a fresh build.
BASE = {"run.duration": "1 s", "record.state": [], "projections.ff.w_init": 0.3}

RUNTIME = [
    "populations.inputs.rate",
    "projections.ff.rule_parameters.A_plus",
    "run.seed",
    "projections.ff.w_init",
]


@pytest.fixture(scope="module")
def compiled():
    spec = load_network("song2000", BASE)
    return spec, CompiledNetwork(spec, RUNTIME)


def test_rerun_with_new_values_equals_a_fresh_build(compiled):
    """Equal to rounding: a promoted constant is read from memory instead of being compiled in,
    so -ffast-math may round the last bit differently."""
    spec, network = compiled
    values = {
        "populations.inputs.rate": "25 Hz",
        "projections.ff.rule_parameters.A_plus": 0.02,
        "projections.ff.w_init": 0.5,
    }
    rerun = network.run(values, seed=7)
    fresh = run_network(
        load_network("song2000", {**BASE, **values}), backend="cpp_standalone", seed=7
    )
    np.testing.assert_allclose(rerun.weights["ff"], fresh.weights["ff"], rtol=1e-12)
    np.testing.assert_array_equal(rerun.spikes["neuron"][1], fresh.spikes["neuron"][1])
    default = network.run()
    np.testing.assert_array_equal(
        default.weights["ff"], run_network(spec, backend="cpp_standalone").weights["ff"]
    )
    other_seed = network.run(values, seed=8)
    assert rerun.spikes["neuron"][1].size > 0
    assert not np.array_equal(other_seed.weights["ff"], rerun.weights["ff"])


def test_structural_paths_are_refused_clearly(compiled):
    spec, network = compiled
    with pytest.raises(StructuralChange, match="tau_plus cannot change without recompiling"):
        CompiledNetwork(spec, ["projections.ff.rule_parameters.tau_plus"])
    with pytest.raises(StructuralChange, match="were not declared as runtime paths"):
        network.run({"run.duration": "2 s"})
    with pytest.raises(ConfigurationError, match="expected a number"):
        network.run({"projections.ff.w_init": "rand()"})
