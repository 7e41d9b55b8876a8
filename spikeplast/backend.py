"""Simulation backends: the only module that selects Brian2 code-generation targets and devices.

Backends
--------
``numpy``
    Brian2's runtime target that needs no compiler; slow per time step.
``cython``
    Brian2's compiled runtime target; a cold cache compiles for ~30 s, warm runs are faster.
``cpp_standalone``
    Brian2's C++ standalone device: the whole simulation is one compiled program, fastest per
    step. Every session builds in its own directory; object files are shared through
    spikeplast's compile cache (:mod:`spikeplast.compile_cache`), so a model compiled once is
    rebuilt in about a second.
``numba_standalone``
    spikeplast's Numba device (whole-simulation JIT, no C++ toolchain), when available.
``cuda_standalone``
    Brian2CUDA's GPU device, when the optional extra is installed (``pip install
    spikeplast[cuda]``; Brian2CUDA pins its Brian2 version, 2.10.1 at the time of writing, so it
    needs Python >= 3.12) and a CUDA GPU is present.

Use a :class:`Session`: it activates the backend, sets the time step and seed, builds networks
with the composer, runs them (with progress and weight checks) and restores Brian2's previous
device and preferences on exit.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import brian2
from brian2 import ms, prefs, second
from brian2.devices.device import all_devices, get_device, reset_device, set_device
from brian2.units.fundamentalunits import Quantity

from .compose import DEFAULT_RUNAWAY_LIMIT, Built, Population, Projection, build
from .cputime import cpu_seconds
from .errors import BackendError, ConfigurationError, SimulationError, UnknownNameError, suggest

__all__ = [
    "BACKENDS",
    "RUNTIME_BACKENDS",
    "STANDALONE_BACKENDS",
    "available_backends",
    "default_backend",
    "check_backend",
    "Session",
    "cache_root",
]

RUNTIME_BACKENDS = ("numpy", "cython")
STANDALONE_BACKENDS = ("cpp_standalone", "numba_standalone", "cuda_standalone")
BACKENDS = RUNTIME_BACKENDS + STANDALONE_BACKENDS

# Brian2 logs INFO-level hints (e.g. about 'exact' integration) that users do not need to see.
brian2.BrianLogger.suppress_name("method_choice")
brian2.BrianLogger.suppress_name("base.method_choice")
# Checked by Built.check_monitor_indices after standalone runs instead.
brian2.BrianLogger.suppress_name("cannot_check_statemonitor_indices")
prefs.logging.console_log_level = "WARNING"
#: Brian2 2.9 runs `make -j` without a limit: dozens of compilers at once on a 2-core machine.
MAKE_ARGS = [f"-j{os.cpu_count() or 1}"]
prefs.devices.cpp_standalone.extra_make_args_unix = MAKE_ARGS


def cache_root() -> Path:
    """Directory of spikeplast's build caches: ``$SPIKEPLAST_CACHE`` or ``~/.cache/spikeplast``."""
    root = os.environ.get("SPIKEPLAST_CACHE")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "spikeplast"


def _numba_device_available() -> bool:
    try:
        from . import numba_device  # noqa: F401  (optional, may not exist yet)
    except ImportError:
        return False
    register = getattr(numba_device, "register", None)
    if register is None:
        return False
    try:
        register()
    except Exception:
        return False
    return "numba_standalone" in all_devices


@cache
def _is_available(name: str) -> bool:
    if name == "numpy":
        return True
    if name == "cython":
        try:
            from brian2.codegen.runtime.cython_rt import CythonCodeObject

            return bool(CythonCodeObject.is_available())
        except Exception:
            return False
    if name == "cpp_standalone":
        return shutil.which(os.environ.get("CXX", "g++")) is not None and shutil.which("make")
    if name == "numba_standalone":
        return _numba_device_available()
    if name == "cuda_standalone":
        return _cuda_device_available()
    return False


def _cuda_device_available() -> bool:
    if shutil.which("nvidia-smi") is None and not os.path.exists("/dev/nvidia0"):
        return False
    try:
        import brian2cuda  # noqa: F401  (registers the "cuda_standalone" device)
    except Exception:
        return False
    return "cuda_standalone" in all_devices


