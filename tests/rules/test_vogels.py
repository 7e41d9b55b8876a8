"""Vogels et al. (2011) inhibitory STDP: agreement with the event-driven reference on every
backend, the target-rate drift, bounds, and an optional cross-check with NEST's
``vogels_sprekeler_synapse``."""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import Hz, ms, nS, second

from spikeplast.backend import Session
from spikeplast.compose import PoissonDrive, Population, Projection
from spikeplast.neurons import LIF, PoissonSource
from spikeplast.reference import vogels_istdp
from spikeplast.rules import VogelsISTDP, get_rule
from spikeplast.testing import check_against_reference, random_trains, simulate_rules_on_trains

RTOL = 1e-9


def vogels_variants() -> dict:
    return {
        "istdp_network": get_rule("vogels2011-network"),
        "istdp_single_cell": get_rule("vogels2011-single-cell"),
        # large steps and tight bounds, so that both bounds are hit often
        "istdp_bounded": VogelsISTDP(tau=10 * ms, eta=0.05, rho0=10 * Hz, w_min=0.8, w_max=1.2),
    }


@pytest.mark.standalone
def test_matches_reference_on_every_backend(backend):
    reports = check_against_reference(vogels_variants(), backend, rtol=RTOL)
    assert all(report.compared_points > 500 for report in reports)


def test_coincident_spikes_potentiate_once():
    rule = VogelsISTDP(eta=0.01, rho0=0 * Hz)
    weights = simulate_rules_on_trains(
        {"istdp": rule}, [np.array([0.01])], [np.array([0.01])], backend="numpy"
    )["istdp"]
    assert weights[-1, 0] == pytest.approx(1.01, rel=1e-12)


def test_presynaptic_spikes_alone_depress_by_eta_alpha():
    rule = VogelsISTDP(eta=0.01, rho0=5 * Hz, tau=20 * ms)  # alpha = 0.2
    weights = simulate_rules_on_trains(
        {"istdp": rule}, [np.array([0.01, 0.02, 0.03])], [np.array([])], backend="numpy"
    )["istdp"]
    assert weights[-1, 0] == pytest.approx(1 - 3 * 0.01 * 0.2, rel=1e-12)


@pytest.mark.parametrize("post_rate_hz, sign", [(2.0, -1), (20.0, 1)])
def test_mean_drift_follows_the_target_rate(post_rate_hz, sign):
    """Independent Poisson trains: <dw/dt> = 2 eta tau rho_pre (rho_post - rho0) (reference only,
    no simulator), within 10 % over 200 s."""
    rule = VogelsISTDP(eta=1e-3, rho0=8 * Hz, tau=20 * ms, w_min=-np.inf)
    rng = np.random.default_rng(11)
    duration, rho_pre = 200.0, 10.0
    pre = random_trains(rng, 1, rho_pre, duration, 1e-4)[0]
    post = random_trains(rng, 1, post_rate_hz, duration, 1e-4)[0]
    drift = (vogels_istdp(rule, pre, post, w0=0.0).final) / duration
    expected = 2 * 1e-3 * 0.02 * rho_pre * (post_rate_hz - 8.0)
    assert np.sign(drift) == sign
    assert drift == pytest.approx(expected, rel=0.1)


@pytest.mark.slow
def test_inhibition_brings_the_rate_to_the_target():
    """One LIF neuron with Poisson excitation and plastic inhibition onto the ``inh`` receptor:
    starting far above the target (no inhibition), the rate settles near rho0 = 5 Hz."""
    rule = VogelsISTDP(eta=0.5, rho0=5 * Hz, w_max=100.0)
    with Session("numpy", seed=5) as session:
        built = session.build(
            [
                Population(
                    "cell", LIF(), n=1, drives=(PoissonDrive(400, 10 * Hz, 0.5 * nS, "exc"),)
                ),
                Population("inhibitory", PoissonSource(rate=20 * Hz), n=50),
            ],
            [
                Projection(
                    "istdp",
                    "inhibitory",
                    "cell",
                    rule=rule,
                    receptor="inh",
                    weight_scale=0.5 * nS,
                    w_init=0.0,
                )
            ],
        )
        spikes = built.spike_monitor("cell")
        session.run(10 * second)
        times = np.asarray(spikes.t / second)
    early = np.sum(times < 0.25) / 0.25
    late = np.sum(times > 5.0) / 5.0
    assert early > 20.0
    assert 2.0 < late < 9.0


# --------------------------------------------------------------------------------------------
# NEST cross-check
# --------------------------------------------------------------------------------------------
RESOLUTION_MS = 0.1
DELAY_MS = 0.1
RELAY_MS = 1.0


def nest_vogels_weights(rule, pre_trains, post_trains, w0: float) -> np.ndarray:
    """Final weights of NEST ``vogels_sprekeler_synapse`` between parrot neurons.

    NEST's delay is dendritic (a postsynaptic spike counts at t_post + d), so postsynaptic spikes
    are shifted by -d; weights change only when a presynaptic spike is delivered, so the last
    presynaptic spike of each train (shared by both simulators) flushes the changes.
    """
    nest = pytest.importorskip("nest")
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = RESOLUTION_MS
    synapse = {
        "synapse_model": "vogels_sprekeler_synapse",
        "weight": w0,
        "delay": DELAY_MS,
        "receptor_type": 1,  # a parrot does not relay spikes arriving at receptor 1
        "tau": float(rule.tau / ms),
        "eta": rule.eta,
        "alpha": rule.alpha,
        "Wmax": 1e6,
    }
    connections = []
    last = 0.0
    for pre_times, post_times in zip(pre_trains, post_trains, strict=True):
        pre = nest.Create("parrot_neuron")
        post = nest.Create("parrot_neuron", params={"tau_minus": float(rule.tau / ms)})
        for neuron, times in ((pre, pre_times * 1e3), (post, post_times * 1e3 - DELAY_MS)):
            generator = nest.Create(
                "spike_generator", params={"spike_times": np.round(times - RELAY_MS, 1).tolist()}
            )
            nest.Connect(generator, neuron, syn_spec={"delay": RELAY_MS})
        nest.Connect(pre, post, syn_spec=synapse)
        connections.append(nest.GetConnections(pre, post))
        last = max(last, float(pre_times[-1]))
    nest.Simulate(last * 1e3 + 10.0)
    return np.array([c.get("weight") for c in connections], dtype=float)


@pytest.mark.nest
@pytest.mark.slow
def test_matches_nest_vogels_sprekeler_synapse():
    pytest.importorskip("nest")
    rng = np.random.default_rng(21)
    dt_s = RESOLUTION_MS * 1e-3
    pre = random_trains(rng, 10, 15.0, 3.0, dt_s, start_s=0.01)
    post = random_trains(rng, 10, 25.0, 3.0, dt_s, start_s=0.01)
    post = [np.setdiff1d(q, p) for p, q in zip(pre, post, strict=True)]  # no coincidences
    pre = [np.r_[p, 3.5] for p in pre]  # a late presynaptic spike flushes NEST's updates
    for name in ("vogels2011-network", "vogels2011-single-cell"):
        rule = get_rule(name, w_max=float("inf"))
        w0 = 5.0  # far from the lower bound, which both clip at 0
        ours = simulate_rules_on_trains({"istdp": rule}, pre, post, backend="numpy", w0=w0)
        np.testing.assert_allclose(
            ours["istdp"][-1], nest_vogels_weights(rule, pre, post, w0), rtol=1e-9, err_msg=name
        )
