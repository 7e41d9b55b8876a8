"""Benchmark of the numba_standalone device against cpp_standalone and cython.

Runs each contender in a fresh process (so compile caches and memory are measured honestly) on

* ``stdp``: Song, Miller & Abbott (2000) -- 1000 Poisson inputs -> 1 LIF, pair STDP (Brian2's
  ``examples/synapses/STDP.py``), default 100 s;
* ``ei``: a plastic E/I network of 4000 + 1000 LIF neurons, 2 % connectivity, triplet STDP on
  E->E (Pfister & Gerstner 2006 minimal all-to-all model), 1000 Poisson inputs at 10 Hz per
  neuron (E and I fire at ~12 Hz), default 10 s.

and reports, per contender: first run of a new model (cold caches: codegen + compile + run),
rerun of the same model with other values (warm caches), the time of the compiled time loop,
peak memory (max RSS of the Python process) and the peak of the whole run's process tree
(Python process plus compiler and binary, resident and anonymous memory sampled every 50 ms),
with ratios to cpp_standalone.  Repeats ``--repeats``
times and reports the median and the spread (min-max).

    python benchmarks/numba_device_bench.py --model all --repeats 2 \\
        --plot benchmarks/numba_device.png --json numba_device.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CONTENDERS = ("numba_standalone", "cpp_standalone", "cython")


def _model_stdp(duration_s: float):
    from brian2 import Hz, NeuronGroup, PoissonGroup, SpikeMonitor, Synapses, ms, mV, run, second

    gmax = 0.01
    namespace = {
        "taum": 10 * ms,
        "taupre": 20 * ms,
        "taupost": 20 * ms,
        "Ee": 0 * mV,
        "vt": -54 * mV,
        "vr": -60 * mV,
        "El": -74 * mV,
        "taue": 5 * ms,
        "gmax": gmax,
        "dApre": 0.01 * gmax,
        "dApost": -0.01 * 1.05 * gmax,
    }
    inputs = PoissonGroup(1000, rates=15 * Hz, name="inputs")
    neuron = NeuronGroup(
        1,
        """dv/dt = (ge * (Ee - v) + El - v) / taum : volt
           dge/dt = -ge / taue : 1""",
        threshold="v > vt",
        reset="v = vr",
        method="euler",
        namespace=namespace,
        name="neuron",
    )
    neuron.v = namespace["vr"]
    S = Synapses(
        inputs,
        neuron,
        """w : 1
           dApre/dt = -Apre / taupre : 1 (event-driven)
           dApost/dt = -Apost / taupost : 1 (event-driven)""",
        on_pre="""ge += w
                  Apre += dApre
                  w = clip(w + Apost, 0, gmax)""",
        on_post="""Apost += dApost
                   w = clip(w + Apre, 0, gmax)""",
        namespace=namespace,
        name="stdp",
    )
    S.connect()
    S.w = "rand() * gmax"
    out = SpikeMonitor(neuron, name="out_spikes")
    run(duration_s * second, namespace={})
    return lambda: {"out_spikes": int(out.num_spikes), "mean_w": float(S.w[:].mean() / gmax)}


def _model_ei(duration_s: float):
    from brian2 import (
        Hz,
        NeuronGroup,
        PoissonInput,
        SpikeMonitor,
        Synapses,
        ms,
        mV,
        run,
        second,
    )

    n_e, n_i = 4000, 1000
    namespace = {
        "tau_m": 20 * ms,
        "tau_e": 5 * ms,
        "tau_i": 10 * ms,
        "v_t": -50 * mV,
        "v_r": -60 * mV,
        "e_l": -60 * mV,
        "tau_plus": 16.8 * ms,
        "tau_minus": 33.7 * ms,
        "tau_x": 101 * ms,
        "tau_y": 125 * ms,
        "A2p": 5e-10,
        "A3p": 6.2e-3,
        "A2m": 7e-3,
        "A3m": 2.3e-4,
        "w_max": 1.0,
        "eta": 0.05,
    }
    eqs = """dv/dt = (e_l - v + g_e - g_i) / tau_m : volt (unless refractory)
             dg_e/dt = -g_e / tau_e : volt
             dg_i/dt = -g_i / tau_i : volt"""
    cells = NeuronGroup(
        n_e + n_i,
        eqs,
        threshold="v > v_t",
        reset="v = v_r",
        refractory=2 * ms,
        method="exact",
        namespace=namespace,
        name="cells",
    )
    cells.v = "v_r + rand() * (v_t - v_r)"
    exc, inh = cells[:n_e], cells[n_e:]
    # ~12 Hz with plastic E->E weights (the first version, 100 inputs at 0.5 mV, was silent)
    drive = PoissonInput(cells, "g_e", 1000, 10 * Hz, weight=0.3 * mV)
    ee = Synapses(
        exc,
        exc,
        """w : 1
           dr1/dt = -r1 / tau_plus : 1 (event-driven)
           dr2/dt = -r2 / tau_x : 1 (event-driven)
           do1/dt = -o1 / tau_minus : 1 (event-driven)
           do2/dt = -o2 / tau_y : 1 (event-driven)""",
        on_pre="""g_e_post += w * 0.5*mV
                  w = clip(w - eta * o1 * (A2m + A3m * r2), 0, w_max)
                  r1 += 1
                  r2 += 1""",
        on_post="""w = clip(w + eta * r1 * (A2p + A3p * o2), 0, w_max)
                   o1 += 1
                   o2 += 1""",
        delay=1.5 * ms,
        namespace=namespace,
        name="ee",
    )
    ee.connect(p=0.02)
    ee.w = "0.5"
    ei = Synapses(exc, inh, on_pre="g_e_post += 0.5*mV", delay=1.5 * ms, name="ei")
    ei.connect(p=0.02)
    ie = Synapses(inh, cells, on_pre="g_i_post += 2*mV", delay=1.5 * ms, name="ie")
    ie.connect(p=0.02)
    spikes = SpikeMonitor(cells, name="spikes")
    run(duration_s * second, namespace={})
    assert drive is not None
    return lambda: {"spikes": int(spikes.num_spikes), "mean_w": float(ee.w[:].mean())}


def _worker(args) -> None:
    """Run one contender in this process and print a JSON line with the timings."""
    started = time.perf_counter()
    if args.contender == "numba_standalone":
        import spikeplast.numba_device  # noqa: F401
    import brian2
    from brian2 import device, prefs, seed, set_device

    brian2.BrianLogger.console_handler.setLevel("ERROR")
    imported = time.perf_counter()
    if args.contender == "cython":
        prefs.codegen.target = "cython"
        prefs.codegen.runtime.cython.cache_dir = args.cache
    else:
        set_device(args.contender, directory=args.directory, build_on_run=False)
    seed(4321)
    model = {"stdp": _model_stdp, "ei": _model_ei}[args.model]
    summary = model(args.duration)
    built = time.perf_counter()
    loop = None
    if args.contender != "cython":
        device.build(directory=args.directory, run=True, with_output=False)
        if args.contender == "numba_standalone":
            loop = device.timers["numba"]["loop"]
        else:
            loop = device.timers["run_binary"]
    finished = time.perf_counter()
    result = summary()
    result.update(
        total=finished - started,
        import_s=imported - started,
        build_objects=built - imported,
        build_and_run=finished - built,
        loop=loop,
        max_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    print("RESULT " + json.dumps(result), flush=True)


def _process_tree(root: int) -> list[int]:
    """`root` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(children.get(pid, []))
    return pids