def available_backends() -> list[str]:
    """Backends that can run on this machine, fastest-to-build last."""
    return [name for name in BACKENDS if _is_available(name)]


def default_backend() -> str:
    """The backend used when none is given: the fastest available for plasticity protocols."""
    # cpp_standalone first: the most mature compiled backend; numba_standalone when no compiler
    for name in ("cpp_standalone", "numba_standalone", "cython", "numpy"):
        if _is_available(name):
            return name
    return "numpy"


def check_backend(name: str | None) -> str:
    """Validate a backend name (``None`` or ``"auto"`` -> :func:`default_backend`)."""
    if name in (None, "auto"):
        return default_backend()
    if name not in BACKENDS:
        raise UnknownNameError(
            f"unknown backend {name!r}.{suggest(str(name), BACKENDS)} Known: {', '.join(BACKENDS)}"
        )
    if not _is_available(name):
        hints = {
            "cython": "install Cython and a C++ compiler",
            "cpp_standalone": "install a C++ compiler (g++) and make",
            "numba_standalone": "install numba",
            "cuda_standalone": "install spikeplast[cuda] (Python >= 3.12) on a machine with a "
            "CUDA GPU",
        }
        raise BackendError(
            f"backend {name!r} is not available on this machine; {hints.get(name, '')} or use "
            f"one of: {', '.join(available_backends())}"
        )
    return name


