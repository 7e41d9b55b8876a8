"""Where spikeplast finds its shipped files (``models/``: parameter sets and experimental data)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["models_dir"]


def models_dir() -> Path:
    """The ``models`` directory: ``$SPIKEPLAST_MODELS``, the source tree, or the installed copy."""
    candidates = []
    if os.environ.get("SPIKEPLAST_MODELS"):
        candidates.append(Path(os.environ["SPIKEPLAST_MODELS"]))
    candidates.append(Path(__file__).resolve().parent.parent / "models")
    candidates.append(Path(sys.prefix) / "share" / "spikeplast" / "models")
    for candidate in candidates:
        if (candidate / "rules").is_dir():
            return candidate
    return candidates[0]
