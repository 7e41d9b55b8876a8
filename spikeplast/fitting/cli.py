"""The ``spikeplast fit`` command (also ``python -m spikeplast.fitting``).

::

    spikeplast fit RULE --data sjostrom2001 [--data FILE.csv ...] [--free A3+,A2-,tau_y]
        [--fixed tau_x=101ms] [--bounds tau_y=10ms:1s] [--method trf|lbfgsb|nelder-mead]
        [--restarts N] [--seed S] [--workers N] [--ci profile|bootstrap|none] [--level 0.95]
        [--compare SET] [--evaluator auto|numba|brian2] [--setting pairings=75]
        [--out DIR] [--json] [--no-progress]

Exit status: 0 for a converged fit (warnings about parameters the data do not constrain are
printed with it), 1 when the best fit did not converge (the results are still printed and
saved), 2 for bad input (one-line error). This module imports nothing heavy, so registering the
sub-command costs nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = ["add_parser", "main", "run"]


def _assignment(text: str) -> str:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return text


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rule", help="rule family, published parameter set or .toml file")
    parser.add_argument(
        "--data",
        action="append",
        required=True,
        help="data set: shipped name (e.g. sjostrom2001) or .toml/.csv file; repeat for a "
        "joint fit",
    )
    parser.add_argument(
        "--free",
        action="append",
        help="parameters to fit, comma-separated (field names or aliases such as A3+); "
        "default: the terms the rule uses (Pfister & Gerstner's choice)",
    )
    parser.add_argument(
        "--fixed",
        action="append",
        default=[],
        type=_assignment,
        metavar="NAME=VALUE",
        help="set and hold a parameter, with units (e.g. tau_x=101ms); comma-separated or repeated",
    )
    parser.add_argument(
        "--bounds",
        action="append",
        default=[],
        type=_assignment,
        metavar="NAME=LOW:HIGH",
        help="bounds of a free parameter with units (e.g. tau_y=10ms:1s)",
    )
    parser.add_argument("--method", default="trf", help="trf (default), lbfgsb or nelder-mead")
    parser.add_argument("--restarts", type=int, default=8, help="number of starts (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="seed of starts and bootstrap")
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: CPUs available)"
    )
    parser.add_argument("--ci", default="profile", help="profile (default), bootstrap or none")
    parser.add_argument("--level", type=float, default=0.95, help="confidence level (0.95)")
    parser.add_argument(
        "--bootstrap", type=int, default=200, help="bootstrap replicates (--ci bootstrap)"
    )
    parser.add_argument(
        "--max-evaluations",
        type=int,
        default=20000,
        help="evaluation budget per local fit (default 20000); exhausting it = not converged",
    )
    parser.add_argument("--compare", help="published parameter set to compare with")
    parser.add_argument("--evaluator", default="auto", help="auto (default), numba or brian2")
    parser.add_argument(
        "--backend",
        default="compiled",
        help="Brian2 evaluator: compiled (C++ reruns without recompiling, default), numpy, "
        "cython or cpp_standalone",
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        type=_assignment,
        metavar="NAME=VALUE",
        help="protocol setting for every data set, e.g. pairings=75 or repetitions=60",
    )
    parser.add_argument("--out", type=Path, help="directory for fit.json, fit.npz and fit.png")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.set_defaults(func=run)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``fit`` sub-command on `subparsers`."""
    parser = subparsers.add_parser(
        "fit",
        help="fit a rule's parameters to plasticity data",
        description="Fit a plasticity rule's free parameters to experimental data.",
    )
    _configure(parser)
    return parser


def _parse_bounds(items: Sequence[str]) -> dict[str, tuple[str, str]]:
    bounds = {}
    for item in items:
        name, text = item.split("=", 1)
        if text.count(":") != 1:
            raise ConfigurationError(
                f"--bounds {item!r}: write NAME=LOW:HIGH with units, e.g. tau_y=10ms:1s"
            )
        low, high = text.split(":")
        bounds[name.strip()] = (low.strip(), high.strip())
    return bounds


def _parse_settings(items: Sequence[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for item in items:
        name, text = (part.strip() for part in item.split("=", 1))
        try:
            number = float(text)
        except ValueError:
            raise ConfigurationError(f"--setting {item!r}: the value must be a number") from None
        settings[name] = int(number) if number.is_integer() and name != "freq_hz" else number
    return settings


def run(args: argparse.Namespace) -> int:
    """Run the ``fit`` command; return the exit status."""
    from ..rules import resolve
    from .fit import fit_rule
    from .parameters import parse_assignments
    from .report import fit_record, format_fit, save_fit

    base = resolve(args.rule)[0]
    fixed = parse_assignments(args.fixed, base)
    result = fit_rule(
        args.rule,
        args.data,
        free=args.free,
        fixed=fixed,
        bounds=_parse_bounds(args.bounds),
        method=args.method,
        restarts=args.restarts,
        seed=args.seed,
        workers=args.workers,
        ci=args.ci,
        level=args.level,
        bootstrap_samples=args.bootstrap,
        compare=args.compare,
        evaluator=args.evaluator,
        protocol_settings=_parse_settings(args.setting),
        progress=not (args.no_progress or args.json),
        evaluator_options={"backend": args.backend} if args.evaluator == "brian2" else None,
        max_evaluations=args.max_evaluations,
    )
    record = fit_record(result)
    if args.out is not None:
        save_fit(record, args.out, result)
    if args.json:
        print(json.dumps(record, indent=2, ensure_ascii=False))
    else:
        print(format_fit(record))
        if args.out is not None:
            print(f"\nresults written to {args.out}/ (fit.json, fit.npz, fit.png)")
    if result.problems:
        for problem in result.problems:
            print(f"spikeplast fit: warning: {problem}", file=sys.stderr)
    return 0 if result.converged else 1


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m spikeplast.fitting ...``: the same as ``spikeplast fit ...``."""
    from ..cli import main as spikeplast_main

    return spikeplast_main(["fit", *(sys.argv[1:] if argv is None else argv)])
