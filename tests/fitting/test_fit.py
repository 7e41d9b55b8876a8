"""Fits: Sjöström 2001 with the minimal triplet rule, recovery of known parameters, diagnostics."""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.data import Dataset
from spikeplast.errors import ConfigurationError, ParameterError, UnknownNameError
from spikeplast.fitting.fit import fit_rule, start_points
from spikeplast.fitting.parameters import free_parameters
from spikeplast.rules import get_rule

from .conftest import pairing_dataset, synthetic_dataset


@pytest.fixture(scope="module")
def sjostrom_fit():
    return fit_rule("pfister2006-visual-aa-minimal", ["sjostrom2001"], restarts=4, workers=1)


def test_sjostrom_minimal_triplet_fit_beats_published_error(sjostrom_fit):
    result = sjostrom_fit
    assert result.converged, result.problems
    assert [e.name for e in result.estimates] == ["A3_plus", "A2_minus", "tau_y"]
    assert result.published is not None
    assert result.published["name"] == "pfister2006-visual-aa-minimal"
    assert result.error <= result.published["error"] + 1e-12
    assert result.error < 0.5
    # Table 3 values lie inside the 95 % intervals
    for estimate in result.estimates:
        assert estimate.lower <= estimate.published <= estimate.upper, estimate
    assert result.problems == []


def test_sjostrom_fit_reproduces_the_data_signature(sjostrom_fit):
    rows = {
        (c.variables["freq_hz"], c.variables["dt_ms"]): m
        for c, m in zip(
            sjostrom_fit.targets[0].protocol.conditions, sjostrom_fit.model, strict=True
        )
    }
    assert rows[(0.1, -10.0)] < -15  # post-pre depression at low frequency ...
    assert rows[(10.0, -10.0)] < -15
    assert rows[(40.0, -10.0)] > 0  # ... turning into potentiation at 40-50 Hz
    assert rows[(50.0, -10.0)] > 40
    assert all(rows[(f, 10.0)] >= rows[(0.1, 10.0)] for f in (10.0, 20.0, 40.0, 50.0))


def test_recovery_of_known_parameters_within_intervals():
    truth = {"A3_plus": 0.0065, "A2_minus": 0.0071, "tau_y": 0.114}
    data = synthetic_dataset("pfister2006-visual-aa-minimal", noise_seed=11)
    result = fit_rule("pfister2006-visual-aa-minimal", [data], restarts=3, workers=1, compare=None)
    assert result.converged
    for estimate in result.estimates:
        assert estimate.lower <= truth[estimate.name] <= estimate.upper, estimate


def test_recovery_of_pair_stdp_window_with_bootstrap():
    truth = {"A_plus": 0.008, "A_minus": 0.005, "tau_plus": 0.0168, "tau_minus": 0.0337}
    data = synthetic_dataset(
        "pair-stdp",
        pairing_dataset(),
        noise_seed=1,
        A_plus=0.008,
        A_minus=0.005,
        tau_plus="16.8 ms",
        tau_minus="33.7 ms",
    )
    result = fit_rule(
        "pair-stdp",
        [data],
        free=["A+", "A-", "tau+", "tau-"],
        restarts=3,
        workers=1,
        ci="bootstrap",
        bootstrap_samples=40,
        seed=2,
    )
    assert result.converged, result.problems
    assert result.bootstrap.shape == (40, 4)
    for estimate in result.estimates:
        assert estimate.lower <= truth[estimate.name] <= estimate.upper, estimate
        assert estimate.upper / estimate.lower < 3  # pinned, not just bounded


def test_noise_free_recovery_is_exact():
    data = synthetic_dataset("pfister2006-visual-nn-minimal", noise_seed=None)
    result = fit_rule("pfister2006-visual-nn-minimal", [data], restarts=2, workers=1, ci="none")
    assert result.error < 1e-12
    np.testing.assert_allclose([e.value for e in result.estimates], [0.05, 0.008, 0.040], rtol=1e-5)


