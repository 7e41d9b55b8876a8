"""Classical conditioning with dopamine-gated STDP (Izhikevich 2007, Fig. 1).

The network of the author's code ``daspnet.m`` (ModelDB 84167): 800 regular-spiking and 200
fast-spiking Izhikevich neurons, 100 synapses per neuron (excitatory onto any neuron,
inhibitory onto excitatory neurons only, targets drawn with replacement), 1-ms conduction delays,
voltage-jump synapses (excitatory 1 mV, plastic in [0, 4] mV; inhibitory -1 mV, fixed), and random
"thalamic" input, a uniform current in ``13 mV × (rand - 0.5)`` drawn for every neuron every ms.
All excitatory synapses learn with dopamine-gated STDP (``izhikevich2007-daspnet``).

One synapse, from neuron ``n1`` to ``n2``, starts at 0 and is *rewarded*: whenever ``n2`` fires
less than 20 ms after ``n1`` (``n1`` strictly first), a dopamine pulse is scheduled 1–3 s later
(uniform, 1-ms resolution). Among tens of thousands of synapses, all tagged by STDP all the time,
only the rewarded one is consistently tagged when dopamine arrives, so it grows to the maximum
while the others stay spread.

Reward delivery in generated code (every backend, including cpp_standalone)
    The reward population has ``reward_slots`` neurons, each holding one pending reward time
    and firing when it is reached (the modulator pathway then adds dopamine on every excitatory
    synapse). A ``Synapses`` from ``n1`` records its last spike time in every slot; one from
    ``n2`` checks the pairing condition and, if met, writes ``t + 1 s + ceil(2000 rand) ms`` into
    the slot ``pairings mod reward_slots``. Both pathways run in the same slot of a time step,
    ``n1``'s first (Brian2 orders pre pathways by name), so a same-step ``n1``/``n2`` pair is not
    rewarded, as in the original. A reward overwritten before delivery (more than
    ``reward_slots`` pending) is counted in ``lost_rewards``; with 4 slots and 1–3 s delays this
    needs 5 pairings within 3 s.

Differences from the MATLAB code (all small): forward Euler with ``dt = 0.5 ms`` for ``v`` *and*
``u`` (the code integrates ``v`` in two 0.5-ms half steps and ``u`` once per ms); a spike is
transmitted 1 ms after the step in which it is detected (the code delivers it into the
millisecond in which it detects it); the STDP window is measured between somatic spikes rather
than from the presynaptic arrival (a 1-ms shift); weights are integrated in closed form and
clipped every ``update_interval`` (100 ms by default, the code every 10 ms) and at each spike of
the synapse.

Length and run time
    The default, 20 minutes of simulated time, shows the whole effect: the rewarded synapse
    reached the maximum after 15, 12 and 10 minutes for seeds 1, 2 and 3 (70–108 rewards), while
    the other synapses spread over [0, 4] mV (median 0.4 mV, 1–4 % near the maximum). On
    cpp_standalone the network loop of the original hour takes about 3 minutes of CPU time.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from brian2 import Synapses, ms, mV, second
from brian2.monitors import SpikeMonitor
from brian2.units.fundamentalunits import Quantity

from ..backend import Session, available_backends
from ..compose import Built, Population, Projection
from ..errors import ConfigurationError
from ..neurons import NeuronModel, get_neuron
from ..params import format_quantity
from ..results import save_figure, save_json, save_npz, to_jsonable, versions
from ..rules import get_rule
from ..rules._lazy import silence_expected_order_warning
from . import CONDITIONING_DURATION_S

__all__ = [
    "ConditioningSetup",
    "ConditioningResult",
    "DelayedReward",
    "DEFAULT_DURATION",
    "run_conditioning",
    "add_reward_delivery",
    "add_thalamic_noise",
    "conditioning_record",
    "plot_conditioning",
    "save_conditioning",
]

#: Default simulated time (20 min): enough for the rewarded synapse to reach the maximum.
DEFAULT_DURATION = CONDITIONING_DURATION_S * second

#: A reward time that is never reached.
_NEVER = 1e9 * second


@dataclass(frozen=True, eq=False, kw_only=True)
class DelayedReward(NeuronModel):
    """Reward slots: each neuron fires once at its pending ``reward_time`` (see module doc)."""

    kind: ClassVar[str] = "delayed-reward"
    is_source: ClassVar[bool] = True

    def equations(self) -> str:
        return (
            "reward_time : second\n"
            "last_n1_spike : second\n"
            "pairings : integer\n"
            "lost_rewards : integer\n"
            "slot : integer (constant)\n"
        )

    def threshold(self) -> str:
        return "timestep(t, dt) >= timestep(reward_time, dt)"

    def reset(self) -> str:
        return "reward_time = never"

    def namespace(self, name: str) -> dict[str, Any]:
        return {"never": _NEVER}

    def initial_values(self, n: int, dt: Quantity) -> dict[str, Any]:
        return {"reward_time": _NEVER, "last_n1_spike": -1 * second, "slot": np.arange(n)}


#: Run by every reward slot at each spike of n2 (plain names: the slot's own variables).
_PAIRING_CODE = """
n1_n2_paired = int(t > last_n1_spike_post and t - last_n1_spike_post < coincidence_window)
chosen = n1_n2_paired*int(slot_post == pairings_post % reward_slots)
lost_rewards_post += chosen*int(reward_time_post < never)
reward_time_post = chosen*(t + reward_delay_min + ceil(reward_delay_spread*rand()/ms)*ms) + (1 - chosen)*reward_time_post
pairings_post += n1_n2_paired
"""  # noqa: E501


@dataclass(frozen=True)
class ConditioningSetup:
    """Model and protocol parameters (defaults: Izhikevich 2007 / daspnet.m)."""

    n_exc: int = 800
    n_inh: int = 200
    synapses_per_neuron: int = 100
    delay: Quantity = field(default_factory=lambda: 1 * ms)
    dt: Quantity = field(default_factory=lambda: 0.5 * ms)
    exc_neuron: str = "izhikevich2003-rs"
    inh_neuron: str = "izhikevich2003-fs"
    rule: str = "izhikevich2007-daspnet"
    #: Periodic weight update (and recording) interval; overrides the rule's.
    update_interval: Quantity = field(default_factory=lambda: 100 * ms)
    w_exc: float = 1.0
    w_inh: float = 1.0
    noise: Quantity = field(default_factory=lambda: 13 * mV)
    noise_interval: Quantity = field(default_factory=lambda: 1 * ms)
    coincidence_window: Quantity = field(default_factory=lambda: 20 * ms)
    reward_delay_min: Quantity = field(default_factory=lambda: 1 * second)
    reward_delay_spread: Quantity = field(default_factory=lambda: 2 * second)
    reward_slots: int = 4
    #: Excitatory synapses whose weights are recorded over time (for the distribution).
    sample_size: int = 1000
    #: Number of recorded points of the sample over the run.
    sample_points: int = 200

    def check(self) -> None:
        if self.n_exc < 2 or self.n_inh < 0 or self.synapses_per_neuron < 1:
            raise ConfigurationError(
                "conditioning: need n_exc >= 2, n_inh >= 0 and synapses_per_neuron >= 1"
            )
        if self.reward_slots < 1:
            raise ConfigurationError("conditioning: reward_slots must be at least 1")


@dataclass
class ConditioningResult:
    """What a conditioning run produced (arrays in SI units: seconds, mV for weights)."""

    setup: ConditioningSetup
    duration_s: float
    backend: str
    seed: int | None
    n1: int
    n2: int
    rewarded_times: np.ndarray
    rewarded_weight: np.ndarray
    rewarded_eligibility: np.ndarray
    sample_times: np.ndarray
    sample_weights: np.ndarray
    reward_times: np.ndarray
    weights_ee: np.ndarray
    weights_ei: np.ndarray
    pairings: int
    lost_rewards: int
    rate_exc_hz: float
    rate_inh_hz: float
    w_max: float
    timings: dict[str, float] = dataclasses.field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        """Numbers that say whether conditioning worked."""
        others = np.r_[self.weights_ee[1:], self.weights_ei]
        final = float(self.rewarded_weight[-1]) if self.rewarded_weight.size else float("nan")
        reached = np.flatnonzero(self.rewarded_weight >= 0.95 * self.w_max)
        return {
            "rewarded_weight_final": final,
            "rewarded_weight_percentile": float(100.0 * np.mean(others < final)),
            "time_to_95_percent_of_max_s": (
                float(self.rewarded_times[reached[0]]) if reached.size else float("nan")
            ),
            "others_mean": float(np.mean(others)),
            "others_median": float(np.median(others)),
            "others_p95": float(np.percentile(others, 95)),
            "others_fraction_at_max": float(np.mean(others >= 0.95 * self.w_max)),
            "rewards": float(self.reward_times.size),
            "pairings": float(self.pairings),
            "lost_rewards": float(self.lost_rewards),
            "rate_exc_hz": self.rate_exc_hz,
            "rate_inh_hz": self.rate_inh_hz,
        }


def _connectivity(setup: ConditioningSetup, rng: np.random.Generator) -> dict[str, Any]:
    """Targets as in daspnet.m (with replacement); the rewarded synapse is ``ee`` synapse 0."""
    n_exc, n_all, m = setup.n_exc, setup.n_exc + setup.n_inh, setup.synapses_per_neuron
    exc_targets = rng.integers(0, n_all, size=(n_exc, m))
    inh_targets = rng.integers(0, n_exc, size=(setup.n_inh, m))
    # n1 = neuron 0; its first synapse onto another excitatory neuron is rewarded
    candidates = np.flatnonzero((exc_targets[0] < n_exc) & (exc_targets[0] != 0))
    if not candidates.size:
        raise ConfigurationError("conditioning: neuron 0 has no synapse onto another E cell")
    first = int(candidates[0])
    order = np.r_[first, np.delete(np.arange(m), first)]
    exc_targets[0] = exc_targets[0][order]
    sources = np.repeat(np.arange(n_exc), m)
    targets = exc_targets.ravel()
    onto_exc = targets < n_exc
    return {
        "n1": 0,
        "n2": int(exc_targets[0, 0]),
        "ee": (sources[onto_exc], targets[onto_exc]),
        "ei": (sources[~onto_exc], targets[~onto_exc] - n_exc),
        "ie": (np.repeat(np.arange(setup.n_inh), m), inh_targets.ravel()),
    }


def _network(setup: ConditioningSetup, connections: dict[str, Any]):
    rule = get_rule(setup.rule, update_interval=setup.update_interval)
    scale = 1 * mV
    ee_i, ee_j = connections["ee"]
    w_ee = np.full(ee_i.size, setup.w_exc)
    w_ee[0] = 0.0  # the rewarded synapse starts at 0, as in the original
    populations = [
        Population("exc", get_neuron(setup.exc_neuron), n=setup.n_exc),
        Population("inh", get_neuron(setup.inh_neuron), n=setup.n_inh),
        Population("reward", DelayedReward(), n=setup.reward_slots),
    ]
    plastic = {"rule": rule, "weight_scale": scale, "delay": setup.delay, "modulator": "reward"}
    projections = [
        Projection("ee", "exc", "exc", connect={"i": ee_i, "j": ee_j}, w_init=w_ee, **plastic),
        Projection(
            "ei",
            "exc",
            "inh",
            connect={"i": connections["ei"][0], "j": connections["ei"][1]},
            w_init=setup.w_exc,
            **plastic,
        ),
        Projection(
            "ie",
            "inh",
            "exc",
            receptor="inh",
            weight_scale=scale,
            connect={"i": connections["ie"][0], "j": connections["ie"][1]},
            w_init=setup.w_inh,
            delay=setup.delay,
        ),
    ]
    return rule, populations, projections


def add_reward_delivery(
    built: Built,
    setup: ConditioningSetup,
    n1: int,
    n2: int,
    source: str = "exc",
    reward: str = "reward",
) -> list[Any]:
    """Wire the delayed reward: `n2` firing within the coincidence window after `n1` (both in
    population `source`) schedules a spike of the :class:`DelayedReward` population `reward`.

    Returns the two ``Synapses`` (already added to the network); see the module doc.
    """
    slots = np.arange(len(built.groups[reward]))
    # every synapse of n2 writes to its own slot: the order of the writes does not matter
    silence_expected_order_warning("n1_n2_paired")
    # the names order the two pathways within a time step: n1's runs first
    watch_n1 = Synapses(
        built.groups[source],
        built.groups[reward],
        on_pre="last_n1_spike_post = t",
        name="reward_watch_1_n1",
    )
    watch_n1.connect(i=np.full(slots.size, n1), j=slots)
    watch_n2 = Synapses(
        built.groups[source],
        built.groups[reward],
        on_pre=_PAIRING_CODE,
        namespace={
            "coincidence_window": setup.coincidence_window,
            "reward_slots": int(slots.size),
            "reward_delay_min": setup.reward_delay_min,
            "reward_delay_spread": setup.reward_delay_spread,
            "never": _NEVER,
        },
        name="reward_watch_2_n2",
    )
    watch_n2.connect(i=np.full(slots.size, n2), j=slots)
    built.network.add(watch_n1, watch_n2)
    return [watch_n1, watch_n2]


def add_thalamic_noise(built: Built, setup: ConditioningSetup, populations: Sequence[str]) -> None:
    """Set ``I_ext`` of every neuron to ``noise*(rand() - 0.5)`` every ``noise_interval``."""
    for name in populations:
        group = built.groups[name]
        group.namespace["noise"] = setup.noise
        built.network.add(
            group.run_regularly(
                "I_ext = noise*(rand() - 0.5)",
                dt=setup.noise_interval,
                when="start",
                name=f"{name}_thalamic_noise",
            )
        )


def run_conditioning(
    duration: Quantity = DEFAULT_DURATION,
    setup: ConditioningSetup | None = None,
    backend: str | None = None,
    seed: int | None = 1,
    progress: bool = False,
) -> ConditioningResult:
    """Simulate the conditioning experiment.

    Parameters
    ----------
    duration
        Simulated time (the original runs one hour, ``3600*second``).
    setup
        Model and protocol parameters (default: the original's).
    backend
        numpy, cython, cpp_standalone or numba_standalone; default: cpp_standalone if available
        (its network loop was the fastest here, and it shows a progress bar), else the
        package's default backend.
    seed
        Seed of the connectivity, the noise and the reward delays.
    progress
        Show a progress bar.
    """
    setup = setup or ConditioningSetup()
    setup.check()
    if not (isinstance(duration, Quantity) and float(duration) > 0):
        raise ConfigurationError(f"duration must be a positive time, got {duration!r}")
    interval_steps = float(setup.update_interval / setup.dt)
    if abs(interval_steps - round(interval_steps)) > 1e-9:
        raise ConfigurationError("conditioning: update_interval must be a multiple of dt")
    rng = np.random.default_rng(seed)
    connections = _connectivity(setup, rng)
    n1, n2 = connections["n1"], connections["n2"]
    rule, populations, projections = _network(setup, connections)
    n_ee = connections["ee"][0].size
    sample = np.sort(
        rng.choice(np.arange(1, n_ee), size=min(setup.sample_size, n_ee - 1), replace=False)
    )
    steps = max(1, int(float(duration / setup.update_interval) // setup.sample_points))
    sample_dt = steps * setup.update_interval
    started = time.perf_counter()
    if backend in (None, "auto"):
        backend = "cpp_standalone" if "cpp_standalone" in available_backends() else None
    with Session(backend, dt=setup.dt, seed=seed, progress=progress) as session:
        built = session.build(populations, projections)
        add_thalamic_noise(built, setup, ("exc", "inh"))
        add_reward_delivery(built, setup, n1, n2)
        counts = {
            name: SpikeMonitor(built.groups[name], record=False, name=f"{name}_spike_counts")
            for name in ("exc", "inh")
        }
        built.network.add(*counts.values())
        rewarded = built.monitor(
            "ee",
            ["w", "eligibility"],
            record=[0],
            dt=setup.update_interval,
            name="rewarded_synapse",
        )
        sampled = built.monitor("ee", "w", record=sample, dt=sample_dt, name="sampled_synapses")
        rewards = built.spike_monitor("reward", name="reward_spikes")
        session.run(duration, description="conditioning")
        synapses = built.synapses["ee"]
        if int(synapses.i[0]) != n1 or int(synapses.j[0]) != n2:
            raise ConfigurationError("conditioning: the rewarded synapse is not ee synapse 0")
        seconds = float(duration / second)
        result = ConditioningResult(
            setup=setup,
            duration_s=seconds,
            backend=session.backend,
            seed=seed,
            n1=n1,
            n2=n2,
            rewarded_times=np.asarray(rewarded.t / second, dtype=float).copy(),
            rewarded_weight=np.asarray(rewarded.w[0], dtype=float).copy(),
            rewarded_eligibility=np.asarray(rewarded.eligibility[0], dtype=float).copy(),
            sample_times=np.asarray(sampled.t / second, dtype=float).copy(),
            sample_weights=np.asarray(sampled.w, dtype=float).T.copy(),
            reward_times=np.asarray(rewards.t / second, dtype=float).copy(),
            weights_ee=built.weights("ee"),
            weights_ei=built.weights("ei"),
            pairings=int(built.groups["reward"].pairings[0]),
            lost_rewards=int(built.groups["reward"].lost_rewards[0]),
            rate_exc_hz=float(counts["exc"].num_spikes) / setup.n_exc / seconds,
            rate_inh_hz=float(counts["inh"].num_spikes) / max(setup.n_inh, 1) / seconds,
            w_max=float(rule.w_max),
            timings={**session.timings, "total": time.perf_counter() - started},
        )
    return result


def plot_conditioning(result: ConditioningResult) -> Any:
    """Figure: rewarded weight over time against the distribution, and the final histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (over_time, histogram) = plt.subplots(
        1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1.6, 1]}
    )
    minutes = 60.0 if result.duration_s >= 600 else 1.0
    unit = "min" if minutes == 60.0 else "s"
    if result.sample_weights.size:
        low, median, high = np.percentile(result.sample_weights, [5, 50, 95], axis=1)
        x = result.sample_times / minutes
        over_time.fill_between(x, low, high, color="0.85", label="other synapses, 5–95 %")
        over_time.plot(x, median, color="0.5", lw=1, label="other synapses, median")
    over_time.plot(
        result.rewarded_times / minutes,
        result.rewarded_weight,
        color="tab:red",
        lw=1.5,
        label=f"rewarded synapse {result.n1}→{result.n2}",
    )
    over_time.plot(
        result.reward_times / minutes,
        np.full(result.reward_times.size, -0.15),
        "|",
        color="tab:blue",
        ms=6,
        label=f"rewards ({result.reward_times.size})",
    )
    over_time.set(
        xlabel=f"time ({unit})",
        ylabel="weight (mV)",
        ylim=(-0.3, result.w_max * 1.05),
        title="Rewarded synapse vs. all others",
    )
    over_time.legend(frameon=False, fontsize=8, loc="center right")
    weights = np.r_[result.weights_ee[1:], result.weights_ei]
    histogram.hist(weights, bins=np.linspace(0, result.w_max, 41), color="0.6", log=True)
    histogram.axvline(result.rewarded_weight[-1], color="tab:red", lw=2, label="rewarded")
    histogram.set(
        xlabel="weight (mV)",
        ylabel="synapses",
        title=f"Excitatory weights at {result.duration_s / minutes:g} {unit}",
    )
    histogram.legend(frameon=False, fontsize=8)
    figure.suptitle(
        f"Izhikevich 2007 classical conditioning — {result.backend}, seed {result.seed}",
        fontsize=10,
    )
    figure.tight_layout()
    return figure


