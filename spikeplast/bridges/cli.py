"""The ``spikeplast bridge`` command (also ``python -m spikeplast.bridges``).

::

    spikeplast bridge rules                                    list the learning rules
    spikeplast bridge compare --task digits|mnist1d|mnist      every rule, same net, seeds, budget
    spikeplast bridge reward-prediction                        FA_Ex-100% vs BP on reward amounts
    spikeplast bridge alignment-vs-regularization              Song, Xu & Lafferty 2021 sweep
    spikeplast bridge spiking-angle                            spiking vs rate update, trial length
    spikeplast bridge spiking-train                            spiking and rate nets side by side

Common options: ``--seed`` (first seed), ``--seeds N``, ``--out DIR`` (.json, .npz and .png,
written atomically), ``--json`` (results on stdout), ``--quick`` (smoke-sized), ``--no-progress``.
Bad input prints one line and exits with status 2. The two ``spiking-*`` experiments simulate
with Brian2 (:mod:`spikeplast.spiking_bridge`, imported only when they run).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .experiments import (
    DEFAULT_COMPARE_RULES,
    ExperimentResult,
    alignment_vs_regularization,
    compare_rules,
    reward_prediction,
    save_experiment,
)
from .rules import RULE_DESCRIPTIONS, RULES, get_rule

__all__ = ["add_parser", "main"]


def _list(kind: type) -> Any:
    def parse(text: str) -> list:
        try:
            return [kind(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated list, got {text!r}"
            ) from None

    return parse


def _common(parser: argparse.ArgumentParser, seeds: int) -> None:
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument(
        "--seeds", type=int, default=seeds, help=f"number of seeds (default {seeds})"
    )
    parser.add_argument("--out", type=Path, help="directory for .json, .npz and .png results")
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument("--quick", "--smoke", action="store_true", help="tiny budget, for tests")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``bridge`` sub-command and its experiments on `subparsers`."""
    bridge = subparsers.add_parser(
        "bridge", help="rate-based bridges: BP vs biologically plausible rules"
    )
    kinds = bridge.add_subparsers(dest="bridge_command", required=True, metavar="EXPERIMENT")

    rules = kinds.add_parser("rules", help="list the learning rules")
    rules.add_argument("--json", action="store_true")
    rules.set_defaults(func=_cmd_rules)

    compare = kinds.add_parser("compare", help="every rule on the same network, seeds and budget")
    compare.add_argument("--task", default="digits", help="digits, mnist1d or mnist (IDX files)")
    compare.add_argument("--mnist-dir", type=Path, help="directory with the four MNIST IDX files")
    compare.add_argument(
        "--limit", type=int, help="mnist: use the first N training images (and N/6 test images)"
    )
    compare.add_argument(
        "--rules", type=_list(str), default=list(DEFAULT_COMPARE_RULES), help="comma-separated"
    )
    compare.add_argument("--hidden", type=_list(int), help="hidden widths (default 100,100)")
    compare.add_argument("--activation", default="relu", help="relu, tanh, sigmoid, leaky_relu")
    compare.add_argument("--epochs", type=int, help="default: 30 (digits), 40 (mnist1d)")
    compare.add_argument("--batch-size", type=int, default=32)
    compare.add_argument("--lr", type=float, default=0.02, help="learning rate (default 0.02)")
    compare.add_argument("--gait-lr", type=float, help="GAIT-prop learning rate (default --lr)")
    _common(compare, seeds=3)
    compare.set_defaults(func=_cmd_compare)

    reward = kinds.add_parser("reward-prediction", help="scalar reward-amount task (Konishi 2023)")
    reward.add_argument(
        "--rules", type=_list(str), default=["bp", "fa", "fa_ex", "fa_ex_dale", "elm"]
    )
    reward.add_argument("--hidden", type=int, default=20, help="middle-layer width (default 20)")
    reward.add_argument("--epochs", type=int, default=20, help="blocks of trials (default 20)")
    reward.add_argument("--trials", type=int, default=500, help="trials per block (default 500)")
    reward.add_argument("--lr", type=float, default=0.01, help="learning rate (paper: 0.01)")
    reward.add_argument("--noise", type=float, default=0.1, help="receptor noise std")
    _common(reward, seeds=5)
    reward.set_defaults(func=_cmd_reward)

    song = kinds.add_parser(
        "alignment-vs-regularization", help="Song, Xu & Lafferty 2021: λ and width sweep"
    )
    song.add_argument("--widths", type=_list(int), default=[50, 200, 800])
    song.add_argument("--lambdas", type=_list(float), default=[0.0, 1e-3, 1e-2, 1e-1])
    song.add_argument("--steps", type=int, default=3000)
    song.add_argument("--lr", type=float, default=0.5)
    _common(song, seeds=3)
    song.set_defaults(func=_cmd_alignment)

    angle = kinds.add_parser(
        "spiking-angle", help="∠(trial-averaged spiking update, rate update) vs trial length"
    )
    angle.add_argument(
        "--durations", type=_list(float), default=[0.05, 0.1, 0.2, 0.5, 1.0, 2.0],
        help="trial lengths in s (default 0.05,0.1,0.2,0.5,1,2)",
    )  # fmt: skip
    angle.add_argument("--trials", type=int, default=20, help="trials per sample, K (default 20)")
    angle.add_argument("--batch", type=int, default=10, help="probe batch size (default 10)")
    angle.add_argument("--hidden", type=int, default=20, help="hidden width (default 20)")
    _spiking_options(angle)
    angle.set_defaults(func=_cmd_spiking_angle)

    spiking = kinds.add_parser(
        "spiking-train", help="reward prediction: spiking and rate networks side by side"
    )
    spiking.add_argument("--blocks", type=int, default=6, help="evaluation blocks (default 6)")
    spiking.add_argument("--trials", type=int, default=500, help="trials per block (default 500)")
    spiking.add_argument("--batch-size", type=int, default=10, help="parallel trials (default 10)")
    spiking.add_argument(
        "--trial-length", type=float, default=0.1, help="s per spiking trial (default 0.1)"
    )
    spiking.add_argument("--hidden", type=int, default=20, help="hidden width (default 20)")
    spiking.add_argument("--lr", type=float, default=0.01, help="per-trial learning rate (0.01)")
    spiking.add_argument("--noise", type=float, default=0.1, help="receptor noise std")
    spiking.add_argument(
        "--test-trials", type=int, default=100, help="spiking test trials (default 100)"
    )
    _spiking_options(spiking)
    spiking.set_defaults(func=_cmd_spiking_train)
    return bridge