def _tree_memory_mb(root: int) -> tuple[float, float]:
    """Resident and anonymous memory (MB) summed over `root`'s process tree."""
    resident = anonymous = 0
    for pid in _process_tree(root):
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        resident += int(line.split()[1])
                    elif line.startswith("RssAnon:"):
                        anonymous += int(line.split()[1])
        except OSError:
            continue
    return resident / 1024, anonymous / 1024


def _run(contender, model, duration, directory, cache, env) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--contender",
        contender,
        "--model",
        model,
        "--duration",
        str(duration),
        "--directory",
        directory,
        "--cache",
        cache,
    ]
    # The worker's own peak (ru_maxrss) leaves out cpp_standalone's compiler and binary, which
    # run as child processes; the whole tree is sampled every 50 ms here (about 3 % of a core).
    tree_peak = tree_anonymous = 0.0
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as run:
        while run.poll() is None:
            resident, anonymous = _tree_memory_mb(run.pid)
            tree_peak, tree_anonymous = max(tree_peak, resident), max(tree_anonymous, anonymous)
            time.sleep(0.05)
        stdout, stderr = run.communicate()
    if run.returncode:
        raise RuntimeError(f"{contender} worker failed:\n{stderr.decode()[-3000:]}")
    line = [x for x in stdout.decode().splitlines() if x.startswith("RESULT ")][-1]
    result = json.loads(line[len("RESULT ") :])
    result.update(tree_peak_mb=tree_peak, tree_anonymous_mb=tree_anonymous)
    return result


_KEYS = ("first run", "rerun", "loop", "peak MB", "tree MB", "tree anonymous MB")
_DEFAULT_DURATION = {"stdp": 100.0, "ei": 10.0}


