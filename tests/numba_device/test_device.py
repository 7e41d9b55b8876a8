"""Tests of the numba_standalone device: agreement with Brian2's runtime and C++ standalone."""

from __future__ import annotations

import numpy as np
import pytest

brian2 = pytest.importorskip("brian2")
numba_device = pytest.importorskip("spikeplast.numba_device")

from brian2 import (  # noqa: E402
    Hz,
    Network,
    NeuronGroup,
    PoissonGroup,
    PoissonInput,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    TimedArray,
    defaultclock,
    device,
    ms,
    mV,
    prefs,
    run,
    second,
    seed,
    set_device,
)
from brian2.devices.device import reinit_and_delete, reset_device  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_device(tmp_path, monkeypatch):
    """Every test builds in its own directory, with its own module cache."""
    monkeypatch.setenv("SPIKEPLAST_NUMBA_CACHE", str(tmp_path.parent / "numba-module-cache"))
    yield
    reinit_and_delete()
    reset_device()
    defaultclock.dt = 0.1 * ms


def _numba(tmp_path, name="run"):
    set_device("numba_standalone", directory=str(tmp_path / name), build_on_run=False)
    device.reinit()
    device.activate(directory=str(tmp_path / name), build_on_run=False)


def _runtime():
    set_device("runtime")
    prefs.codegen.target = "numpy"


def _lif_network(record_synapses=False):
    G = NeuronGroup(
        20,
        """dv/dt = (I - v) / (10*ms) : 1
           I : 1 (constant)""",
        threshold="v > 1",
        reset="v = 0",
        refractory=2 * ms,
        method="exact",
    )
    G.I = "1.5 + 0.05 * i"
    G.v = "0.1 * (i % 7)"
    S = Synapses(
        G,
        G,
        """w : 1
           dApre/dt = -Apre / (20*ms) : 1 (event-driven)
           dApost/dt = -Apost / (20*ms) : 1 (event-driven)""",
        on_pre="""v_post += w
                  Apre += 0.01
                  w = clip(w + Apost, 0, 0.2)""",
        on_post="""Apost -= 0.0105
                   w = clip(w + Apre, 0, 0.2)""",
        delay=1 * ms,
    )
    S.connect("i != j and (i + j) % 3 == 0")
    S.w = "0.05 + 0.001 * (i + 2 * j)"
    spikes = SpikeMonitor(G)
    states = StateMonitor(G, "v", record=[0, 5, 19])
    monitors = {"spikes": spikes, "states": states}
    if record_synapses:
        monitors["weights"] = StateMonitor(S, "w", record=[0, 1, 2])
    return G, S, monitors


def _collect(G, S, monitors):
    return {
        "i": np.array(monitors["spikes"].i[:]),
        "t": np.array(monitors["spikes"].t[:]),
        "v": np.array(monitors["states"].v[:]),
        "w": np.array(S.w[:]),
        "final_v": np.array(G.v[:]),
    }


def test_deterministic_network_matches_runtime(tmp_path):
    """LIF + pair STDP with delays: same spikes and ~1e-12 agreement with the numpy target."""
    _runtime()
    G, S, monitors = _lif_network()
    Network(G, S, *monitors.values()).run(50 * ms)
    expected = _collect(G, S, monitors)

    _numba(tmp_path)
    G, S, monitors = _lif_network()
    Network(G, S, *monitors.values()).run(50 * ms)
    device.build(directory=str(tmp_path / "run"), run=True)
    got = _collect(G, S, monitors)
    assert len(expected["i"]) > 20
    np.testing.assert_array_equal(got["i"], expected["i"])
    np.testing.assert_allclose(got["t"], expected["t"], rtol=1e-12)
    for key in ("v", "w", "final_v"):
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-12, atol=1e-14)


def test_random_numbers_follow_numpy_legacy_stream(tmp_path):
    """rand() and randn() consume a Mersenne Twister seeded like np.random.seed / C++."""
    _numba(tmp_path)
    seed(1234)
    # 2,000 doubles are 4,000 words: the stream crosses six blocks of the generator
    G = NeuronGroup(2000, "x : 1\ny : 1")
    G.x = "rand()"
    G.y = "randn()"
    run(0 * ms)
    device.build(directory=str(tmp_path / "run"), run=True)
    rng = np.random.RandomState(1234)
    np.testing.assert_array_equal(G.x[:], rng.random_sample(2000))
    # randn: the polar method with a stored second deviate, on the continuing stream
    np.testing.assert_allclose(G.y[:], rng.standard_normal(2000), rtol=1e-14, atol=0)


