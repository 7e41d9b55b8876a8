"""Networks described in TOML files: populations, projections, run settings, what to record.

A network file (``models/networks/*.toml``) is what ``spikeplast run``, ``spikeplast export`` and
``spikeplast sweep`` take. Units are strings, as in parameter sets::

    name = "song2000"
    source = "Song, Miller & Abbott (2000)"
    [run]
    duration = "100 s"
    dt = "0.1 ms"
    seed = 1
    [populations.inputs]
    model = "poisson"            # poisson | spike-trains | lif | adex | a neuron parameter set
    n = 1000
    rate = "15 Hz"
    [populations.neuron]
    model = "lif"
    n = 1
    parameters = { C_m = "100 pF", V_th = "-54 mV" }
    [projections.ff]
    pre = "inputs"
    post = "neuron"
    rule = "pair-stdp"           # family, parameter-set name or TOML file; omit for static
    rule_parameters = { A_plus = 0.01, w_max = 1.0 }
    weight_scale = "0.1 nS"
    connect = "all-to-all"       # or "one-to-one", or a table {p = 0.1}
    w_init = "rand()"
    [record]
    spikes = ["neuron"]
    state = [{ owner = "ff", variables = ["w"], record = [0, 1], dt = "1 s" }]

Any value can be replaced before building with a dotted path, e.g.
``{"projections.ff.rule_parameters.A_plus": 0.02, "run.seed": 3}`` (used by sweeps).
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from brian2 import second
from brian2.units.fundamentalunits import Quantity, get_dimensions

from .backend import Session
from .compose import Built, PoissonDrive, Population, Projection
from .errors import ConfigurationError, ParameterError, UnknownNameError, suggest
from .neurons import PoissonSource, SpikeTrains, get_neuron
from .params import parse_quantity
from .resources import models_dir
from .rules import get_rule

__all__ = [
    "NetworkSpec",
    "StateRecord",
    "NetworkResult",
    "load_network",
    "network_from_dict",
    "apply_overrides",
    "available_networks",
    "build_network",
    "run_network",
]

_TOP_KEYS = {
    "name",
    "description",
    "source",
    "notes",
    "run",
    "populations",
    "projections",
    "record",
}
_POPULATION_KEYS = {"model", "n", "rate", "trains_ms", "parameters", "init", "drives"}
_PROJECTION_KEYS = {
    "pre",
    "post",
    "rule",
    "rule_parameters",
    "receptor",
    "weight_scale",
    "connect",
    "w_init",
    "delay",
    "plastic",
    "modulator",
    "weight_dtype",
    "plasticity_at",
}


@dataclass(frozen=True)
class StateRecord:
    """A state monitor request: variables of a population or projection every `dt`."""

    owner: str
    variables: tuple[str, ...]
    record: Any = True
    dt: Quantity | None = None


@dataclass(frozen=True)
class NetworkSpec:
    """A network ready to build: populations, projections, run settings and records."""

    name: str
    populations: tuple[Population, ...]
    projections: tuple[Projection, ...]
    duration: Quantity
    dt: Quantity
    seed: int | None
    spikes: tuple[str, ...] = ()
    states: tuple[StateRecord, ...] = ()
    description: str = ""
    source: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def model_hash(self) -> str:
        """Hash of everything that defines the network (values included), for caches/manifests."""
        text = json.dumps(self.data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _quantity(value: Any, where: str, unit: Any = None) -> Any:
    quantity = parse_quantity(value, where)
    if unit is not None and get_dimensions(quantity) is not get_dimensions(unit):
        raise ParameterError(f"{where}: expected a value in {unit}, got {value!r}")
    return quantity


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigurationError(
                f"{where}: unknown key {key!r}.{suggest(key, allowed)} Known: "
                f"{', '.join(sorted(allowed))}"
            )


def _population(name: str, table: Mapping[str, Any], where: str) -> Population:
    _check_keys(table, _POPULATION_KEYS, where)
    if "model" not in table:
        raise ConfigurationError(f"{where}: give a 'model' (poisson, spike-trains, lif, adex, ...)")
    model_name = str(table["model"])
    n = table.get("n")
    if model_name == "poisson":
        rate = _quantity(table.get("rate", "10 Hz"), f"{where}.rate", 1 / second)
        model: Any = PoissonSource(rate=rate)
    elif model_name == "spike-trains":
        trains = table.get("trains_ms")
        if not isinstance(trains, list) or not all(isinstance(t, list) for t in trains):
            raise ConfigurationError(f"{where}: spike-trains need trains_ms = [[t, ...], ...]")
        model = SpikeTrains([np.asarray(t, dtype=float) * 1e-3 for t in trains])
    else:
        model = get_neuron(model_name, **dict(table.get("parameters", {})))
    init = {
        k: parse_quantity(v, f"{where}.init.{k}")
        if isinstance(v, str)
        and any(c.isalpha() for c in v)
        and not v.startswith(("rand", "randn"))
        else v
        for k, v in dict(table.get("init", {})).items()
    }
    drives = []
    for index, drive in enumerate(table.get("drives", [])):
        context = f"{where}.drives[{index}]"
        _check_keys(drive, {"n", "rate", "weight", "receptor", "sampler"}, context)
        missing = [k for k in ("n", "rate", "weight") if k not in drive]
        if missing:
            raise ConfigurationError(f"{context}: give {', '.join(missing)}")
        drives.append(
            PoissonDrive(
                n=int(drive["n"]),
                rate=_quantity(drive["rate"], f"{context}.rate", 1 / second),
                weight=_quantity(drive["weight"], f"{context}.weight"),
                receptor=str(drive.get("receptor", "exc")),
                sampler=str(drive.get("sampler", "inversion")),
            )
        )
    return Population(
        name, model, n=int(n) if n is not None else None, init=init, drives=tuple(drives)
    )


def _projection(name: str, table: Mapping[str, Any], where: str) -> Projection:
    _check_keys(table, _PROJECTION_KEYS, where)
    for required in ("pre", "post"):
        if required not in table:
            raise ConfigurationError(f"{where}: give {required!r}")
    rule = None
    if "rule" in table:
        rule = get_rule(str(table["rule"]), **dict(table.get("rule_parameters", {})))
    elif "rule_parameters" in table:
        raise ConfigurationError(f"{where}: rule_parameters without a rule")
    scale = table.get("weight_scale")
    delay = table.get("delay")
    return Projection(
        name,
        str(table["pre"]),
        str(table["post"]),
        rule=rule,
        receptor=table.get("receptor", "default"),
        weight_scale=_quantity(scale, f"{where}.weight_scale") if scale is not None else None,
        connect=table.get("connect", "all-to-all"),
        w_init=table.get("w_init", 1.0),
        delay=_quantity(delay, f"{where}.delay", second) if delay is not None else None,
        plastic=bool(table.get("plastic", True)),
        modulator=table.get("modulator"),
        weight_dtype=str(table.get("weight_dtype", "float64")),
        plasticity_at=str(table.get("plasticity_at", "soma")),
    )


def network_from_dict(data: Mapping[str, Any], where: str = "network") -> NetworkSpec:
    """Validate a network description (as read from TOML) and build its specification."""
    _check_keys(data, _TOP_KEYS, where)
    run = dict(data.get("run", {}))
    _check_keys(run, {"duration", "dt", "seed"}, f"{where}: [run]")
    if "duration" not in run:
        raise ConfigurationError(f'{where}: [run] needs a duration, e.g. duration = "10 s"')
    duration = _quantity(run["duration"], f"{where}: run.duration", second)
    dt = _quantity(run.get("dt", "0.1 ms"), f"{where}: run.dt", second)
    if not float(duration) > 0 or not float(dt) > 0:
        raise ConfigurationError(f"{where}: run.duration and run.dt must be positive")
    seed = run.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ConfigurationError(f"{where}: run.seed must be an integer, got {seed!r}")
    populations = data.get("populations", {})
    projections = data.get("projections", {})
    if not populations:
        raise ConfigurationError(f"{where}: no [populations]")
    pops = tuple(_population(n, t, f"{where}: populations.{n}") for n, t in populations.items())
    projs = tuple(_projection(n, t, f"{where}: projections.{n}") for n, t in projections.items())
    record = dict(data.get("record", {}))
    _check_keys(record, {"spikes", "state"}, f"{where}: [record]")
    states = []
    for index, entry in enumerate(record.get("state", [])):
        _check_keys(
            entry, {"owner", "variables", "record", "dt"}, f"{where}: record.state[{index}]"
        )
        if "owner" not in entry or "variables" not in entry:
            raise ConfigurationError(f"{where}: record.state[{index}] needs owner and variables")
        dt_record = entry.get("dt")
        states.append(
            StateRecord(
                owner=str(entry["owner"]),
                variables=tuple(entry["variables"]),
                record=entry.get("record", True),
                dt=_quantity(dt_record, f"{where}: record.state[{index}].dt", second)
                if dt_record is not None
                else None,
            )
        )
    return NetworkSpec(
        name=str(data.get("name", "network")),
        populations=pops,
        projections=projs,
        duration=duration,
        dt=dt,
        seed=seed,
        spikes=tuple(record.get("spikes", [])),
        states=tuple(states),
        description=str(data.get("description", "")),
        source=str(data.get("source", "")),
        data=copy.deepcopy(dict(data)),
    )


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of a network description with dotted-path values replaced (tables created as needed
    only below existing populations/projections)."""
    result = copy.deepcopy(dict(data))
    for path, value in overrides.items():
        parts = path.split(".")
        node: Any = result
        for depth, part in enumerate(parts[:-1]):
            if part not in node:
                creatable = depth >= 2 and parts[0] in ("populations", "projections")
                if not creatable and not (depth == 0 and part == "run"):
                    raise ConfigurationError(
                        f"cannot set {path!r}: {'.'.join(parts[: depth + 1])!r} does not exist."
                        f"{suggest(part, node)}"
                    )
                node[part] = {}
            node = node[part]
            if not isinstance(node, dict):
                raise ConfigurationError(f"cannot set {path!r}: {part!r} is not a table")
        node[parts[-1]] = value
    return result


