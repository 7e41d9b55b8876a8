"""The conditioning demo: reward delivery in generated code, a small run end to end, the command
line, and (slow) the outcome of the full-size experiment."""

from __future__ import annotations

import json

import numpy as np
import pytest
from brian2 import ms, second

from spikeplast.backend import Session
from spikeplast.compose import Population
from spikeplast.demos.cli import main as demo_main
from spikeplast.demos.conditioning import (
    ConditioningSetup,
    DelayedReward,
    add_reward_delivery,
    run_conditioning,
    save_conditioning,
)
from spikeplast.neurons import SpikeTrains

#: n1 = neuron 0, n2 = neuron 1. Pairings at 100/110 ms (rewarded), 500/530 ms (too late),
#: 900/900 ms (same step: not rewarded), 1300 (n2) / 1305 (n1) (wrong order), 2000/2019.5 ms
#: (rewarded, at the edge of the window).
N1_S = [0.100, 0.500, 0.900, 1.305, 2.000]
N2_S = [0.110, 0.530, 0.900, 1.300, 2.0195]
REWARDED_AT = [0.110, 2.0195]


def reward_run(backend: str, slots: int = 4, **session_options) -> tuple[np.ndarray, int, int]:
    setup = ConditioningSetup()
    with Session(backend, dt=0.5 * ms, seed=3, **session_options) as session:
        built = session.build(
            [
                Population("cells", SpikeTrains([N1_S, N2_S])),
                Population("reward", DelayedReward(), n=slots),
            ],
            [],
        )
        add_reward_delivery(built, setup, n1=0, n2=1, source="cells")
        rewards = built.spike_monitor("reward")
        session.run(6 * second)
        group = built.groups["reward"]
        return (
            np.sort(np.asarray(rewards.t / second)),
            int(group.pairings[0]),
            int(group.lost_rewards[0]),
        )


def check_rewards(times: np.ndarray, pairings: int, lost: int) -> None:
    assert pairings == 2 and lost == 0
    assert times.size == 2
    delays = times - np.array(REWARDED_AT)
    assert np.all(delays > 1.0) and np.all(delays <= 3.0 + 1e-9)
    # the delay is a whole number of ms after 1 s (ceil(2000 rand) ms)
    np.testing.assert_allclose(np.round(delays * 1e3), delays * 1e3, atol=1e-6)


@pytest.mark.standalone
def test_reward_follows_pairings_within_the_window(backend):
    check_rewards(*reward_run(backend))


@pytest.mark.standalone
def test_cpp_standalone_reports_progress_to_a_file(tmp_path):
    check_rewards(*reward_run("cpp_standalone", progress=True, build_dir=tmp_path / "project"))
    assert float((tmp_path / "project" / "progress.txt").read_text()) == 1.0


def test_pending_rewards_beyond_the_slots_are_counted_as_lost():
    times, pairings, lost = reward_run("numpy", slots=1)
    # both rewards fit one slot unless the first is still pending (delay > 1.9 s): check both
    assert pairings == 2 and times.size + lost == 2


SMALL = ConditioningSetup(n_exc=40, n_inh=10, synapses_per_neuron=10, sample_size=20)


def test_small_network_end_to_end(tmp_path):
    result = run_conditioning(3 * second, SMALL, backend="numpy", seed=5)
    assert result.rewarded_weight.size == 30  # every 100 ms
    assert result.rewarded_weight[0] == 0.0
    weights = np.r_[result.weights_ee, result.weights_ei]
    assert weights.min() >= 0.0 and weights.max() <= 4.0
    assert result.sample_weights.shape[0] == result.sample_times.size
    assert result.rate_exc_hz > 0.1
    paths = save_conditioning(result, tmp_path / "out")
    record = json.loads(paths["json"].read_text())
    assert record["rewarded_synapse"]["index"] == 0
    assert set(record["summary"]) >= {"rewarded_weight_final", "rewards", "pairings"}
    arrays = np.load(paths["npz"])
    np.testing.assert_array_equal(arrays["weights_ee"], result.weights_ee)
    assert paths["png"].stat().st_size > 10_000
    assert not list((tmp_path / "out").glob(".*.tmp"))  # atomic writes left nothing behind


def test_same_seed_same_result():
    first = run_conditioning(1 * second, SMALL, backend="numpy", seed=8)
    second_run = run_conditioning(1 * second, SMALL, backend="numpy", seed=8)
    np.testing.assert_array_equal(first.weights_ee, second_run.weights_ee)


def test_command_line_errors(capsys):
    with pytest.raises(SystemExit) as exit_info:
        demo_main(["conditioning", "--duration", "-5"])
    assert exit_info.value.code == 2
    assert "positive number of seconds" in capsys.readouterr().err
    assert demo_main(["conditioning", "--backend", "bogus", "--duration", "1"]) == 2
    assert "unknown backend 'bogus'" in capsys.readouterr().err


def test_command_line_help_lists_the_demo(capsys):
    with pytest.raises(SystemExit):
        demo_main(["--help"])
    assert "conditioning" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.standalone
def test_rewarded_synapse_grows_to_the_maximum_while_the_others_stay_spread():
    """The demo's default run (20 min simulated on the fastest backend)."""
    result = run_conditioning(backend=None, seed=1)
    summary = result.summary()
    assert summary["time_to_95_percent_of_max_s"] < result.duration_s
    assert summary["rewarded_weight_final"] >= 0.9 * result.w_max
    assert summary["rewarded_weight_percentile"] > 95
    # the others spread over the whole range, most of them low
    assert summary["others_median"] < 0.25 * result.w_max
    assert summary["others_p95"] > 0.5 * result.w_max
    assert summary["others_fraction_at_max"] < 0.05
    assert summary["rewards"] >= 20 and summary["lost_rewards"] == 0
