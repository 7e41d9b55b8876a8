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
        # Cold compiles cost ~30 s per model on Cython and ~10 s on Numba, and a fresh CI machine
        # has no cache: the fast suite runs these two backends only where a test asks for it
        # (`every_backend_in_fast_suite`: the agreement of every spike-pair rule) and in the
        # cross-backend seed test and tests/numba_device; every other case runs in
        # `make test-all`. numpy and cpp_standalone run everywhere.
        every_backend = (
            metafunc.definition.get_closest_marker("every_backend_in_fast_suite") is not None
        )
        params = []
        for name in backends_under_test():
            marks = []
            if name == "cuda_standalone":  # only where a CUDA GPU is available
                marks.append(pytest.mark.gpu)
            if name in ("cython", "numba_standalone") and not every_backend:
                marks.append(pytest.mark.slow)
            params.append(pytest.param(name, marks=marks))
        metafunc.parametrize("backend", params)