@pytest.mark.parametrize("seed_value", [0, 1, 2**32 - 1])
def test_generator_matches_numpy_over_many_blocks(seed_value):
    """The block-wise Mersenne Twister gives NumPy's legacy stream over 160 blocks."""
    from numba import njit

    from spikeplast.numba_device.runtime import _rand, new_rng_state, seed_generator

    @njit
    def draw(count, rng_state):
        values = np.empty(count)
        for i in range(count):
            values[i] = _rand(i, rng_state)
        return values

    rng_state, rng_gauss = new_rng_state()
    seed_generator(seed_value, rng_state, rng_gauss)
    first, second_part = draw(49_999, rng_state), draw(1, rng_state)
    expected = np.random.RandomState(seed_value).random_sample(50_000)
    np.testing.assert_array_equal(np.concatenate([first, second_part]), expected)


def _brian2_cpp_binomial(uniforms, n, p):
    """Brian2's C++ BinomialFunction (inversion, constants printed with 15 decimals), in Python."""
    from brian2.input.binomial import _pre_calc_constants

    reverse, q, P, qn, bound = (float(f"{value:.15f}") for value in _pre_calc_constants(n, p))
    stream = iter(uniforms)
    counts = []
    for U in stream:
        X, px = 0, qn
        while U > px:
            X += 1
            if X > bound:
                X, px, U = 0, qn, next(stream)
            else:
                U -= px
                px = ((n - X + 1) * P * px) / (X * q)
        counts.append(n - X if reverse else X)
    return np.array(counts)


@pytest.mark.parametrize("n, p", [(1000, 0.001), (40, 0.05), (20, 0.97), (3, 0.5)])
def test_binomial_lookup_table_gives_the_inversion_counts(n, p):
    """PoissonInput binomial: bucket table plus loop equals Brian2's C++ loop, draw for draw."""
    from numba import njit

    from spikeplast.numba_device import generator, runtime

    code, _ = generator._binomial_code(n, p, False, "_binomial_test")
    table = code["arrays"]["_binomial_test_buckets"]
    namespace = {"np": np, "_rand": runtime._rand}
    exec(code["support_code"], namespace)
    binomial = njit(inline="always")(namespace["_binomial_test"])

    @njit
    def draw(count, buckets, rng_state):
        values = np.empty(count, dtype=np.int64)
        for i in range(count):
            values[i] = binomial(i, buckets, rng_state)
        return values

    rng_state, rng_gauss = runtime.new_rng_state()
    runtime.seed_generator(5, rng_state, rng_gauss)
    counts = draw(100_000, table, rng_state)
    uniforms = np.random.RandomState(5).random_sample(100_200)
    np.testing.assert_array_equal(counts, _brian2_cpp_binomial(uniforms, n, p)[: counts.size])
    # both paths ran: the table for most draws, the loop for draws in buckets next to a step
    in_table = table[(uniforms[: counts.size] * generator.BINOMIAL_BUCKETS).astype(int)] >= 0
    assert 0.9 < in_table.mean() < 1.0


def test_binomial_that_brian2_cannot_draw_is_refused_by_name(tmp_path):
    """n*p too large without the normal approximation: Brian2's loop would never end."""
    from brian2 import BinomialFunction

    _numba(tmp_path)
    draw = BinomialFunction(1000, 0.1, approximate=False)
    G = NeuronGroup(3, "x : 1", namespace={"draw": draw})
    G.run_regularly("x = draw()")
    with pytest.raises(Exception) as raised:
        run(1 * ms)
        device.build(directory=str(tmp_path / "run"), run=True)
    # Brian2 names the object and chains the device's error
    error, messages = raised.value, []
    while error is not None:
        messages.append(str(error))
        error = error.__cause__ or error.__context__
    assert "neurongroup_run_regularly" in messages[0]
    assert any("approximate=True" in message for message in messages)


def test_same_seed_same_spikes_and_rerun_with_run_args(tmp_path):
    """Poisson input + connect(p=...): reproducible with seed(); reruns take new values."""
    _numba(tmp_path)
    seed(7)
    P = PoissonGroup(100, rates=20 * Hz)
    G = NeuronGroup(5, "dv/dt = -v / (10*ms) : 1", threshold="v > 1", reset="v = 0")
    S = Synapses(P, G, "w : 1 (constant)", on_pre="v_post += w")
    S.connect(p=0.3)
    S.w = 0.2
    spikes = SpikeMonitor(P)
    out = SpikeMonitor(G)
    run(200 * ms)
    device.build(directory=str(tmp_path / "run"), run=True)
    first = (np.array(spikes.i[:]), np.array(spikes.t[:]), np.array(out.i[:]))
    n_synapses = len(S.w[:])
    assert 0.2 * 500 < n_synapses < 0.4 * 500
    device.run(run_args={})
    second_run = (np.array(spikes.i[:]), np.array(spikes.t[:]), np.array(out.i[:]))
    for a, b in zip(first, second_run, strict=True):
        np.testing.assert_array_equal(a, b)
    device.run(run_args={S.w: 0.0})
    assert len(out.i[:]) == 0
    np.testing.assert_array_equal(spikes.i[:], first[0])