@lru_cache(maxsize=1)
def available_networks() -> dict[str, Path]:
    """Shipped network files by name."""
    return {p.stem: p for p in sorted((models_dir() / "networks").glob("*.toml"))}


def _read(name: str | Path) -> tuple[dict[str, Any], str]:
    path = Path(name)
    if not path.is_file():
        shipped = available_networks()
        if str(name) not in shipped:
            raise UnknownNameError(
                f"unknown network {str(name)!r}.{suggest(str(name), shipped)} Shipped: "
                f"{', '.join(shipped) or 'none'}; or give the path of a .toml file"
            )
        path = shipped[str(name)]
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), str(path)
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"network file {str(path)!r} is not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigurationError(f"cannot read network file {str(path)!r}: {error}") from None


def load_network(name: str | Path, overrides: Mapping[str, Any] | None = None) -> NetworkSpec:
    """Load a shipped network by name or a TOML file, with optional dotted-path overrides."""
    data, where = _read(name)
    if overrides:
        data = apply_overrides(data, overrides)
    return network_from_dict(data, where)


@dataclass
class NetworkResult:
    """What a network run recorded.

    Attributes
    ----------
    weights
        Final weights per projection.
    spikes
        ``(indices, times_s)`` per recorded population.
    states
        Per state record ``"<owner>"``: ``{"t": times_s, variable: array (time, index)}`` in
        SI units.
    timings
        Wall-clock seconds per phase.
    """

    name: str
    backend: str
    seed: int | None
    duration_s: float
    weights: dict[str, np.ndarray]
    spikes: dict[str, tuple[np.ndarray, np.ndarray]]
    states: dict[str, dict[str, np.ndarray]]
    timings: dict[str, float]

    def summary(self) -> dict[str, float]:
        """Scalar summaries: mean/std of each projection's weights, rate of each population."""
        out: dict[str, float] = {}
        for name, w in self.weights.items():
            out[f"{name}.w_mean"] = float(np.mean(w)) if w.size else float("nan")
            out[f"{name}.w_std"] = float(np.std(w)) if w.size else float("nan")
        for name, (indices, _) in self.spikes.items():
            out[f"{name}.spike_count"] = float(indices.size)
        return out