class Session:
    """One simulation on one backend.

    Parameters
    ----------
    backend
        Backend name (see module doc); ``None`` picks :func:`default_backend`.
    dt
        Time step.
    seed
        Seed of the random number generator (same seed, same spikes on a given backend).
    build_dir
        Directory of a standalone project; a fresh temporary directory by default, removed on
        exit unless `keep_build` is true.
    progress
        Show a progress bar while running.
    trace_storage
        ``"clock"`` (default) or ``"event"`` storage of neuron-side traces (see
        :mod:`spikeplast.needs`).

    Examples
    --------
    >>> with Session("numpy", dt=0.1 * ms, seed=1) as session:  # doctest: +SKIP
    ...     built = session.build(populations, projections)
    ...     session.run(1 * second)
    ...     weights = built.weights("ee")
    """

    def __init__(
        self,
        backend: str | None = None,
        dt: Quantity = 0.1 * ms,
        seed: int | None = None,
        build_dir: str | os.PathLike | None = None,
        keep_build: bool = False,
        progress: bool = False,
        trace_storage: str = "clock",
    ):
        self.backend = check_backend(backend)
        self.dt = dt
        self.seed = seed
        self.progress = progress
        self.trace_storage = trace_storage
        self.keep_build = keep_build or build_dir is not None
        self.build_dir = Path(build_dir) if build_dir is not None else None
        self.built: Built | None = None
        self.timings: dict[str, float] = {}
        self._duration = 0 * second
        self._has_run = False
        self._saved_target: Any = None
        self._active = False

    @property
    def standalone(self) -> bool:
        return self.backend in STANDALONE_BACKENDS

    @property
    def _file_progress(self) -> bool:
        """Whether a progress bar follows the run through the program's progress file."""
        return self.progress and self.backend == "cpp_standalone"

    # -- context -----------------------------------------------------------------------------
    def __enter__(self) -> Session:
        if not (isinstance(self.dt, Quantity) and float(self.dt) > 0):
            raise ConfigurationError(f"dt must be a positive time, got {self.dt!r}")
        self._saved_target = prefs.codegen.target
        # Objects of earlier sessions that are only kept alive by reference cycles still hold
        # their Brian2 names; new objects would get suffixed names (..._1) and so different
        # generated code, defeating compile caches.
        gc.collect()
        if self.standalone:
            if self.build_dir is None:
                root = cache_root() / "runs"
                root.mkdir(parents=True, exist_ok=True)
                self.build_dir = Path(tempfile.mkdtemp(prefix=f"{self.backend}_", dir=root))
            set_device(self.backend, build_on_run=False, directory=str(self.build_dir))
            # again here: brian2's reinit_devices() restores the preferences of its import
            if prefs.devices.cpp_standalone.extra_make_args_unix == ["-j"]:
                prefs.devices.cpp_standalone.extra_make_args_unix = MAKE_ARGS
            device = get_device()
            device.reinit()
            device.activate(build_on_run=False, directory=str(self.build_dir))
        else:
            set_device("runtime")
            prefs.codegen.target = self.backend
        brian2.defaultclock.dt = self.dt
        if self.backend == "cpp_standalone":
            _read_steady_clock_in_time_loop(get_device())
            # Seeded at the start of main() from $SPIKEPLAST_SEED if set, so that a compiled
            # project can be rerun with other seeds; same generator seeding as brian2.seed().
            get_device().insert_code("main", _seeding_code(self.seed))
        elif self.seed is not None:
            brian2.seed(int(self.seed))
        self._active = True
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._active = False
        if self.standalone:
            device = get_device()
            # plain Brian2 runs after this session get Brian2's own loop again
            device.__dict__.pop("generate_network_source", None)
            device.reinit()
            reset_device()
            if not self.keep_build and self.build_dir is not None:
                shutil.rmtree(self.build_dir, ignore_errors=True)
        prefs.codegen.target = self._saved_target

    # -- building and running ----------------------------------------------------------------
    def build(self, populations: Sequence[Population], projections: Sequence[Projection]) -> Built:
        """Compose the network on this backend."""
        if not self._active:
            raise BackendError("Session.build must be called inside 'with Session(...)'")
        start = time.perf_counter()
        self.built = build(populations, projections, dt=self.dt, trace_storage=self.trace_storage)
        self.timings["compose"] = time.perf_counter() - start
        return self.built

    def run(
        self,
        duration: Quantity,
        runaway_limit: float = DEFAULT_RUNAWAY_LIMIT,
        description: str = "simulating",
    ) -> None:
        """Run the network for `duration` (standalone: build, compile and execute the project).

        Weights are checked for NaN and runaway values during the run on runtime backends (the
        run stops at the next check) and after it on standalone backends.
        """
        if self.built is None:
            raise BackendError("build a network before running it")
        if not (isinstance(duration, Quantity) and float(duration) >= 0):
            raise ConfigurationError(f"duration must be a non-negative time, got {duration!r}")
        built = self.built
        if self.standalone:
            if self._has_run:
                raise BackendError(
                    "a standalone session runs once; call run() once with the total duration"
                )
            if self._file_progress:  # the C++ program reports to a file (see _FileProgress)
                built.network.run(
                    duration,
                    namespace={},
                    report=_STANDALONE_PROGRESS_REPORT,
                    report_period=1 * second,
                )
            else:
                built.network.run(duration, namespace={})
            self._run_standalone(description, float(duration / second))
            self._has_run = True
            built.check_monitor_indices()
        else:
            self._run_runtime(duration, runaway_limit, description)
        built.check_weights(runaway_limit)

    def export(self, duration: Quantity, portable: bool = False) -> None:
        """Write the C++ project of the built network for `duration` without compiling it."""
        if self.backend != "cpp_standalone" or self.built is None:
            raise BackendError("export needs a network built in a cpp_standalone session")
        self.built.network.run(duration, namespace={})
        flags = list(prefs.codegen.cpp.extra_compile_args_gcc)
        if portable:
            prefs.codegen.cpp.extra_compile_args_gcc = [f for f in flags if f != "-march=native"]
        try:
            get_device().build(
                directory=str(self.build_dir), compile=False, run=False, with_output=False
            )
        finally:
            prefs.codegen.cpp.extra_compile_args_gcc = flags
        self._has_run = True

    def _run_runtime(self, duration: Quantity, runaway_limit: float, description: str) -> None:
        built = self.built
        assert built is not None
        bar = _progress_bar(self.progress, description, float(duration / second))

        def report(elapsed: Any, completed: float, start: Any, total: Any) -> None:
            if bar is not None:
                bar.update(completed * float(duration / second) - bar.n)
            built.check_weights(runaway_limit)

        start = time.perf_counter()
        cpu_before = cpu_seconds()
        try:
            built.network.run(duration, report=report, report_period=1 * second, namespace={})
        except SimulationError:
            raise
        except Exception as error:
            raise _translate_brian_error(error) from error
        finally:
            if bar is not None:
                bar.close()
        self.timings["run"] = time.perf_counter() - start
        self.timings["run_cpu"] = cpu_seconds() - cpu_before
        # the time loop alone, without code generation and (Cython) compilation
        self.timings["network_run"] = float(getattr(get_device(), "_last_run_time", 0.0) or 0.0)

    def _run_standalone(self, description: str, total_seconds: float = 0.0) -> None:
        from .compile_cache import cached_compiler

        device = get_device()
        start = time.perf_counter()
        status = _Status(self.progress, description)
        try:
            with cached_compiler(self.backend):
                status("generating and compiling")
                device.build(
                    directory=str(self.build_dir),
                    compile=True,
                    run=False,
                    with_output=False,
                )
                compiled = time.perf_counter()
                self.timings["build"] = compiled - start
                status("running")
                with _FileProgress(
                    self._file_progress, description, total_seconds, self.build_dir / _PROGRESS_FILE
                ):
                    cpu_before = cpu_seconds()
                    device.run(directory=str(self.build_dir), with_output=False)
                    # CPU time is robust to other load on shared machines; wall time is not
                    self.timings["run_cpu"] = cpu_seconds() - cpu_before
                self.timings["run"] = time.perf_counter() - compiled
                # time spent in the network's run loop (without setup and synapse creation)
                last_run = getattr(device, "_last_run_time", None)
                if last_run is not None:
                    self.timings["network_run"] = float(last_run)
        except Exception as error:
            raise _translate_brian_error(error) from error
        finally:
            status.close()


