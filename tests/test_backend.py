"""Backend sessions: what a standalone run leaves in its project and reports back."""

from __future__ import annotations

import numpy as np
from brian2 import Hz, nS, second

from spikeplast.backend import Session
from spikeplast.compose import Population, Projection
from spikeplast.neurons import LIF, PoissonSource
from spikeplast.rules import PairSTDP


def _run(tmp_path, progress: bool) -> tuple[Session, np.ndarray]:
    with Session("cpp_standalone", seed=3, progress=progress, build_dir=tmp_path) as session:
        built = session.build(
            [
                Population("inputs", PoissonSource(rate=20 * Hz), n=20),
                Population("cells", LIF(), n=2),
            ],
            [Projection("ff", "inputs", "cells", rule=PairSTDP(w_max=1.0), weight_scale=4 * nS)],
        )
        session.run(2 * second)
        return session, built.weights("ff")


def test_cpp_time_loop_reads_no_cpu_clock_per_step_and_progress_still_reports(tmp_path):
    """Brian2 2.9's time loop made a `std::clock()` system call every step (and per object with
    a report function); spikeplast's projects read a steady clock instead, with the same
    weights, the progress file still written and the loop still timed."""
    with_progress, weights = _run(tmp_path / "progress", progress=True)
    _, weights_quiet = _run(tmp_path / "quiet", progress=False)
    source = (tmp_path / "progress" / "network.cpp").read_text()
    assert "std::clock()" not in source and "CLOCKS_PER_SEC" not in source
    assert float((tmp_path / "progress" / "progress.txt").read_text()) == 1.0
    assert with_progress.timings["network_run"] > 0
    np.testing.assert_array_equal(weights, weights_quiet)


def test_later_sessions_and_plain_brian2_get_brian2s_own_time_loop(tmp_path):
    from brian2.devices.device import all_devices

    _run(tmp_path / "run", progress=False)
    assert "generate_network_source" not in vars(all_devices["cpp_standalone"])
