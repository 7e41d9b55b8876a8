"""Sweep configuration files (TOML): what to run, which points, what to keep, where.

::

    name = "song2000-rate"
    [target]
    network = "song2000"          # or: protocol = "sjostrom" (+ rule, settings, dt_ms)
    backend = "numpy"             #     function = "package.module:function"
    [fixed]                       # values applied to every point (dotted paths)
    "run.duration" = "0.5 s"
    [sweep]
    seeds = [1, 2, 3]
    [sweep.grid]                  # or: points = [{...}, ...], or [sweep.random] /
    "populations.inputs.rate" = ["10 Hz", "15 Hz", "20 Hz"]   # [sweep.latin_hypercube]
    [record]
    summaries = ["ff.w_mean"]     # default: all
    weights = false               # final weights per point in an .npz
    [output]
    directory = "results/sweeps/song2000-rate"
    [execution]
    retries = 2

See ``docs/sweeps.md`` for every key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, SpikeplastError, suggest
from .points import Point, Range, grid_values, make_points, sample_values
from .targets import TARGET_KINDS, Record, Target

__all__ = ["SweepConfig", "load_sweep_config", "sweep_from_dict"]

_TOP_KEYS = {"name", "description", "target", "fixed", "sweep", "record", "output", "execution"}
_TARGET_KEYS = {
    "network": {"network", "backend"},
    "protocol": {"protocol", "rule", "settings", "dt_ms", "dataset", "backend"},
    "function": {"function", "version"},
}
_SWEEP_KEYS = {"seeds", "grid", "points", "random", "latin_hypercube"}
_SAMPLING_KEYS = {"samples", "seed", "ranges"}
_RANGE_KEYS = {"low", "high", "scale", "integer"}
_RECORD_KEYS = {"summaries", "weights", "spikes", "plot"}
_OUTPUT_KEYS = {"directory"}
_EXECUTION_KEYS = {"retries", "workers"}


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep.

    Attributes
    ----------
    name
        Name of the sweep (default: the config file's stem).
    target
        What each point runs.
    swept
        The swept paths, in config order.
    method
        ``"grid"``, ``"points"``, ``"random"`` or ``"latin_hypercube"``.
    points
        Every point, seeds innermost.
    grid_shape
        Number of values per swept path for grids (``None`` otherwise).
    output
        Results folder.
    retries
        How often a point that raised is run again before it is recorded as failed.
    workers
        Size of the local cluster (``None``: one per core).
    log_scale
        Sampled paths with a log scale (drawn on log axes).
    raw
        The configuration as read (kept in the results folder's manifest).
    source
        The config file, if any.
    """

    name: str
    target: Target
    swept: tuple[str, ...]
    method: str
    points: tuple[Point, ...]
    output: Path
    grid_shape: tuple[int, ...] | None = None
    retries: int = 2
    workers: int | None = None
    log_scale: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)
    source: Path | None = None

    @property
    def seeds(self) -> list[int | None]:
        return list(dict.fromkeys(point.seed for point in self.points))


def _check_keys(table: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(table, Mapping):
        raise ConfigurationError(f"{where}: expected a table, got {table!r}")
    for key in table:
        if key not in allowed:
            raise ConfigurationError(
                f"{where}: unknown key {key!r}.{suggest(key, allowed)} Known: "
                f"{', '.join(sorted(allowed))}"
            )
    return dict(table)


def _target_kind(table: Mapping[str, Any]) -> str:
    kinds = [kind for kind in TARGET_KINDS if kind in table]
    if len(kinds) != 1:
        raise ConfigurationError(
            "[target]: give exactly one of network = NAME_OR_FILE, protocol = NAME or "
            f"function = 'module:function' (got {', '.join(kinds) or 'none'})"
        )
    return kinds[0]


def _resolve_backend(name: Any) -> str:
    from ..backend import check_backend

    return check_backend(None if name in (None, "auto") else str(name))


def _network_target(table: dict[str, Any], fixed: dict[str, Any], base: Path | None, record):
    from ..netspec import _read, apply_overrides

    name = str(table["network"])
    candidate = Path(name) if base is None else base / name
    data, _ = _read(candidate if candidate.is_file() else name)
    if "run.seed" in fixed:
        raise ConfigurationError("[fixed]: set seeds with [sweep] seeds = [...], not run.seed")
    data = apply_overrides(data, fixed)
    target = Target("network", name, _resolve_backend(table.get("backend")), data, record)
    target.network_spec({})  # refuse bad fixed values before anything runs
    return target


def _protocol_target(table: dict[str, Any], fixed: dict[str, Any], record) -> Target:
    from ..protocols import get_protocol

    name = str(table["protocol"])
    protocol = get_protocol(name)  # an unknown name is a one-line error
    settings = _check_mapping(table.get("settings", {}), "[target] settings")
    dt_ms = table.get("dt_ms", 0.1)
    if not isinstance(dt_ms, int | float) or isinstance(dt_ms, bool) or not dt_ms > 0:
        raise ConfigurationError(f"[target] dt_ms must be a positive number, got {dt_ms!r}")
    data = {
        "rule": str(table.get("rule") or protocol.default_rule),
        "settings": settings,
        "rule_parameters": {},
        "dt_ms": float(dt_ms),
        "dataset": table.get("dataset"),
    }
    target = Target("protocol", name, _resolve_backend(table.get("backend")), data, record)
    settings, rule_parameters = target.protocol_arguments(fixed)
    target = Target(
        "protocol",
        name,
        target.backend,
        {**data, "settings": settings, "rule_parameters": rule_parameters},
        record,
    )
    target.check({})
    return target


def _function_target(table: dict[str, Any], fixed: dict[str, Any], record) -> Target:
    target = Target(
        "function",
        str(table["function"]),
        "python",
        {"parameters": fixed, "version": table.get("version")},
        record,
    )
    target.function()  # importable here (and so, presumably, on the workers)
    return target


def _check_mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where}: expected a table, got {value!r}")
    return dict(value)


