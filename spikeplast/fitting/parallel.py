"""Independent fit tasks (starts, profiles, bootstrap replicates) in worker processes.

The fit problem is sent to each worker once (pool initializer); tasks carry only their own
arguments. Results come back in task order, so the outcome does not depend on how many workers
ran or how the operating system scheduled them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

__all__ = ["run_tasks", "default_workers"]

T = TypeVar("T")

_WORKER_PROBLEM: Any = None


def default_workers() -> int:
    """Worker processes to use by default: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _initialise(problem: Any) -> None:
    global _WORKER_PROBLEM
    _WORKER_PROBLEM = problem


def _call(function: Callable[[Any, Any], T], task: Any) -> T:
    return function(_WORKER_PROBLEM, task)


def _progress(total: int, description: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=description, disable=not enabled, file=sys.stderr, leave=False)


def run_tasks(
    problem: Any,
    function: Callable[[Any, Any], T],
    tasks: Sequence[Any],
    workers: int = 1,
    progress: bool = False,
    description: str = "",
) -> list[T]:
    """Run ``function(problem, task)`` for every task; results in task order.

    Parameters
    ----------
    problem
        Shared state (pickled once per worker).
    function
        A module-level function (it is pickled by reference).
    tasks
        Task arguments.
    workers
        Processes to use; 1 runs everything in this process.
    progress
        Show a progress bar on stderr.
    """
    tasks = list(tasks)
    bar = _progress(len(tasks), description, progress)
    try:
        if workers <= 1 or len(tasks) <= 1:
            results = []
            for task in tasks:
                results.append(function(problem, task))
                bar.update()
            return results
        with ProcessPoolExecutor(
            max_workers=min(workers, len(tasks)), initializer=_initialise, initargs=(problem,)
        ) as pool:
            futures = {pool.submit(_call, function, task): i for i, task in enumerate(tasks)}
            results_by_index: dict[int, T] = {}
            for future in as_completed(futures):
                results_by_index[futures[future]] = future.result()
                bar.update()
        return [results_by_index[i] for i in range(len(tasks))]
    finally:
        bar.close()
