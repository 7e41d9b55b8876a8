"""Alias-table Poisson drives: the exact binomial distribution, the same spikes on every backend.

The table is checked against SciPy's binomial pmf (an independent implementation), the sampler's
draws against the binomial distribution with a chi-square test, and the drive through the
composer against the NumPy backend's spikes on every backend (they share the seeded MT19937
stream and draw one uniform per neuron and step).
"""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import Hz, Network, NeuronGroup, StateMonitor, ms, mV, nS
from scipy.stats import binom, chisquare

from spikeplast.backend import Session
from spikeplast.compose import PoissonDrive, Population
from spikeplast.errors import ConfigurationError
from spikeplast.neurons import LIF
from spikeplast.poisson_input import TAIL_MASS, AliasPoissonInput, binomial_alias_table


def table_pmf(prob: np.ndarray, alias: np.ndarray) -> np.ndarray:
    """Probability of each column's count implied by an alias table."""
    columns = len(prob)
    mass = prob / columns
    np.add.at(mass, alias, (1.0 - prob) / columns)
    return mass


@pytest.mark.parametrize(
    ("n", "p"), [(1000, 0.002), (1000, 0.5), (10, 0.3), (100_000, 0.01), (5, 0.999), (1, 0.4)]
)
def test_table_is_the_binomial_distribution(n, p):
    offset, prob, alias = binomial_alias_table(n, p)
    counts = np.arange(offset, offset + len(prob))
    expected = binom.pmf(counts, n, p)
    got = table_pmf(prob, alias)
    assert np.all((prob >= 0) & (prob <= 1 + 1e-12))
    assert abs(got.sum() - 1.0) < 1e-12
    assert np.max(np.abs(got - expected) / expected) < 1e-9
    assert (
        1.0 - expected.sum() < 4 * TAIL_MASS + 1e-14
    )  # only negligible tails left out (+ rounding)


def test_degenerate_probabilities():
    assert binomial_alias_table(50, 0.0)[0] == 0
    assert binomial_alias_table(50, 1.0)[0] == 50
    with pytest.raises(ValueError, match="0 <= p <= 1"):
        binomial_alias_table(10, 1.5)


def test_draws_follow_the_binomial_distribution():
    """20,000 neurons x 50 steps of Binomial(1000, 0.002) counts (numpy target)."""
    with Session("numpy", dt=0.1 * ms, seed=7):
        group = NeuronGroup(20_000, "v : volt", name="counted")
        group.run_regularly("v = 0*mV", when="start")
        drive = AliasPoissonInput(group, "v", 1000, 20 * Hz, weight=1 * mV)
        counts = StateMonitor(group, "v", record=True, when="end")
        Network(group, drive, counts).run(5 * ms)
        draws = np.rint(np.asarray(counts.v[:] / mV)).astype(int).ravel()
    observed = np.bincount(draws, minlength=9)[:9].astype(float)
    observed[8] += (draws > 8).sum()
    expected = binom.pmf(np.arange(9), 1000, 0.002)
    expected[8] = binom.sf(7, 1000, 0.002)
    assert chisquare(observed, expected * draws.size).pvalue > 1e-3
    assert abs(draws.mean() - 2.0) < 0.02


def driven_spikes(backend: str) -> np.ndarray:
    with Session(backend, dt=0.1 * ms, seed=3) as session:
        drive = PoissonDrive(1000, 20 * Hz, 0.1 * nS, "exc", sampler="alias")
        built = session.build([Population("cell", LIF(), n=300, drives=(drive,))], [])
        spikes = built.spike_monitor("cell")
        session.run(100 * ms)
        return np.stack([np.asarray(spikes.i[:]), np.asarray(spikes.t[:] / ms)])


@pytest.mark.standalone
def test_same_spikes_on_every_backend(backend):
    reference = driven_spikes("numpy")
    assert reference.shape[1] > 1000
    np.testing.assert_array_equal(driven_spikes(backend), reference)


def test_unknown_sampler_and_impossible_rate_are_refused():
    def build(drive: PoissonDrive) -> None:
        with Session("numpy", dt=0.1 * ms, seed=1) as session:
            session.build([Population("cell", LIF(), n=2, drives=(drive,))], [])

    with pytest.raises(ConfigurationError, match="unknown sampler 'alais'.*alias"):
        build(PoissonDrive(10, 5 * Hz, 1 * nS, "exc", sampler="alais"))
    with pytest.raises(ConfigurationError, match="more than one spike per source"):
        build(PoissonDrive(10, 20000 * Hz, 1 * nS, "exc", sampler="alias"))