def test_results_do_not_depend_on_workers():
    kwargs = {"restarts": 3, "seed": 4, "ci": "profile"}
    serial = fit_rule("pfister2006-visual-aa-minimal", ["sjostrom2001"], workers=1, **kwargs)
    parallel = fit_rule("pfister2006-visual-aa-minimal", ["sjostrom2001"], workers=2, **kwargs)
    assert [s["end"] for s in serial.starts] == [s["end"] for s in parallel.starts]
    assert [(e.value, e.lower, e.upper) for e in serial.estimates] == [
        (e.value, e.lower, e.upper) for e in parallel.estimates
    ]


def test_parameter_without_effect_is_reported():
    """tau_x only acts through A3_minus, which the minimal model sets to zero."""
    result = fit_rule(
        "pfister2006-visual-aa-minimal",
        ["sjostrom2001"],
        free=["A3+", "A2-", "tau_x"],
        restarts=1,
        workers=1,
    )
    tau_x = result.estimates[2]
    assert "no effect on the model" in tau_x.notes
    assert not tau_x.constrained
    assert any("tau_x has no effect" in p for p in result.problems)
    assert any("tau_x is not constrained" in p for p in result.problems)


def test_unconstrained_side_is_reported():
    """The visual data cannot bound the pair-potentiation amplitude from below."""
    result = fit_rule(
        "pfister2006-visual-aa-full",
        ["sjostrom2001"],
        free=["A2+", "A3+", "A2-"],
        restarts=2,
        workers=1,
    )
    a2_plus = result.estimates[0]
    assert a2_plus.lower is None and "unconstrained below" in a2_plus.notes
    assert any("A2_plus is not constrained below" in p for p in result.problems)


def test_non_convergence_is_reported():
    result = fit_rule(
        "pfister2006-visual-aa-minimal",
        ["sjostrom2001"],
        restarts=2,
        workers=1,
        ci="none",
        max_evaluations=1,
    )
    assert not result.converged
    assert result.problems[0].startswith("the best fit did not converge")


@pytest.mark.parametrize("method", ["lbfgsb", "nelder-mead"])
def test_other_methods_reach_the_same_minimum(method, sjostrom_fit):
    result = fit_rule(
        "pfister2006-visual-aa-minimal",
        ["sjostrom2001"],
        restarts=2,
        workers=1,
        ci="none",
        method=method,
    )
    assert result.error == pytest.approx(sjostrom_fit.error, rel=1e-3)


def test_family_is_compared_with_matching_published_set():
    result = fit_rule(
        "triplet-stdp",
        ["sjostrom2001"],
        fixed={"A2_plus": 0, "A3_minus": 0},
        restarts=1,
        workers=1,
        ci="none",
    )
    assert result.published["name"] == "pfister2006-visual-aa-minimal"
    assert [e.name for e in result.estimates] == ["A3_plus", "A2_minus", "tau_y"]


def test_joint_fit_of_two_data_sets():
    window = synthetic_dataset("pfister2006-visual-aa-minimal", pairing_dataset(), name="win")
    result = fit_rule(
        "pfister2006-visual-aa-minimal",
        ["sjostrom2001", window],
        restarts=1,
        workers=1,
        ci="none",
    )
    assert result.n_data == 20 and len(result.targets) == 2


def test_start_points_are_seeded_and_in_bounds():
    free = free_parameters(get_rule("pfister2006-visual-aa-minimal"), ["A3_plus", "tau_y"])
    first, second = start_points(free, 5, 1), start_points(free, 5, 1)
    np.testing.assert_array_equal(np.array(first), np.array(second))
    np.testing.assert_allclose(first[0], [np.log10(0.0065), np.log10(0.114)])
    for point in first:
        assert all(
            p.internal_bounds[0] <= z <= p.internal_bounds[1]
            for p, z in zip(free, point, strict=True)
        )


