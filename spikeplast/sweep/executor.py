"""Running a sweep: serially, on a Dask LocalCluster, or on an existing Dask scheduler.

The machine that starts the sweep (the *client*) submits the points that have no recorded row,
writes each result as it arrives (row JSON and optional ``.npz``, atomically), rebuilds the table
every few seconds and at the end, and draws the figure. Workers only compute: they need spikeplast
installed, not the results folder, so the same sweep runs on a LocalCluster or on a Slurm/PBS
cluster started with ``dask-jobqueue``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import BackendError
from ..results import save_figure, versions
from .config import SweepConfig
from .points import Point
from .runners import Outcome, run_point, worker_name
from .store import ResultsFolder

__all__ = ["run_sweep", "SweepReport", "SchedulerUnreachable", "plan"]

#: Seconds between rebuilds of the table while a sweep runs (it is always rebuilt at the end).
TABLE_INTERVAL_S = 5.0


class SchedulerUnreachable(BackendError):
    """No Dask scheduler answered at the given address in time."""


@dataclass
class SweepReport:
    """How a sweep went.

    Attributes
    ----------
    total
        Points in the sweep.
    done, failed
        Points recorded as done or failed (this run and earlier ones).
    ran
        Points run by this invocation (the rest were recorded before).
    failures
        ``(point, error)`` of every failed point.
    interrupted
        The sweep was stopped (Ctrl-C, SIGTERM) before every point was recorded.
    """

    name: str
    directory: Path
    total: int
    done: int = 0
    failed: int = 0
    ran: int = 0
    seconds: float = 0.0
    failures: list[tuple[Point, str]] = field(default_factory=list)
    interrupted: bool = False
    table: Path | None = None
    figure: Path | None = None

    @property
    def exit_code(self) -> int:
        """0 if every point is done, 1 if some failed, 130 if interrupted."""
        if self.interrupted:
            return 130
        return 1 if self.failed or self.done < self.total else 0


def plan(
    config: SweepConfig, folder: ResultsFolder, retry_failed: bool = False
) -> tuple[list[Point], dict[str, dict[str, Any]]]:
    """Points still to run and the rows recorded so far."""
    rows = folder.finished_rows()
    pending = []
    for point in config.points:
        row = rows.get(point.point_id)
        if row is None or (retry_failed and row.get("status") == "failed"):
            pending.append(point)
    return pending, rows


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _row(point: Point, outcome: Outcome, attempts: int) -> dict[str, Any]:
    return {
        "point_id": point.point_id,
        "index": point.index,
        "status": outcome.status,
        "parameters": dict(point.values),
        "seed": point.seed,
        "summary": outcome.summary,
        "error": outcome.error,
        "attempts": attempts,
        "seconds": round(outcome.seconds, 4),
        "worker": outcome.worker,
        "finished": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def _failure(error: BaseException, attempts: int) -> Outcome:
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return Outcome(
        "failed",
        error=f"{type(error).__name__}: {message} (after {attempts} attempts)",
        worker=worker_name(),
    )


def _run_serially(
    config: SweepConfig, pending: list[Point]
) -> Iterator[tuple[Point, Outcome, int]]:
    for point in pending:
        for attempt in range(1, config.retries + 2):
            try:
                outcome = run_point(config.target, point)
            except Exception as error:  # retried, then recorded: the sweep goes on
                if attempt <= config.retries:
                    continue
                outcome = _failure(error, attempt)
            yield point, outcome, attempt
            break


def _installed_versions() -> dict[str, str]:
    return versions()


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise BackendError(
            "sweeps on Dask need dask.distributed: pip install 'dask[distributed]' "
            "(or run with --serial)"
        ) from None
    return distributed


@contextmanager
def dask_client(
    scheduler: str | None, workers: int | None, connect_timeout: float = 10.0
) -> Iterator[Any]:
    """A Dask client: connected to `scheduler` (an address, or the scheduler file written by
    ``dask scheduler --scheduler-file``), or to a new LocalCluster of `workers` processes with one
    thread each."""
    distributed = _import_distributed()
    cluster = None
    if scheduler:
        where = (
            {"scheduler_file": scheduler} if Path(scheduler).is_file() else {"address": scheduler}
        )
        try:
            client = distributed.Client(**where, timeout=connect_timeout)
        except (OSError, TimeoutError, ValueError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise SchedulerUnreachable(
                f"cannot reach the Dask scheduler at {scheduler!r} within {connect_timeout:g} s"
                f"{f' ({reason})' if reason else ''}; check the address (e.g. tcp://host:8786) "
                "and that the scheduler is running, or leave out --scheduler for a local cluster"
            ) from None
    else:
        cluster = distributed.LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: several sweeps may run at once
            silence_logs=logging.ERROR,
        )
        client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _check_workers(client: Any) -> None:
    """Refuse workers whose spikeplast or Brian2 differ from this machine's."""
    try:
        reported = client.run(_installed_versions)
    except Exception as error:
        raise BackendError(
            f"the Dask workers cannot run spikeplast ({type(error).__name__}: {error}); install "
            "the same spikeplast on them"
        ) from None
    here = _installed_versions()
    for address, theirs in reported.items():
        for package in ("spikeplast", "brian2"):
            if theirs.get(package) != here.get(package):
                raise BackendError(
                    f"worker {address} has {package} {theirs.get(package)}, this machine "
                    f"{here.get(package)}: results would mix versions; install the same on both"
                )