def _record(table: Mapping[str, Any]) -> Record:
    table = _check_keys(table, _RECORD_KEYS, "[record]")
    summaries = table.get("summaries", "all")
    if summaries == "all":
        summaries = None
    elif not (isinstance(summaries, list) and all(isinstance(s, str) for s in summaries)):
        raise ConfigurationError(
            f'[record] summaries: give "all" or a list of names, got {summaries!r}'
        )
    for key in ("weights", "spikes"):
        if not isinstance(table.get(key, False), bool):
            raise ConfigurationError(f"[record] {key}: expected true or false")
    plot = table.get("plot")
    return Record(
        summaries=tuple(summaries) if summaries is not None else None,
        weights=table.get("weights", False),
        spikes=table.get("spikes", False),
        plot=str(plot) if plot is not None else None,
    )


def _seeds(value: Any) -> list[int | None]:
    if value is None:
        return [None]
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ConfigurationError(f"[sweep] seeds: a count must be positive, got {value}")
        return list(range(1, value + 1))
    if (
        isinstance(value, list)
        and value
        and all(isinstance(s, int) and not isinstance(s, bool) for s in value)
    ):
        if len(set(value)) != len(value):
            raise ConfigurationError(f"[sweep] seeds: repeated seed in {value}")
        return list(value)
    raise ConfigurationError(
        f"[sweep] seeds: give a list of integers (or a count n for seeds 1..n), got {value!r}"
    )


