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


def test_constants_that_are_zero_at_build_time_still_act():
    """Minimal triplet models have A3_minus = 0, which the rule leaves out of its code; a compiled
    model that makes A3_minus a runtime parameter must still apply it."""
    from spikeplast.protocols import protocol_network_data, run_protocol, sjostrom
    from spikeplast.rules import get_rule

    protocol = sjostrom(freqs_hz=(20.0,), pairings=10)
    data = protocol_network_data(protocol, "pfister2006-visual-aa-minimal")
    path = "projections.synapse.rule_parameters.A3_minus"
    network = CompiledNetwork.from_data(data, [path])
    weights = network.run({path: 0.01}).weights["synapse"]
    expected = run_protocol(
        get_rule("pfister2006-visual-aa-minimal", A3_minus=0.01), protocol, backend="cpp_standalone"
    ).final_weights
    np.testing.assert_allclose(weights, expected, rtol=1e-12)
    default = network.run().weights["synapse"]
    np.testing.assert_allclose(
        default,
        run_protocol(
            get_rule("pfister2006-visual-aa-minimal"), protocol, backend="cpp_standalone"
        ).final_weights,
        rtol=1e-12,
    )