def conditioning_record(result: ConditioningResult) -> dict[str, Any]:
    """The JSON record of a run: setup, outcome summary, timings and versions."""
    setup = {
        k: (format_quantity(v) if isinstance(v, Quantity) else v)
        for k, v in dataclasses.asdict(result.setup).items()
    }
    return to_jsonable(
        {
            "demo": "conditioning",
            "source": "Izhikevich EM (2007) Cereb Cortex 17:2443-2452, Fig. 1 (daspnet.m)",
            "setup": setup,
            "rule": repr(get_rule(result.setup.rule, update_interval=result.setup.update_interval)),
            "backend": result.backend,
            "seed": result.seed,
            "duration_s": result.duration_s,
            "rewarded_synapse": {
                "pre": result.n1,
                "post": result.n2,
                "projection": "ee",
                "index": 0,
            },
            "summary": result.summary(),
            "timings_s": result.timings,
            "versions": versions(),
        }
    )


def save_conditioning(result: ConditioningResult, out: str | Path) -> dict[str, Path]:
    """Write ``conditioning.json``, ``.npz`` and ``.png`` to `out` (each atomically)."""
    import matplotlib.pyplot as plt

    out = Path(out)
    paths = {"json": save_json(out / "conditioning.json", conditioning_record(result))}
    arrays = {
        "rewarded_times_s": result.rewarded_times,
        "rewarded_weight": result.rewarded_weight,
        "rewarded_eligibility": result.rewarded_eligibility,
        "sample_times_s": result.sample_times,
        "sample_weights": result.sample_weights,
        "reward_times_s": result.reward_times,
        "weights_ee": result.weights_ee,
        "weights_ei": result.weights_ei,
    }
    paths["npz"] = save_npz(out / "conditioning.npz", arrays)
    figure = plot_conditioning(result)
    paths["png"] = save_figure(out / "conditioning.png", figure)
    plt.close(figure)
    return paths