def _spiking_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input-rate", type=float, default=500.0, help="Hz per unit of input (default 500)"
    )
    parser.add_argument(
        "--gate-window", type=float, default=50.0, help="ms the gate stays open (default 50)"
    )
    parser.add_argument("--dt", type=float, help="time step in ms (default 0.1; train: 0.2)")
    parser.add_argument("--backend", default=None, help="cython if a compiler is there, else numpy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="directory for .json, .npz and .png results")
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument("--quick", "--smoke", action="store_true", help="tiny budget, for tests")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _progress(args: argparse.Namespace, total: int, what: str):
    if args.no_progress or args.json:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=what, unit="run", file=sys.stderr, leave=False)
    return bar, bar.update


def _check_rules(names: Sequence[str]) -> None:
    """Fail on unknown rule names before any progress bar or training starts."""
    for name in names:
        get_rule(name)


def _seeds(args: argparse.Namespace) -> list[int]:
    if args.seeds < 1:
        from .errors import BridgeError

        raise BridgeError(f"--seeds must be at least 1, got {args.seeds}")
    return list(range(args.seed, args.seed + args.seeds))


def _format_angles(values: Sequence[float]) -> str:
    return "/".join("—" if v is None or v != v else f"{v:.0f}" for v in values) or "—"


def _print_table(result: ExperimentResult) -> None:
    summary = result.summary
    if summary["experiment"] == "alignment-vs-regularization":
        print(
            f"{'width':>6} {'lambda':>8} {'cos(b,beta) start':>18} {'final':>14}"
            f" {'train error':>12}"
        )
        for r in summary["rows"]:
            print(
                f"{r['width']:>6} {r['penalty']:>8g} {r['initial_cosine_mean']:>18.3f} "
                f"{r['cosine_mean']:>7.3f} ± {r['cosine_sd']:.3f} {r['train_error_mean']:>12.2e}"
            )
        return
    print(f"{'rule':<13} {'test acc (mean ± sd)':>21} {'∠(Wᵀ,B)°':>10} {'∠(ΔW,ΔW_BP)°':>14} "
          f"{'‖B‖/‖W‖':>12} {'cpu s':>7}")  # fmt: skip
    for r in summary["rows"]:
        ratio = "/".join("—" if v != v else f"{v:.2f}" for v in r["norm_ratio"]) or "—"
        extra = f"  mse {r['test_mse_mean']:.4f}" if "test_mse_mean" in r else ""
        print(
            f"{r['rule']:<13} {100 * r['test_accuracy_mean']:>12.1f}"
            f" ± {100 * r['test_accuracy_sd']:<5.1f}%"
            f" {_format_angles(r['weight_angle_deg']):>10}"
            f" {_format_angles(r['update_angle_deg']):>14}"
            f" {ratio:>12} {r['cpu_seconds']:>7.1f}{extra}"
        )
    for s in summary.get("skipped", []):
        print(f"{s['rule']:<13} not run: {s['reason']}")


