"""Optional cross-check: all-to-all triplet STDP against NEST's ``stdp_triplet_synapse``.

Skipped when ``nest-simulator`` is not installed (``pip install nest-simulator``). NEST treats the
synaptic delay d as dendritic (a postsynaptic spike at t_post counts at t_post + d), sets its
post-neuron trace time constants on the neuron (defaults 20/110 ms, set here to 33.7/125 ms), and
applies weight changes only when a presynaptic spike is delivered: the NEST runs therefore shift
postsynaptic spikes by -d and add a late trigger spike. Coincident pre/post spikes are excluded
(NEST's same-time order differs; spikeplast's is tested against its own reference).
"""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.rules import get_rule
from spikeplast.testing import random_trains, simulate_rules_on_trains

pytestmark = [pytest.mark.nest, pytest.mark.slow]

RESOLUTION_MS = 0.1
DELAY_MS = 0.1
RELAY_MS = 1.0


def nest_triplet_weights(rule, pre_trains, post_trains, trigger_s: float) -> np.ndarray:
    nest = pytest.importorskip("nest")
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = RESOLUTION_MS
    synapse = {
        "synapse_model": "stdp_triplet_synapse",
        "weight": 1.0,
        "delay": DELAY_MS,
        "receptor_type": 1,  # a parrot does not relay spikes arriving at receptor 1
        "tau_plus": float(rule.tau_plus) * 1e3,
        "tau_plus_triplet": float(rule.tau_x) * 1e3,
        "Aplus": rule.A2_plus,
        "Aplus_triplet": rule.A3_plus,
        "Aminus": rule.A2_minus,
        "Aminus_triplet": rule.A3_minus,
        "Wmax": 1e6,
    }
    connections = []
    for pre_times, post_times in zip(pre_trains, post_trains, strict=True):
        pre = nest.Create("parrot_neuron")
        post = nest.Create(
            "parrot_neuron",
            params={
                "tau_minus": float(rule.tau_minus) * 1e3,
                "tau_minus_triplet": float(rule.tau_y) * 1e3,
            },
        )
        pre_ms = np.r_[pre_times * 1e3, trigger_s * 1e3]
        post_ms = post_times * 1e3 - DELAY_MS
        for neuron, times in ((pre, pre_ms), (post, post_ms)):
            generator = nest.Create(
                "spike_generator", params={"spike_times": np.round(times - RELAY_MS, 1).tolist()}
            )
            nest.Connect(generator, neuron, syn_spec={"delay": RELAY_MS})
        nest.Connect(pre, post, syn_spec=synapse)
        connections.append(nest.GetConnections(pre, post))
    nest.Simulate(trigger_s * 1e3 + 10.0)
    return np.array([c.get("weight") for c in connections], dtype=float)


def test_triplet_all_to_all_matches_nest():
    pytest.importorskip("nest")
    rng = np.random.default_rng(7)
    dt_s = RESOLUTION_MS * 1e-3
    pre = random_trains(rng, 12, 20.0, 3.0, dt_s, start_s=0.01)
    post = random_trains(rng, 12, 20.0, 3.0, dt_s, start_s=0.01)
    post = [np.setdiff1d(q, p) for p, q in zip(pre, post, strict=True)]  # no coincidences
    for name in ("pfister2006-visual-aa-full", "pfister2006-hippo-aa-full"):
        rule = get_rule(name)
        nest_weights = nest_triplet_weights(rule, pre, post, trigger_s=8.0)
        ours = simulate_rules_on_trains({"triplet": rule}, pre, post, backend="numpy")["triplet"][
            -1
        ]
        np.testing.assert_allclose(ours, nest_weights, rtol=1e-9, err_msg=name)
