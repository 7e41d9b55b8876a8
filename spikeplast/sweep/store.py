"""The results folder of a sweep: manifest, one row per finished point, the table, a log.

::

    OUT/manifest.json        the config, the model hash, the versions (checked on resume)
    OUT/points/<id>.json     one row per finished point (status done or failed), written atomically
    OUT/points/<id>.npz      arrays of the point, when [record] asks for them
    OUT/results.csv          the tidy table: one row per point, rebuilt atomically from the rows
    OUT/sweep.png            the swept quantity against the swept parameters
    OUT/log.jsonl            one line per recorded point and per start/stop of the sweep
    OUT/superseded/<time>/   what --force-new moved aside (nothing is ever deleted)
OUT/.lock                held while a sweep writes here (a second one is refused)

A row file exists only for a point whose result was recorded completely, so resuming is: run the
points that have no row.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigurationError
from ..results import save_json, save_npz, to_jsonable, versions, write_atomic
from .points import Point, magnitudes

__all__ = ["ResultsFolder", "FolderMismatch", "FolderBusy", "FORMAT"]

#: Version of the folder layout; a change makes old folders refuse to resume.
FORMAT = 1


class FolderMismatch(ConfigurationError):
    """The results folder was written by another sweep (other model, backend or versions)."""


class FolderBusy(ConfigurationError):
    """Another sweep is writing to the results folder."""


#: Name of the lock file in a results folder.
LOCK_NAME = ".lock"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def identity(config: Any) -> dict[str, Any]:
    """What must match for a folder to be resumed: the model, backend, record and versions."""
    installed = versions()
    wanted = {
        "format": FORMAT,
        "target": {"kind": config.target.kind, "name": config.target.name},
        "model_hash": config.target.model_hash(),
        "backend": config.target.backend,
        "record": config.target.record.identity(),
        "spikeplast": installed.get("spikeplast"),
        "brian2": installed.get("brian2"),
    }
    return json.loads(json.dumps(to_jsonable(wanted)))  # as read back from the manifest


class ResultsFolder:
    """A sweep's results folder (see module doc)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.manifest_path = self.directory / "manifest.json"
        self.points_dir = self.directory / "points"
        self.table_path = self.directory / "results.csv"
        self.figure_path = self.directory / "sweep.png"
        self.log_path = self.directory / "log.jsonl"

    # -- manifest ------------------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any] | None:
        if not self.manifest_path.is_file():
            return None
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise FolderMismatch(
                f"{self.manifest_path} cannot be read ({error}); choose another --out"
            ) from None

    def prepare(self, config: Any, force_new: bool = False) -> str:
        """Check that `config` may write here (or move old results aside); write the manifest.

        Returns ``"new"``, ``"resume"`` or ``"superseded"``.
        """
        wanted = identity(config)
        manifest = self.read_manifest()
        state = "new"
        if manifest is not None:
            old = manifest.get("identity", {})
            differences = [
                f"{key} {old.get(key)!r} here, {wanted[key]!r} now"
                for key in wanted
                if old.get(key) != wanted[key]
            ]
            if differences and not force_new:
                raise FolderMismatch(
                    f"{self.directory} holds results of another sweep ({'; '.join(differences)})."
                    " Use another --out, or --force-new to move them to "
                    f"{self.directory / 'superseded'}/ and start afresh"
                )
            state = "superseded" if differences else "resume"
        elif self.directory.is_dir() and any(
            entry.name != LOCK_NAME for entry in self.directory.iterdir()
        ):
            if not force_new:
                raise FolderMismatch(
                    f"{self.directory} is not empty and is no sweep results folder (no "
                    "manifest.json). Use another --out, or --force-new to move its content to "
                    f"{self.directory / 'superseded'}/"
                )
            state = "superseded"
        if state == "superseded":
            self.supersede()
        created = manifest.get("created") if manifest and state == "resume" else _now()
        save_json(
            self.manifest_path,
            {
                "identity": wanted,
                "name": config.name,
                "created": created,
                "updated": _now(),
                "config_file": str(config.source) if config.source else None,
                "config": config.raw,
                "swept": list(config.swept),
                "points": len(config.points),
                "versions": versions(),
            },
        )
        return state

    def supersede(self) -> Path:
        """Move everything here into ``superseded/<time>/`` (nothing is deleted)."""
        archive = self.directory / "superseded" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        archive.mkdir(parents=True)
        for entry in self.directory.iterdir():
            if entry.name not in ("superseded", LOCK_NAME):
                entry.rename(archive / entry.name)
        return archive

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder's lock: a second sweep writing here at the same time is refused."""
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            yield
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / LOCK_NAME, "a+", encoding="utf-8") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                owner = handle.read().strip() or "another process"
                raise FolderBusy(
                    f"another spikeplast sweep ({owner}) is writing to {self.directory}; wait "
                    "for it to finish or use another --out"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
            handle.flush()
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- rows ----------------------------------------------------------------------------------
    def row_path(self, point_id: str) -> Path:
        return self.points_dir / f"{point_id}.json"

    def finished_rows(self) -> dict[str, dict[str, Any]]:
        """Rows of the points recorded so far, by point ID."""
        rows = {}
        if not self.points_dir.is_dir():
            return rows
        for path in self.points_dir.glob("*.json"):
            if path.name.startswith("."):  # a temporary file of an interrupted write
                continue
            try:
                row = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue  # unreadable: the point runs again
            rows[row.get("point_id", path.stem)] = row
        return rows

    def write_point(
        self, row: Mapping[str, Any], arrays: Mapping[str, np.ndarray] | None = None
    ) -> None:
        """Record a finished point: its arrays first, then its row (the row marks it done)."""
        row = dict(row)
        if arrays:
            path = save_npz(self.points_dir / f"{row['point_id']}.npz", arrays)
            row["arrays"] = str(path.relative_to(self.directory))
        save_json(self.row_path(row["point_id"]), row)

    def log(self, event: str, **fields: Any) -> None:
        """Append one line to ``log.jsonl``."""
        line = json.dumps(to_jsonable({"time": _now(), "event": event, **fields}))
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as stream:
            stream.write(line + "\n")

    # -- table ---------------------------------------------------------------------------------
    def write_table(
        self,
        points: Sequence[Point],
        rows: Mapping[str, Mapping[str, Any]],
        swept: Sequence[str],
    ) -> Path:
        """Rebuild ``results.csv`` (atomically) from the rows of `points` recorded so far."""
        recorded = [(p, rows[p.point_id]) for p in points if p.point_id in rows]
        summaries = list(
            dict.fromkeys(name for _, row in recorded for name in row.get("summary", {}))
        )
        parameter_columns = []
        for path in swept:
            values = [row.get("parameters", {}).get(path) for _, row in recorded]
            numbers, unit = magnitudes(values, path)
            column = [
                n if n is not None else ("" if v is None else _as_written(v))
                for n, v in zip(numbers, values, strict=True)
            ]
            parameter_columns.append((f"{path} [{unit}]" if unit else path, column))
        header = ["point_id", *(name for name, _ in parameter_columns), "seed", *summaries]
        header += ["status", "error", "seconds", "worker"]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for position, (point, row) in enumerate(recorded):
            line: list[Any] = [point.point_id]
            line += [column[position] for _, column in parameter_columns]
            line.append("" if point.seed is None else point.seed)
            line += [_cell(row.get("summary", {}).get(name)) for name in summaries]
            line += [row.get("status"), row.get("error") or "", _cell(row.get("seconds"))]
            line.append(row.get("worker", ""))
            writer.writerow(["" if cell is None else cell for cell in line])
        return write_atomic(self.table_path, buffer.getvalue().encode("utf-8"))


def _as_written(value: Any) -> Any:
    return value if isinstance(value, str | int | float) else json.dumps(value)


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    return "" if value is None else value


def read_table(path: str | Path) -> list[dict[str, str]]:
    """Rows of a ``results.csv`` as dicts of strings (for tests and quick looks)."""
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))
