"""Shared by the benchmark scripts: one contender per fresh process, medians."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence


def run_in_fresh_process(command: Sequence[str], env: Mapping[str, str] | None = None) -> dict:
    """Run `command`; return the JSON object on its last output line plus its wall time
    (``wall_s``) and its peak memory with its own children (``peak_rss_mb``, from ``wait4``)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{err.read()[-3000:]}")
        result = json.loads(out.read().strip().splitlines()[-1])
    # ru_maxrss of wait4 covers the process and its waited-for descendants (a compiled binary)
    result.update(wall_s=wall, peak_rss_mb=usage.ru_maxrss / 1024)
    return result


def median(runs: Sequence[Mapping[str, float]], key: str) -> float:
    """Median of `key` over repeated runs (the upper one of an even count)."""
    values = sorted(run[key] for run in runs)
    return values[len(values) // 2]