def _print_footer(result: ExperimentResult) -> None:
    summary = result.summary
    print(f"total: {summary['wall_seconds']:.1f} s wall, {summary['cpu_seconds']:.1f} s CPU")


def _finish(args: argparse.Namespace, result: ExperimentResult) -> int:
    if args.out is not None:
        from .plots import plot_experiment

        figure = plot_experiment(result)
        for path in save_experiment(result, args.out, figure):
            if not args.json:
                print(f"wrote {path}")
    if args.json:
        from ..results import to_jsonable

        json.dump(to_jsonable(result.summary), sys.stdout, indent=2)
        print()
    elif result.summary["experiment"].startswith("spiking-"):
        _print_spiking(result)
    else:
        _print_table(result)
        _print_footer(result)
    return 0


def _spiking_setup(args: argparse.Namespace, dt_ms: float) -> tuple[Any, str]:
    """The spiking map and the backend (Brian2 is imported here, not at module import)."""
    from ..backend import available_backends
    from ..errors import ConfigurationError
    from ..spiking_bridge import SpikingMap

    backend = args.backend
    if backend is None:
        backend = "cython" if "cython" in available_backends() else "numpy"
    if backend not in ("numpy", "cython"):
        raise ConfigurationError(
            f"the spiking bridge reads and sets weights between trials: use --backend numpy or "
            f"cython, not {backend!r}"
        )
    mapping = SpikingMap(
        input_rate=args.input_rate,
        gate_window=args.gate_window / 1000,
        dt=(args.dt if args.dt is not None else dt_ms) / 1000,
    )
    mapping.check()
    return mapping, backend


def _print_spiking(result: ExperimentResult) -> None:
    summary = result.summary
    if summary["experiment"] == "spiking-angle":
        print(f"{'T (s)':>7} {'∠ rate°':>8} {'∠ 1 trial°':>11} {'∠ meas. gate°':>14} "
              f"{'∠ LIF gate°':>12} {'∠ BP°':>6} {'‖ΔW‖ ratio':>11}")  # fmt: skip
        for r in summary["rows"]:
            print(
                f"{r['trial_length_s']:>7g} {r['angle_rate_deg']:>8.1f}"
                f" {r['angle_rate_single_trial_deg']:>11.1f} {r['angle_measured_gate_deg']:>14.1f}"
                f" {r['angle_lif_gate_deg']:>12.1f} {r['angle_bp_deg']:>6.1f}"
                f" {r['norm_ratio']:>11.2f}"
            )
        print(f"(K = {summary['trials']} trials per sample, probe batch {summary['probe_batch']})")
    else:
        for key, value in summary["final"].items():
            print(f"{key:<42} {value:.4f}")
    print(
        f"total: {summary['wall_seconds']:.1f} s wall, {summary['cpu_seconds']:.1f} s CPU "
        f"({summary['backend']})"
    )


