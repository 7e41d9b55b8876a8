"""On-disk cache of generated simulation modules, shared by concurrent processes.

A generated module is stored as ``<cache>/<key>/<module>.py`` where the key is a digest of its
source (which holds the model's structure but no parameter values), of the runtime helpers and of
the Numba/Python versions.  Numba's own cache (``cache=True``) keeps the machine code next to it in
``__pycache__``; it is valid as long as the ``.py`` file is never rewritten, so the file is created
once with an atomic hard link and never touched again.  Numba writes its cache files atomically,
so processes compiling the same module at the same time at worst both compile it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType

__all__ = ["cache_dir", "module_key", "load_module"]

_ENV_CACHE = "SPIKEPLAST_NUMBA_CACHE"
_loaded: dict[str, ModuleType] = {}
_lock = threading.Lock()


def cache_dir() -> Path:
    """Directory of the module cache.

    ``$SPIKEPLAST_NUMBA_CACHE`` if set, else ``$SPIKEPLAST_CACHE/numba``, else
    ``$XDG_CACHE_HOME/spikeplast/numba`` (``~/.cache/spikeplast/numba``).
    """
    if os.environ.get(_ENV_CACHE):
        return Path(os.environ[_ENV_CACHE])
    if os.environ.get("SPIKEPLAST_CACHE"):
        return Path(os.environ["SPIKEPLAST_CACHE"]) / "numba"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "spikeplast" / "numba"


def _runtime_digest() -> str:
    import numba

    from . import runtime

    digest = hashlib.sha256()
    digest.update(Path(runtime.__file__).read_bytes())
    digest.update(numba.__version__.encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def module_key(source: str) -> str:
    """Cache key of a generated module: its source plus everything its machine code depends on."""
    digest = hashlib.sha256()
    digest.update(source.encode())
    digest.update(_runtime_digest().encode())
    return digest.hexdigest()[:24]


def load_module(source: str, directory: Path | None = None) -> tuple[ModuleType, str, bool]:
    """Import the module with this source, writing it to the cache first if needed.

    Returns the module, its key and whether it was already in the cache (on disk or loaded).
    """
    key = module_key(source)
    with _lock:
        if key in _loaded:
            return _loaded[key], key, True
        root = Path(directory) if directory is not None else cache_dir()
        folder = root / key
        folder.mkdir(parents=True, exist_ok=True)
        module_name = f"_spikeplast_numba_{key}"
        path = folder / f"{module_name}.py"
        cached = path.exists()
        if not cached:
            handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(handle, "w") as file:
                file.write(source)
            try:
                os.link(temporary, path)  # fails if another process was first: keep theirs
            except FileExistsError:
                cached = True
            finally:
                os.unlink(temporary)
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        _loaded[key] = module
        return module, key, cached
