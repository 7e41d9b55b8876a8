"""Run Brian2's standalone-compatible test suite against the ``numba_standalone`` device.

Usage::

    python -m spikeplast.numba_device.run_brian2_suite [-k EXPR] [--chunk I/N] [--long]

Runs Brian2's own tests marked ``standalone_compatible`` (single-run tests with
``build_on_run=True``, then the ``multiple_runs`` tests with ``build_on_run=False``), like
``brian2.test([], test_codegen_independent=False, test_standalone='numba_standalone')``, in this
process (one core), skipping the tests listed in ``brian2_suite_exclusions.txt`` next to this file
(one ``test id  # reason`` per line).  Prints passed/failed/skipped/excluded counts; ``--chunk``
runs every N-th test file only, so the suite can be run in pieces.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["main", "load_exclusions"]

EXCLUSIONS = Path(__file__).with_name("brian2_suite_exclusions.txt")


def load_exclusions(path: Path = EXCLUSIONS) -> dict[str, str]:
    """Test ids (``test_file.py::test_name``) excluded from the suite, with their reasons."""
    exclusions = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        test_id, _, reason = line.partition("#")
        exclusions[test_id.strip()] = reason.strip()
    return exclusions


class _Counter:
    """Pytest plugin counting outcomes and deselecting excluded tests."""

    def __init__(self, exclusions: dict[str, str]):
        self.exclusions = exclusions
        self.counts = {"passed": 0, "failed": 0, "skipped": 0, "excluded": 0}
        self.failures: list[str] = []

    def pytest_collection_modifyitems(self, config, items):
        kept, dropped = [], []
        for item in items:
            short = f"{Path(item.fspath).name}::{item.name}"
            (dropped if short in self.exclusions or item.name in self.exclusions else kept).append(
                item
            )
        self.counts["excluded"] += len(dropped)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            outcome = report.outcome
            self.counts[outcome] = self.counts.get(outcome, 0) + 1
            if outcome == "failed":
                self.failures.append(report.nodeid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="keyword", default=None, help="pytest -k expression")
    parser.add_argument("--chunk", default=None, help="I/N: run the I-th of N parts (1-based)")
    parser.add_argument("--long", action="store_true", help="include tests marked 'long'")
    args = parser.parse_args(argv)

    import brian2
    import pytest
    from brian2.devices.device import reset_device
    from brian2.tests import PreferencePlugin, clear_caches, make_argv

    from spikeplast.numba_device import register

    register()
    brian2.prefs.reset_to_defaults()
    brian2.BrianLogger.console_handler.setLevel("WARNING")
    test_dir = os.path.dirname(brian2.tests.__file__)
    files = sorted(str(p) for p in Path(test_dir).glob("test_*.py"))
    if args.chunk:
        index, total = (int(x) for x in args.chunk.split("/"))
        files = files[index - 1 :: total]
    counter = _Counter(load_exclusions())
    extra = ["-p", "no:cacheprovider", "-q"]
    if args.keyword:
        extra += ["-k", args.keyword]
    long_marker = "" if args.long else " and not long"
    plugin = PreferencePlugin(brian2.prefs, fail_for_not_implemented=True)
    plugin.device = "numba_standalone"
    for options, marker in (
        ({"directory": None, "with_output": False}, " and not multiple_runs"),
        (
            {"directory": None, "with_output": False, "build_on_run": False},
            " and multiple_runs",
        ),
    ):
        plugin.device_options = options
        argv_ = make_argv(files, f"standalone_compatible{long_marker}{marker}")
        pytest.main(argv_ + extra, plugins=[plugin, counter])
        clear_caches()
        reset_device()
    counts = counter.counts
    for failure in counter.failures:
        print(f"FAILED {failure}")
    print(
        f"brian2 {brian2.__version__} standalone-compatible suite on numba_standalone: "
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped, "
        f"{counts['excluded']} excluded"
    )
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