def _cmd_spiking_angle(args: argparse.Namespace) -> int:
    mapping, backend = _spiking_setup(args, 0.1)
    durations = [0.02, 0.1] if args.quick else args.durations
    bar, progress = _progress(args, len(durations), "spiking updates")
    try:
        from ..spiking_bridge import angle_vs_trial_length

        result = _timed_call(
            angle_vs_trial_length,
            durations=durations,
            trials=3 if args.quick else args.trials,
            batch=3 if args.quick else args.batch,
            n_hidden=5 if args.quick else args.hidden,
            mapping=mapping,
            backend=backend,
            seed=args.seed,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
    return _finish(args, result)


def _cmd_spiking_train(args: argparse.Namespace) -> int:
    mapping, backend = _spiking_setup(args, 0.2)
    blocks = 2 if args.quick else args.blocks
    bar, progress = _progress(args, blocks, "side-by-side training")
    try:
        from ..spiking_bridge import spiking_reward_prediction

        result = _timed_call(
            spiking_reward_prediction,
            blocks=blocks,
            trials_per_block=20 if args.quick else args.trials,
            batch_size=10 if args.quick else args.batch_size,
            trial_length=0.02 if args.quick else args.trial_length,
            n_hidden=5 if args.quick else args.hidden,
            learning_rate=args.lr,
            noise=args.noise,
            test_trials=10 if args.quick else args.test_trials,
            mapping=mapping,
            backend=backend,
            seed=args.seed,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
    return _finish(args, result)


def _timed_call(function: Any, **kwargs: Any) -> ExperimentResult:
    import time

    wall, cpu = time.perf_counter(), time.process_time()
    result = function(**kwargs)
    result.summary["wall_seconds"] = time.perf_counter() - wall
    result.summary["cpu_seconds"] = time.process_time() - cpu
    return result


def _cmd_rules(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(RULE_DESCRIPTIONS, indent=2, ensure_ascii=False))
        return 0
    for name in RULES:
        print(f"{name:<13} {RULE_DESCRIPTIONS[name]}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    seeds = _seeds(args)
    epochs = args.epochs or (2 if args.quick else {"mnist1d": 40}.get(args.task, 30))
    hidden = args.hidden or ([16] if args.quick else [100, 100])
    rules = args.rules
    _check_rules(rules)
    bar, progress = _progress(args, len(rules) * len(seeds), f"compare {args.task}")
    try:
        data = None
        if args.task == "mnist" and args.limit is not None:
            from .datasets import load_task

            data = load_task("mnist", mnist_dir=args.mnist_dir, limit=args.limit)
        elif args.quick and args.task in ("digits", "mnist1d"):
            from .datasets import load_task

            data = load_task(args.task) if args.task == "digits" else load_task(
                args.task, n_samples=600
            )  # fmt: skip
        result = compare_rules(
            args.task,
            rules=rules,
            seeds=seeds,
            hidden=hidden,
            activation=args.activation,
            epochs=epochs,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            gait_learning_rate=args.gait_lr,
            mnist_dir=args.mnist_dir,
            data=data,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
    return _finish(args, result)


def _cmd_reward(args: argparse.Namespace) -> int:
    seeds = _seeds(args)
    _check_rules(args.rules)
    bar, progress = _progress(args, len(args.rules) * len(seeds), "reward prediction")
    try:
        result = reward_prediction(
            rules=args.rules,
            seeds=seeds,
            n_hidden=args.hidden,
            epochs=2 if args.quick else args.epochs,
            n_train=50 if args.quick else args.trials,
            learning_rate=args.lr,
            noise=args.noise,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
    return _finish(args, result)


def _cmd_alignment(args: argparse.Namespace) -> int:
    seeds = _seeds(args)
    widths = [20, 80] if args.quick else args.widths
    lambdas = [0.0, 0.1] if args.quick else args.lambdas
    bar, progress = _progress(args, len(widths) * len(lambdas) * len(seeds), "λ × width sweep")
    try:
        result = alignment_vs_regularization(
            widths=widths,
            penalties=lambdas,
            seeds=seeds,
            steps=100 if args.quick else args.steps,
            learning_rate=args.lr,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
    return _finish(args, result)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m spikeplast.bridges``: the ``spikeplast bridge`` command; returns the status."""
    from ..cli import main as spikeplast_main

    return spikeplast_main(["bridge", *(sys.argv[1:] if argv is None else argv)])