def test_bad_input_is_refused():
    with pytest.raises(ParameterError, match="both free and fixed"):
        fit_rule("pair-stdp", ["sjostrom2001"], free=["A_plus"], fixed={"A+": 0.1})
    with pytest.raises(UnknownNameError, match="Did you mean 'A3_plus'"):
        fit_rule("triplet-stdp", ["sjostrom2001"], free=["A3plus"])
    with pytest.raises(ParameterError, match="unit"):
        fit_rule("triplet-stdp", ["sjostrom2001"], fixed={"tau_x": "101 mV"})
    with pytest.raises(ParameterError, match="cannot be fitted"):
        fit_rule("triplet-stdp", ["sjostrom2001"], free=["w_max"])
    with pytest.raises(ConfigurationError, match="not free"):
        fit_rule("triplet-stdp", ["sjostrom2001"], bounds={"tau_plus": ("1 ms", "1 s")})
    with pytest.raises(ParameterError, match="unit"):
        fit_rule("pfister2006-visual-aa-minimal", ["sjostrom2001"], bounds={"tau_y": (1, 2)})
    with pytest.raises(ConfigurationError, match="unknown --method"):
        fit_rule("triplet-stdp", ["sjostrom2001"], method="newton")
    with pytest.raises(UnknownNameError, match="unknown data set"):
        fit_rule("triplet-stdp", ["sjostrom2010"])


def test_missing_sem_is_refused():
    data = synthetic_dataset("pfister2006-visual-aa-minimal")
    rows = tuple(
        {k: v for k, v in r.items() if k != "sem_percent" or i} for i, r in enumerate(data.rows)
    )
    without = Dataset(**{**data.__dict__, "rows": rows})
    with pytest.raises(ConfigurationError, match="no positive SEM in row"):
        fit_rule("pfister2006-visual-aa-minimal", [without])


@pytest.mark.slow
def test_profile_intervals_cover_the_truth():
    """Over 30 noisy replicates of the Sjöström data made by the model, the 95 % profile
    intervals contain the true values about 95 % of the time (accepting >= 80 %)."""
    truth = {"A3_plus": 0.0065, "A2_minus": 0.0071, "tau_y": 0.114}
    hits = dict.fromkeys(truth, 0)
    replicates = 30
    for seed in range(replicates):
        data = synthetic_dataset("pfister2006-visual-aa-minimal", noise_seed=100 + seed)
        result = fit_rule("pfister2006-visual-aa-minimal", [data], restarts=2, workers=2)
        for estimate in result.estimates:
            low = estimate.lower if estimate.lower is not None else 0.0
            high = estimate.upper if estimate.upper is not None else np.inf
            hits[estimate.name] += low <= truth[estimate.name] <= high
    coverage = {name: count / replicates for name, count in hits.items()}
    assert all(value >= 0.8 for value in coverage.values()), coverage


@pytest.mark.slow
@pytest.mark.standalone
def test_fit_with_brian2_evaluator_matches_numba_fit():
    """The plug-in path for rules without a kernel: the same fit through compiled Brian2
    reruns lands where the Numba fit lands."""
    template = Dataset(
        name="short",
        title="",
        source="synthetic",
        transcribed_from="",
        protocol="sjostrom",
        protocol_notes="",
        rows=tuple(
            {"freq_hz": f, "dt_ms": dt, "dw_percent": 0.0, "sem_percent": 5.0}
            for f in (20.0, 50.0)
            for dt in (10.0, -10.0)
        ),
    )
    data = synthetic_dataset("pfister2006-visual-aa-minimal", template, noise_seed=3)
    kwargs = {
        "free": ["A3+", "A2-"],
        "restarts": 1,
        "workers": 1,
        "ci": "none",
        "protocol_settings": {"pairings": 10},
    }
    fast = fit_rule("pfister2006-visual-aa-minimal", [data], **kwargs)
    brian = fit_rule("pfister2006-visual-aa-minimal", [data], evaluator="brian2", **kwargs)
    assert brian.converged and brian.evaluator == "brian2 (compiled)"
    np.testing.assert_allclose(
        [e.value for e in brian.estimates], [e.value for e in fast.estimates], rtol=1e-5
    )
