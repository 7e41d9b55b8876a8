"""Test configuration: which backends the backend-parametrised tests run on.

``SPIKEPLAST_TEST_BACKENDS=numpy,cpp_standalone pytest`` restricts the backends; by default every
backend available on the machine is tested. Standalone builds go to a per-session cache directory
so that tests never collide with each other or with the user's cache.
"""

from __future__ import annotations

import os
import tempfile

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
if "SPIKEPLAST_CACHE" not in os.environ:
    # Shared by xdist workers of one run (same parent pid), separate from the user's cache.
    os.environ["SPIKEPLAST_CACHE"] = os.path.join(tempfile.gettempdir(), "spikeplast-test-cache")


def backends_under_test() -> list[str]:
    from spikeplast.backend import available_backends

    available = available_backends()
    wanted = os.environ.get("SPIKEPLAST_TEST_BACKENDS")
    if not wanted:
        return available
    return [name for name in wanted.split(",") if name in available]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        # GPU runs carry the `gpu` marker (they only exist where a CUDA GPU is available)
        params = [
            pytest.param(name, marks=pytest.mark.gpu) if name == "cuda_standalone" else name
            for name in backends_under_test()
        ]
        metafunc.parametrize("backend", params)
