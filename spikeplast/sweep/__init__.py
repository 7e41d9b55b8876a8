"""Parameter sweeps: many runs of a network, protocol or function, on Dask or serially.

``spikeplast sweep CONFIG.toml`` (see :mod:`spikeplast.sweep.cli` and ``docs/sweeps.md``) reads a
sweep configuration (:mod:`~spikeplast.sweep.config`), lists its points with stable IDs
(:mod:`~spikeplast.sweep.points`), runs those without a recorded row on a Dask cluster or serially
(:mod:`~spikeplast.sweep.executor`, task function in :mod:`~spikeplast.sweep.runners`) and keeps
every result in a results folder (:mod:`~spikeplast.sweep.store`) with a tidy table and a figure
(:mod:`~spikeplast.sweep.plot`).

Dask (``dask[distributed]``) is needed only to run on a cluster; ``--serial`` works without it.
"""

from __future__ import annotations

from .config import SweepConfig, load_sweep_config, sweep_from_dict
from .executor import SchedulerUnreachable, SweepReport, run_sweep
from .points import Point
from .store import FolderBusy, FolderMismatch, ResultsFolder, read_table

__all__ = [
    "SweepConfig",
    "load_sweep_config",
    "sweep_from_dict",
    "run_sweep",
    "SweepReport",
    "SchedulerUnreachable",
    "Point",
    "ResultsFolder",
    "FolderMismatch",
    "FolderBusy",
    "read_table",
]
