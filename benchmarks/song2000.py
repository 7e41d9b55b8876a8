#!/usr/bin/env python3
"""Benchmark: Song, Miller & Abbott (2000) — 1000 Poisson inputs -> 1 LIF, pair STDP — everywhere.

The network is ``models/networks/song2000.toml`` (Brian2's ``examples/synapses/STDP.py``:
conductance-based LIF, 15-Hz inputs, additive all-to-all pair STDP, dt 0.1 ms).

Contenders (each in a fresh process, single-threaded, cold compile caches):

``spikeplast:BACKEND``
    the network file through the composer on numpy, cython, cpp_standalone, numba_standalone.
``spikeplast-event:cpp_standalone``
    the same with event-driven trace storage (traces decay in closed form at spikes).
``brian2-same:BACKEND``
    the same model written by hand in Brian2 as the composer lays it out (neuron-side traces
    decayed every step, ``w`` per synapse): the composer's overhead, goal <= 1.1x.
``brian2-plain:BACKEND``
    the model as Brian2's STDP example writes it (``PoissonGroup``, per-synapse event-driven
    ``Apre``/``Apost``).
``nest``
    NEST 3 (``parrot_neuron`` inputs, ``iaf_cond_exp``, ``stdp_synapse`` with mu = 0), if
    installed. NEST's smallest delay is one step (Brian2's is zero here).

Reported: first-run time (imports, code generation, compilation, run: what a user waits for),
the time loop alone, its CPU time (robust to other load on the machine), peak memory, output
rate and the weight statistics of the learned state (mean, fraction within 10 % of either
bound: the bimodal distribution of the paper). Random streams differ between simulators, so
they agree in statistics, not spike for spike.

Usage: ``python benchmarks/song2000.py [--duration 100] [--repeats 1] [--contenders ...]``;
``--quick`` runs 0.5 s with spikeplast:numpy and brian2-same:numpy only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import median, run_in_fresh_process  # noqa: E402

from spikeplast.cputime import cpu_seconds  # noqa: E402  (no brian2 import)

BACKENDS = ("numpy", "cython", "cpp_standalone", "numba_standalone")
HAND_BACKENDS = ("numpy", "cython", "cpp_standalone")
CONTENDERS = (
    [f"spikeplast:{b}" for b in BACKENDS]
    + ["spikeplast-event:cpp_standalone"]
    + [f"brian2-same:{b}" for b in HAND_BACKENDS]
    + [f"brian2-plain:{b}" for b in HAND_BACKENDS]
    + ["nest"]
)

# the model (models/networks/song2000.toml)
N_INPUTS = 1000
RATE_HZ = 15.0
TAU_STDP_MS = 20.0
A_PLUS = 0.01
A_MINUS = 0.0105
G_MAX_NS = 0.1  # weight_scale: w in [0, 1] times 0.1 nS
SEED = 4321


def _statistics(weights, spikes: int, duration: float) -> dict:
    import numpy as np

    weights = np.asarray(weights, dtype=float)
    return {
        "rate_hz": spikes / duration,
        "w_mean": float(weights.mean()),
        "w_low": float(np.mean(weights < 0.1)),
        "w_high": float(np.mean(weights > 0.9)),
    }


def _spikeplast(backend: str, duration: float, storage: str = "clock") -> dict:
    from spikeplast.backend import Session
    from spikeplast.netspec import build_network, load_network

    spec = load_network("song2000", {"run.duration": f"{duration} s"})
    with Session(backend, dt=spec.dt, seed=SEED, trace_storage=storage) as session:
        built, monitors = build_network(session, spec)
        remaining = spec.duration
        setup_cpu = 0.0
        if not session.standalone:
            # compile in a one-step run; a second one measures what every run() costs besides
            # the loop (code generation), subtracted from the CPU time of the long run
            session.run(spec.dt)
            session.run(spec.dt)
            setup_cpu = session.timings["run_cpu"]
            remaining -= 2 * spec.dt
        session.run(remaining)
        spikes = len(monitors["spikes:neuron"].i[:])
        weights = built.weights("ff")
        timings = dict(session.timings)
    return {
        "loop_s": timings.get("network_run", 0.0),
        "run_cpu_s": timings.get("run_cpu", float("nan")) - setup_cpu,
        **_statistics(weights, spikes, duration),
    }


def _brian2(layout: str, backend: str, duration: float) -> dict:
    from brian2 import (
        Hz,
        Network,
        NeuronGroup,
        PoissonGroup,
        SpikeMonitor,
        Synapses,
        defaultclock,
        device,
        ms,
        mV,
        nS,
        pF,
        prefs,
        second,
        set_device,
    )
    from brian2 import seed as brian_seed

    standalone = backend == "cpp_standalone"
    directory = tempfile.mkdtemp(prefix=f"song_{layout}_")
    if standalone:
        set_device("cpp_standalone", directory=directory, build_on_run=False)
        prefs.devices.cpp_standalone.extra_make_args_unix = ["-j2"]
    else:
        prefs.codegen.target = backend
    defaultclock.dt = 0.1 * ms
    brian_seed(SEED)
    namespace = {
        "C_m": 100 * pF,
        "g_L": 10 * nS,
        "E_L": -74 * mV,
        "V_th": -54 * mV,
        "V_reset": -60 * mV,
        "E_exc": 0 * mV,
        "tau_exc": 5 * ms,
        "tau": TAU_STDP_MS * ms,
        "A_plus": A_PLUS,
        "A_minus": A_MINUS,
        "g_max": G_MAX_NS * nS,
    }
    neuron_eqs = "dv/dt = (g_L*(E_L - v) + g_exc*(E_exc - v))/C_m : volt\n"
    neuron_eqs += "dg_exc/dt = -g_exc/tau_exc : siemens\n"
    objects = []
    if layout == "same":  # as the composer lays it out: traces on the neurons
        inputs = NeuronGroup(
            N_INPUTS,
            "rate : Hz\nx : 1",
            threshold="rand() < rate*dt",
            reset="x += 1",
            refractory=0 * ms,  # gives lastspike, for the same-step pairing term
            namespace=namespace,
            name="inputs",
        )
        inputs.rate = RATE_HZ * Hz
        neuron = NeuronGroup(
            1,
            neuron_eqs + "y : 1",
            threshold="v > V_th",
            reset="v = V_reset\ny += 1",
            method="euler",
            namespace=namespace,
            name="neuron",
        )
        objects += [
            inputs.run_regularly("x = x*exp(-dt/tau)", when="start", order=-100),
            neuron.run_regularly("y = y*exp(-dt/tau)", when="start", order=-100),
        ]
        synapses = Synapses(
            inputs,
            neuron,
            "w : 1",
            on_pre="g_exc_post += w*g_max\nw = clip(w - A_minus*y_post, 0, 1)",
            on_post="w = clip(w + A_plus*(x_pre + int(lastspike_pre == t)), 0, 1)",
            namespace=namespace,
            name="ff",
        )
    else:  # Brian2's examples/synapses/STDP.py
        inputs = PoissonGroup(N_INPUTS, rates=RATE_HZ * Hz, name="inputs")
        neuron = NeuronGroup(
            1,
            neuron_eqs,
            threshold="v > V_th",
            reset="v = V_reset",
            method="euler",
            namespace=namespace,
            name="neuron",
        )
        synapses = Synapses(
            inputs,
            neuron,
            "w : 1\ndApre/dt = -Apre/tau : 1 (event-driven)\n"
            "dApost/dt = -Apost/tau : 1 (event-driven)",
            on_pre="g_exc_post += w*g_max\nApre += A_plus\nw = clip(w + Apost, 0, 1)",
            on_post="Apost -= A_minus\nw = clip(w + Apre, 0, 1)",
            namespace=namespace,
            name="ff",
        )
    neuron.v = -74 * mV
    synapses.connect()
    synapses.w = "rand()"
    spikes = SpikeMonitor(neuron)
    network = Network(inputs, neuron, synapses, spikes, *objects)
    remaining = duration * second
    setup_cpu = 0.0
    if not standalone:  # as in _spikeplast
        network.run(defaultclock.dt, namespace=namespace)
        cpu_before = cpu_seconds()
        network.run(defaultclock.dt, namespace=namespace)
        setup_cpu = cpu_seconds() - cpu_before
        remaining -= 2 * defaultclock.dt
    cpu_before = cpu_seconds()
    network.run(remaining, namespace=namespace)
    if standalone:
        device.build(directory=directory, compile=True, run=False, with_output=False)
        cpu_before = cpu_seconds()
        device.run(directory=directory, with_output=False)
    run_cpu = cpu_seconds() - cpu_before - setup_cpu
    return {
        "loop_s": float(device._last_run_time),
        "run_cpu_s": run_cpu,
        **_statistics(synapses.w[:], len(spikes.i[:]), duration),
    }


def _nest(duration: float) -> dict:
    import nest
    import numpy as np

    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.resolution = 0.1
    nest.local_num_threads = 1
    nest.rng_seed = SEED
    generator = nest.Create("poisson_generator", params={"rate": RATE_HZ})
    parrots = nest.Create("parrot_neuron", N_INPUTS)
    neuron = nest.Create(
        "iaf_cond_exp",
        params={
            "C_m": 100.0,
            "g_L": 10.0,
            "E_L": -74.0,
            "V_th": -54.0,
            "V_reset": -60.0,
            "t_ref": 0.0,
            "E_ex": 0.0,
            "tau_syn_ex": 5.0,
            "V_m": -74.0,
        },
    )
    nest.SetStatus(neuron, {"tau_minus": TAU_STDP_MS})
    nest.Connect(generator, parrots)
    rng = np.random.default_rng(SEED)
    nest.Connect(
        parrots,
        neuron,
        "all_to_all",
        {
            "synapse_model": "stdp_synapse",
            "weight": G_MAX_NS * rng.random((1, N_INPUTS)),
            "delay": 0.1,
            "tau_plus": TAU_STDP_MS,
            "lambda": A_PLUS,
            "alpha": A_MINUS / A_PLUS,
            "mu_plus": 0.0,
            "mu_minus": 0.0,
            "Wmax": G_MAX_NS,
        },
    )
    recorder = nest.Create("spike_recorder")
    nest.Connect(neuron, recorder)
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    nest.Simulate(duration * 1000.0)
    loop = time.perf_counter() - started
    run_cpu = cpu_seconds() - cpu_before
    weights = np.asarray(nest.GetConnections(parrots, neuron).get("weight")) / G_MAX_NS
    return {
        "loop_s": loop,
        "run_cpu_s": run_cpu,
        **_statistics(weights, int(recorder.n_events), duration),
    }


def contender(name: str, duration: float) -> dict:
    """Run one contender in this process (called in a fresh process by :func:`main`)."""
    if name == "nest":
        return _nest(duration)
    from brian2 import prefs

    prefs.codegen.runtime.cython.cache_dir = os.path.join(os.environ["SPIKEPLAST_CACHE"], "cython")
    kind, backend = name.split(":")
    if kind == "spikeplast":
        return _spikeplast(backend, duration)
    if kind == "spikeplast-event":
        return _spikeplast(backend, duration, storage="event")
    return _brian2(kind.split("-")[1], backend, duration)


def _available(name: str) -> bool:
    import importlib.util

    if name == "nest":
        return importlib.util.find_spec("nest") is not None
    if name.endswith("numba_standalone"):
        return importlib.util.find_spec("numba") is not None
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=100.0, help="biological seconds")
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="0.5 s, two numpy contenders")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    args, _unknown = parser.parse_known_args(argv)  # run_all.py passes its options on
    if args.contender:
        print(json.dumps(contender(args.contender, args.duration)))
        return 0
    duration = 0.5 if args.quick else args.duration
    wanted = "spikeplast:numpy,brian2-same:numpy" if args.quick else args.contenders
    names = [n for n in wanted.split(",") if n and _available(n)]
    results: dict[str, list[dict]] = {}
    for _ in range(args.repeats):
        for name in names:  # interleaved, so that drifts of the machine hit every contender
            command = [sys.executable, __file__, "--contender", name, "--duration", str(duration)]
            with tempfile.TemporaryDirectory(prefix="song_cache_") as cache:
                # empty build caches (spikeplast's object and Numba caches, Cython's) per run
                env = dict(os.environ, SPIKEPLAST_CACHE=cache)
                env.pop("SPIKEPLAST_NUMBA_CACHE", None)
                results.setdefault(name, []).append(run_in_fresh_process(command, env))
            print(f"{name}: {results[name][-1]}", file=sys.stderr)

    print(
        f"\nSong, Miller & Abbott (2000): {N_INPUTS} inputs -> 1 LIF, {duration:g} s, dt 0.1 ms, "
        f"1 thread, fresh process and cold caches (median of {args.repeats})"
    )
    header = (
        f"{'contender':<30} {'first run':>9} {'loop':>7} {'loop CPU':>8} {'MB':>5} {'rate':>5} "
        f"{'<w>':>5} {'w<0.1':>5} {'w>0.9':>5} {'vs same (CPU)':>13}"
    )
    print(header)
    for name in names:

        def value(key: str, name: str = name) -> float:
            return median(results[name], key)

        backend = name.split(":")[-1]
        same = "brian2-same:" + backend
        overhead = ""
        if name.startswith("spikeplast:") and same in results:
            overhead = f"{value('run_cpu_s') / median(results[same], 'run_cpu_s'):12.2f}x"
        print(
            f"{name:<30} {value('wall_s'):9.1f} {value('loop_s'):7.2f} {value('run_cpu_s'):8.2f} "
            f"{value('peak_rss_mb'):5.0f} {value('rate_hz'):5.1f} {value('w_mean'):5.3f} "
            f"{value('w_low'):5.2f} {value('w_high'):5.2f} {overhead:>13}"
        )
    print(
        "first run: wall time of the fresh process; loop: the time loop alone; loop CPU: CPU time "
        "of the binary (standalone targets) or of the run minus that of a one-step run "
        "(runtime targets: code generation and checks run in every run()); rate in Hz; <w>, "
        "w<0.1, w>0.9: learned weights in units of g_max."
    )
    if args.json:
        args.json.write_text(json.dumps({"duration": duration, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
