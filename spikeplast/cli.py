"""The ``spikeplast`` command.

::

    spikeplast rules                              list rule families and parameter sets
    spikeplast protocol sjostrom [options]        run a plasticity protocol
    spikeplast protocol pairing|triplets|quadruplets [options]
    spikeplast backends                           list the backends available here

Errors caused by input (unknown names, bad units, impossible protocols, NaN weights) are printed
as one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import ConfigurationError, SpikeplastError

__all__ = ["main", "build_parser"]

PROTOCOL_NAMES = ("pairing", "sjostrom", "triplets", "quadruplets")


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None


def _parameter_override(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(
            f"expected NAME=VALUE (e.g. tau_plus='20 ms'), got {text!r}"
        )
    name, value = text.split("=", 1)
    return name.strip(), value.strip()


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rule", help="registry name, rule kind or .toml file (default: per protocol)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        type=_parameter_override,
        metavar="NAME=VALUE",
        help="override a rule parameter, e.g. --set 'tau_y=100 ms'",
    )
    parser.add_argument(
        "--backend",
        default="auto",
        help="numpy, cython, cpp_standalone, numba_standalone or auto (default)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--dt", type=float, default=0.1, help="time step in ms (default 0.1)")
    parser.add_argument("--data", help="data set to compare with (name or .toml/.csv file)")
    parser.add_argument("--out", type=Path, help="directory for .json, .npz and .png results")
    parser.add_argument("--json", action="store_true", help="print results as JSON on stdout")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress display")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spikeplast",
        description="Spiking networks with plastic synapses: rules, protocols, references.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    rules = commands.add_parser("rules", help="list rules and published parameter sets")
    rules.add_argument("--json", action="store_true", help="print as JSON")
    rules.set_defaults(func=_cmd_rules)

    backends = commands.add_parser("backends", help="list simulation backends available here")
    backends.set_defaults(func=_cmd_backends)

    protocol = commands.add_parser("protocol", help="run a plasticity protocol")
    kinds = protocol.add_subparsers(dest="protocol", required=True, metavar="PROTOCOL")

    pairing = kinds.add_parser("pairing", help="STDP window: pairings at each Δt")
    pairing.add_argument(
        "--dts", type=_floats, default=None, help="Δt values in ms (default -100..100 step 5)"
    )
    pairing.add_argument("--pairings", type=int, default=60)
    pairing.add_argument("--freq", type=float, default=1.0, help="pairing frequency in Hz")

    sjostrom = kinds.add_parser("sjostrom", help="frequency dependence (Sjöström et al. 2001)")
    sjostrom.add_argument(
        "--freqs", type=_floats, default=None, help="frequencies in Hz (default 0.1,10,20,40,50)"
    )
    sjostrom.add_argument(
        "--dts", type=_floats, default=None, help="Δt values in ms (default 10,-10)"
    )
    sjostrom.add_argument(
        "--pairings",
        type=int,
        default=None,
        help="pairings per condition (default 60), or per burst with --convention clopath2010 "
        "(default 5)",
    )
    sjostrom.add_argument(
        "--convention",
        choices=("continuous", "clopath2010"),
        default=None,
        help="continuous pairings (default), or 15 bursts of 5 every 10 s (Clopath et al. 2010; "
        "the default for clopath-stdp rules)",
    )

    triplets = kinds.add_parser("triplets", help="pre-post-pre / post-pre-post (Wang et al. 2005)")
    triplets.add_argument("--repetitions", type=int, default=60)
    triplets.add_argument("--freq", type=float, default=1.0)

    quadruplets = kinds.add_parser("quadruplets", help="quadruplets (Wang et al. 2005)")
    quadruplets.add_argument("--T", dest="T", type=_floats, default=None, help="T values in ms")
    quadruplets.add_argument("--repetitions", type=int, default=60)
    quadruplets.add_argument("--freq", type=float, default=1.0)

    for sub in (pairing, sjostrom, triplets, quadruplets):
        _add_run_options(sub)
        sub.set_defaults(func=_cmd_protocol)

    run = commands.add_parser("run", help="run a network file (models/networks or a .toml)")
    run.add_argument("network", help="shipped network name or .toml file")
    _add_overrides(run, "PATH=VALUE", "value by dotted path, e.g. --set run.duration='10 s'")
    run.add_argument("--backend", default="auto")
    run.add_argument("--seed", type=int, default=None)
    run.add_argument("--out", type=Path, help="directory for .json, .npz and .png results")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.add_argument("--no-progress", action="store_true")
    run.set_defaults(func=_cmd_run)

    export = commands.add_parser("export", help="write a standalone C++ project (no Python)")
    export.add_argument(
        "target",
        help="a protocol (pairing, sjostrom, triplets, quadruplets) or a network name / .toml file",
    )
    export.add_argument("--out", type=Path, required=True, help="project directory to write")
    export.add_argument("--rule", help="rule for protocol exports (default: the protocol's)")
    _add_overrides(export, "NAME=VALUE", "rule parameter (protocols) or dotted path (networks)")
    export.add_argument("--backend", default="cpp_standalone", choices=["cpp_standalone"])
    export.add_argument("--portable", action="store_true", help="compile without -march=native")
    export.set_defaults(func=_cmd_export)

    show = commands.add_parser("show", help="draw the figures of an exported project's results")
    show.add_argument("directory", type=Path)
    show.add_argument("-o", "--output", type=Path, help="figure file (default results/figure.png)")
    show.set_defaults(func=_cmd_show)

    for package in _PLUGIN_COMMANDS:
        module = _optional_cli(package)
        if module is not None:
            module.add_parser(commands)
    return parser


#: Sub-packages that add their own sub-commands (``<package>/cli.py`` with ``add_parser``).
_PLUGIN_COMMANDS = ("bridges", "fitting", "sweep", "demos")


def _optional_cli(package: str) -> Any:
    """Import ``spikeplast.<package>.cli`` if that package exists (errors inside it propagate)."""
    name = f"spikeplast.{package}.cli"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name in (f"spikeplast.{package}", name):
            return None
        raise


def _cmd_rules(args: argparse.Namespace) -> int:
    from .params import format_quantity
    from .rules import RULES, parameter_sets, resolve

    listing: dict[str, Any] = {"families": [], "parameter_sets": []}
    for kind, cls in RULES.items():
        fields = [
            {
                "name": f.name,
                "default": format_quantity(getattr(cls(), f.name)),
                "doc": f.metadata.get("doc", ""),
            }
            for f in cls.parameter_fields()
        ]
        listing["families"].append({"kind": kind, "summary": cls.summary, "parameters": fields})
    for name, parameter_set in parameter_sets().items():
        resolve(name)[0].validate()
        listing["parameter_sets"].append(
            {"name": name, "rule": parameter_set.kind, "source": parameter_set.source}
        )
    if args.json:
        print(json.dumps(listing, indent=2, ensure_ascii=False))
        return 0
    print("Rule families (use as --rule KIND, change parameters with --set NAME=VALUE):")
    for family in listing["families"]:
        print(f"  {family['kind']:<16} {family['summary']}")
        for field in family["parameters"]:
            print(f"      {field['name']:<18} {field['default']:<14} {field['doc']}")
    print("\nPublished parameter sets (use as --rule NAME):")
    for entry in listing["parameter_sets"]:
        print(f"  {entry['name']:<32} {entry['rule']:<14} {entry['source']}")
    return 0


def _cmd_backends(args: argparse.Namespace) -> int:
    from .backend import BACKENDS, available_backends, default_backend

    available = available_backends()
    for name in BACKENDS:
        mark = "default" if name == default_backend() else ("yes" if name in available else "no")
        print(f"  {name:<18} {mark}")
    return 0


def _protocol_settings(args: argparse.Namespace) -> dict[str, Any]:
    if args.protocol == "pairing":
        settings: dict[str, Any] = {"pairings": args.pairings, "freq_hz": args.freq}
        if args.dts is not None:
            settings["dts_ms"] = args.dts
    elif args.protocol == "sjostrom":
        settings = {}
        if args.pairings is not None:
            settings["pairings"] = args.pairings
        if args.convention is not None:
            settings["convention"] = args.convention
        if args.freqs is not None:
            settings["freqs_hz"] = args.freqs
        if args.dts is not None:
            settings["dts_ms"] = args.dts
    elif args.protocol == "triplets":
        settings = {"repetitions": args.repetitions, "freq_hz": args.freq}
    else:
        settings = {"repetitions": args.repetitions, "freq_hz": args.freq}
        if args.T is not None:
            settings["T_ms"] = args.T
    return settings


def _cmd_protocol(args: argparse.Namespace) -> int:
    from .experiment import run_protocol_experiment

    if not args.dt > 0:
        raise ConfigurationError(f"--dt must be a positive number of ms, got {args.dt}")
    record = run_protocol_experiment(
        protocol=args.protocol,
        settings=_protocol_settings(args),
        rule=args.rule,
        overrides=dict(args.overrides),
        backend=args.backend,
        seed=args.seed,
        dt_ms=args.dt,
        data=args.data,
        out=args.out,
        progress=not (args.no_progress or args.json),
    )
    if args.json:
        print(json.dumps(record, indent=2, ensure_ascii=False))
    else:
        from .experiment import format_table

        print(format_table(record))
        if args.out is not None:
            print(f"\nresults written to {args.out}/")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from .experiment import run_network_experiment

    record = run_network_experiment(
        args.network,
        dict(args.overrides),
        backend=args.backend,
        seed=args.seed,
        out=args.out,
        progress=not (args.no_progress or args.json),
    )
    if args.json:
        print(json.dumps(record, indent=2, ensure_ascii=False))
    else:
        print(
            f"{record['network']} on {record['backend']} (seed {record['seed']}), "
            f"{record['duration_s']:g} s simulated"
        )
        for key, value in record["summary"].items():
            print(f"  {key:<28} {value:.6g}")
        print("time: " + ", ".join(f"{k} {v:.2f} s" for k, v in record["timings_s"].items()))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import export_network, export_protocol
    from .netspec import load_network
    from .protocols import PROTOCOLS, get_protocol
    from .rules import get_rule

    overrides = dict(args.overrides)
    if args.target in PROTOCOLS:
        protocol = get_protocol(args.target)
        rule_name = args.rule or protocol.default_rule
        directory = export_protocol(
            protocol, get_rule(rule_name, **overrides), rule_name, args.out, portable=args.portable
        )
    else:
        if args.rule:
            raise ConfigurationError("--rule applies to protocol exports; for networks use --set")
        directory = export_network(
            load_network(args.target, overrides), args.out, portable=args.portable
        )
    print(f"wrote {directory}; build and run it with: cd {directory} && make -j && ./main")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from .export import show

    print(show(args.directory, args.output))
    return 0


def _add_overrides(parser: argparse.ArgumentParser, metavar: str, help: str) -> None:
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        type=_parameter_override,
        metavar=metavar,
        help=help,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spikeplast`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SpikeplastError as error:
        print(f"spikeplast: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("spikeplast: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
