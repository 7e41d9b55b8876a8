"""The command line: listing, protocol runs with JSON and files, one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from spikeplast.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spikeplast", *args], capture_output=True, text=True, timeout=600
    )


def test_rules_listing(capsys):
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert "triplet-stdp" in out and "pfister2006-hippo-nn-minimal" in out and "Table 4" in out


def test_protocol_json_and_files(tmp_path, capsys):
    status = main(
        [
            "protocol",
            "sjostrom",
            "--freqs",
            "20,50",
            "--pairings",
            "15",
            "--json",
            "--out",
            str(tmp_path),
        ]
    )
    assert status == 0
    record = json.loads(capsys.readouterr().out)
    assert [(r["freq_hz"], r["dt_ms"]) for r in record["rows"]] == [
        (20.0, 10.0),
        (20.0, -10.0),
        (50.0, 10.0),
        (50.0, -10.0),
    ]
    assert all("dw_percent" in r and "data_dw_percent" in r for r in record["rows"])
    assert record["parameters"]["tau_plus"] == "16.8 ms"
    for suffix in ("json", "npz", "png"):
        assert (tmp_path / f"sjostrom.{suffix}").stat().st_size > 0
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["protocol", "sjostrom", "--rule", "pfister2006-visul-aa-full"], "Did you mean"),
        (["protocol", "sjostrom", "--set", "tau_y=5 mV"], "must have the unit of ms"),
        (["protocol", "sjostrom", "--freqs", "-1"], "positive number of Hz"),
        (["protocol", "pairing", "--dts", "1500"], "does not fit in the repetition period"),
        (["protocol", "triplets", "--backend", "gpu"], "unknown backend 'gpu'"),
        (["protocol", "sjostrom", "--data", "sjostrom2002"], "unknown data set"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message):
    completed = run_cli(*args)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.startswith("spikeplast:")]
    assert len(lines) == 1 and message in lines[0]
