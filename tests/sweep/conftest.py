"""Fixtures of the sweep tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a sweep config (dedented TOML) as ``tmp_path/<name>.toml``; return its path."""

    def write(text: str, name: str = "sweep") -> Path:
        path = tmp_path / f"{name}.toml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
