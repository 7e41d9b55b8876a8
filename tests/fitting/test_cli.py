"""``spikeplast fit``: output, files, exit codes and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from spikeplast.cli import main


def _fit(capsys, *arguments):
    code = main(["fit", *arguments, "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_table_and_files(tmp_path, capsys):
    code, out, err = _fit(
        capsys,
        "pfister2006-visual-aa-minimal",
        "--data",
        "sjostrom2001",
        "--restarts",
        "2",
        "--workers",
        "1",
        "--out",
        str(tmp_path),
    )
    assert code == 0, err
    assert "A3_plus" in out and "tau_y" in out and " ms" in out
    assert "E (fit) =" in out and "E (published pfister2006-visual-aa-minimal)" in out
    assert "SEM" in out and "95% CI" in out
    for name in ("fit.json", "fit.npz", "fit.png"):
        assert (tmp_path / name).stat().st_size > 0
    record = json.loads((tmp_path / "fit.json").read_text())
    assert record["error"] <= record["published"]["error"]
    assert record["parameters"][2]["unit"] == "ms"
    arrays = np.load(tmp_path / "fit.npz")
    assert arrays["dw_percent"].shape == (10,) and "profile_tau_y" in arrays
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporaries


def test_json_on_stdout_with_aliases_and_fixed(capsys):
    code, out, _ = _fit(
        capsys,
        "triplet-stdp",
        "--data",
        "sjostrom2001",
        "--free",
        "A3+,A2-",
        "--fixed",
        "A2+=0,A3-=0,tau_y=114ms",
        "--restarts",
        "1",
        "--ci",
        "none",
        "--json",
    )
    assert code == 0
    record = json.loads(out)
    assert record["free"] == ["A3_plus", "A2_minus"]
    assert record["fitted_rule"]["tau_y"] == "114 ms"
    assert record["published"]["name"] == "pfister2006-visual-aa-minimal"


def test_not_converged_exits_1(capsys):
    code, out, err = _fit(
        capsys,
        "pfister2006-visual-aa-minimal",
        "--data",
        "sjostrom2001",
        "--restarts",
        "1",
        "--ci",
        "none",
        "--max-evaluations",
        "1",
    )
    assert code == 1
    assert "did NOT converge" in out and "did not converge" in err


def test_unconstrained_parameter_is_flagged(capsys):
    code, out, err = _fit(
        capsys,
        "pfister2006-visual-aa-minimal",
        "--data",
        "sjostrom2001",
        "--free",
        "A3+,A2-,tau_x",
        "--restarts",
        "1",
        "--workers",
        "1",
    )
    assert code == 0
    assert "no effect on the model" in out and "unconstrained" in out
    assert "warning: tau_x has no effect" in err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--free", "A3plus"], "Did you mean 'A3_plus'"),
        (["--fixed", "tau_x=101mV"], "unit"),
        (["--fixed", "tau_x=fast"], "cannot read"),
        (["--free", "tau_y", "--fixed", "tau_y=100ms"], "both free and fixed"),
        (["--method", "newton"], "unknown --method"),
        (["--ci", "jackknife"], "unknown --ci"),
        (["--bounds", "tau_y=10ms"], "NAME=LOW:HIGH"),
        (["--bounds", "tau_y=10:100"], "unit"),
        (["--setting", "repetitions=5"], "not used"),
        (["--setting", "pairings=0"], "positive whole number"),
        (["--restarts", "0"], "--restarts"),
        (["--compare", "triplet-stdp"], "not a published parameter set"),
        (["--compare", "pfister2006-visual-aa-ful"], "Did you mean"),
    ],
)
def test_bad_input_one_line_exit_2(arguments, message, capsys):
    code, _, err = _fit(
        capsys, "pfister2006-visual-aa-minimal", "--data", "sjostrom2001", *arguments
    )
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and err.startswith("spikeplast: error:")


def test_bad_data_one_line_exit_2(tmp_path, capsys):
    no_sem = tmp_path / "no_sem.csv"
    no_sem.write_text("freq_hz,dt_ms,dw_percent\n20,10,30\n50,-10,70\n")
    fast = tmp_path / "fast_triplets.csv"
    fast.write_text("pattern,dt1_ms,dt2_ms,dw_percent,sem_percent\npre-post-pre,5,-15,24,6\n")
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("x,y\n1,2\n")
    cases = [
        (["--data", "sjostrom2010"], "unknown data set 'sjostrom2010'"),
        (["--data", str(no_sem)], "no positive SEM in row(s) 1, 2"),
        (["--data", str(fast), "--setting", "freq_hz=60"], "cannot realise"),
        (["--data", str(unknown)], "'protocol' must be one of"),
        (["--data", "sjostrom2001", "--data", "sjostrom2001"], "more than once"),
    ]
    for arguments, message in cases:
        code, _, err = _fit(capsys, "pfister2006-hippo-aa-minimal", *arguments)
        assert code == 2, arguments
        assert message in err, err
        assert err.count("\n") == 1


def test_user_csv_with_triplets(tmp_path, capsys):
    data = tmp_path / "triplets.csv"
    data.write_text(
        "pattern,dt1_ms,dt2_ms,dw_percent,sem_percent\n"
        "pre-post-pre,5,-5,-1,4\npre-post-pre,5,-15,24,6\n"
        "post-pre-post,-5,5,33,4\npost-pre-post,-15,5,29,5\n"
    )
    code, out, err = _fit(
        capsys,
        "pfister2006-hippo-aa-minimal",
        "--data",
        str(data),
        "--restarts",
        "1",
        "--ci",
        "none",
        "--setting",
        "repetitions=60",
    )
    assert code == 0, err
    assert "post-pre-post" in out


def test_module_entry_point(tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "spikeplast.fitting",
            "pfister2006-visual-aa-minimal",
            "--data",
            "sjostrom2001",
            "--restarts",
            "1",
            "--ci",
            "none",
            "--json",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["rule"] == "pfister2006-visual-aa-minimal"


def test_module_main_reports_errors_in_one_line(capsys):
    from spikeplast.fitting.cli import main as fit_main

    assert fit_main(["triplet-stdp", "--data", "nope"]) == 2
    assert "unknown data set" in capsys.readouterr().err