def test_spike_generator_timed_array_and_summed(tmp_path):
    """SpikeGeneratorGroup, 2-D TimedArray with int(), (summed) variables, run_regularly."""
    _runtime()

    def build():
        stimulus = TimedArray(np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]), dt=10 * ms)
        gen = SpikeGeneratorGroup(3, [0, 1, 2, 0], [1, 2, 3, 7] * ms)
        G = NeuronGroup(
            2,
            """dv/dt = (stimulus(t, i) - v) / (5*ms) : 1
               total : 1
               counter : integer""",
            method="euler",
            namespace={"stimulus": stimulus},
        )
        G.run_regularly("counter += int(t / ms) % 3", dt=1 * ms)
        S = Synapses(gen, G, "x : 1\ntotal_post = x : 1 (summed)", on_pre="v_post += 0.5")
        S.connect()
        S.x = "i + 10 * j"
        M = StateMonitor(G, ["v", "total", "counter"], record=True)
        return Network(gen, G, S, M), M

    net, M = build()
    net.run(25 * ms)
    expected = (np.array(M.v[:]), np.array(M.total[:]), np.array(M.counter[:]))
    _numba(tmp_path)
    net, M = build()
    net.run(25 * ms)
    device.build(directory=str(tmp_path / "run"), run=True)
    np.testing.assert_allclose(M.v[:], expected[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(M.total[:], expected[1])
    np.testing.assert_array_equal(M.counter[:], expected[2])


def test_synapse_counts_between_subgroups_match_runtime(tmp_path):
    """N_incoming / N_outgoing have one entry per neuron of the full groups, not per synapse."""
    _runtime()

    def build():
        source, target = NeuronGroup(10, ""), NeuronGroup(20, "")
        S = Synapses(source[:5], target[10:])
        S.connect(i=[2, 3, 3], j=[2, 2, 7])
        S.connect("i == 2 and j == 5")
        return Network(source, target, S), S

    net, S = build()
    net.run(0 * ms)
    expected = {
        name: np.array(getattr(S, name)[:]) for name in ("i", "j", "N_incoming", "N_outgoing")
    }
    _numba(tmp_path)
    net, S = build()
    net.run(0 * ms)
    device.build(directory=str(tmp_path / "run"), run=True)
    for name, values in expected.items():
        np.testing.assert_array_equal(getattr(S, name)[:], values, err_msg=name)
    np.testing.assert_array_equal(S._synaptic_post[:], [12, 12, 17, 15])


def test_second_build_uses_cached_module(tmp_path):
    """A second build of the same model with other values does not generate a new module.

    Objects are named explicitly: generated code names arrays after their objects.
    """
    results = []
    for number, tau in enumerate((10 * ms, 13 * ms)):
        _numba(tmp_path, f"run{number}")
        G = NeuronGroup(
            3,
            "dv/dt = (1.5 - v) / tau : 1",
            threshold="v > 1",
            reset="v = 0",
            method="exact",
            namespace={"tau": tau},
            name="cached_group",
        )
        M = SpikeMonitor(G, name="cached_spikes")
        Network(G, M).run(50 * ms)
        device.build(directory=str(tmp_path / f"run{number}"), run=True)
        results.append((device.module_key, device.module_was_cached, np.asarray(M.t[:])))
        device.reinit()
        device.activate()
        del G, M
    assert results[0][0] == results[1][0]
    assert results[1][1] is True
    assert len(results[0][2]) > len(results[1][2]) > 0


def test_unsupported_features_raise_at_build(tmp_path):
    from brian2 import network_operation

    _numba(tmp_path)
    NeuronGroup(1, "v : 1")

    @network_operation(dt=1 * ms)
    def nothing():
        pass

    with pytest.raises(NotImplementedError, match="network_operation"):
        run(1 * ms)


def test_multicompartment_neurons_are_refused_by_name(tmp_path):
    from brian2 import Cylinder, SpatialNeuron, cm, uF, um

    _numba(tmp_path)
    morphology = Cylinder(diameter=1 * um, length=10 * um, n=2)
    neuron = SpatialNeuron(morphology, "Im = 1*uS/cm**2 * (-v) : amp/meter**2", Cm=1 * uF / cm**2)
    with pytest.raises(NotImplementedError, match="multicompartment neurons"):
        Network(neuron).run(1 * ms)


def test_profiling_reports_time_per_code_object(tmp_path):
    """run(..., profile=True) gives Brian2's profiling_info: CPU time of each code object."""
    _numba(tmp_path)
    G = NeuronGroup(10, "dv/dt = -v / (10*ms) : 1", threshold="v>1", reset="v=0", name="prof")
    G.v = 1.1
    profiled = Network(G, name="profiled")
    profiled.run(20 * ms, profile=True)
    quiet = Network(NeuronGroup(1, "v : 1"), name="quiet")
    quiet.run(5 * ms)
    device.build(directory=str(tmp_path / "run"), run=True)
    info = dict(profiled.profiling_info)
    blocks = ("stateupdater", "spike_thresholder", "spike_resetter")
    assert set(info) == {f"prof_{name}_codeobject" for name in blocks}
    assert all(float(value) >= 0 for value in info.values())
    with pytest.raises(ValueError, match="profile=True"):
        _ = quiet.profiling_info


def test_multiple_runs_and_clocks(tmp_path):
    """Two runs and two clocks (run_regularly on a slower clock) agree with the runtime."""

    def build():
        G = NeuronGroup(4, "dv/dt = -v / (3*ms) : 1\nk : integer", method="exact")
        G.v = "1 + i"
        G.run_regularly("k += 1\nv += 0.5", dt=0.7 * ms)
        M = StateMonitor(G, ["v", "k"], record=True, dt=0.3 * ms)
        return Network(G, M), M

    _runtime()
    net, M = build()
    net.run(2 * ms)
    net.run(1.5 * ms)
    expected = (np.array(M.t[:]), np.array(M.v[:]), np.array(M.k[:]))
    _numba(tmp_path)
    net, M = build()
    net.run(2 * ms)
    net.run(1.5 * ms)
    device.build(directory=str(tmp_path / "run"), run=True)
    np.testing.assert_allclose(np.asarray(M.t[:]), expected[0], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(M.v[:]), expected[1], rtol=1e-12)
    np.testing.assert_array_equal(np.asarray(M.k[:]), expected[2])


@pytest.mark.slow
def test_stdp_example_bitwise_equal_to_cpp_standalone(tmp_path):
    """Song et al. (2000) STDP example, 1 s: identical spikes and weights to C++ standalone;
    beside it, PoissonInputs drawn by inversion (p < 0.5 and p > 0.5) give identical voltages."""
    results = {}
    for name in ("cpp_standalone", "numba_standalone"):
        set_device(name, directory=str(tmp_path / name), build_on_run=False)
        device.reinit()
        device.activate(directory=str(tmp_path / name), build_on_run=False)
        seed(4321)
        namespace = {"taupre": 20 * ms, "taupost": 20 * ms, "gmax": 0.01}
        inputs = PoissonGroup(1000, rates=15 * Hz)
        neuron = NeuronGroup(
            1,
            """dv/dt = (ge * (0*mV - v) + (-74*mV) - v) / (10*ms) : volt
               dge/dt = -ge / (5*ms) : 1""",
            threshold="v > -54*mV",
            reset="v = -60*mV",
            method="euler",
        )
        S = Synapses(
            inputs,
            neuron,
            """w : 1
               dApre/dt = -Apre / taupre : 1 (event-driven)
               dApost/dt = -Apost / taupost : 1 (event-driven)""",
            on_pre="""ge += w
                      Apre += 0.01 * gmax
                      w = clip(w + Apost, 0, gmax)""",
            on_post="""Apost += -0.01 * 1.05 * gmax
                       w = clip(w + Apre, 0, gmax)""",
            namespace=namespace,
        )
        S.connect()
        S.w = "rand() * 0.01"
        in_spikes = SpikeMonitor(inputs)
        out_spikes = SpikeMonitor(neuron)
        driven = NeuronGroup(50, "dv/dt = -v / (10*ms) : volt", method="exact")
        sparse = PoissonInput(driven, "v", 1000, 10 * Hz, weight=0.1 * mV)
        dense = PoissonInput(driven, "v", 20, 9000 * Hz, weight=-0.01 * mV)
        Network(inputs, neuron, S, in_spikes, out_spikes, driven, sparse, dense).run(1 * second)
        device.build(directory=str(tmp_path / name), run=True, with_output=False)
        results[name] = (
            np.array(in_spikes.i[:]),
            np.array(in_spikes.t[:]),
            np.array(out_spikes.t[:]),
            np.array(S.w[:]),
            np.array(driven.v[:]),
        )
        device.reinit()
        reset_device()
    for a, b in zip(results["cpp_standalone"], results["numba_standalone"], strict=True):
        np.testing.assert_array_equal(a, b)
    assert mV  # units imported for the equations


def test_network_without_objects_advances_its_time(tmp_path):
    _numba(tmp_path)
    net = Network()
    net.run(10 * ms)
    device.build(directory=str(tmp_path / "run"), run=True)
    assert float(net.t) == pytest.approx(0.010)
