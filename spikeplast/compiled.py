"""Build once, run many: a network compiled once and rerun with new values.

:class:`CompiledNetwork` exports a network to a C++ standalone project (see
:mod:`spikeplast.export`), compiles it once into a cache folder keyed by the model's structure, and
then runs the binary with new values on its command line — Brian2's ``run_args`` mechanism, here
without a Brian2 device in the loop, so any process (a Dask worker, say) can rerun it. Each run
writes its own results folder.

Which values can change without recompiling (the *runtime paths* of a network file):

* ``run.seed`` (the binary seeds from ``$SPIKEPLAST_SEED``);
* ``populations.<P>.rate`` of Poisson sources and numeric ``populations.<P>.init.<var>``;
* ``projections.<X>.w_init`` (a number) and ``projections.<X>.plastic``;
* ``projections.<X>.rule_parameters.<name>`` when ``<name>`` is a constant of the rule's code
  (amplitudes, bounds, ...). Time constants of neuron-side traces define the model's structure.

A run with new values equals a fresh build with those values to rounding (a promoted constant is
read from memory rather than compiled in, so optimised code may round the last bit differently;
runs with the defaults are bit for bit equal), with one exception: a runtime value that replaces a
random initialisation (``w_init = "rand()"``) leaves the compiled
model drawing those random numbers first, so its random stream differs from a fresh build's.

Other paths (durations, time constants, sizes, connectivity, neuron parameters) change the
structure: :meth:`CompiledNetwork.check_paths` names them, and a sweep builds one project per
structure (the object cache makes those builds cheap).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from brian2 import second

from .backend import SEED_VARIABLE, cache_root
from .compile_cache import cached_compiler
from .errors import BackendError, ConfigurationError, SimulationError
from .export import export_network, load_results
from .netspec import NetworkResult, NetworkSpec, apply_overrides, network_from_dict
from .neurons import PoissonSource
from .params import parse_quantity
from .results import versions
from .rule import RuleContext

__all__ = ["CompiledNetwork", "runtime_paths", "StructuralChange"]


class StructuralChange(ConfigurationError):
    """A value that cannot change without recompiling the model."""


@dataclass(frozen=True)
class _Setter:
    """How a runtime path reaches the binary: a ``group.variable`` or the seed."""

    target: str  # "seed" or "<brian object>.<variable>"
    kind: str  # "seed", "quantity", "number", "bool"


def _rule_constants(spec: NetworkSpec, projection_name: str) -> set[str]:
    projection = next(p for p in spec.projections if p.name == projection_name)
    if projection.rule is None:
        return set()
    models = {p.name: p.model for p in spec.populations}
    ctx = RuleContext(
        projection.name,
        models[projection.pre],
        models[projection.post],
        models.get(projection.modulator) if projection.modulator else None,
    )
    return set(projection.rule.contribute(ctx).namespace)


def runtime_paths(spec: NetworkSpec, paths: Iterable[str]) -> dict[str, _Setter]:
    """Classify dotted paths; raise :class:`StructuralChange` naming those that need a rebuild."""
    setters: dict[str, _Setter] = {}
    structural = []
    populations = {p.name: p for p in spec.populations}
    projections = {p.name: p for p in spec.projections}
    for path in paths:
        parts = path.split(".")
        setter = None
        if parts == ["run", "seed"]:
            setter = _Setter("seed", "seed")
        elif len(parts) == 3 and parts[0] == "populations" and parts[1] in populations:
            if parts[2] == "rate" and isinstance(populations[parts[1]].model, PoissonSource):
                setter = _Setter(f"{parts[1]}.rate", "quantity")
        elif len(parts) == 4 and parts[0] == "populations" and parts[2] == "init":
            setter = _Setter(f"{parts[1]}.{parts[3]}", "quantity")
        elif len(parts) >= 3 and parts[0] == "projections" and parts[1] in projections:
            name = parts[1]
            if parts[2:] == ["w_init"]:
                setter = _Setter(f"{name}.w", "number")
            elif parts[2:] == ["plastic"]:
                setter = _Setter(f"{name}.plastic", "bool")
            elif len(parts) == 4 and parts[2] == "rule_parameters":
                if parts[3] in _rule_constants(spec, name):
                    setter = _Setter(f"{name}.{parts[3]}", "quantity")
        if setter is None:
            structural.append(path)
        else:
            setters[path] = setter
    if structural:
        raise StructuralChange(
            f"{', '.join(structural)} cannot change without recompiling the model (they set its "
            "structure: durations, time constants, sizes, connectivity or neuron parameters)"
        )
    return setters


#: Changes whenever what goes into the structure key changes (old cache entries are ignored).
_KEY_SCHEME = 3


def _value_at(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _is_zero(value: Any) -> bool:
    try:
        return float(value) == 0.0
    except (TypeError, ValueError):
        return False


def _passable(value: Any) -> bool:
    """Whether a default can be given on the command line (a number or a quantity string)."""
    if isinstance(value, bool | int | float):
        return True
    if isinstance(value, str):
        try:
            parse_quantity(value)
        except ConfigurationError:
            return False
        return True
    return False


def _structure_key(spec: NetworkSpec, setters: Mapping[str, _Setter], portable: bool) -> str:
    # Runtime values are always passed on the command line (defaults included), so they are left
    # out of the key, except defaults that are expressions (e.g. "rand()"): those are compiled in.
    data = copy.deepcopy(dict(spec.data))
    data = apply_overrides(
        data, {path: "<runtime>" for path in setters if _passable(_value_at(spec.data, path))}
    )
    text = json.dumps(
        [_KEY_SCHEME, data, sorted(setters), portable, versions()], sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _argument(setter: _Setter, value: Any, path: str) -> str:
    if setter.kind == "bool":
        return f"{setter.target}={1.0 if value else 0.0!r}"
    if setter.kind == "number":
        if isinstance(value, str) or isinstance(value, bool):
            raise ConfigurationError(f"{path}: expected a number, got {value!r}")
        return f"{setter.target}={float(value)!r}"
    quantity = parse_quantity(value, path) if isinstance(value, str) else value
    return f"{setter.target}={float(quantity)!r}"


class CompiledNetwork:
    """A network compiled once for `runtime` paths, rerun with new values.

    Parameters
    ----------
    spec
        The network (its values at the runtime paths are the defaults).
    runtime
        Dotted paths that runs may change (see module doc).
    portable
        Compile without ``-march=native``.
    """

    def __init__(self, spec: NetworkSpec, runtime: Iterable[str] = (), portable: bool = False):
        self.spec = spec
        self.runtime = tuple(dict.fromkeys(runtime))
        self.setters = runtime_paths(spec, self.runtime)
        self.portable = portable
        self.key = _structure_key(spec, self.setters, portable)
        self.directory = cache_root() / "compiled" / self.key
        self.build_seconds = 0.0

    # -- building ----------------------------------------------------------------------------
    def _default(self, path: str) -> Any:
        """The network's own value at a runtime path (rule parameters from the rule object, which
        includes values coming from a parameter set rather than the network file)."""
        parts = path.split(".")
        if parts[0] == "projections" and len(parts) == 4 and parts[2] == "rule_parameters":
            projection = next(p for p in self.spec.projections if p.name == parts[1])
            value = getattr(projection.rule, parts[3])
            return value if isinstance(value, str) else float(value)
        return _value_at(self.spec.data, path)

    def _promoted_spec(self) -> NetworkSpec:
        promoted: dict[str, list[str]] = {}
        for path in self.runtime:
            parts = path.split(".")
            if parts[0] == "projections" and len(parts) == 4 and parts[2] == "rule_parameters":
                promoted.setdefault(parts[1], []).append(parts[3])
        projections = []
        for projection in self.spec.projections:
            names = tuple(promoted.get(projection.name, ()))
            rule = projection.rule
            if rule is not None:
                # Rules leave out terms whose constant is zero (e.g. A3_minus of minimal triplet
                # models); build with a non-zero placeholder so that the term exists. Every run
                # passes the actual value, so the placeholder is never used.
                zeros = {n: 1.0 for n in names if _is_zero(getattr(rule, n, None))}
                if zeros:
                    rule = rule.replace(**zeros)
            projections.append(replace(projection, rule=rule, runtime_parameters=names))
        return replace(self.spec, projections=tuple(projections))

    def build(self) -> Path:
        """Export and compile into the cache (once per structure); return the project folder."""
        if (self.directory / "main").is_file():
            return self.directory
        started = time.perf_counter()
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".building_", dir=self.directory.parent))
        try:
            export_network(self._promoted_spec(), staging, portable=self.portable)
            with cached_compiler("cpp_standalone"):
                completed = subprocess.run(
                    ["make", f"-j{os.cpu_count() or 1}"],
                    cwd=staging,
                    capture_output=True,
                    text=True,
                )
            if completed.returncode != 0:
                raise BackendError(
                    f"compiling {self.spec.name} failed: {completed.stderr.strip()[-500:]}"
                )
            with contextlib.suppress(OSError):  # another process may have won the race
                os.rename(staging, self.directory)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        self.build_seconds = time.perf_counter() - started
        return self.directory

    # -- running -----------------------------------------------------------------------------
    def run(
        self,
        values: Mapping[str, Any] | None = None,
        seed: int | None = None,
        results_dir: str | Path | None = None,
    ) -> NetworkResult:
        """Run the compiled binary with `values` at runtime paths (others raise) and `seed`."""
        values = dict(values or {})
        unknown = [p for p in values if p not in self.setters]
        if unknown:
            raise StructuralChange(
                f"{', '.join(unknown)} were not declared as runtime paths of this compiled model "
                f"(declared: {', '.join(self.runtime) or 'none'})"
            )
        project = self.build()
        for path in self.setters:
            default = self._default(path)
            if path not in values and path != "run.seed" and _passable(default):
                values[path] = default
        if "run.seed" in values:
            seed = values.pop("run.seed")
        seed = self.spec.seed if seed is None else seed
        arguments = [_argument(self.setters[p], v, p) for p, v in values.items()]
        own_folder = results_dir is None
        folder = (
            Path(tempfile.mkdtemp(prefix="run_", dir=project))
            if own_folder
            else Path(results_dir).resolve()
        )
        folder.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        if seed is not None:
            env[SEED_VARIABLE] = str(int(seed))
        started = time.perf_counter()
        completed = subprocess.run(
            [str(project / "main"), "--results_dir", f"{folder}/", *arguments],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
        try:
            if completed.returncode != 0:
                raise SimulationError(
                    f"{self.spec.name}: the compiled model failed: "
                    f"{(completed.stdout + completed.stderr).strip()[-300:]}"
                )
            return self._collect(project, folder, seed, elapsed)
        finally:
            if own_folder:
                shutil.rmtree(folder, ignore_errors=True)

    def _collect(
        self, project: Path, folder: Path, seed: int | None, elapsed: float
    ) -> NetworkResult:
        relative = os.path.relpath(folder, project)
        results = load_results(project, results=relative)
        weights = {
            k.split(":", 1)[1]: v for k, v in results.arrays.items() if k.startswith("weights:")
        }
        spikes, states = {}, {}
        for key, values in results.arrays.items():
            kind, _, rest = key.partition(":")
            if kind == "spikes" and rest.endswith(":i"):
                owner = rest[:-2]
                spikes[owner] = (values, results.arrays[f"spikes:{owner}:t"])
            elif kind == "state":
                owner, variable = rest.split(":", 1)
                states.setdefault(owner, {})[variable] = values
        for name, w in weights.items():
            if not np.all(np.isfinite(w)):
                raise SimulationError(f"projection {name!r}: weights became NaN or infinite")
        return NetworkResult(
            name=self.spec.name,
            backend="cpp_standalone",
            seed=seed,
            duration_s=float(self.spec.duration / second),
            weights=weights,
            spikes=spikes,
            states=states,
            timings={"build": self.build_seconds, "run": elapsed},
        )

    @classmethod
    def from_data(
        cls, data: Mapping[str, Any], runtime: Iterable[str] = (), portable: bool = False
    ) -> CompiledNetwork:
        """Compile a network description (TOML data) for the given runtime paths."""
        return cls(network_from_dict(data), runtime, portable)