def build_network(session: Session, spec: NetworkSpec) -> tuple[Built, dict[str, Any]]:
    """Build `spec` in `session` with its monitors; return the built network and monitors."""
    built = session.build(spec.populations, spec.projections)
    monitors: dict[str, Any] = {}
    for population in spec.spikes:
        monitors[f"spikes:{population}"] = built.spike_monitor(population)
    for index, state in enumerate(spec.states):
        monitors[f"state:{state.owner}"] = built.monitor(
            state.owner,
            list(state.variables),
            record=state.record,
            dt=state.dt,
            name=f"{state.owner}_record_{index}",
        )
    return built, monitors


def run_network(
    spec: NetworkSpec,
    backend: str | None = None,
    progress: bool = False,
    seed: int | None = None,
) -> NetworkResult:
    """Build and run a network specification; return what it recorded."""
    seed = spec.seed if seed is None else seed
    with Session(backend, dt=spec.dt, seed=seed, progress=progress) as session:
        built, monitors = build_network(session, spec)
        session.run(spec.duration, description=spec.name)
        weights = {name: built.weights(name) for name in built.synapses}
        spikes, states = {}, {}
        for key, monitor in monitors.items():
            kind, owner = key.split(":", 1)
            if kind == "spikes":
                spikes[owner] = (np.asarray(monitor.i[:]).copy(), np.asarray(monitor.t_[:]).copy())
            else:
                record = {"t": np.asarray(monitor.t_[:]).copy()}
                for variable in monitor.record_variables:
                    record[variable] = np.asarray(getattr(monitor, variable + "_")).T.copy()
                states[owner] = record
        return NetworkResult(
            name=spec.name,
            backend=session.backend,
            seed=seed,
            duration_s=float(spec.duration / second),
            weights=weights,
            spikes=spikes,
            states=states,
            timings=dict(session.timings),
        )
