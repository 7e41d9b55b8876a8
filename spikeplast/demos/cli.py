"""The ``demo`` command: ``spikeplast demo conditioning [options]``.

:func:`add_parser` registers ``demo`` on the main command's sub-parsers; every demo is one
function in :data:`DEMOS` that adds its sub-parser (options and ``func``) to ``demo``. A new demo
adds one such function and one entry. ``python -m spikeplast.demos NAME`` runs the same
sub-commands through :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import SpikeplastError
from . import CONDITIONING_DURATION_S, RF_DURATION_S

__all__ = ["add_parser", "main", "DEMOS"]


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--backend",
        default="auto",
        help="numpy, cython, cpp_standalone, numba_standalone or auto (default: cpp_standalone "
        "if available: fastest network loop, and a progress bar)",
    )
    parser.add_argument("--out", type=Path, help="directory for .json, .npz and .png results")
    parser.add_argument("--json", action="store_true", help="print the record as JSON")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


# -- conditioning ------------------------------------------------------------------------------
def _add_conditioning(demos: Any) -> None:
    default = CONDITIONING_DURATION_S
    parser = demos.add_parser(
        "conditioning",
        help="Izhikevich 2007 classical conditioning with dopamine-gated STDP",
        description=(
            "1000 Izhikevich neurons (80 % excitatory), one rewarded synapse, dopamine 1-3 s "
            "after each pairing; the rewarded weight grows to the maximum while the others "
            "stay spread. Writes a figure of the rewarded weight over time and the weight "
            "histogram with --out."
        ),
    )
    parser.add_argument(
        "--duration",
        type=_positive_seconds,
        default=default,
        help=f"simulated time in s (default {default:g}: the rewarded synapse reaches the "
        "maximum; the original runs 3600)",
    )
    _add_run_options(parser)
    parser.set_defaults(func=_cmd_conditioning)


def _cmd_conditioning(args: argparse.Namespace) -> int:
    from brian2 import second

    from .conditioning import conditioning_record, run_conditioning, save_conditioning

    result = run_conditioning(
        args.duration * second,
        backend=None if args.backend == "auto" else args.backend,
        seed=args.seed,
        progress=not (args.no_progress or args.json),
    )
    if args.out is not None:
        save_conditioning(result, args.out)
    record = conditioning_record(result)
    if args.json:
        print(json.dumps(record, indent=2, ensure_ascii=False))
        return 0
    summary = record["summary"]
    n_synapses = result.weights_ee.size + result.weights_ei.size
    reached = summary["time_to_95_percent_of_max_s"]
    print(
        f"conditioning on {result.backend} (seed {result.seed}), {result.duration_s:g} s simulated"
    )
    print(
        f"  rewarded synapse {result.n1}->{result.n2}: {summary['rewarded_weight_final']:.3g} mV "
        f"(max {result.w_max:g}), above {summary['rewarded_weight_percentile']:.2f} % of the "
        f"other {n_synapses - 1} excitatory synapses"
        + (f"; 95 % of max after {reached:.0f} s" if reached == reached else "")
    )
    print(
        f"  other synapses: mean {summary['others_mean']:.3g} mV, median "
        f"{summary['others_median']:.3g} mV, 95th percentile {summary['others_p95']:.3g} mV, "
        f"{100 * summary['others_fraction_at_max']:.2f} % near the maximum"
    )
    print(
        f"  {summary['rewards']:.0f} rewards ({summary['pairings']:.0f} pairings, "
        f"{summary['lost_rewards']:.0f} lost); rates: excitatory {summary['rate_exc_hz']:.2f} Hz, "
        f"inhibitory {summary['rate_inh_hz']:.2f} Hz"
    )
    print("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()))
    if args.out is not None:
        print(f"results written to {args.out}/")
    return 0


# -- receptive fields --------------------------------------------------------------------------
def _add_receptive_fields(demos: Any) -> None:
    default = RF_DURATION_S
    parser = demos.add_parser(
        "receptive-fields",
        help="Gabor-like receptive fields learned from natural images (Brito & Gerstner 2016)",
        description=(
            "Whitened natural-image patches drive ON/OFF Poisson inputs onto LIF neurons with "
            "lateral inhibition and homeostatic thresholds; the feed-forward weights learn under "
            "the chosen rule. Prints Gabor-fit R², orientation selectivity, response kurtosis "
            "and diversity of the learned filters next to a random control; with --out writes "
            "the filters, their Gabor fits and the metrics as a figure, .json and .npz."
        ),
    )
    parser.add_argument(
        "--rule",
        help="rule or parameter set of the feed-forward weights (default brito2016-rf-spiking, "
        "nonlinear Hebbian; also e.g. pfister2006-visual-aa-minimal, yger2013-invitro)",
    )
    parser.add_argument(
        "--model",
        choices=("spiking", "rate"),
        default="spiking",
        help="spiking network (default) or the rate-based nonlinear Hebbian model (seconds)",
    )
    parser.add_argument("--neurons", type=int, default=32, help="number of neurons (default 32)")
    parser.add_argument("--patch", type=int, default=12, help="patch side in pixels (default 12)")
    parser.add_argument(
        "--duration",
        type=_positive_seconds,
        default=default,
        help=f"simulated learning time of the spiking network in s (default {default:g})",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=20000,
        help="minibatch steps of the rate model (default 20000)",
    )
    parser.add_argument(
        "--images",
        nargs="+",
        metavar="PATH",
        help="image files or an IMAGES.mat (default: built-in scikit-image/scikit-learn scenes)",
    )
    _add_run_options(parser)
    parser.set_defaults(func=_cmd_receptive_fields)


def _cmd_receptive_fields(args: argparse.Namespace) -> int:
    from ..analysis import METRICS
    from .receptive_fields import (
        RFSettings,
        rf_record,
        run_receptive_fields,
        save_receptive_fields,
    )

    settings = RFSettings(
        model=args.model,
        rule=args.rule,
        neurons=args.neurons,
        patch=args.patch,
        duration_s=args.duration,
        rate_steps=args.steps,
        images=tuple(str(p) for p in args.images) if args.images else None,
    )
    result = run_receptive_fields(
        settings,
        backend=None if args.backend == "auto" else args.backend,
        seed=args.seed,
        progress=not (args.no_progress or args.json),
    )
    if args.out is not None:
        save_receptive_fields(result, args.out)
    if args.json:
        print(json.dumps(rf_record(result), indent=2, ensure_ascii=False))
        return 0
    what = (
        f"{args.duration:g} s of learning on {result.backend}"
        if args.model == "spiking"
        else f"{args.steps} minibatch steps"
    )
    print(
        f"receptive fields, {args.model} model, {result.filters.shape[0]} neurons, "
        f"{result.size}x{result.size} patches ({result.kept_components} whitened components), "
        f"{what}, seed {result.seed}"
    )
    print(f"  rule: {result.rule}")
    if result.network.get("rate_median_hz") is not None:
        low, high = result.network["rate_range_hz"]
        print(
            f"  firing rates: median {result.network['rate_median_hz']:.1f} Hz "
            f"({low:.1f}-{high:.1f}); {result.network['presentations']} patches shown"
        )
    print(f"  {'metric':44s} {'learned':>8s} {'random':>8s}")
    for key, label in METRICS.items():
        learned, control = result.summary.get(key), result.control_summary.get(key)
        if learned is None and control is None:
            continue
        print(f"  {label:44s} {learned:8.3f} {control:8.3f}")
    if args.model == "spiking":
        goals = result.goals()
        print("  goals: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in goals.items()))
    print("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()))
    if args.out is not None:
        print(f"results written to {args.out}/")
    return 0


#: Each demo's sub-parser factory; a new demo adds one entry.
DEMOS: list[Callable[[Any], None]] = [_add_conditioning, _add_receptive_fields]


def _add_demos(demos: Any) -> None:
    for add in DEMOS:
        add(demos)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``demo`` command (with one sub-command per demo) on the main command."""
    demo = subparsers.add_parser("demo", help="run a demonstration experiment with a figure")
    _add_demos(demo.add_subparsers(dest="demo", required=True, metavar="DEMO"))
    return demo


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m spikeplast.demos NAME [options]``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m spikeplast.demos", description="spikeplast demonstrations"
    )
    _add_demos(parser.add_subparsers(dest="demo", required=True, metavar="DEMO"))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SpikeplastError as error:
        print(f"spikeplast: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("spikeplast: interrupted", file=sys.stderr)
        return 130