def _run_on_dask(
    config: SweepConfig,
    pending: list[Point],
    client: Any,
) -> Iterator[tuple[Point, Outcome, int]]:
    distributed = _import_distributed()
    attempts = config.retries + 1
    futures = {}
    for point in pending:
        future = client.submit(
            run_point,
            config.target,
            point,
            key=f"spikeplast-sweep-{point.point_id}",
            retries=config.retries,
            pure=False,
        )
        futures[future.key] = (future, point)
    try:
        for future in distributed.as_completed([f for f, _ in futures.values()]):
            _, point = futures.pop(future.key)
            if future.status == "error":
                yield point, _failure(future.exception(), attempts), attempts
            elif future.status == "cancelled":
                raise BackendError(
                    "the Dask scheduler cancelled the sweep's tasks (was it restarted?); the "
                    "points recorded so far are kept: run the sweep again to resume"
                )
            else:
                yield point, future.result(), 1
            future.release()
    finally:
        if futures:
            client.cancel([f for f, _ in futures.values()])


def _has_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def _dashboard(client: Any) -> str:
    """The dashboard's address (the scheduler serves it only with bokeh installed)."""
    try:
        link = client.dashboard_link if client.run_on_scheduler(_has_bokeh) else None
    except Exception:
        link = None
    return link or "not available (install bokeh where the scheduler runs)"


def run_sweep(
    config: SweepConfig,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    serial: bool = False,
    out: str | Path | None = None,
    force_new: bool = False,
    retry_failed: bool = False,
    progress: bool = True,
    plot: bool = True,
    connect_timeout: float = 10.0,
    echo: Callable[[str], None] = print,
) -> SweepReport:
    """Run every point of `config` that has no recorded row; record each as it finishes.

    Parameters
    ----------
    config
        The sweep (see :func:`spikeplast.sweep.load_sweep_config`).
    scheduler
        Address of a running Dask scheduler; ``None`` starts a LocalCluster.
    workers
        Worker processes of the LocalCluster (default: the config's, else one per core).
    serial
        Run in this process, one point after the other, without Dask.
    out
        Results folder (default: the config's).
    force_new
        Move results of another sweep found in `out` to ``out/superseded/`` instead of refusing.
    retry_failed
        Run points recorded as failed again.
    progress
        Show a progress bar.
    plot
        Draw ``sweep.png`` at the end.
    connect_timeout
        Seconds to wait for `scheduler`.
    echo
        Where to print the plan and notes.
    """
    if serial and scheduler:
        raise BackendError("--serial runs without Dask: leave out --scheduler")
    if not serial:
        _import_distributed()  # before anything is written
    folder = ResultsFolder(out if out is not None else config.output)
    with folder.lock():
        return _run_locked(
            config,
            folder,
            scheduler=scheduler,
            workers=workers,
            serial=serial,
            force_new=force_new,
            retry_failed=retry_failed,
            progress=progress,
            plot=plot,
            connect_timeout=connect_timeout,
            echo=echo,
        )


