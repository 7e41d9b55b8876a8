"""The composer: shared neuron-side state, namespacing, freezing, transmission, bad networks."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
from brian2 import Hz, ms, mV, nS, pA, second

from spikeplast.backend import Session
from spikeplast.compose import Population, Projection
from spikeplast.errors import ConfigurationError, SimulationError, UnknownNameError
from spikeplast.needs import Lowpass, Trace
from spikeplast.neurons import LIF, AdEx, PoissonSource, SpikeTrains
from spikeplast.params import param
from spikeplast.rule import Contribution, Rule, RuleContext
from spikeplast.rules import PairSTDP, TripletSTDP


@dataclass(frozen=True, eq=False, kw_only=True)
class PreOnlyPotentiation(Rule):
    """A rule written in a few lines: every presynaptic spike adds eta * postsynaptic trace."""

    kind: ClassVar[str] = "test-pre-only"
    eta: float = param(0.1, 1, "learning rate")
    tau: object = param(20 * ms, ms, "trace time constant", positive=True)

    def contribute(self, ctx: RuleContext) -> Contribution:
        y = ctx.post(Trace(self.tau))
        return Contribution(
            on_pre=f"w = clip(w + plastic*eta*{y.value}, w_min, w_max)",
            namespace={"eta": self.eta, **self.bounds_namespace()},
        )


def _trains():
    pre = SpikeTrains([[0.010, 0.030], [0.020]])
    post = SpikeTrains([[0.015, 0.040], [0.025]])
    return Population("pre", pre), Population("post", post)


def test_shared_traces_are_added_once_per_group():
    # pair STDP and triplet STDP both ask for a 33.7-ms postsynaptic trace
    pair = PairSTDP(tau_plus=16.8 * ms, tau_minus=33.7 * ms)
    triplet = TripletSTDP()
    with Session("numpy") as session:
        built = session.build(
            list(_trains()),
            [
                Projection("pair", "pre", "post", rule=pair, connect="one-to-one"),
                Projection("triplet", "pre", "post", rule=triplet, connect="one-to-one"),
            ],
        )
        post_traces = sorted(v for (owner, v) in built.names if owner == "post")
        assert post_traces == ["trace_aa_125ms", "trace_aa_33p7ms"]
        pre_traces = sorted(v for (owner, v) in built.names if owner == "pre")
        assert pre_traces == ["trace_aa_101ms", "trace_aa_16p8ms"]
        assert built.variable_name("pair", "w") == "w"
        with pytest.raises(UnknownNameError, match="no population or projection"):
            built.variable_name("pairs", "w")


def test_custom_rule_and_freezing_plasticity():
    rule = PreOnlyPotentiation()
    with Session("numpy") as session:
        built = session.build(
            list(_trains()),
            [
                Projection("learn", "pre", "post", rule=rule, connect="one-to-one"),
                Projection("frozen", "pre", "post", rule=rule, connect="one-to-one", plastic=False),
            ],
        )
        session.run(60 * ms)
        learned, frozen = built.weights("learn"), built.weights("frozen")
    # synapse 0: pre at 30 ms sees the post spike at 15 ms; synapse 1: pre at 20 ms sees none
    np.testing.assert_allclose(learned, [1 + 0.1 * np.exp(-15 / 20), 1.0], rtol=1e-12)
    np.testing.assert_array_equal(frozen, [1.0, 1.0])


def test_set_plastic_between_runs():
    rule = PreOnlyPotentiation()
    with Session("numpy") as session:
        built = session.build(
            list(_trains()), [Projection("p", "pre", "post", rule=rule, connect="one-to-one")]
        )
        built.set_plastic("p", False)
        session.run(35 * ms)
        assert built.weights("p")[0] == 1.0
        built.set_plastic("p", True)
        with pytest.raises(UnknownNameError):
            built.set_plastic("q", True)


@pytest.mark.parametrize("model", [LIF(), LIF(synapse="current"), AdEx(), AdEx(synapse="current")])
def test_neurons_receive_transmission(model):
    scale = 5 * nS if model.synapse == "conductance" else 300 * pA
    with Session("numpy", seed=3) as session:
        built = session.build(
            [
                Population("inputs", PoissonSource(rate=50 * Hz), n=200),
                Population("cells", model, n=3),
            ],
            [Projection("drive", "inputs", "cells", weight_scale=scale)],
        )
        spikes = built.spike_monitor("cells")
        session.run(0.3 * second)
        assert spikes.num_spikes > 0


def test_stdp_onto_lif_network_runs_and_learns():
    rule = PairSTDP(A_plus=0.01, A_minus=0.012, w_max=1.0)
    with Session("numpy", seed=2) as session:
        built = session.build(
            [
                Population("inputs", PoissonSource(rate=20 * Hz), n=100),
                Population("cell", LIF(), n=1, init={"v": -55 * mV}),
            ],
            [Projection("ff", "inputs", "cell", rule=rule, weight_scale=2 * nS, w_init=0.5)],
        )
        session.run(1 * second)
        weights = built.weights("ff")
    assert weights.shape == (100,) and np.ptp(weights) > 0
    assert np.all((weights >= 0) & (weights <= 1))


def test_bad_networks_get_clear_errors():
    pre, post = _trains()
    with Session("numpy") as session:
        with pytest.raises(ConfigurationError, match="without receptors; use receptor=None"):
            session.build(
                [pre, post], [Projection("p", "pre", "post", receptor="exc", weight_scale=1 * nS)]
            )
    cells = Population("cells", LIF(), n=2)
    with Session("numpy") as session:
        with pytest.raises(
            ConfigurationError, match="weight_scale must have the unit of S for receptor"
        ):
            session.build([pre, cells], [Projection("p", "pre", "cells", weight_scale=1 * pA)])
    with Session("numpy") as session:
        with pytest.raises(ConfigurationError, match="unknown receptor 'ampa'"):
            session.build(
                [pre, cells],
                [Projection("p", "pre", "cells", receptor="ampa", weight_scale=1 * nS)],
            )
    with Session("numpy") as session:
        with pytest.raises(UnknownNameError, match="unknown population 'psot'"):
            session.build([pre, post], [Projection("p", "pre", "psot")])
    with Session("numpy") as session:
        with pytest.raises(ConfigurationError, match="duplicate name"):
            session.build([pre, post], [Projection("pre", "pre", "post")])
    with Session("numpy") as session:
        with pytest.raises(ConfigurationError, match="not a multiple of the time step"):
            session.build([Population("x", SpikeTrains([[0.01005]])), post], [])
    with Session("numpy") as session:
        with pytest.raises(ConfigurationError, match="must increase by at least one time step"):
            session.build([Population("x", SpikeTrains([[0.02, 0.01]])), post], [])


def test_runaway_weights_stop_the_run():
    runaway = TripletSTDP(A3_plus=50.0, A2_plus=50.0)
    pre = Population("pre", SpikeTrains([np.arange(1, 400) * 0.005]))
    post = Population("post", SpikeTrains([np.arange(1, 400) * 0.005 + 0.001]))
    with Session("numpy") as session:
        session.build([pre, post], [Projection("p", "pre", "post", rule=runaway)])
        with pytest.raises(SimulationError, match="ran away"):
            session.run(2.1 * second)


@pytest.mark.standalone
def test_standalone_monitor_indices_are_checked_after_the_run():
    pre, post = _trains()
    with Session("cpp_standalone") as session:
        built = session.build(
            [pre, post], [Projection("p", "pre", "post", rule=PairSTDP(), connect="one-to-one")]
        )
        built.monitor("p", "w", record=[0, 7])
        with pytest.raises(ConfigurationError, match="records index 7, but 'p' has only 2"):
            session.run(50 * ms)


@dataclass(frozen=True, eq=False, kw_only=True)
class VoltageGatedRule(Rule):
    """Test rule: w follows a low-passed postsynaptic voltage each step and jumps on modulation."""

    kind: ClassVar[str] = "test-voltage-gated"

    def contribute(self, ctx: RuleContext) -> Contribution:
        u = ctx.post(Lowpass("v", 10 * ms))
        ctx.post(Lowpass("v", 10 * ms))  # requested twice: added once
        return Contribution(
            model="hits : 1",
            every_step=f"w = clip(w + plastic*dt*({u.value} - E_rest)/(mV*second), w_min, w_max)",
            on_modulator="hits += 1",
            namespace={"E_rest": -60 * mV, **self.bounds_namespace()},
            probeable=("hits",),
        )


def test_lowpass_every_step_and_modulator_pathway():
    rule = VoltageGatedRule(w_min=-1e9)
    with Session("numpy") as session:
        built = session.build(
            [
                Population("pre", SpikeTrains([[0.001]])),
                Population("cell", LIF(), n=1, init={"v": -50.5 * mV}),
                Population("dopamine", SpikeTrains([[0.002, 0.004, 0.006]])),
            ],
            [Projection("p", "pre", "cell", rule=rule, weight_scale=0 * nS, modulator="dopamine")],
        )
        lowpass = [v for (o, v) in built.names if o == "cell"]
        assert lowpass == ["lowpass_v_10ms"]
        session.run(10 * ms)
        assert built.synapses["p"].hits[0] == 3
        # the filtered voltage started at v (-50.5 mV) and relaxes with v towards E_L = -60 mV
        assert 0 < built.weights("p")[0] - 1.0 < 0.01 * 10.5
    with Session("numpy") as session:
        with pytest.raises(ConfigurationError, match="needs a postsynaptic neuron with voltage"):
            session.build(
                [
                    Population("pre", SpikeTrains([[0.001]])),
                    Population("post", SpikeTrains([[0.002]])),
                ],
                [Projection("p", "pre", "post", rule=rule)],
            )


@dataclass(frozen=True, eq=False, kw_only=True)
class PreVoltageRule(Rule):
    """Reads a low-pass filtered presynaptic voltage: cannot be delayed to spike arrival."""

    kind: ClassVar[str] = "test-pre-voltage"

    def contribute(self, ctx: RuleContext) -> Contribution:
        u = ctx.pre(Lowpass("v", 10 * ms))
        return Contribution(on_pre=f"w = w + plastic*{u.value}/mV", namespace={"mV": mV})


def test_plasticity_at_arrival_shares_one_delay_line_per_group_and_delay():
    cells = Population("cells", LIF(), n=20)
    projections = [
        Projection(
            name,
            "cells",
            "cells",
            rule=rule,
            weight_scale=1 * nS,
            delay=delay,
            plasticity_at="arrival",
        )
        for name, rule, delay in (
            ("a", PairSTDP(tau_plus=16.8 * ms), 1.5 * ms),
            ("b", TripletSTDP(), 1.5 * ms),
            ("c", PairSTDP(tau_plus=16.8 * ms), 3 * ms),
        )
    ]
    with Session("numpy") as session:
        built = session.build([cells], projections)
        traces = sorted(v for (owner, v) in built.names if owner == "cells" and "arr" in v)
        # 16.8 ms shared by a and b (15 steps); c has its own (30 steps); b's 101-ms trace
        assert traces == ["trace_aa_101ms_arr15", "trace_aa_16p8ms_arr15", "trace_aa_16p8ms_arr30"]
        lines = sorted(obj.name for obj in built.network.objects if "arrivals" in obj.name)
        assert lines == ["cells_arrivals_15", "cells_arrivals_30"]


def test_plasticity_at_arrival_errors():
    cells = Population("cells", LIF(), n=2)

    def build(projection: Projection, trace_storage: str = "clock") -> None:
        projection = dataclasses.replace(projection, weight_scale=1 * nS)
        with Session("numpy", trace_storage=trace_storage) as session:
            session.build([cells], [projection])

    with pytest.raises(ConfigurationError, match="plasticity_at must be one of soma, arrival"):
        build(Projection("p", "cells", "cells", rule=PairSTDP(), plasticity_at="dendrite"))
    with pytest.raises(ConfigurationError, match="presynaptic Lowpass; use plasticity_at='soma'"):
        build(
            Projection(
                "p", "cells", "cells", rule=PreVoltageRule(), delay=1 * ms, plasticity_at="arrival"
            )
        )
    with pytest.raises(ConfigurationError, match="needs clock-driven traces"):
        build(
            Projection(
                "p", "cells", "cells", rule=PairSTDP(), delay=1 * ms, plasticity_at="arrival"
            ),
            trace_storage="event",
        )
