"""Standalone export: the project builds with make and runs without Python, same results."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

from spikeplast.errors import ConfigurationError
from spikeplast.export import export_network, export_protocol, load_results, show
from spikeplast.netspec import load_network
from spikeplast.protocols import run_protocol, sjostrom
from spikeplast.reference import triplet_stdp
from spikeplast.rules import get_rule

pytestmark = pytest.mark.standalone


def build_and_run(directory) -> None:
    # a minimal environment: the compiler and make, no Python on the PATH
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}
    subprocess.run(
        "make -j2 > make.log 2>&1 && ./main > run.log 2>&1",
        shell=True,
        cwd=directory,
        check=True,
        env=env,
        timeout=900,
    )


@pytest.mark.parametrize("portable", [False, True])
def test_exported_protocol_matches_in_process_run_and_reference(tmp_path, portable):
    rule = get_rule("pfister2006-visual-aa-full")
    protocol = sjostrom(freqs_hz=(1.0, 20.0, 50.0), pairings=20)
    directory = export_protocol(
        protocol, rule, "pfister2006-visual-aa-full", tmp_path / "p", portable=portable
    )
    assert (directory / "README.md").is_file() and (directory / "makefile").is_file()
    with pytest.raises(ConfigurationError, match="no results yet"):
        load_results(directory)
    build_and_run(directory)
    results = load_results(directory)
    weights = results.weights("synapse")
    for condition, w in zip(protocol.conditions, weights, strict=True):
        assert w == pytest.approx(triplet_stdp(rule, condition.pre, condition.post).final, rel=1e-9)
    if not portable:  # same compiler flags as the in-process build: bit for bit
        in_process = run_protocol(rule, protocol, backend="cpp_standalone").final_weights
        np.testing.assert_array_equal(weights, in_process)
    rows = results.protocol_rows()
    assert [r["freq_hz"] for r in rows] == [1.0, 1.0, 20.0, 20.0, 50.0, 50.0]
    manifest = results.manifest
    assert manifest["portable"] is portable and manifest["versions"]["brian2"]
    assert manifest["rules"]["synapse"]["parameters"]["tau_y"] == "125 ms"
    assert show(directory).is_file()


def test_exported_network_records_with_names_and_units(tmp_path):
    spec = load_network("song2000", {"run.duration": "1 s"})
    directory = export_network(spec, tmp_path / "n")
    build_and_run(directory)
    results = load_results(directory)
    assert results.weights("ff").shape == (1000,)
    assert results.units["state:ff:t"] == "s"
    trace = results.arrays["state:ff:w"]
    assert trace.shape == (10, 2)
    assert results.manifest["model_hash"] == spec.model_hash()
    with pytest.raises(ConfigurationError, match="not a spikeplast export"):
        export_network(spec, tmp_path / "n" / "code_objects")
