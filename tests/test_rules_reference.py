"""Every shipped rule variant agrees with its event-driven reference on every backend.

All variants run as projections between the same two spike-train populations (one compilation
per backend), on hand-made edge cases (coincident and adjacent spikes, bursts, long gaps, the NEST
test sequence) and random 40-Hz trains, compared at every spike time to rtol 1e-9.
"""

from __future__ import annotations

import pytest
from brian2 import ms

from spikeplast.rules import PairSTDP, TripletSTDP, get_rule, parameter_sets
from spikeplast.testing import check_against_reference

RTOL = 1e-9


#: Rule kinds whose reference needs only the pre- and postsynaptic spike trains; rules with a
#: third factor or neuron state have their own agreement tests in tests/rules/.
SPIKE_PAIR_KINDS = ("pair-stdp", "triplet-stdp", "vogels-istdp")


def all_rule_variants() -> dict:
    variants = {
        name.replace("-", "_"): get_rule(name)
        for name, parameter_set in parameter_sets().items()
        if parameter_set.kind in SPIKE_PAIR_KINDS
    }
    for interaction in ("all-to-all", "nearest"):
        for dependence in ("additive", "multiplicative", "gutig", "van-rossum"):
            # Large amplitudes and tight bounds so that the bounds are hit often.
            variants[f"pair_{interaction[:3]}_{dependence.replace('-', '')}"] = PairSTDP(
                interaction=interaction,
                weight_dependence=dependence,
                A_plus=0.02,
                A_minus=0.025,
                w_min=0.0 if dependence == "gutig" else 0.9,
                w_max=1.05,
                tau_plus=16.8 * ms,
                tau_minus=33.7 * ms,
            )
    variants["triplet_bounded"] = TripletSTDP(A3_plus=0.05, A2_minus=0.03, w_min=0.95, w_max=1.1)
    return variants


@pytest.mark.standalone
@pytest.mark.every_backend_in_fast_suite
def test_all_rules_match_reference(backend):
    reports = check_against_reference(all_rule_variants(), backend, rtol=RTOL)
    assert all(report.compared_points > 500 for report in reports)


# The storage and precision variants run fully in `make test-all`; numpy in the fast suite.
VARIANT_BACKENDS = ["numpy", pytest.param("cpp_standalone", marks=pytest.mark.slow)]


@pytest.mark.parametrize("backend_name", VARIANT_BACKENDS)
def test_all_rules_match_reference_with_event_driven_traces(backend_name):
    reports = check_against_reference(
        all_rule_variants(), backend_name, rtol=RTOL, trace_storage="event"
    )
    assert all(report.compared_points > 500 for report in reports)


@pytest.mark.parametrize("backend_name", VARIANT_BACKENDS)
def test_float32_weights_cost_about_single_precision(backend_name):
    """float32 weights: the rules agree with the float64 references to ~1e-6 absolute (weights
    of order 1; the relative error grows where a weight has decayed towards zero)."""
    reports = check_against_reference(
        all_rule_variants(), backend_name, rtol=1.0, weight_dtype="float32"
    )
    worst = max(report.max_absolute_error for report in reports)
    assert 1e-9 < worst < 2e-6  # single precision, not double


#: A few variants for the fast suite: nearest and all-to-all traces, bounds hit, triplet terms.
ARRIVAL_FAST = ("pair_all_multiplicative", "pair_nea_additive", "triplet_bounded")


@pytest.mark.standalone
def test_rules_match_reference_with_plasticity_at_arrival():
    """Plasticity at the synapse: the references see the presynaptic trains 1.5 ms late."""
    variants = {name: rule for name, rule in all_rule_variants().items() if name in ARRIVAL_FAST}
    assert len(variants) == len(ARRIVAL_FAST)
    reports = check_against_reference(
        variants, "cpp_standalone", rtol=RTOL, delay=1.5 * ms, plasticity_at="arrival"
    )
    assert all(report.compared_points > 500 for report in reports)


@pytest.mark.slow
@pytest.mark.parametrize("backend_name", ["numpy", "cpp_standalone", "cython", "numba_standalone"])
def test_all_rules_match_reference_with_plasticity_at_arrival(backend_name):
    check_against_reference(
        all_rule_variants(), backend_name, rtol=RTOL, delay=1.5 * ms, plasticity_at="arrival"
    )
