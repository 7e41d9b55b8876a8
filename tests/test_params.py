"""Parameters with units, parameter-set files and rule lookup: clear errors for bad input."""

from __future__ import annotations

import math

import pytest
from brian2 import ms, mV

from spikeplast.errors import ConfigurationError, ParameterError, UnknownNameError
from spikeplast.params import format_quantity, parse_quantity
from spikeplast.rules import PairSTDP, TripletSTDP, get_rule, parameter_sets, resolve


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16.8 ms", 16.8 * ms),
        ("-70.6 mV", -70.6 * mV),
        ("14e-5 /mV", 14e-5 / mV),
        ("8e-5 mV^-2", 8e-5 / mV**2),
        ("5e-10", 5e-10),
    ],
)
def test_parse_quantity(text, expected):
    value = parse_quantity(text)
    assert float(value) == pytest.approx(float(expected), rel=1e-12)


def test_parse_infinity_and_errors():
    assert math.isinf(parse_quantity("inf"))
    with pytest.raises(ParameterError, match="unknown unit 'furlong'"):
        parse_quantity("3 furlong")
    with pytest.raises(ParameterError, match="cannot read"):
        parse_quantity("fast")


def test_format_round_trip():
    assert format_quantity(16.8 * ms) == "16.8 ms"
    assert float(parse_quantity(format_quantity(33.7 * ms))) == pytest.approx(0.0337)


def test_every_shipped_parameter_set_is_valid_and_has_a_source():
    sets = parameter_sets()
    assert len(sets) >= 8
    for name, parameter_set in sets.items():
        rule = get_rule(name)
        assert parameter_set.source, name
        assert rule.kind == parameter_set.kind


def test_pfister_tables_as_shipped():
    """Values of Pfister & Gerstner (2006) Tables 3 and 4 (tau_plus/minus fixed at 16.8/33.7 ms)."""
    visual = get_rule("pfister2006-visual-aa-full")
    assert (visual.A2_plus, visual.A3_plus, visual.A2_minus, visual.A3_minus) == (
        5e-10,
        6.2e-3,
        7e-3,
        2.3e-4,
    )
    assert float(visual.tau_x / ms) == pytest.approx(101)
    assert float(visual.tau_y / ms) == pytest.approx(125)
    minimal = get_rule("pfister2006-visual-aa-minimal")
    assert minimal.A2_plus == 0 and minimal.A3_minus == 0
    hippo = get_rule("pfister2006-hippo-aa-full")
    assert (hippo.A2_plus, hippo.A3_plus, hippo.A2_minus, hippo.A3_minus) == (
        6.1e-3,
        6.7e-3,
        1.6e-3,
        1.4e-3,
    )
    for name in (name for name in parameter_sets() if name.startswith("pfister2006")):
        rule = get_rule(name)
        assert float(rule.tau_plus / ms) == pytest.approx(16.8)
        assert float(rule.tau_minus / ms) == pytest.approx(33.7)
        assert rule.interaction == ("nearest" if "-nn-" in name else "all-to-all")


def test_unknown_rule_suggests_close_names():
    with pytest.raises(UnknownNameError, match="Did you mean 'pfister2006-visual-aa-full'"):
        get_rule("pfister2006-visul-aa-full")


def test_wrong_unit_and_unknown_parameter():
    with pytest.raises(ParameterError, match="'tau_y' must have the unit of ms, got 5 mV"):
        get_rule("triplet-stdp", tau_y="5 mV")
    with pytest.raises(ParameterError, match="Did you mean 'tau_x'"):
        get_rule("triplet-stdp", tau_xx="5 ms")
    with pytest.raises(ParameterError, match="must be positive"):
        get_rule("pair-stdp", tau_plus=-1 * ms)
    with pytest.raises(ParameterError, match="give it with a unit"):
        TripletSTDP(tau_plus=16.8).validate()


def test_bad_choices_and_bounds():
    with pytest.raises(ParameterError, match="must be one of"):
        PairSTDP(interaction="nearest-ish").validate()
    with pytest.raises(ParameterError, match="needs a finite w_max"):
        PairSTDP(weight_dependence="multiplicative", w_max=math.inf).validate()
    with pytest.raises(ParameterError, match="w_min .* must be smaller than w_max"):
        PairSTDP(w_min=2.0, w_max=1.0).validate()


def test_parameter_files(tmp_path):
    good = tmp_path / "mine.toml"
    good.write_text('rule = "pair-stdp"\nsource = "me"\n[parameters]\ntau_plus = "10 ms"\n')
    rule, parameter_set = resolve(str(good))
    assert float(rule.tau_plus / ms) == pytest.approx(10) and parameter_set.source == "me"

    broken = tmp_path / "broken.toml"
    broken.write_text('rule = "pair-stdp"\n[parameters\n')
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        get_rule(str(broken))

    unknown_kind = tmp_path / "kind.toml"
    unknown_kind.write_text('rule = "pair-sdtp"\n[parameters]\n')
    with pytest.raises(ConfigurationError, match="Did you mean 'pair-stdp'"):
        get_rule(str(unknown_kind))

    missing = tmp_path / "missing.toml"
    missing.write_text('[parameters]\ntau_plus = "10 ms"\n')
    with pytest.raises(ConfigurationError, match="has no 'rule' entry"):
        get_rule(str(missing))

    with pytest.raises(ConfigurationError, match="cannot read parameter file"):
        get_rule(str(tmp_path / "absent.toml"))


def test_neuron_parameter_sets():
    from brian2 import pF

    from spikeplast.neurons import NEURON_MODELS, get_neuron, neuron_parameter_sets

    for name in neuron_parameter_sets():
        assert get_neuron(name).kind in NEURON_MODELS
    adex = get_neuron("brette-gerstner2005-adex")
    assert float(adex.C_m / pF) == pytest.approx(281)
    with pytest.raises(UnknownNameError, match="Did you mean 'vogels-abbott2005-coba'"):
        get_neuron("vogels-abot2005-coba")
    with pytest.raises(ParameterError, match="V_reset must be below V_th"):
        get_neuron("lif", V_reset=-40 * mV)