def _read_steady_clock_in_time_loop(device: Any) -> None:
    """Make the C++ time loop of Brian2 2.9 read a cheap clock (Brian2 2.10 does the same).

    Brian2 2.9's ``network.cpp`` calls ``std::clock()``, a system call of ~0.4 µs, after every
    time step, and before every object of every step when a report function (the progress file)
    is set. On the Sjöström protocol (6 million steps of a two-neuron network) that was 2/3 of the
    program's time without progress and 3/4 with it. Here the loop reads
    ``std::chrono::steady_clock`` (no system call) and checks for a report once per step. The
    only change in behaviour is Brian2 2.10's: the run time that the program records is
    wall-clock instead of CPU time. Later templates (no ``std::clock_t``) are left alone, and so
    is the OpenMP variant, which reads ``omp_get_wtime``.
    """
    original = type(device).generate_network_source

    def generate_network_source(writer: Any, compiler: Any) -> None:
        original(device, _SteadyClockWriter(writer), compiler)

    device.generate_network_source = generate_network_source


class _SteadyClockWriter:
    """Writer proxy that rewrites the CPU-clock calls of a rendered ``network.cpp``."""

    _REPLACEMENTS = (
        ("std::clock_t start, current;", "std::chrono::steady_clock::time_point start, current;"),
        ("std::clock()", "std::chrono::steady_clock::now()"),
        (
            "((double)(current - start) / CLOCKS_PER_SEC)",
            "std::chrono::duration<double>(current - start).count()",
        ),
        (
            "(double)(current - start)/(1 * CLOCKS_PER_SEC)",
            "std::chrono::duration<double>(current - start).count()",
        ),
    )

    def __init__(self, writer: Any):
        self._writer = writer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)

    def write(self, filename: str, contents: Any) -> None:
        if filename == "network.*" and "std::clock_t start, current;" in contents.cpp_file:
            source = contents.cpp_file
            # the report check once per step, not once per object and step
            source = re.sub(
                r"if \(report_func\)(\s*\{\s*current = std::clock\(\);)",
                r"if (report_func && i == 0)\1",
                source,
            )
            for old, new in self._REPLACEMENTS:
                source = source.replace(old, new)
            if "CLOCKS_PER_SEC" not in source:  # every use rewritten: safe to swap
                self._writer.write("network.cpp", "#include <chrono>\n" + source)
                self._writer.write("network.h", contents.h_file)
                return
        self._writer.write(filename, contents)