def _run_locked(
    config: SweepConfig,
    folder: ResultsFolder,
    *,
    scheduler: str | None,
    workers: int | None,
    serial: bool,
    force_new: bool,
    retry_failed: bool,
    progress: bool,
    plot: bool,
    connect_timeout: float,
    echo: Callable[[str], None],
) -> SweepReport:
    state = folder.prepare(config, force_new=force_new)
    if state == "superseded":
        echo(f"moved the earlier results of {folder.directory} to {folder.directory}/superseded/")
    pending, rows = plan(config, folder, retry_failed)
    report = SweepReport(config.name, folder.directory, len(config.points))
    sets = len(config.points) // max(1, len(config.seeds))
    echo(
        f"sweep {config.name}: {len(config.points)} points ({_count(sets, 'parameter set')} x "
        f"{_count(len(config.seeds), 'seed')}) of {config.target.describe()}; "
        f"{len(config.points) - len(pending)} recorded before, {len(pending)} to run; "
        f"results in {folder.directory}/"
    )
    structural = config.target.structural_paths(list(config.swept))
    if structural:
        echo(
            f"note: {', '.join(structural)} change the compiled model's structure: one build per "
            "distinct value (cached; the other values reuse each build)"
        )
    started = time.perf_counter()
    last_table = started
    folder.log(
        "start",
        mode="serial" if serial else (scheduler or "local"),
        pending=len(pending),
        total=len(config.points),
    )
    failed_now, ending = 0, "finished"
    try:
        with _executor(config, pending, scheduler, workers, serial, connect_timeout, echo) as runs:
            from tqdm.auto import tqdm

            with tqdm(
                total=len(pending), desc=config.name, unit="point", disable=not progress
            ) as bar:
                for point, outcome, attempts in runs:
                    row = _row(point, outcome, attempts)
                    folder.write_point(row, outcome.arrays)
                    folder.log(
                        outcome.status,
                        point_id=point.point_id,
                        seconds=row["seconds"],
                        worker=outcome.worker,
                    )
                    rows[point.point_id] = row
                    report.ran += 1
                    if outcome.status == "failed":
                        failed_now += 1
                        bar.set_postfix(failed=failed_now)
                    bar.update()
                    if time.perf_counter() - last_table > TABLE_INTERVAL_S:
                        folder.write_table(config.points, rows, config.swept)
                        last_table = time.perf_counter()
    except KeyboardInterrupt:
        report.interrupted, ending = True, "interrupted"
    except BaseException as error:  # recorded points stay; say why the sweep stopped
        ending = f"stopped by {type(error).__name__}: {error}"
        raise
    finally:
        report.seconds = time.perf_counter() - started
        report.table = folder.write_table(config.points, rows, config.swept)
        _tally(report, config, rows)
        folder.log(
            ending,
            done=report.done,
            failed=report.failed,
            seconds=round(report.seconds, 3),
        )
    if plot and report.done and not report.interrupted:
        report.figure = _draw(config, folder, rows, echo)
    return report


def _tally(report: SweepReport, config: SweepConfig, rows: dict[str, dict[str, Any]]) -> None:
    """Count the done and failed points of `config` in `rows`."""
    for point in config.points:
        row = rows.get(point.point_id)
        if row is None:
            continue
        if row.get("status") == "done":
            report.done += 1
        else:
            report.failed += 1
            report.failures.append((point, row.get("error") or "unknown error"))


@contextmanager
def _executor(
    config: SweepConfig,
    pending: list[Point],
    scheduler: str | None,
    workers: int | None,
    serial: bool,
    connect_timeout: float,
    echo: Callable[[str], None],
) -> Iterator[Iterator[tuple[Point, Outcome, int]]]:
    if serial or not pending:
        yield _run_serially(config, pending)
        return
    started = time.perf_counter()
    with dask_client(scheduler, workers or config.workers, connect_timeout) as client:
        _check_workers(client)
        where = f"scheduler {scheduler}" if scheduler else "a local cluster"
        count = len(client.scheduler_info().get("workers", {}))
        echo(
            f"running on {where} with {count} workers (ready in "
            f"{time.perf_counter() - started:.1f} s); dashboard: {_dashboard(client)}"
        )
        if not count:
            echo("no worker yet: the points wait for workers to join (batch jobs in a queue?)")
        yield _run_on_dask(config, pending, client)


def _draw(
    config: SweepConfig,
    folder: ResultsFolder,
    rows: dict[str, dict[str, Any]],
    echo: Callable[[str], None],
) -> Path | None:
    from .plot import plot_sweep, plotted_summary

    wanted, drawn = config.target.record.plot, plotted_summary(config, rows)
    if wanted is not None and drawn != wanted:
        echo(f"warning: [record] plot names {wanted!r}, which no point reports; drawing {drawn!r}")
    try:
        figure = plot_sweep(config, rows)
    except Exception as error:  # the results are written: a figure problem must not hide them
        echo(f"warning: no figure ({type(error).__name__}: {error})")
        return None
    if figure is None:
        return None
    import matplotlib.pyplot as plt

    path = save_figure(folder.figure_path, figure)
    plt.close(figure)
    return path