def _measure(model: str, duration: float, contenders: list[str], repeats: int) -> dict:
    """{contender: {key: [value per repeat]}} for one model; contenders interleaved per repeat."""
    rows: dict[str, dict[str, list[float]]] = {}
    for _ in range(repeats):
        for contender in contenders:
            root = tempfile.mkdtemp(prefix=f"bench_{contender}_")
            env = dict(os.environ, SPIKEPLAST_NUMBA_CACHE=os.path.join(root, "numba"))
            cache = os.path.join(root, "cython")
            cold = _run(contender, model, duration, os.path.join(root, "a"), cache, env)
            warm = _run(contender, model, duration, os.path.join(root, "b"), cache, env)
            shutil.rmtree(root, ignore_errors=True)
            entry = rows.setdefault(contender, {})
            values = (
                cold["total"],
                warm["total"],
                warm["loop"],
                warm["max_rss_mb"],
                warm["tree_peak_mb"],
                warm["tree_anonymous_mb"],
            )
            for key, value in zip(_KEYS, values, strict=True):
                if value is not None:
                    entry.setdefault(key, []).append(value)
            print(contender, json.dumps({"cold": cold, "warm": warm}), flush=True)
    return rows


def _print_table(model: str, duration: float, repeats: int, rows: dict) -> None:
    reference = rows.get("cpp_standalone", {})
    print(
        f"\n{model}, {duration:g} s biological time, {repeats} repeat(s): "
        "median (min-max) [ratio to cpp_standalone]"
    )
    print(
        "| contender | first run (s) | rerun (s) | compiled loop (s) | peak memory (MB) "
        "| whole run, resident (MB) | whole run, anonymous (MB) |"
    )
    print("|---|---|---|---|---|---|---|")
    for contender, entry in rows.items():
        cells = []
        for key in _KEYS:
            values = entry.get(key)
            if not values:
                cells.append("–")
                continue
            median = statistics.median(values)
            text = f"{median:.2f} ({min(values):.2f}–{max(values):.2f})"
            if reference.get(key):
                text += f" [{median / statistics.median(reference[key]):.2f}×]"
            cells.append(text)
        print(f"| {contender} | " + " | ".join(cells) + " |")


def _plot(results: dict, path: str) -> None:
    """Times and memory per model and contender (medians, min-max as error bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels = (
        ("time (s)", ("first run", "rerun", "loop"), "log"),
        ("peak memory (MB)", ("peak MB", "tree MB"), "log"),
    )
    labels = {
        "first run": "first run",
        "rerun": "rerun (cached)",
        "loop": "compiled loop",
        "peak MB": "Python process",
        "tree MB": "whole run (with compiler)",
    }
    figure, axes = plt.subplots(
        len(results), 2, figsize=(11, 3.4 * len(results)), squeeze=False, layout="constrained"
    )
    for row, (title, (duration, rows)) in enumerate(results.items()):
        contenders = list(rows)
        for column, (ylabel, keys, scale) in enumerate(panels):
            axis = axes[row][column]
            width = 0.8 / len(keys)
            for number, key in enumerate(keys):
                positions, heights, low, high = [], [], [], []
                for index, contender in enumerate(contenders):
                    values = rows[contender].get(key)
                    if not values:
                        continue
                    median = statistics.median(values)
                    positions.append(index + (number - (len(keys) - 1) / 2) * width)
                    heights.append(median)
                    low.append(median - min(values))
                    high.append(max(values) - median)
                axis.bar(positions, heights, width, yerr=[low, high], label=labels[key])
            axis.set_xticks(np.arange(len(contenders)), contenders)
            axis.set(ylabel=ylabel, yscale=scale, title=f"{title}, {duration:g} s")
            axis.legend(fontsize="small")
    temporary = f"{path}.tmp.png"
    figure.savefig(temporary, dpi=110)
    os.replace(temporary, path)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("stdp", "ei", "all"), default="stdp")
    parser.add_argument("--duration", type=float, default=None, help="default: 100 s / 10 s")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--plot", help="write a figure of the results to this PNG file")
    parser.add_argument("--json", help="write the measurements to this JSON file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--directory", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="1 s of the stdp model")
    args, _unknown = parser.parse_known_args()  # run_all.py passes its options on
    if args.quick:
        args.model, args.duration = "stdp", 1.0
    if args.worker:
        if args.duration is None:
            args.duration = _DEFAULT_DURATION[args.model]
        _worker(args)
        return
    models = ("stdp", "ei") if args.model == "all" else (args.model,)
    names = {"stdp": "STDP example", "ei": "E/I triplet network"}
    results = {}
    for model in models:
        duration = _DEFAULT_DURATION[model] if args.duration is None else args.duration
        rows = _measure(model, duration, args.contenders.split(","), args.repeats)
        _print_table(model, duration, args.repeats, rows)
        results[names[model]] = (duration, rows)
    if args.json:
        temporary = f"{args.json}.tmp"
        with open(temporary, "w") as handle:
            json.dump(results, handle, indent=1)
        os.replace(temporary, args.json)
    if args.plot:
        _plot(results, args.plot)


if __name__ == "__main__":
    main()
