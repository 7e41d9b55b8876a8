"""spikeplast: spiking networks with plastic synapses on Brian2.

The package root imports nothing heavy: the rate-based bridges (``spikeplast.bridges``) must work
without Brian2. The spiking API below is loaded on first use.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Population": "spikeplast.compose",
    "Projection": "spikeplast.compose",
    "Built": "spikeplast.compose",
    "Session": "spikeplast.backend",
    "available_backends": "spikeplast.backend",
    "get_rule": "spikeplast.rules",
    "RULES": "spikeplast.rules",
    "Rule": "spikeplast.rule",
    "Contribution": "spikeplast.rule",
    "Trace": "spikeplast.needs",
    "LIF": "spikeplast.neurons",
    "AdEx": "spikeplast.neurons",
    "SpikeTrains": "spikeplast.neurons",
    "PoissonSource": "spikeplast.neurons",
    "run_protocol": "spikeplast.protocols",
    "get_protocol": "spikeplast.protocols",
    "load_dataset": "spikeplast.data",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'spikeplast' has no attribute {name!r}")


def _register_devices() -> None:
    """Register spikeplast's Brian2 devices (Numba) once Brian2 is imported."""
    try:
        from .numba_device import register
    except ImportError:
        return
    register()


class _Brian2ImportHook:
    """Registers spikeplast's devices when Brian2 is imported after spikeplast."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "brian2":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("brian2")
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original_exec = loader.exec_module

        def exec_module(module: Any) -> None:
            original_exec(module)
            _register_devices()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if "brian2" in sys.modules:
    _register_devices()
else:
    import importlib.util

    sys.meta_path.insert(0, _Brian2ImportHook())
