"""The receptive-field demo: the spiking network's parts, both pipelines end to end, bad input.

The learning tests are small fixed-seed versions that assert the metrics against the random
control of the same pipeline, so a broken rule, whitening or a collapsed population fails. The
spiking one compiles a C++ program and learns for minutes of simulated time: it is ``slow``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("skimage", reason="the receptive-field pipeline needs scikit-image")

from brian2 import Hz, ms, mV, second  # noqa: E402

from spikeplast.backend import Session  # noqa: E402
from spikeplast.compose import Population, Projection  # noqa: E402
from spikeplast.demos.cli import main as demo_main  # noqa: E402
from spikeplast.demos.receptive_fields import (  # noqa: E402
    RFSettings,
    rf_record,
    run_receptive_fields,
    save_receptive_fields,
)
from spikeplast.errors import ConfigurationError  # noqa: E402
from spikeplast.neurons import LIF  # noqa: E402
from spikeplast.receptive_fields.network import (  # noqa: E402
    AdaptiveLIF,
    Annealed,
    NetworkSetup,
    Normalized,
    PatchInput,
    contrast_normalize,
    filters_from_weights,
    prepare_rule,
    push_pull_rates,
    run_network,
)
from spikeplast.rules import get_rule  # noqa: E402

FAST_RATE = RFSettings(model="rate", neurons=16, patch=8, rate_steps=2000, n_train=20000)


# -- network parts -----------------------------------------------------------------------------
def test_push_pull_rates_are_on_off_around_the_baseline():
    patches = np.array([[0.0, 1.0, -2.0]])
    rates = push_pull_rates(patches, baseline=10.0, gain=5.0, max_rate=18.0)
    assert rates.tolist() == [[10.0, 15.0, 0.0, 10.0, 5.0, 18.0]]


def test_contrast_normalization_keeps_the_median_patch_and_compresses_the_others():
    rng = np.random.default_rng(0)
    patches = rng.standard_normal((101, 16)) * np.linspace(0.1, 10.0, 101)[:, None]
    contrast = np.sqrt(np.mean(patches**2, axis=1))
    median = np.argsort(contrast)[50]
    shown = contrast_normalize(patches, c50=1.0)
    assert shown[median] == pytest.approx(patches[median])
    gain = np.sqrt(np.mean(shown**2, axis=1)) / contrast
    assert np.all(np.diff(gain[np.argsort(contrast)]) < 0)  # higher contrast, smaller gain
    assert np.sqrt(np.mean(shown**2, axis=1)).max() < 2 * contrast[median]  # saturates at 2 c̃


def test_bad_network_setups_name_the_problem():
    with pytest.raises(ConfigurationError, match="pre_offset_scale must be >= 0"):
        NetworkSetup(pre_offset_scale=-1.0).check()
    with pytest.raises(ConfigurationError, match="contrast_c50 must be > 0"):
        NetworkSetup(contrast_c50=0.0).check()


def test_intrinsic_plasticity_brings_the_rate_to_the_target():
    # a strongly driven neuron (I_ext alone would make it fire at ~75 Hz) and a weakly driven
    # one (below threshold): the homeostatic threshold moves both to 20 Hz
    neuron = AdaptiveLIF(synapse="current", theta_plus=0 * mV, ip_step=1 * mV, target_rate=20 * Hz)
    with Session("numpy", dt=0.5 * ms, seed=1) as session:
        built = session.build([Population("neurons", neuron, n=2)], [])
        group = built.groups["neurons"]
        group.I_ext = [3.0, 0.5] * neuron.g_L * (neuron.V_th - neuron.E_L)  # × rheobase
        spikes = built.spike_monitor("neurons")
        session.run(4 * second)
        times, indices = np.asarray(spikes.t / second), np.asarray(spikes.i)
        shift = np.asarray(group.theta_h[:] / mV)
    late = [np.sum((indices == k) & (times >= 2)) / 2.0 for k in range(2)]
    assert late == pytest.approx([20.0, 20.0], abs=1.5)
    assert shift[0] > 0 > shift[1]  # raised for the driven neuron, lowered for the weak one


def test_the_rules_presynaptic_offset_is_a_multiple_of_the_mean_input_rate():
    patches = np.random.default_rng(0).standard_normal((40, 4))
    setup = NetworkSetup(n_neurons=2, snapshots=1)
    result = run_network(patches, 100 * ms, setup=setup, backend="numpy", seed=1)
    order = np.random.default_rng(1).integers(0, 40, size=5)  # the run's 5 patches
    mean = push_pull_rates(patches[order], 20.0, 240.0, 1000.0).mean()
    assert float(result.rule.pre_offset / Hz) == pytest.approx(1.25 * mean)
    assert result.threshold_shift_mv.shape == (2,)


def test_filters_are_on_minus_off_weights():
    i = np.repeat(np.arange(4), 2)  # 2 pixels -> 4 inputs (ON, ON, OFF, OFF), 2 neurons
    j = np.tile(np.arange(2), 4)
    weights = np.arange(8.0)
    on, off = filters_from_weights(weights, i, j, n_pixels=2, n_neurons=2)
    assert on.tolist() == [[0.0, 2.0], [1.0, 3.0]]
    assert (on - off).tolist() == [[-4.0, -4.0], [-4.0, -4.0]]


def test_patch_input_fires_at_the_rates_of_each_patch_and_repeats_the_table():
    rates = np.array([[200.0, 0.0], [0.0, 100.0]])
    with Session("numpy", dt=0.5 * ms, seed=3) as session:
        built = session.build(
            [Population("inputs", PatchInput(rates=rates, presentation=1 * second))], []
        )
        spikes = built.spike_monitor("inputs")
        session.run(3 * second)
        times, indices = np.asarray(spikes.t / second), np.asarray(spikes.i)
    shown = np.floor(times).astype(int) % 2  # row of the table on show at each spike
    assert np.all(indices == shown)  # neuron 0 fires only for row 0, neuron 1 for row 1
    counts = [np.sum((times >= k) & (times < k + 1)) for k in range(3)]
    assert 160 < counts[0] < 240 and 75 < counts[1] < 125 and 160 < counts[2] < 240


@pytest.mark.parametrize("base", ["pfister2006-visual-aa-minimal", "yger2013-invitro"])
def test_normalized_rule_keeps_each_neurons_weights_at_the_norm(base):
    rule = Normalized.wrap(get_rule(base), w_norm=2.0)
    rates = np.full((1, 20), 30.0)
    with Session("numpy", dt=0.5 * ms, seed=1) as session:
        built = session.build(
            [
                Population("inputs", PatchInput(rates=rates, presentation=1 * second)),
                Population("neurons", LIF(synapse="delta"), n=3),
            ],
            [
                Projection(
                    "ff", "inputs", "neurons", rule=rule, weight_scale=0.5 * mV, w_init="rand()"
                )
            ],  # fmt: skip
        )
        session.run(0.2 * second)
        synapses = built.synapses["ff"]
        w, j = built.weights("ff"), np.asarray(synapses.j[:])
    norms = [np.linalg.norm(w[j == k]) for k in range(3)]
    # Convallis also changes weights at the start of every step, after the last normalisation
    assert norms == pytest.approx([2.0, 2.0, 2.0], rel=1e-6 if "pfister" in base else 1e-2)


def test_annealed_learning_rate_decays_linearly_over_the_run():
    # f(u) = u + 1 = 1 without post spikes and r_pre = 0 Hz: dw/dt = eta * 1000 Hz * schedule
    base = get_rule("nonlinear-hebbian").replace(
        nonlinearity="linear", theta=-1.0, normalization="none", pre_offset=-1000 * Hz, eta=1e-3
    )
    changes = []
    for rule in (base, Annealed.wrap(base, duration=0.2 * second, final=0.0)):
        with Session("numpy", dt=0.5 * ms, seed=1) as session:
            built = session.build(
                [
                    Population("inputs", PatchInput(rates=np.zeros((1, 2)))),
                    Population("neurons", LIF(synapse="delta"), n=1),
                ],
                [
                    Projection(
                        "ff", "inputs", "neurons", rule=rule, weight_scale=0.1 * mV, w_init=0.5
                    )
                ],
            )
            session.run(0.3 * second)  # the last 0.1 s at the final rate (0)
            changes.append(built.weights("ff") - 0.5)
    assert changes[0] == pytest.approx([0.3, 0.3], rel=1e-6)
    assert changes[1] == pytest.approx([0.1, 0.1], rel=1e-2)  # mean of 1 -> 0 over 0.2 s


def test_rules_that_cannot_learn_receptive_fields_are_refused():
    with pytest.raises(ConfigurationError, match="'izhikevich2007-daspnet'.*three-factor rule"):
        prepare_rule("izhikevich2007-daspnet", 1.0, 10 * ms)
    with pytest.raises(ConfigurationError, match="'vogels-istdp'.*cannot learn receptive fields"):
        prepare_rule("vogels-istdp", 1.0, 10 * ms)
    nonlinear = prepare_rule("brito2016-rf-spiking", 1.0, 10 * ms)
    assert nonlinear.kind == "nonlinear-hebbian"  # normalises itself
    assert isinstance(prepare_rule("yger2013-invitro", 1.0, 10 * ms), Normalized)


def test_bad_settings_and_bad_images_name_the_problem(tmp_path):
    from skimage.io import imsave

    with pytest.raises(ConfigurationError, match="image file '.*missing.png' does not exist"):
        run_receptive_fields(RFSettings(model="rate", images=(str(tmp_path / "missing.png"),)))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(ConfigurationError, match="cannot read image file '.*broken.jpg'"):
        run_receptive_fields(RFSettings(model="rate", images=(str(tmp_path / "broken.jpg"),)))
    imsave(tmp_path / "small.png", (np.arange(144).reshape(12, 12) % 251).astype(np.uint8))
    with pytest.raises(ConfigurationError, match="'small.png' is 6×6 .* smaller than the 10×10"):
        run_receptive_fields(
            RFSettings(model="rate", patch=10, images=(str(tmp_path / "small.png"),))
        )
    with pytest.raises(ConfigurationError, match="patch size must be a whole number of at least"):
        run_receptive_fields(RFSettings(model="rate", patch=3))
    with pytest.raises(ConfigurationError, match="40 units are more than the 38 whitened"):
        run_receptive_fields(RFSettings(model="rate", patch=8, neurons=40, n_train=20000))
    with pytest.raises(ConfigurationError, match="has no rate form here"):
        run_receptive_fields(dataclass_replace(FAST_RATE, rule="pfister2006-visual-aa-minimal"))
    with pytest.raises(ConfigurationError, match="three-factor rule"):
        run_receptive_fields(RFSettings(rule="izhikevich2007-daspnet", patch=8, n_train=20000))


def dataclass_replace(settings: RFSettings, **changes) -> RFSettings:
    import dataclasses

    return dataclasses.replace(settings, **changes)


# -- pipelines ---------------------------------------------------------------------------------
def test_rate_pipeline_beats_the_random_control(tmp_path):
    result = run_receptive_fields(FAST_RATE, seed=3)
    learned, control = result.summary, result.control_summary
    assert learned["gabor_r2_median"] >= 0.7
    assert learned["gabor_r2_median"] >= 2 * control["gabor_r2_median"]
    assert learned["osi_median"] >= control["osi_median"] + 0.2
    assert learned["kurtosis_median"] >= 1.5 * control["kurtosis_median"]
    assert learned["distinct_filters"] == 16 and learned["orientation_bins"] >= 4
    paths = save_receptive_fields(result, tmp_path)
    assert sorted(p.name for p in paths.values()) == [
        "receptive_fields.json",
        "receptive_fields.npz",
        "receptive_fields.png",
    ]
    record = json.loads(paths["json"].read_text())
    assert record["learned"]["gabor_r2_median"] == pytest.approx(learned["gabor_r2_median"])
    assert {row["metric"] for row in record["comparison"]} >= {"gabor_r2_median", "osi_median"}
    with np.load(paths["npz"]) as data:
        assert data["filters"].shape == (16, 64) and data["gabor_fits"].shape == (16, 10)


def test_command_line_rate_model_and_bad_input(tmp_path, capsys):
    status = demo_main(["receptive-fields", "--model", "rate", "--neurons", "8", "--patch", "6",
                        "--steps", "300", "--no-progress", "--json"])  # fmt: skip
    assert status == 0
    record = json.loads(capsys.readouterr().out)
    assert record["settings"]["model"] == "rate" and len(record["comparison"]) >= 6
    status = demo_main(["receptive-fields", "--images", str(tmp_path / "none.png")])
    assert status == 2
    assert "does not exist" in capsys.readouterr().err
    assert demo_main(["receptive-fields", "--rule", "global-error", "--patch", "6"]) == 2
    assert "three-factor rule" in capsys.readouterr().err


@pytest.mark.slow
def test_spiking_pipeline_beats_the_random_control():
    """A small spiking run (16 neurons, 8×8 patches, 25 min simulated, fastest backend).

    Measured (seed 2, about 60 s): median R² 0.74 (control 0.33), OSI 0.36 (0.14), kurtosis
    7.4 (5.8), 16 distinct filters; the thresholds leave room for other machines and versions.
    """
    settings = RFSettings(neurons=16, patch=8, duration_s=1500.0, n_train=20000)
    result = run_receptive_fields(settings, seed=2)
    learned, control = result.summary, result.control_summary
    assert learned["gabor_r2_median"] >= 1.8 * control["gabor_r2_median"]
    assert learned["kurtosis_median"] >= 1.15 * control["kurtosis_median"]
    assert learned["osi_median"] >= control["osi_median"] + 0.15
    assert learned["distinct_filters"] >= 12  # not collapsed onto one feature
    assert result.network["silent_neurons"] == 0
    assert rf_record(result)["network"]["presentations"] == round(1500 / 0.02)