#: Environment variable that overrides the seed of a compiled C++ project.
SEED_VARIABLE = "SPIKEPLAST_SEED"


def _seeding_code(seed: int | None) -> str:
    default = "" if seed is None else f"{int(seed)}UL"
    fallback = (
        "for (size_t _i = 0; _i < brian::_random_generators.size(); _i++) "
        "brian::_random_generators[_i].seed();"
        if seed is None
        else "_spikeplast_seed = " + default + "; _spikeplast_seeded = true;"
    )
    return f"""{{
    unsigned long _spikeplast_seed = 0;
    bool _spikeplast_seeded = false;
    const char* _spikeplast_seed_text = getenv("{SEED_VARIABLE}");
    if (_spikeplast_seed_text != NULL) {{
        _spikeplast_seed = strtoul(_spikeplast_seed_text, NULL, 10);
        _spikeplast_seeded = true;
    }} else {{
        {fallback}
    }}
    if (_spikeplast_seeded)
        for (size_t _i = 0; _i < brian::_random_generators.size(); _i++)
            brian::_random_generators[_i].seed(_spikeplast_seed + _i);
}}"""


def _translate_brian_error(error: Exception) -> Exception:
    """Turn Brian2's build and run failures into spikeplast errors with a one-line message."""
    if isinstance(error, SimulationError | ConfigurationError):
        return error
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if "compilation failed" in message.lower():
        return BackendError(f"the C++ project did not compile: {message}")
    if "run failed" in message.lower():
        return SimulationError(f"the standalone simulation failed: {message}")
    return SimulationError(f"Brian2 failed: {type(error).__name__}: {message}")


def _progress_bar(enabled: bool, description: str, total_seconds: float) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total_seconds, desc=description, unit="s(bio)", leave=False)


#: File in the project directory where a standalone program with progress writes the completed
#: fraction of its run (C++ report function, called about once per second of wall-clock time).
_PROGRESS_FILE = "progress.txt"
_STANDALONE_PROGRESS_REPORT = (
    f'std::ofstream _progress("{_PROGRESS_FILE}"); _progress << completed << std::endl;'
)


class _FileProgress:
    """Progress bar of a standalone run, fed by polling the file its report function writes."""

    def __init__(self, enabled: bool, description: str, total_seconds: float, path: Path):
        self.bar = _progress_bar(enabled and total_seconds > 0, description, total_seconds)
        self.total = total_seconds
        self.path = path
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self.done.wait(0.5):
            try:
                completed = float(self.path.read_text().strip() or 0.0)
            except (OSError, ValueError):  # not written yet, or caught mid-write
                continue
            self.bar.update(completed * self.total - self.bar.n)

    def __enter__(self) -> _FileProgress:
        if self.bar is not None:
            self.path.unlink(missing_ok=True)
            self.thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.bar is not None:
            self.done.set()
            self.thread.join()
            self.bar.close()


class _Status:
    """Phase display for standalone runs, whose progress cannot be observed step by step."""

    def __init__(self, enabled: bool, description: str):
        self.enabled = enabled
        self.description = description
        self.started = time.perf_counter()
        self.interactive = enabled and sys.stderr.isatty()
        self.phase = ""

    def __call__(self, phase: str) -> None:
        if not self.enabled:
            return
        self._finish_phase()
        self.phase = phase
        self.started = time.perf_counter()
        end = "" if self.interactive else "\n"
        print(f"{self.description}: {phase} ...", end=end, file=sys.stderr, flush=True)

    def _finish_phase(self) -> None:
        if self.phase and self.interactive:
            elapsed = time.perf_counter() - self.started
            print(f" {elapsed:.1f} s", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled:
            self._finish_phase()