def _value_sets(
    sweep: dict[str, Any],
) -> tuple[str, list[dict[str, Any]], tuple[int, ...] | None]:
    methods = [key for key in ("grid", "points", "random", "latin_hypercube") if key in sweep]
    if len(methods) != 1:
        raise ConfigurationError(
            "[sweep]: give exactly one of grid, points, random or latin_hypercube "
            f"(got {', '.join(methods) or 'none'})"
        )
    method = methods[0]
    if method == "grid":
        grid = _check_mapping(sweep["grid"], "[sweep.grid]")
        if not grid:
            raise ConfigurationError("[sweep.grid]: no parameters")
        for path, values in grid.items():
            if not isinstance(values, list) or not values:
                raise ConfigurationError(
                    f"[sweep.grid] {path!r}: give a non-empty list of values, got {values!r}"
                )
        return method, grid_values(grid), tuple(len(v) for v in grid.values())
    if method == "points":
        points = sweep["points"]
        if (
            not isinstance(points, list)
            or not points
            or not all(isinstance(p, Mapping) for p in points)
        ):
            raise ConfigurationError(
                '[sweep] points: give a list of tables, e.g. points = [{ "run.duration" = '
                '"1 s" }, ...]'
            )
        return method, [dict(p) for p in points], None
    table = _check_keys(sweep[method], _SAMPLING_KEYS, f"[sweep.{method}]")
    samples, seed = table.get("samples"), table.get("seed", 0)
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise ConfigurationError(f"[sweep.{method}] samples: a positive integer, got {samples!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigurationError(f"[sweep.{method}] seed: an integer, got {seed!r}")
    ranges = {}
    for path, spec in _check_mapping(table.get("ranges", {}), f"[sweep.{method}.ranges]").items():
        where = f"[sweep.{method}.ranges] {path!r}"
        spec = _check_keys(spec, _RANGE_KEYS, where)
        if "low" not in spec or "high" not in spec:
            raise ConfigurationError(
                f'{where}: give low and high, e.g. {{ low = "5 Hz", high = "25 Hz" }}'
            )
        scale = spec.get("scale", "linear")
        if scale not in ("linear", "log"):
            raise ConfigurationError(f'{where}: scale is "linear" or "log", got {scale!r}')
        ranges[path] = Range(spec["low"], spec["high"], scale, bool(spec.get("integer", False)))
        ranges[path].bounds(where)
    if not ranges:
        raise ConfigurationError(f"[sweep.{method}.ranges]: no parameters")
    return method, sample_values(ranges, samples, seed, method), None


def _check_paths(target: Target, value_sets: Sequence[Mapping[str, Any]]) -> None:
    """Refuse paths that no value of the sweep can set (unknown parameters).

    A path is known if at least one of its values can be applied; values that cannot be applied
    (a negative rate, a wrong unit) make only their points fail, when they run.
    """
    if target.kind == "function":
        return
    paths = list(dict.fromkeys(path for values in value_sets for path in values))
    for path in paths:
        if path in ("run.seed", "seed"):
            raise ConfigurationError(f"[sweep]: sweep seeds with seeds = [...], not with {path!r}")
        first_error: SpikeplastError | None = None
        tried: set[str] = set()
        for values in value_sets:
            if path not in values or repr(values[path]) in tried:
                continue
            tried.add(repr(values[path]))
            try:
                target.check({path: values[path]})
            except SpikeplastError as error:
                first_error = first_error or error
            else:
                break
        else:
            raise ConfigurationError(f"[sweep] {path!r}: {first_error}") from None


def sweep_from_dict(
    raw: Mapping[str, Any], source: Path | None = None, name: str | None = None
) -> SweepConfig:
    """Validate a sweep configuration (as read from TOML) and list its points.

    Parameters
    ----------
    raw
        The configuration.
    source
        Its file: network files are looked up next to it first.
    name
        Default name (the file's stem).
    """
    raw = _check_keys(raw, _TOP_KEYS, "sweep config")
    target_table = _check_mapping(raw.get("target", {}), "[target]")
    kind = _target_kind(target_table)
    _check_keys(target_table, _TARGET_KEYS[kind], f"[target] ({kind})")
    fixed = _check_mapping(raw.get("fixed", {}), "[fixed]")
    record = _record(raw.get("record", {}))
    base = source.parent if source is not None else None
    if kind == "network":
        target = _network_target(target_table, fixed, base, record)
    elif kind == "protocol":
        target = _protocol_target(target_table, fixed, record)
    else:
        target = _function_target(target_table, fixed, record)

    sweep = _check_keys(raw.get("sweep", {}), _SWEEP_KEYS, "[sweep]")
    method, value_sets, grid_shape = _value_sets(sweep)
    ranges = (
        sweep.get(method, {}).get("ranges", {}) if method in ("random", "latin_hypercube") else {}
    )
    log_scale = tuple(p for p, r in ranges.items() if r.get("scale") == "log")
    _check_paths(target, value_sets)
    points = make_points(target.model_key(), value_sets, _seeds(sweep.get("seeds")))
    swept = tuple(dict.fromkeys(path for values in value_sets for path in values))

    sweep_name = str(raw.get("name") or name or "sweep")
    output = _check_keys(raw.get("output", {}), _OUTPUT_KEYS, "[output]")
    execution = _check_keys(raw.get("execution", {}), _EXECUTION_KEYS, "[execution]")
    retries = execution.get("retries", 2)
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ConfigurationError(f"[execution] retries: a whole number >= 0, got {retries!r}")
    workers = execution.get("workers")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ConfigurationError(f"[execution] workers: a positive integer, got {workers!r}")
    return SweepConfig(
        name=sweep_name,
        target=target,
        swept=swept,
        method=method,
        points=tuple(points),
        output=Path(output.get("directory", Path("results") / "sweeps" / sweep_name)),
        grid_shape=grid_shape,
        retries=retries,
        workers=workers,
        log_scale=log_scale,
        raw=dict(raw),
        source=source,
    )


def load_sweep_config(path: str | Path) -> SweepConfig:
    """Read and validate a sweep configuration file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"sweep config {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"sweep config {str(path)!r} is not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigurationError(f"cannot read sweep config {str(path)!r}: {error}") from None
    return sweep_from_dict(raw, source=path.resolve(), name=path.stem)
