#!/usr/bin/env python3
"""Benchmark: the plastic balanced network (Brunel-type, STDP on E->E) across simulators.

The network (``models/networks/brunel-plastic.toml``): N LIF neurons with delta synapses
(80 % E / 20 % I), 10 % connectivity (~10^7 synapses at N = 10,000), 1.5-ms delays, 1,000
external Poisson inputs per neuron at 20 Hz, multiplicative pair STDP on E->E (tau 20 ms,
lambda 0.01, alpha 2.02, w_max 0.3).

Contenders (each in a fresh process, single-threaded):

``spikeplast``
    the network file through the composer, cpp_standalone (neuron-side clock-driven traces,
    only ``w`` per synapse; plasticity at arrival as in the Brian2 model, so transmission and
    depression share one delayed pass; drives drawn from an alias table).
``spikeplast-soma``
    the same with plasticity on somatic spike times (a second, undelayed pass per spike).
``spikeplast-inversion``
    the same with Brian2's ``PoissonInput`` (binomial by inversion) for the drives.
``spikeplast-event``
    event-driven trace storage (plasticity at the soma: arrival needs clock-driven traces).
``spikeplast-float32``
    the same with float32 E->E weights.
``brian2-same``
    the same model written by hand in Brian2 (what the composer should generate): measures the
    composer's overhead (goal <= 1.1x).
``brian2-plain``
    the model as people write it in Brian2 (per-synapse event-driven ``Apre``/``Apost``, one
    delayed pathway; Brian's STDP example style): the speed goal is >= 2.8x faster.
``nest``
    NEST 3 (``iaf_psc_delta``, ``stdp_synapse`` with mu = 1, ``poisson_generator``), if
    installed.

Reported per contender: compile/build time, time in the network's run loop per biological second,
total wall time, peak memory, E firing rate, mean E->E weight change, and synaptic events per
second. The models agree in statistics (rates within a few Hz), not spike for spike (NEST's
delays are dendritic, random streams differ).

Usage: ``python benchmarks/balanced_network.py [--size 10000] [--duration 1] [--quick]``;
``--scaling 1000,2000,5000,10000`` runs the contenders at each size and draws run time and peak
memory against size (``--plot FILE``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spikeplast.cputime import cpu_seconds  # noqa: E402  (after the path fix; no brian2)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median as median_of  # noqa: E402
from _common import run_in_fresh_process  # noqa: E402

# --------------------------------------------------------------------------------------------
# contenders (each runs as `python balanced_network.py --contender NAME --size N ...`)
# --------------------------------------------------------------------------------------------


def _spikeplast(
    size: int,
    duration: float,
    storage: str,
    seed: int,
    dtype: str = "float64",
    backend: str = "cpp_standalone",
    site: str = "arrival",
    sampler: str = "alias",
) -> dict:
    from spikeplast.backend import Session
    from spikeplast.netspec import build_network, load_network

    overrides = {
        **_size_overrides(size, duration),
        "projections.EE.weight_dtype": dtype,
        "projections.EE.plasticity_at": site,
    }
    if sampler != "alias":
        for population in ("E", "I"):
            overrides[f"populations.{population}.drives"] = [
                {"receptor": "exc", "n": 1000, "rate": "20 Hz", "weight": "0.1 mV"}
            ]
    spec = load_network("brunel-plastic", overrides)
    started = time.perf_counter()
    with Session(backend, dt=spec.dt, seed=seed, trace_storage=storage) as session:
        built, monitors = build_network(session, spec)
        session.run(spec.duration)
        indices = monitors["spikes:E"].i[:]
        weights = built.weights("EE")
        timings = dict(session.timings)
    return {
        "build_s": timings.get("build", 0.0),
        "network_run_s": timings.get("network_run", timings.get("run", 0.0)),
        "run_cpu_s": timings.get("run_cpu", float("nan")),
        "wall_s": time.perf_counter() - started,
        "e_spikes": int(len(indices)),
        "ee_weight_mean": float(weights.mean()),
        "ee_synapses": int(weights.size),
    }


def _size_overrides(size: int, duration: float) -> dict:
    return {
        "populations.E.n": int(0.8 * size),
        "populations.I.n": size - int(0.8 * size),
        "run.duration": f"{duration} s",
    }


def _brian2(size: int, duration: float, layout: str, seed: int) -> dict:
    from brian2 import (
        Hz,
        Network,
        NeuronGroup,
        PoissonInput,
        SpikeMonitor,
        Synapses,
        defaultclock,
        device,
        ms,
        mV,
        set_device,
    )
    from brian2 import (
        seed as brian_seed,
    )

    directory = tempfile.mkdtemp(prefix=f"brian2_{layout}_")
    set_device("cpp_standalone", directory=directory, build_on_run=False)
    defaultclock.dt = 0.1 * ms
    brian_seed(seed)
    n_e = int(0.8 * size)
    n_i = size - n_e
    namespace = {
        "tau_m": 20 * ms,
        "V_th": 20 * mV,
        "V_reset": 0 * mV,
        "taupre": 20 * ms,
        "taupost": 20 * ms,
        "lbda": 0.01,
        "alpha": 2.02,
        "wmax": 0.3,
    }
    neuron_eqs = "dv/dt = -v/tau_m : volt (unless refractory)\n"
    if layout == "same":  # neuron-side traces, decayed every step, as the composer builds them
        neuron_eqs += "x : 1\ny : 1\n"
    groups = []
    for name, n in (("E", n_e), ("I", n_i)):
        # the presynaptic trace x jumps on arrival (delay line below), the postsynaptic y here
        reset = "v = V_reset" + ("\ny += 1" if layout == "same" and name == "E" else "")
        group = NeuronGroup(
            n,
            neuron_eqs,
            threshold="v > V_th",
            reset=reset,
            refractory=2 * ms,
            method="exact",
            namespace=namespace,
            name=name,
        )
        group.v = 0 * mV
        groups.append(group)
    e_group, i_group = groups
    objects = [*groups]
    if layout == "same":
        e_group.run_regularly(
            "x = x*exp(-dt/taupre)\ny = y*exp(-dt/taupost)", when="start", order=-100
        )
        arrivals = Synapses(e_group, e_group, on_pre="x_post += 1", delay=1.5 * ms, name="E_arr")
        arrivals.connect(j="i")
        arrivals.pre.order = 0  # after EE's pre pathway (order -1), before its post pathway (1)
        objects.append(arrivals)
        ee = Synapses(
            e_group,
            e_group,
            "w : 1\nplastic : 1 (shared)",
            on_pre="v_post += w*mV\nw = clip(w - plastic*lbda*alpha*(w - 0)*y_post, 0, wmax)",
            on_post="w = clip(w + plastic*lbda*(wmax - w)*x_pre, 0, wmax)",
            delay=1.5 * ms,
            namespace=namespace,
            name="EE",
        )
    else:  # plain Brian2: per-synapse event-driven traces, one delayed pathway
        ee = Synapses(
            e_group,
            e_group,
            "w : 1\ndApre/dt = -Apre/taupre : 1 (event-driven)\n"
            "dApost/dt = -Apost/taupost : 1 (event-driven)",
            on_pre="v_post += w*mV\nApre += 1\nw = clip(w - lbda*alpha*w*Apost, 0, wmax)",
            on_post="Apost += 1\nw = clip(w + lbda*(wmax - w)*Apre, 0, wmax)",
            delay=1.5 * ms,
            namespace=namespace,
            name="EE",
        )
    ee.connect(p=0.1)
    ee.w = 0.1
    if layout == "same":
        ee.plastic = 1
    objects.append(ee)
    for name, (pre, post, weight) in {
        "EI": (e_group, i_group, "0.1*mV"),
        "IE": (i_group, e_group, "-0.5*mV"),
        "II": (i_group, i_group, "-0.5*mV"),
    }.items():
        static = Synapses(pre, post, "w : volt", on_pre="v_post += w", delay=1.5 * ms, name=name)
        static.connect(p=0.1)
        static.w = weight
        objects.append(static)
    for group in groups:
        if layout == "same":  # the same drive as the composer's (alias-table binomial)
            from spikeplast.poisson_input import AliasPoissonInput

            objects.append(AliasPoissonInput(group, "v", 1000, 20 * Hz, weight=0.1 * mV))
        else:
            objects.append(PoissonInput(group, "v", 1000, 20 * Hz, weight=0.1 * mV))
    spikes = SpikeMonitor(e_group)
    objects.append(spikes)
    network = Network(*objects)
    started = time.perf_counter()
    network.run(duration * 1000 * ms)
    device.build(directory=directory, compile=True, run=False, with_output=False)
    cpu_before = cpu_seconds()
    device.run(directory=directory, with_output=False)
    run_cpu = cpu_seconds() - cpu_before
    return {
        "build_s": float(device.timers["compile"]["make"] or 0.0),
        "network_run_s": float(device._last_run_time),
        "run_cpu_s": run_cpu,
        "wall_s": time.perf_counter() - started,
        "e_spikes": int(len(spikes.i[:])),
        "ee_weight_mean": float(ee.w[:].mean()),
        "ee_synapses": int(len(ee.w[:])),
    }


def _nest(size: int, duration: float, seed: int) -> dict:
    import nest

    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = 0.1
    nest.local_num_threads = 1
    nest.rng_seed = seed + 1
    n_e = int(0.8 * size)
    n_i = size - n_e
    params = {
        "C_m": 250.0,
        "tau_m": 20.0,
        "t_ref": 2.0,
        "E_L": 0.0,
        "V_reset": 0.0,
        "V_m": 0.0,
        "V_th": 20.0,
        "tau_minus": 20.0,
    }
    started = time.perf_counter()
    e_group = nest.Create("iaf_psc_delta", n_e, params=params)
    i_group = nest.Create("iaf_psc_delta", n_i, params=params)
    noise = nest.Create("poisson_generator", params={"rate": 1000 * 20.0})
    nest.CopyModel(
        "stdp_synapse",
        "ee_stdp",
        {
            "tau_plus": 20.0,
            "lambda": 0.01,
            "alpha": 2.02,
            "mu_plus": 1.0,
            "mu_minus": 1.0,
            "Wmax": 0.3,
        },
    )
    pairwise = {"rule": "pairwise_bernoulli", "p": 0.1}
    nest.Connect(
        e_group, e_group, pairwise, {"synapse_model": "ee_stdp", "weight": 0.1, "delay": 1.5}
    )
    nest.Connect(e_group, i_group, pairwise, {"weight": 0.1, "delay": 1.5})
    nest.Connect(i_group, e_group + i_group, pairwise, {"weight": -0.5, "delay": 1.5})
    nest.Connect(noise, e_group + i_group, syn_spec={"weight": 0.1, "delay": 1.5})
    recorder = nest.Create("spike_recorder")
    nest.Connect(e_group, recorder)
    built = time.perf_counter()
    cpu_before = cpu_seconds()
    nest.Simulate(duration * 1000.0)
    run_cpu = cpu_seconds() - cpu_before
    simulated = time.perf_counter()
    # .get() on all ~1e7 connections takes ~4 kB each in NEST's Python layer (40 GB): sample
    # the outgoing E->E weights of the first 20 neurons instead
    ee_synapses = len(nest.GetConnections(e_group, e_group))
    weights = nest.GetConnections(e_group[:20], e_group).get("weight")
    return {
        "build_s": built - started,
        "network_run_s": simulated - built,
        "run_cpu_s": run_cpu,
        "wall_s": simulated - started,
        "e_spikes": int(recorder.n_events),
        "ee_weight_mean": float(sum(weights) / len(weights)),
        "ee_synapses": ee_synapses,
    }


CONTENDERS = {
    "spikeplast": lambda n, d, s: _spikeplast(n, d, "clock", s),
    "spikeplast-soma": lambda n, d, s: _spikeplast(n, d, "clock", s, site="soma"),
    "spikeplast-inversion": lambda n, d, s: _spikeplast(n, d, "clock", s, sampler="inversion"),
    "spikeplast-event": lambda n, d, s: _spikeplast(n, d, "event", s, site="soma"),
    "spikeplast-float32": lambda n, d, s: _spikeplast(n, d, "clock", s, "float32"),
    "spikeplast-numba": lambda n, d, s: _spikeplast(n, d, "clock", s, backend="numba_standalone"),
    "brian2-same": lambda n, d, s: _brian2(n, d, "same", s),
    "brian2-plain": lambda n, d, s: _brian2(n, d, "plain", s),
    "nest": _nest,
}


def _available(name: str) -> bool:
    if name != "nest":
        return True
    try:
        import nest  # noqa: F401
    except ImportError:
        return False
    return True


def run_contender(name: str, size: int, duration: float, seed: int) -> dict:
    """Run one contender in a fresh process; return its measurements (with peak memory)."""
    command = [sys.executable, __file__, "--contender", name, "--size", str(size)]
    command += ["--duration", str(duration), "--seed", str(seed)]
    return run_in_fresh_process(command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--duration", type=float, default=1.0, help="biological seconds")
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1,000 neurons, 0.1 s")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--scaling", help="comma-separated network sizes")
    parser.add_argument("--plot", type=Path, default=ROOT / "benchmarks" / "balanced_scaling.png")
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.contender:
        result = CONTENDERS[args.contender](args.size, args.duration, args.seed)
        print(json.dumps(result))
        return 0
    size, duration = (1000, 0.1) if args.quick else (args.size, args.duration)
    names = [n for n in args.contenders.split(",") if n and _available(n)]
    if args.scaling:
        return scaling([int(s) for s in args.scaling.split(",")], duration, names, args)
    results: dict[str, list[dict]] = {}
    for _ in range(args.repeats):
        for name in names:  # interleaved, so that drifts of the machine hit every contender
            results.setdefault(name, []).append(run_contender(name, size, duration, args.seed))
            print(f"{name}: {results[name][-1]}", file=sys.stderr)

    def median(name: str, key: str) -> float:
        return median_of(results[name], key)

    baseline = "brian2-plain" if "brian2-plain" in results else names[0]
    print(
        f"\nPlastic balanced network: {size} neurons, {duration:g} s, dt 0.1 ms, 1 thread "
        f"(median of {args.repeats})"
    )
    print(
        f"{'contender':<18} {'build (s)':>9} {'run/bio s':>10} {'CPU/bio s':>10} {'peak MB':>8} "
        f"{'E rate':>7} {'<w_EE>':>7} {'ev/s':>9} {'vs ' + baseline:>17} {'(CPU)':>7}"
    )
    for name in names:
        run_per_bio = median(name, "network_run_s") / duration
        cpu_per_bio = median(name, "run_cpu_s") / duration
        rate = median(name, "e_spikes") / (0.8 * size) / duration
        synapses = median(name, "ee_synapses")
        # pre-side plus post-side plastic updates, plus static transmission events
        events = rate * 0.8 * size * (2 * synapses / (0.8 * size)) + rate * size * 0.1 * size
        print(
            f"{name:<18} {median(name, 'build_s'):9.1f} {run_per_bio:10.2f} {cpu_per_bio:10.2f} "
            f"{median(name, 'peak_rss_mb'):8.0f} {rate:7.1f} {median(name, 'ee_weight_mean'):7.4f} "
            f"{events / run_per_bio:9.2e} "
            f"{(median(baseline, 'network_run_s') / duration) / run_per_bio:16.2f}x "
            f"{(median(baseline, 'run_cpu_s') / duration) / cpu_per_bio:6.2f}x"
        )
    # pairs that compute the same model with the same random numbers must agree exactly
    for first, second in (("spikeplast", "brian2-same"), ("spikeplast-inversion", "brian2-plain")):
        if first in results and second in results:
            same = all(
                results[first][0][key] == results[second][0][key]
                for key in ("e_spikes", "ee_weight_mean")
            )
            verdict = "identical" if same else "DIFFERENT"
            print(f"{first} vs {second}: {verdict} E spike count and mean E->E weight")
    if args.json:
        args.json.write_text(
            json.dumps({"size": size, "duration": duration, "results": results}, indent=2)
        )
    return 0


def scaling(sizes: list[int], duration: float, names: list[str], args: argparse.Namespace) -> int:
    """Run time per biological second and peak memory against network size, as a table and plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table: dict[str, list[tuple[int, float, float, float]]] = {name: [] for name in names}
    for size in sizes:
        for name in names:
            result = run_contender(name, size, duration, args.seed)
            rate = result["e_spikes"] / (0.8 * size) / duration
            table[name].append(
                (size, result["network_run_s"] / duration, result["peak_rss_mb"], rate)
            )
            print(f"{name} {size}: {table[name][-1]}", file=sys.stderr)
    print(f"\nScaling, {duration:g} s per size (run-loop seconds per biological second)")
    print(f"{'contender':<18} " + " ".join(f"{s:>10}" for s in sizes))
    for name, rows in table.items():
        print(f"{name:<18} " + " ".join(f"{r[1]:10.2f}" for r in rows))
    print(f"{'peak MB':<18}")
    for name, rows in table.items():
        print(f"{name:<18} " + " ".join(f"{r[2]:10.0f}" for r in rows))
    figure, (time_axis, memory_axis) = plt.subplots(1, 2, figsize=(9, 3.5))
    for name, rows in table.items():
        sizes_run = [r[0] for r in rows]
        time_axis.loglog(sizes_run, [r[1] for r in rows], "o-", label=name)
        memory_axis.loglog(sizes_run, [r[2] for r in rows], "o-", label=name)
    time_axis.set(xlabel="neurons", ylabel="s per biological s", title="run time")
    memory_axis.set(xlabel="neurons", ylabel="peak MB", title="memory")
    time_axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(args.plot, dpi=120)
    print(f"plot: {args.plot}")
    if args.json:
        args.json.write_text(json.dumps({"duration": duration, "scaling": table}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
