"""The ``spikeplast sweep`` command (also ``python -m spikeplast.sweep``).

::

    spikeplast sweep CONFIG.toml [--scheduler ADDRESS] [--workers N] [--serial] [--out DIR]
                                 [--force-new] [--retry-failed] [--list]

Exit status: 0 when every point is done, 1 when some failed (they are listed), 2 for bad input
(one-line message), 130 when interrupted (run the same command again to resume).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = ["add_parser", "run_command", "main"]

#: Failed points listed at the end (the table has all of them).
LISTED_FAILURES = 10


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("config", type=Path, help="sweep configuration (.toml)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running Dask scheduler (e.g. tcp://host:8786) or its scheduler file "
        "(see docs/sweeps.md for Slurm/PBS); default: start a local cluster",
    )
    where.add_argument(
        "--serial", action="store_true", help="run here, one point after the other, no Dask"
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="worker processes of the local cluster (default: [execution] workers or one per core)",
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="results folder (default: config)")
    parser.add_argument(
        "--force-new",
        action="store_true",
        help="if DIR holds another sweep's results, move them to DIR/superseded/ and start afresh",
    )
    parser.add_argument(
        "--retry-failed", action="store_true", help="run points recorded as failed again"
    )
    parser.add_argument(
        "--retries", type=int, metavar="N", help="reruns of a point that raised (default: config)"
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for --scheduler (default 10)",
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="list the points and whether they are recorded; run nothing",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--no-plot", action="store_true", help="do not draw sweep.png")
    parser.set_defaults(func=run_command)
    return parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``sweep`` on the ``spikeplast`` command's sub-parsers."""
    parser = subparsers.add_parser(
        "sweep",
        help="run a parameter sweep on a Dask cluster (resumable)",
        description="Run every point of a sweep configuration on a Dask LocalCluster, an "
        "existing Dask scheduler or serially; finished points are kept and skipped on restart.",
    )
    return _configure(parser)


def _list_points(config: Any, out: Path | None) -> int:
    from .store import ResultsFolder

    folder = ResultsFolder(out if out is not None else config.output)
    rows = folder.finished_rows() if folder.read_manifest() is not None else {}
    for point in config.points:
        status = rows.get(point.point_id, {}).get("status", "pending")
        print(f"{point.point_id}  {status:<8} {point.label()}")
    print(f"{len(config.points)} points; results folder {folder.directory}/")
    return 0


def run_command(args: argparse.Namespace) -> int:
    """Run the sweep that `args` describe; return the exit status."""
    from .config import load_sweep_config
    from .executor import run_sweep

    if args.workers is not None and args.scheduler:
        raise ConfigurationError("--workers sizes the local cluster: leave it out with --scheduler")
    if args.retries is not None and args.retries < 0:
        raise ConfigurationError(f"--retries must be >= 0, got {args.retries}")
    config = load_sweep_config(args.config)
    if args.retries is not None:
        from dataclasses import replace

        config = replace(config, retries=args.retries)
    if args.list:
        return _list_points(config, args.out)
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _interrupt)  # a cancelled batch job stops like Ctrl-C
    try:
        report = run_sweep(
            config,
            scheduler=args.scheduler,
            workers=args.workers,
            serial=args.serial,
            out=args.out,
            force_new=args.force_new,
            retry_failed=args.retry_failed,
            progress=not args.no_progress,
            plot=not args.no_plot,
            connect_timeout=args.connect_timeout,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(
        f"{report.done} of {report.total} points done, {report.failed} failed "
        f"({report.ran} run now, {report.seconds:.1f} s); table: {report.table}"
        + (f"; figure: {report.figure}" if report.figure else "")
    )
    for point, error in report.failures[:LISTED_FAILURES]:
        print(f"  failed {point.point_id} ({point.label()}): {error}")
    if len(report.failures) > LISTED_FAILURES:
        print(f"  ... and {len(report.failures) - LISTED_FAILURES} more (see the table)")
    if report.failures:
        print("rerun with --retry-failed to run the failed points again")
    if report.interrupted:
        print("interrupted: run the same command again to resume", file=sys.stderr)
    return report.exit_code


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m spikeplast.sweep CONFIG.toml ...``: ``spikeplast sweep``; returns the status."""
    from ..cli import main as spikeplast_main

    return spikeplast_main(["sweep", *(sys.argv[1:] if argv is None else argv)])
