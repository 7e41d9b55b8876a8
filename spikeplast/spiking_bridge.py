r"""The bridge to spikes: the FA_Ex-100% update of a rate network as a spiking three-factor rule.

A two-layer rate network (:class:`spikeplast.bridges.RateNetwork`: input → ReLU hidden → one
linear output) is mapped onto spiking neurons with the *same weights*:

* every rate input :math:`x_j \ge 0` becomes a Poisson source of rate :math:`\nu_j = \nu_0 x_j`
  (``input_rate`` :math:`\nu_0`); one more source fires at :math:`\nu_0` and carries the hidden
  bias, so a bias is a weight from a constant input, as in the rate network;
* every hidden unit becomes a current-based LIF neuron: synapse :math:`j \to i` has weight
  :math:`W_{ij}` (signed, the rate network's value) times ``weight_scale``
  :math:`J = I_0/(\nu_0 \tau_{exc})`, so the mean input current is :math:`I_0 (W x + b)_i`
  (``current_unit`` :math:`I_0`); a constant current holds the neuron at its rheobase, so it
  starts firing where the ReLU leaves zero;
* the hidden → input weights learn with the ``global-error`` rule
  (:class:`spikeplast.rules.GlobalError`): presynaptic trace × postsynaptic gate (open for
  ``gate_window`` after each hidden spike), accumulated over the trial, times the broadcast signed
  error :math:`e`; its learning rate is :math:`\eta/(\nu_0 T)` for trials of length :math:`T`,
  so that in expectation it makes the rate rule's update
  :math:`\Delta W_{ij} = -\eta\, x_j\, \theta(I_i)\, e` wherever the gate is open all trial;
* the output is read out from the hidden spike counts, :math:`\hat h_i = n_i/(T r_0)` with
  :math:`r_0` the LIF rate at unit current (:meth:`SpikingMap.rate_scale`), and learns with the
  delta rule (the exact output-layer update the rate network uses too).

Several copies of the network run side by side in one Brian2 network: *groups* of copies that
share one broadcast error (an :class:`~spikeplast.modulators.ErrorSignal` of one neuron and one
projection per group), each group holding one or more *copies* (independent trials of the same
stimulus). :func:`spiking_updates` uses this to average the spiking update over trials for a probe
batch; :func:`train_side_by_side` runs a mini-batch of trials at once, one per group.

Where the spiking update differs from the rate rule in expectation (so that its angle to the rate
update does not vanish for long trials): the gate is open a fraction :math:`g_i` of the trial, a
smooth function of the LIF rate (about :math:`\min(1, r_i w)` for regular firing at rate
:math:`r_i` and gate window :math:`w`), not the step :math:`\theta(I_i)`; input fluctuations make
neurons below rheobase fire a little; and a presynaptic spike raises the chance of a postsynaptic
one, which correlates the trace with the gate. :func:`lif_gate` gives the first effect from the
LIF's f-I curve.

This module imports Brian2; :mod:`spikeplast.bridges` does not, and never imports this module.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from brian2 import Hz, NetworkOperation, amp, ms, second

from .backend import Session
from .bridges.datasets import reward_prediction_task
from .bridges.errors import ShapeError
from .bridges.experiments import ExperimentResult
from .bridges.feedback_alignment import three_factor_update
from .bridges.metrics import angle
from .bridges.network import RateNetwork, forward, init_network, output_error
from .compose import Built, Population, Projection
from .errors import ConfigurationError
from .modulators import ErrorSignal, broadcast_error
from .neurons import LIF, PoissonSource
from .rules import GlobalError

__all__ = [
    "SpikingMap",
    "SpikingUpdates",
    "SideBySide",
    "check_rate_network",
    "augment_inputs",
    "hidden_matrix",
    "lif_rate",
    "lif_gate",
    "spike_statistics",
    "spiking_updates",
    "train_side_by_side",
    "angle_vs_trial_length",
    "spiking_reward_prediction",
]

Progress = Callable[[int], None] | None

#: The rule's learning rate while measuring updates (weights are restored after each read, and a
#: tiny rate keeps the weights of the one step between broadcast and read essentially unchanged).
_PROBE_ETA = 1e-6


def _default_neuron() -> LIF:
    # Current-based LIF (tau_m = 20 ms, 10 mV from rest to threshold), 2 ms refractory period.
    return LIF(synapse="current", t_ref=2 * ms)


@dataclass(frozen=True)
class SpikingMap:
    """How rate-network quantities become spiking ones.

    Parameters
    ----------
    input_rate
        :math:`\\nu_0`, Poisson rate (Hz) per unit of rate-network input.
    current_unit
        :math:`I_0`, current (A) per unit of the hidden pre-activation :math:`W x + b`.
    gate_window
        Seconds the postsynaptic gate stays open after a hidden spike.
    tau_pre
        Presynaptic trace time constant (s).
    dt
        Simulation time step (s).
    neuron
        The hidden neuron; must be a current-based :class:`~spikeplast.neurons.LIF`.
    """

    input_rate: float = 500.0
    current_unit: float = 100e-12
    gate_window: float = 0.05
    tau_pre: float = 0.02
    dt: float = 1e-4
    neuron: LIF = field(default_factory=_default_neuron)

    def check(self) -> None:
        """Raise :class:`~spikeplast.errors.ConfigurationError` for values that cannot work."""
        for name in ("input_rate", "current_unit", "gate_window", "tau_pre", "dt"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ConfigurationError(
                    f"SpikingMap.{name} must be a positive number, got {value!r}"
                )
        if not isinstance(self.neuron, LIF) or self.neuron.synapse != "current":
            raise ConfigurationError(
                "SpikingMap.neuron must be a current-based LIF (synapse='current')"
            )

    @property
    def rheobase(self) -> float:
        """Constant current (A) that holds the LIF exactly at threshold."""
        n = self.neuron
        return float(n.g_L * (n.V_th - n.E_L) / amp)

    @property
    def weight_scale(self) -> float:
        """:math:`J = I_0/(\\nu_0 \\tau_{exc})` (A), the current jump of a unit weight."""
        return self.current_unit / (self.input_rate * float(self.neuron.tau_exc / second))

    def rate_scale(self) -> float:
        """:math:`r_0`: the LIF rate (Hz) at one unit of pre-activation (the readout's scale)."""
        return float(lif_rate(np.array([1.0]), self)[0])


def lif_rate(current: np.ndarray, mapping: SpikingMap) -> np.ndarray:
    """The LIF's deterministic f-I curve in rate-network units (0 at and below rheobase).

    With the rheobase current added, a pre-activation :math:`a` gives the stationary voltage
    :math:`V_\\infty = V_{th} + R I_0 a`, so the rate is
    :math:`1/(t_{ref} + \\tau_m \\ln\\frac{V_\\infty - V_{reset}}{V_\\infty - V_{th}})` for
    :math:`a > 0`.
    """
    n = mapping.neuron
    a = np.asarray(current, dtype=float)
    tau_m = float(n.C_m / n.g_L)
    lift = mapping.current_unit * np.maximum(a, 0.0) / float(n.g_L)  # V_inf - V_th (volts)
    gap = float(n.V_th - n.V_reset)
    with np.errstate(divide="ignore", invalid="ignore"):
        interval = float(n.t_ref) + tau_m * np.log((lift + gap) / lift)
        rate = np.where(a > 0, 1.0 / interval, 0.0)
    return rate


def lif_gate(current: np.ndarray, mapping: SpikingMap) -> np.ndarray:
    """Fraction of time the gate is open for regular firing at :func:`lif_rate`:
    :math:`\\min(1, r(a)\\, w)`, the postsynaptic factor the spiking rule estimates."""
    return np.minimum(1.0, lif_rate(current, mapping) * mapping.gate_window)


# ------------------------------------------------------------------------------------------------
# Checking and mapping the rate network
# ------------------------------------------------------------------------------------------------
def check_rate_network(net: RateNetwork) -> None:
    """Raise :class:`~spikeplast.bridges.ShapeError` unless `net` is input → ReLU → 1 linear."""
    if not isinstance(net, RateNetwork):
        raise ShapeError(f"expected a RateNetwork, got {type(net).__name__}")
    if net.n_layers != 2:
        raise ShapeError(
            f"the spiking bridge maps two weight layers (input → hidden → output), got "
            f"{net.n_layers}"
        )
    if net.hidden != "relu" or net.output != "linear":
        raise ShapeError(
            f"the spiking bridge needs ReLU hidden units (the LIF's f-I curve starts at rheobase "
            f"like a ReLU) and a linear output, got {net.hidden!r} / {net.output!r}"
        )
    if net.weights[1].shape[0] != 1:
        raise ShapeError(
            f"FA_Ex-100% broadcasts one scalar error; the network has "
            f"{net.weights[1].shape[0]} outputs (use a scalar-output task)"
        )


def augment_inputs(x: np.ndarray, n_inputs: int) -> np.ndarray:
    """Rows of `x` with a constant 1 appended (the bias input); checks shape and sign."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    if x.ndim != 2 or x.shape[1] != n_inputs:
        raise ShapeError(f"inputs have shape {x.shape}; expected (batch, {n_inputs})")
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ShapeError("inputs must be finite and non-negative (they become Poisson rates)")
    return np.hstack([x, np.ones((x.shape[0], 1))])


def hidden_matrix(net: RateNetwork) -> np.ndarray:
    """The hidden layer's weights with the bias as last column, shape ``(n_hidden, n_in + 1)``."""
    return np.hstack([net.weights[0], net.biases[0][:, None]])


def _errors(error: Any, batch: int) -> np.ndarray:
    e = np.asarray(error, dtype=float)
    if e.size != batch or e.ndim > 2 or (e.ndim == 2 and e.shape[1] != 1):
        raise ShapeError(
            f"expected one scalar error per sample ({batch}), got an error of shape {e.shape}"
        )
    if not np.all(np.isfinite(e)):
        raise ShapeError("errors must be finite numbers")
    return e.reshape(batch)


# ------------------------------------------------------------------------------------------------
# The replicated spiking network
# ------------------------------------------------------------------------------------------------
class _Replicas:
    """`n_groups` × `n_copies` copies of the spiking hidden layer in one Brian2 network.

    Group g has its own error population ``error{g}`` and projection ``ff{g}``; copy c = g K + k
    owns input neurons ``c (n_in+1) ... `` and hidden neurons ``c n_hidden ...``.
    """

    def __init__(
        self,
        session: Session,
        weights: np.ndarray,
        n_groups: int,
        n_copies: int,
        mapping: SpikingMap,
        rule: GlobalError,
        error_signals: Sequence[ErrorSignal],
    ):
        self.n_hidden, self.n_in = weights.shape
        self.n_groups, self.n_copies = n_groups, n_copies
        copies = n_groups * n_copies
        neuron = mapping.neuron
        populations = [
            Population("inputs", PoissonSource(rate=0 * Hz), n=copies * self.n_in),
            Population(
                "hidden",
                neuron,
                n=copies * self.n_hidden,
                init={"v": "E_L + rand()*(V_th - E_L)", "I_ext": mapping.rheobase * amp},
            ),
        ]
        projections = []
        rows, cols = np.meshgrid(np.arange(self.n_hidden), np.arange(self.n_in), indexing="ij")
        for g, signal in enumerate(error_signals):
            populations.append(Population(f"error{g}", signal))
            first = g * n_copies
            copy = np.repeat(np.arange(first, first + n_copies), rows.size)
            projections.append(
                Projection(
                    f"ff{g}",
                    "inputs",
                    "hidden",
                    rule=rule,
                    weight_scale=mapping.weight_scale * amp,
                    connect={
                        "i": copy * self.n_in + np.tile(cols.ravel(), n_copies),
                        "j": copy * self.n_hidden + np.tile(rows.ravel(), n_copies),
                    },
                    w_init=0.0,
                    modulator=f"error{g}",
                )
            )
        self.built: Built = session.build(populations, projections)
        self.spikes = self.built.spike_monitor("hidden")
        self.index = []
        for g in range(n_groups):
            synapses = self.built.synapses[f"ff{g}"]
            pre, post = np.asarray(synapses.i[:]), np.asarray(synapses.j[:])
            copy = post // self.n_hidden - g * n_copies
            self.index.append((copy, post % self.n_hidden, pre % self.n_in))
        self.set_weights(weights)

    def set_weights(self, weights: np.ndarray) -> None:
        """Give every copy the weights `weights` (shape ``(n_hidden, n_in + 1)``)."""
        for g, (_, row, col) in enumerate(self.index):
            self.built.synapses[f"ff{g}"].w[:] = weights[row, col]

    def weights(self, g: int) -> np.ndarray:
        """Weights of the copies of group g, shape ``(n_copies, n_hidden, n_in + 1)``."""
        copy, row, col = self.index[g]
        out = np.empty((self.n_copies, self.n_hidden, self.n_in))
        out[copy, row, col] = self.built.weights(f"ff{g}")
        return out

    def set_rates(self, rates: np.ndarray) -> None:
        """Input rates in Hz, shape ``(n_groups * n_copies, n_in + 1)``."""
        self.built.groups["inputs"].rate = rates.ravel() * Hz

    def counts(self) -> np.ndarray:
        """Hidden spike counts so far, shape ``(n_groups, n_copies, n_hidden)``."""
        count = np.asarray(self.spikes.count[:], dtype=float)
        return count.reshape(self.n_groups, self.n_copies, self.n_hidden)

    def spike_data(self) -> tuple[np.ndarray, np.ndarray]:
        """Times (s) and indices of all hidden spikes so far."""
        return np.asarray(self.spikes.t[:] / second, dtype=float), np.asarray(self.spikes.i[:])


def spike_statistics(
    times: np.ndarray, neurons: np.ndarray, until: float, window: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Spike counts in ``[0, until)`` and seconds the gate was open in ``[0, until)`` per neuron.

    The gate of a neuron opens at each of its spikes and stays open for `window` (a later spike
    restarts it).
    """
    order = np.lexsort((times, neurons))
    times, neurons = times[order], neurons[order]
    following = np.append(times[1:], np.inf)
    following[np.append(neurons[1:] != neurons[:-1], True)] = np.inf
    keep = times < until - 1e-12
    closes = np.minimum(np.minimum(following, times + window), until)
    open_time = np.clip(closes - times, 0.0, None)[keep]
    counts = np.bincount(neurons[keep], minlength=n).astype(float)
    return counts, np.bincount(neurons[keep], weights=open_time, minlength=n)


def _rule(mapping: SpikingMap, eta: float, after_error: str) -> GlobalError:
    return GlobalError(
        eta=eta,
        tau_pre=mapping.tau_pre * second,
        gate_window=mapping.gate_window * second,
        eligibility_after_error=after_error,
        w_min=-math.inf,
        w_max=math.inf,
    )


# ------------------------------------------------------------------------------------------------
# Experiment 1: trial-averaged spiking update against the rate update
# ------------------------------------------------------------------------------------------------
class SpikingUpdates(NamedTuple):
    """Spiking updates of the hidden layer for trials of growing length (see
    :func:`spiking_updates`). ``n_in`` counts the bias input."""

    durations: np.ndarray  #: (n_T,) trial lengths, s
    updates: np.ndarray  #: (n_T, K, n_hidden, n_in) per-trial ΔW, probe-batch mean, rate units
    rate_update: np.ndarray  #: (n_hidden, n_in) the FA_Ex-100% rate update, same batch
    counts: np.ndarray  #: (n_T, batch, K, n_hidden) hidden spike counts in [0, T)
    gate_open: np.ndarray  #: (n_T, batch, K, n_hidden) fraction of [0, T) the gate was open
    pre_activation: np.ndarray  #: (batch, n_hidden) the rate network's I = W x + b
    inputs: np.ndarray  #: (batch, n_in) inputs with the bias column
    error: np.ndarray  #: (batch,) the broadcast error
    seconds: float  #: wall-clock time of build and run
    cpu_seconds: float


def spiking_updates(
    net: RateNetwork,
    x: np.ndarray,
    error: np.ndarray,
    *,
    durations: Sequence[float] = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0),
    trials: int = 20,
    learning_rate: float = 0.01,
    mapping: SpikingMap | None = None,
    backend: str = "numpy",
    seed: int = 0,
    progress: Progress = None,
) -> SpikingUpdates:
    """The spiking three-factor update on the rate network's weights, for K trials per sample.

    Every sample of the probe batch `x` runs in `trials` independent copies (one Brian2 network
    holds them all); the rate network's `error` of each sample is broadcast to its copies at
    every trial length in `durations` (eligibility kept between broadcasts, weights restored
    after each), so one run of ``max(durations)`` gives the update of a trial of each length.

    Parameters
    ----------
    net
        Input → ReLU hidden → one linear output (:func:`check_rate_network`).
    x
        Probe inputs, shape ``(batch, n_in)``, non-negative (Poisson rates :math:`\\nu_0 x`).
    error
        The broadcast error of each sample (e.g. prediction minus target), shape ``(batch,)``.
    durations
        Trial lengths (s), increasing.
    trials
        K, independent trials per sample.
    learning_rate
        :math:`\\eta` of the rate rule; the spiking updates are scaled to the same convention.
    mapping
        Rate → spike conversion (:class:`SpikingMap`).
    backend
        A runtime backend (``numpy`` or ``cython``): weights are read between broadcasts.
    seed
        Seed of the spikes.
    progress
        Called with the number of trial lengths finished.
    """
    mapping = SpikingMap() if mapping is None else mapping
    mapping.check()
    check_rate_network(net)
    weights = hidden_matrix(net)
    inputs = augment_inputs(x, net.weights[0].shape[1])
    batch = inputs.shape[0]
    e = _errors(error, batch)
    steps = np.round(np.asarray(durations, dtype=float) / mapping.dt).astype(int)
    if steps.ndim != 1 or steps.size == 0 or steps[0] < 1 or np.any(np.diff(steps) <= 0):
        raise ShapeError(f"durations must increase and be at least one time step, got {durations}")
    if int(trials) != trials or trials < 1:
        raise ShapeError(f"trials must be a positive integer, got {trials!r}")
    if backend not in ("numpy", "cython"):
        raise ConfigurationError(
            f"spiking_updates reads weights between broadcasts: use the numpy or cython "
            f"backend, not {backend!r}"
        )
    times = steps * mapping.dt
    wall, cpu = time.perf_counter(), time.process_time()
    rate_update = three_factor_update(weights, inputs, e, learning_rate=learning_rate)
    n_t, n_hidden = len(times), weights.shape[0]
    updates = np.zeros((n_t, trials, *weights.shape))
    counts = np.zeros((n_t, batch, trials, n_hidden))
    gate = np.zeros_like(counts)
    with Session(backend, dt=mapping.dt * second, seed=seed) as session:
        signals = [ErrorSignal(times, np.full(n_t, e[b])) for b in range(batch)]
        replicas = _Replicas(
            session, weights, batch, trials, mapping, _rule(mapping, _PROBE_ETA, "keep"), signals
        )
        replicas.set_rates(np.repeat(inputs, trials, axis=0) * mapping.input_rate)
        elapsed = 0.0
        for k, end in enumerate(times):
            # the broadcast at `end` applies the eligibility of [0, end); read it one step later
            session.run((end + mapping.dt - elapsed) * second)
            elapsed = end + mapping.dt
            scale = learning_rate / (mapping.input_rate * end) / _PROBE_ETA
            for b in range(batch):
                updates[k] += (replicas.weights(b) - weights) * scale / batch
            replicas.set_weights(weights)
            if progress is not None:
                progress(1)
        spike_t, spike_i = replicas.spike_data()
    for k, end in enumerate(times):
        n = batch * trials * n_hidden
        count, open_time = spike_statistics(spike_t, spike_i, end, mapping.gate_window, n)
        counts[k] = count.reshape(batch, trials, n_hidden)
        gate[k] = open_time.reshape(batch, trials, n_hidden) / end
    return SpikingUpdates(
        durations=times,
        updates=updates,
        rate_update=rate_update,
        counts=counts,
        gate_open=gate,
        pre_activation=inputs @ weights.T,
        inputs=inputs,
        error=e,
        seconds=time.perf_counter() - wall,
        cpu_seconds=time.process_time() - cpu,
    )


# ------------------------------------------------------------------------------------------------
# Experiment 2: training the spiking and the rate network side by side
# ------------------------------------------------------------------------------------------------
class SideBySide(NamedTuple):
    """Both networks trained on the same trials (see :func:`train_side_by_side`)."""

    block: np.ndarray  #: (n_blocks + 1,) blocks of trials done at each evaluation
    rate_train_loss: np.ndarray  #: (n_blocks + 1,) mean ½e² of the rate network's trials
    spiking_train_loss: np.ndarray  #: mean ½e² of the spiking network's trials (its own error)
    rate_test_loss: np.ndarray  #: rate network on the test set
    transfer_test_loss: np.ndarray  #: the rate network with the spiking network's weights
    spiking_test_loss: float  #: spiking network (frozen) on `test_trials` test trials
    spiking_test_accuracy: float
    rate_test_accuracy: float
    rate_net: RateNetwork  #: trained rate network
    spiking_net: RateNetwork  #: the spiking network's weights, as a rate network
    seconds: float
    cpu_seconds: float


def _half_squared(prediction: np.ndarray, targets: np.ndarray) -> float:
    return float(0.5 * np.mean((prediction.ravel() - targets.ravel()) ** 2))


def _accuracy(prediction: np.ndarray, targets: np.ndarray, levels: np.ndarray | None) -> float:
    if levels is None or len(levels) == 0:
        return float("nan")
    levels = np.asarray(levels, dtype=float)
    nearest = levels[np.argmin(np.abs(prediction.reshape(-1, 1) - levels), axis=1)]
    return float(np.mean(np.isclose(nearest, targets.ravel())))


def _as_network(template: RateNetwork, hidden: np.ndarray, w2: np.ndarray, b2: np.ndarray):
    return template.replace(
        weights=(hidden[:, :-1].copy(), w2.copy()), biases=(hidden[:, -1].copy(), b2.copy())
    )  # noqa: E501


def train_side_by_side(
    net: RateNetwork,
    data: Any,
    *,
    blocks: int = 6,
    trials_per_block: int = 500,
    batch_size: int = 10,
    trial_length: float = 0.1,
    learning_rate: float = 0.01,
    test_trials: int = 100,
    mapping: SpikingMap | None = None,
    backend: str = "cython",
    seed: int = 0,
    progress: Progress = None,
) -> SideBySide:
    """Train the rate network (FA_Ex-100%) and its spiking copy on the same trials.

    Both start from `net` and see the same trials in the same order, `batch_size` at a time
    (the spiking network runs them as parallel copies sharing one weight matrix). Each trial's
    update is the per-trial rule with learning rate `learning_rate` (Konishi et al.: 0.01), and
    a batch applies the sum of its trials' updates. Rate network: ``ΔW₁ = -η x θ(I) e``, output
    layer by the delta rule. Spiking network: hidden weights by the ``global-error`` rule with
    the error of its *own* readout broadcast at the end of each trial, the readout by the delta
    rule on the spike-count rates.

    Parameters
    ----------
    net
        The initial network (input → ReLU hidden → one linear output).
    data
        A regression :class:`~spikeplast.bridges.Dataset` with non-negative inputs (e.g.
        :func:`~spikeplast.bridges.reward_prediction_task`).
    blocks, trials_per_block
        The budget: `blocks` evaluation points, `trials_per_block` trials between them (drawn
        without replacement from the training set, reshuffled each pass).
    batch_size
        Trials run at once (parallel copies in the spiking network).
    trial_length
        Seconds per spiking trial.
    test_trials
        Test trials run through the frozen spiking network at the end.
    backend
        ``cython`` (default) or ``numpy``.
    """
    mapping = SpikingMap() if mapping is None else mapping
    mapping.check()
    check_rate_network(net)
    n_in = net.weights[0].shape[1]
    x_train = augment_inputs(data.x_train, n_in)
    x_test = augment_inputs(data.x_test, n_in)
    y_train = np.asarray(data.y_train, dtype=float).reshape(len(x_train), -1)
    y_test = np.asarray(data.y_test, dtype=float).reshape(len(x_test), -1)
    if y_train.shape[1] != 1:
        raise ShapeError(f"targets must be scalars, got shape {np.shape(data.y_train)}")
    for name, value in (("blocks", blocks), ("trials_per_block", trials_per_block),
                        ("batch_size", batch_size), ("test_trials", test_trials)):  # fmt: skip
        if int(value) != value or value < 1:
            raise ShapeError(f"{name} must be a positive integer, got {value!r}")
    if trials_per_block % batch_size:
        raise ShapeError(
            f"trials_per_block ({trials_per_block}) must be a multiple of batch_size ({batch_size})"
        )
    steps = round(trial_length / mapping.dt)
    if steps < 1:
        raise ShapeError(f"trial_length must be at least one time step, got {trial_length}")
    trial_length = steps * mapping.dt
    wall, cpu = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(seed)
    order = np.concatenate(
        [
            rng.permutation(len(x_train))
            for _ in range(-(-blocks * trials_per_block // len(x_train)))
        ]
    )[: blocks * trials_per_block]
    levels = getattr(data, "levels", None)
    r0 = mapping.rate_scale()
    rate_hidden, rate_w2, rate_b2 = hidden_matrix(net), net.weights[1].copy(), net.biases[1].copy()
    spk_hidden, spk_w2, spk_b2 = rate_hidden.copy(), rate_w2.copy(), rate_b2.copy()
    eta_spiking = learning_rate / (mapping.input_rate * trial_length)

    def rate_test(hidden: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> float:
        h = np.maximum(x_test @ hidden.T, 0.0)
        return _half_squared(h @ w2.T + b2, y_test)

    curves: dict[str, list[float]] = {k: [] for k in ("rate_train", "spk_train", "rate_test",
                                                         "transfer")}  # fmt: skip
    block_rate, block_spk = [], []

    def record() -> None:
        curves["rate_train"].append(float(np.mean(block_rate)) if block_rate else float("nan"))
        curves["spk_train"].append(float(np.mean(block_spk)) if block_spk else float("nan"))
        curves["rate_test"].append(rate_test(rate_hidden, rate_w2, rate_b2))
        curves["transfer"].append(rate_test(spk_hidden, spk_w2, spk_b2))
        block_rate.clear(), block_spk.clear()

    test_rows = np.arange(test_trials) % len(x_test)
    n_train_batches = len(order) // batch_size
    test_batches = [test_rows[i : i + batch_size] for i in range(0, test_trials, batch_size)]
    state: dict[str, Any] = {"step": 0, "batch": 0, "x": None, "t": None, "before": None}
    predictions: list[np.ndarray] = []

    def batch_inputs(index: int) -> tuple[np.ndarray, np.ndarray | None]:
        if index < n_train_batches:
            which = order[index * batch_size : (index + 1) * batch_size]
            return x_train[which], y_train[which]
        rows = test_batches[index - n_train_batches]
        padded = np.zeros((batch_size, x_test.shape[1]))
        padded[: len(rows)] = x_test[rows]
        return padded, None

    with Session(backend, dt=mapping.dt * second, seed=seed) as session:
        signals = [ErrorSignal() for _ in range(batch_size)]
        replicas = _Replicas(
            session,
            spk_hidden,
            batch_size,
            1,
            mapping,
            _rule(mapping, eta_spiking, "reset"),
            signals,
        )

        def start_trial() -> None:
            state["x"], state["t"] = batch_inputs(state["batch"])
            replicas.set_rates(state["x"] * mapping.input_rate)
            state["before"] = replicas.counts()[:, 0]

        def step() -> None:
            # One trial is `steps` steps, then one step in which its errors are broadcast; runs at
            # the start of each step (counts then include every spike of the previous step).
            nonlocal spk_hidden, spk_w2, spk_b2, rate_hidden, rate_w2, rate_b2
            phase = state["step"] % (steps + 1)
            state["step"] += 1
            if phase == steps:  # the trial is over: read out, broadcast, update the rate network
                h_spk = (replicas.counts()[:, 0] - state["before"]) / (trial_length * r0)
                prediction = h_spk @ spk_w2.T + spk_b2
                if state["t"] is None:
                    predictions.append(prediction)
                    return
                x, target = state["x"], state["t"]
                e_spk = (prediction - target).ravel()
                block_spk.extend(0.5 * e_spk**2)
                for g, value in enumerate(e_spk):
                    broadcast_error(replicas.built, f"error{g}", value)
                spk_w2 = spk_w2 - learning_rate * (e_spk @ h_spk)[None, :]
                spk_b2 = spk_b2 - learning_rate * e_spk.sum(keepdims=True)
                # the rate network on the same trials: per-trial FA_Ex-100%, summed over the batch
                h = np.maximum(x @ rate_hidden.T, 0.0)
                e = (h @ rate_w2.T + rate_b2 - target).ravel()
                block_rate.extend(0.5 * e**2)
                rate_hidden = rate_hidden + len(e) * three_factor_update(
                    rate_hidden, x, e, learning_rate=learning_rate
                )
                rate_w2 = rate_w2 - learning_rate * (e @ h)[None, :]
                rate_b2 = rate_b2 - learning_rate * e.sum(keepdims=True)
            elif phase == 0 and state["step"] > 1:  # the broadcasts have acted: share, next trial
                if state["t"] is not None:
                    change = sum(replicas.weights(g)[0] - spk_hidden for g in range(batch_size))
                    spk_hidden = spk_hidden + change
                    replicas.set_weights(spk_hidden)
                state["batch"] += 1
                if state["batch"] <= n_train_batches and (
                    state["batch"] * batch_size % trials_per_block == 0
                ):
                    record()
                    if progress is not None:
                        progress(1)
                if state["batch"] < n_train_batches + len(test_batches):
                    start_trial()

        replicas.built.network.add(NetworkOperation(step, when="start"))
        record()
        start_trial()
        batches = n_train_batches + len(test_batches)
        session.run(batches * (steps + 1) * mapping.dt * second)
    prediction = np.concatenate(
        [p[: len(rows)] for p, rows in zip(predictions, test_batches, strict=True)]
    ).ravel()  # noqa: E501
    rate_prediction = np.maximum(x_test @ rate_hidden.T, 0.0) @ rate_w2.T + rate_b2
    return SideBySide(
        block=np.arange(blocks + 1),
        rate_train_loss=np.asarray(curves["rate_train"]),
        spiking_train_loss=np.asarray(curves["spk_train"]),
        rate_test_loss=np.asarray(curves["rate_test"]),
        transfer_test_loss=np.asarray(curves["transfer"]),
        spiking_test_loss=_half_squared(prediction, y_test[test_rows]),
        spiking_test_accuracy=_accuracy(prediction, y_test[test_rows], levels),
        rate_test_accuracy=_accuracy(rate_prediction, y_test, levels),
        rate_net=_as_network(net, rate_hidden, rate_w2, rate_b2),
        spiking_net=_as_network(net, spk_hidden, spk_w2, spk_b2),
        seconds=time.perf_counter() - wall,
        cpu_seconds=time.process_time() - cpu,
    )


# ------------------------------------------------------------------------------------------------
# The two experiments as saved results
# ------------------------------------------------------------------------------------------------
def _mapping_summary(mapping: SpikingMap) -> dict[str, float]:
    return {
        "input_rate_hz_per_unit": mapping.input_rate,
        "current_unit_pA": mapping.current_unit * 1e12,
        "gate_window_ms": mapping.gate_window * 1e3,
        "tau_pre_ms": mapping.tau_pre * 1e3,
        "dt_ms": mapping.dt * 1e3,
        "readout_rate_hz_per_unit": mapping.rate_scale(),
    }


def angle_vs_trial_length(
    *,
    durations: Sequence[float] = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0),
    trials: int = 20,
    batch: int = 10,
    n_hidden: int = 20,
    learning_rate: float = 0.01,
    mapping: SpikingMap | None = None,
    backend: str = "cython",
    seed: int = 0,
    progress: Progress = None,
) -> ExperimentResult:
    """Experiment 1: ∠(trial-averaged spiking update, rate update) against trial length.

    A fresh reward-prediction network (40 → `n_hidden` ReLU → 1, seed `seed`) and a probe batch of
    `batch` test trials; the rate network's errors are broadcast. Each row gives, for one trial
    length, the angle between the K-trial mean of the spiking update and: the FA_Ex-100% rate
    update (gate θ(I)); the rate rule with the gate measured from the spikes (fraction of the
    longest trial the gate was open, averaged over trials); the rate rule with the deterministic
    LIF gate (:func:`lif_gate`); and the BP update. ``angle_by_trials`` gives the first for
    K = 1, 2, 5, ... trials (mean over disjoint sets of trials).
    """

    mapping = SpikingMap() if mapping is None else mapping
    data = reward_prediction_task(n_train=batch, n_test=batch, seed=seed)
    net = init_network([data.x_train.shape[1], n_hidden, 1], hidden="relu", rng=seed)
    x, targets = data.x_test[:batch], data.y_test[:batch]
    fwd = forward(net, x)
    error = output_error(net, fwd, targets, "mse").ravel()
    result = spiking_updates(
        net,
        x,
        error,
        durations=durations,
        trials=trials,
        learning_rate=learning_rate,
        mapping=mapping,
        backend=backend,
        seed=seed,
        progress=progress,
    )
    weights = hidden_matrix(net)
    measured_gate = result.gate_open[-1].mean(axis=1)
    references = {
        "rate": result.rate_update,
        "measured_gate": three_factor_update(
            weights, result.inputs, error, post_gate=measured_gate, learning_rate=learning_rate
        ),
        "lif_gate": three_factor_update(
            weights,
            result.inputs,
            error,
            post_gate=lif_gate(result.pre_activation, mapping),
            learning_rate=learning_rate,
        ),
        "bp": three_factor_update(
            weights, result.inputs, error, feedback=net.weights[1].T, learning_rate=learning_rate
        ),
    }
    subsets = [k for k in (1, 2, 5, 10, 20, 50, 100) if k <= trials]
    rows, by_trials = [], np.zeros((len(result.durations), len(subsets)))
    for index, duration in enumerate(result.durations):
        mean = result.updates[index].mean(axis=0)
        row = {"trial_length_s": float(duration), "trials": trials}
        for name, reference in references.items():
            row[f"angle_{name}_deg"] = angle(mean, reference)
        row["norm_ratio"] = float(np.linalg.norm(mean) / np.linalg.norm(result.rate_update))
        for column, k in enumerate(subsets):
            sets = result.updates[index][: (trials // k) * k].reshape(
                trials // k, k, *weights.shape
            )
            by_trials[index, column] = np.mean([angle(s.mean(0), result.rate_update) for s in sets])
        row["angle_rate_single_trial_deg"] = float(by_trials[index, 0])
        rate = result.counts[index].mean(axis=1) / duration
        row["hidden_rate_hz_mean"] = float(rate.mean())
        rows.append(row)
    below = result.pre_activation <= 0
    longest = result.gate_open[-1].mean(axis=1)
    summary = {
        "experiment": "spiking-angle",
        "network": [data.x_train.shape[1], n_hidden, 1],
        "probe_batch": batch,
        "trials": trials,
        "learning_rate": learning_rate,
        "backend": backend,
        "seed": seed,
        "mapping": _mapping_summary(mapping),
        "trial_subsets": subsets,
        "gate_open_below_rheobase_mean": float(longest[below].mean()) if below.any() else None,
        "gate_open_above_rheobase_mean": float(longest[~below].mean()) if (~below).any() else None,
        "rows": rows,
        "sim_seconds": result.seconds,
        "sim_cpu_seconds": result.cpu_seconds,
    }
    arrays = {
        "durations": result.durations,
        "angle_by_trials": by_trials,
        "trial_subsets": np.asarray(subsets),
        "pre_activation": result.pre_activation,
        "gate_open": result.gate_open,
        "lif_gate": lif_gate(result.pre_activation, mapping),
        "updates_mean": result.updates.mean(axis=1),
        **{f"reference/{k}": v for k, v in references.items()},
    }
    for key in ("rate", "measured_gate", "lif_gate", "bp"):
        arrays[f"angle_{key}"] = np.array([r[f"angle_{key}_deg"] for r in rows])
    return ExperimentResult("bridge_spiking_angle", summary, arrays)


def spiking_reward_prediction(
    *,
    blocks: int = 6,
    trials_per_block: int = 500,
    batch_size: int = 10,
    trial_length: float = 0.1,
    n_hidden: int = 20,
    learning_rate: float = 0.01,
    test_trials: int = 100,
    noise: float = 0.1,
    mapping: SpikingMap | None = None,
    backend: str = "cython",
    seed: int = 0,
    progress: Progress = None,
) -> ExperimentResult:
    """Experiment 2: the spiking and the rate network trained side by side on the reward task.

    Same initial network (seed `seed`), same trials in the same order, per-trial learning rate
    `learning_rate`, updates summed over batches of `batch_size` (see
    :func:`train_side_by_side`).
    """

    mapping = SpikingMap() if mapping is None else mapping
    data = reward_prediction_task(n_train=trials_per_block, noise=noise, seed=seed)
    net = init_network([data.x_train.shape[1], n_hidden, 1], hidden="relu", rng=seed)
    run = train_side_by_side(
        net,
        data,
        blocks=blocks,
        trials_per_block=trials_per_block,
        batch_size=batch_size,
        trial_length=trial_length,
        learning_rate=learning_rate,
        test_trials=test_trials,
        mapping=mapping,
        backend=backend,
        seed=seed,
        progress=progress,
    )

    summary = {
        "experiment": "spiking-train",
        "network": [data.x_train.shape[1], n_hidden, 1],
        "blocks": blocks,
        "trials_per_block": trials_per_block,
        "batch_size": batch_size,
        "trial_length_s": trial_length,
        "learning_rate": learning_rate,
        "noise": noise,
        "test_trials_spiking": test_trials,
        "backend": backend,
        "seed": seed,
        "mapping": _mapping_summary(mapping),
        "final": {
            "rate_test_mse": 2 * float(run.rate_test_loss[-1]),
            "rate_test_accuracy": run.rate_test_accuracy,
            "spiking_test_mse": 2 * run.spiking_test_loss,
            "spiking_test_accuracy": run.spiking_test_accuracy,
            "spiking_weights_in_rate_network_test_mse": 2 * float(run.transfer_test_loss[-1]),
            "rate_train_mse_last_block": 2 * float(run.rate_train_loss[-1]),
            "spiking_train_mse_last_block": 2 * float(run.spiking_train_loss[-1]),
            "hidden_weight_change_angle_deg": angle(
                run.spiking_net.weights[0] - net.weights[0],
                run.rate_net.weights[0] - net.weights[0],
            ),
        },
        "sim_seconds": run.seconds,
        "sim_cpu_seconds": run.cpu_seconds,
    }
    arrays = {
        "block": run.block,
        "rate_train_mse": 2 * run.rate_train_loss,
        "spiking_train_mse": 2 * run.spiking_train_loss,
        "rate_test_mse": 2 * run.rate_test_loss,
        "transfer_test_mse": 2 * run.transfer_test_loss,
        "rate_hidden_weights": hidden_matrix(run.rate_net),
        "spiking_hidden_weights": hidden_matrix(run.spiking_net),
        "initial_hidden_weights": hidden_matrix(net),
    }
    return ExperimentResult("bridge_spiking_train", summary, arrays)
