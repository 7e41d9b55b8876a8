"""Saving results atomically: JSON metadata and rows, NumPy arrays, figures.

Every file is written to a temporary file in the target directory and moved into place with
``os.replace``, so an interrupted run never leaves a half-written result behind.
"""

from __future__ import annotations

import io
import json
import os
import platform
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__

__all__ = ["write_atomic", "save_json", "save_npz", "save_figure", "versions", "to_jsonable"]


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically (temporary file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def to_jsonable(value: Any) -> Any:
    """Convert NumPy scalars/arrays and quantities into JSON-friendly values."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if type(value).__name__ == "Quantity" and hasattr(value, "dim"):  # Brian2, not imported here
        return str(value)
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None if np.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def save_json(path: str | os.PathLike, payload: Mapping[str, Any]) -> Path:
    text = json.dumps(to_jsonable(payload), indent=2, ensure_ascii=False) + "\n"
    return write_atomic(path, text.encode("utf-8"))


def save_npz(path: str | os.PathLike, arrays: Mapping[str, Any]) -> Path:
    buffer = io.BytesIO()
    np.savez(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    return write_atomic(path, buffer.getvalue())


def save_figure(path: str | os.PathLike, figure: Any, dpi: int = 150) -> Path:
    buffer = io.BytesIO()
    figure.savefig(
        buffer, format=Path(path).suffix.lstrip(".") or "png", dpi=dpi, bbox_inches="tight"
    )
    return write_atomic(path, buffer.getvalue())


def versions() -> dict[str, str]:
    """Versions of spikeplast, Brian2, NumPy and Python, for result metadata."""
    info = {"spikeplast": __version__, "numpy": np.__version__, "python": platform.python_version()}
    try:
        import brian2

        info["brian2"] = brian2.__version__
    except ImportError:
        pass
    return info
