"""The spiking receptive-field network: ON/OFF Poisson inputs onto competing LIF neurons.

Architecture
------------
Input
    Each whitened patch ``x`` (``D = size²`` pixels) is shown for ``presentation`` as the rates
    of ``2D`` Poisson neurons in push-pull around a baseline: ON cell ``p`` fires at
    ``[r0 + g x_p]₊`` and OFF cell ``p`` at ``[r0 - g x_p]₊`` (``r0`` = ``baseline_rate``,
    ``g`` = ``gain``, capped at ``max_rate``), as centre ON and OFF cells of the LGN do. The rates
    of all patches are one 2-D ``TimedArray`` (patch index × input neuron) read by the input
    group's threshold, so a run is a single ``Network.run`` on every backend.
Neurons
    ``n_neurons`` leaky integrate-and-fire neurons with current-based synapses and an adaptive
    threshold ``V_th + θ``: ``θ`` jumps by ``theta_plus`` at each spike and decays with
    ``tau_theta`` (the homeostatic threshold of Diehl & Cook 2015), so every neuron fires at a
    similar mean rate whatever its total input weight (the ON and OFF weights of a learned filter
    give a large constant drive).
Competition
    Lateral inhibition: every neuron inhibits every other one (``inhibition`` × weight scale, on
    the inhibitory receptor), so neurons that respond to the same patches suppress each other
    (Földiák 1990; Zylberberg, Murphy & DeWeese 2011). Optionally the lateral weights learn with
    inhibitory STDP (``vogels-istdp``: coincident firing strengthens inhibition, i.e. an
    anti-Hebbian decorrelation, Földiák's rule in spiking form).
Plasticity
    The feed-forward weights (ON and OFF onto each neuron) learn under any rule that works on
    spike trains or voltages: ``nonlinear-hebbian`` (default, ``brito2016-rf-spiking``, with its
    own L2 normalisation), ``triplet-stdp`` (Pfister & Gerstner 2006; the BCM-like rule Brito &
    Gerstner 2016 map to nonlinear Hebbian learning), ``convallis``, ``pair-stdp``, ``clopath``.
    Rules without a weight constraint are wrapped in :class:`Normalized`, which adds the same
    multiplicative L2 normalisation of each neuron's incoming weights (``‖w‖ = w_norm``, every
    ``normalization_interval``); three-factor rules (no modulator here) and inhibitory rules are
    refused with a clear error. The nonlinear Hebbian learning rate decays linearly over the run
    to ``anneal_to`` (10 %) of ``eta`` (:class:`Annealed`).
ON/OFF segregation
    The ON and OFF channels are almost rectified (``[±g x]₊``), so besides the signed filter
    ``w_ON - w_OFF`` a neuron can learn the common mode ``w_ON + w_OFF``: with both weights of
    every pixel alike it responds to the contrast energy ``g Σ w |x_p|`` of a patch, which is
    heavy-tailed too, and at each of its spikes (high-contrast patches) both channels of a pixel
    fire above their mean, so the centred rule strengthens both. With the rule's presynaptic
    offset at the mean input rate a third of the neurons ended in this state (busiest neurons,
    noisy filters, no orientation). The offset is set a quarter above the mean rate
    (``pre_offset_scale``): each postsynaptic spike also depresses every synapse by the same
    amount, a heterosynaptic depression that acts like a subtractive constraint on the summed
    weight (Miller & MacKay 1994) and, as in Miller's (1994) ON/OFF model, favours
    segregation.
Input scale
    Each input spike injects ``weight_scale`` (75 pA) × its weight: small EPSPs at high input
    rates (20 Hz ± 240 Hz per whitened unit), so that a neuron fires for a patch, not for the
    spikes of one strong synapse, which the rule (it reads presynaptic spike traces) would
    reinforce until the filter is a single pixel.
Receptive field
    The learned filter of a neuron is ``w_ON - w_OFF`` (a pixel's ON weight minus its OFF
    weight), which acts on whitened patches: while no rate is clipped, the neuron's drive is
    ``r0 Σ(w_ON + w_OFF) + g (w_ON - w_OFF)·x``.

The rate-based comparison (:mod:`.rate`) shares the patches and the metrics
(:func:`spikeplast.analysis.summarize`).

References
----------
.. [1] Brito CSN, Gerstner W (2016) PLoS Comput Biol 12:e1005070.
.. [2] Diehl PU, Cook M (2015) Unsupervised learning of digit recognition using spike-timing-
       dependent plasticity. Front Comput Neurosci 9:99.
.. [3] Földiák P (1990) Forming sparse representations by local anti-Hebbian learning. Biol
       Cybern 64:165-170.
.. [4] Zylberberg J, Murphy JT, DeWeese MR (2011) A sparse coding model with synaptically local
       plasticity and spiking neurons can account for the diverse shapes of V1 simple cell
       receptive fields. PLoS Comput Biol 7:e1002250.
.. [5] Miller KD, MacKay DJC (1994) The role of constraints in Hebbian learning. Neural Comput
       6:100-126.
.. [6] Miller KD (1994) A model for the development of simple cell receptive fields and the
       ordered arrangement of orientation columns through activity-dependent competition
       between ON- and OFF-center inputs. J Neurosci 14:409-441.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from brian2 import Hz, SpikeMonitor, TimedArray, ms, mV, nS, pA, pF, second
from brian2.units.fundamentalunits import Quantity

from ..backend import Session, available_backends
from ..compose import Population, Projection
from ..errors import ConfigurationError
from ..neurons import LIF, NeuronModel
from ..params import param
from ..rule import Contribution, Rule, RuleContext
from ..rules import get_rule
from ..rules.nonlinear_hebbian import IncomingNorm

__all__ = [
    "PatchInput",
    "AdaptiveLIF",
    "Normalized",
    "Annealed",
    "NetworkSetup",
    "SpikingResult",
    "DEFAULT_RULE",
    "push_pull_rates",
    "contrast_normalize",
    "prepare_rule",
    "run_network",
    "filters_from_weights",
]

#: Rule (parameter set) of the default run.
DEFAULT_RULE = "brito2016-rf-spiking"

#: Rule families that learn from the pre/post activity of this network without a third factor.
LEARNING_RULES = ("nonlinear-hebbian", "triplet-stdp", "pair-stdp", "convallis", "clopath")

#: Rules that constrain the incoming weights themselves (no :class:`Normalized` wrapper).
SELF_NORMALIZING = ("nonlinear-hebbian",)


# -- input -------------------------------------------------------------------------------------
def push_pull_rates(
    patches: np.ndarray, baseline: float, gain: float, max_rate: float = np.inf
) -> np.ndarray:
    """ON/OFF rates in Hz of whitened patches ``(n, D)``: ``(n, 2D)``, ON cells first.

    ``ON_p = clip(r0 + g x_p, 0, max)``, ``OFF_p = clip(r0 - g x_p, 0, max)``.
    """
    patches = np.asarray(patches, dtype=float)
    on = np.clip(baseline + gain * patches, 0.0, max_rate)
    off = np.clip(baseline - gain * patches, 0.0, max_rate)
    return np.concatenate([on, off], axis=1)


def contrast_normalize(patches: np.ndarray, c50: float) -> np.ndarray:
    """Divisive contrast normalisation of patches ``(n, D)`` (contrast gain control).

    ``x <- x (c̃ + c50)/(c + c50)`` with ``c`` the patch's RMS contrast and ``c̃`` the median
    over `patches`, expressed in units of ``c̃`` (``c50`` = semi-saturation contrast / ``c̃``):
    a patch of median contrast is unchanged, high-contrast patches are scaled down.
    """
    patches = np.asarray(patches, dtype=float)
    contrast = np.sqrt(np.mean(patches**2, axis=1, keepdims=True))
    median = float(np.median(contrast))
    return patches * (median * (1.0 + c50)) / (contrast + median * c50)


@dataclass(frozen=True, eq=False, kw_only=True)
class PatchInput(NeuronModel):
    """Poisson neurons whose rates change every `presentation` (one row of `rates` per patch).

    The rates are a 2-D ``TimedArray`` (time × neuron) read in the threshold,
    ``rand() < rates(t mod cycle, i)*dt``: after the last row the rows repeat from the first
    (``cycle`` = rows × presentation), so long runs need no longer table.
    """

    kind: ClassVar[str] = "patch-input"
    is_source: ClassVar[bool] = True

    rates: np.ndarray = field(default_factory=lambda: np.zeros((1, 1)))
    presentation: Quantity = param(20 * ms, ms, "time each patch is shown", positive=True)

    def check(self) -> None:
        rates = np.asarray(self.rates)
        if rates.ndim != 2 or rates.size == 0:
            raise ConfigurationError(
                "patch input: rates must be a non-empty (patches, inputs) array"
            )
        if not np.all(np.isfinite(rates)) or np.any(rates < 0):
            raise ConfigurationError("patch input: rates must be finite and non-negative (Hz)")

    def key(self) -> tuple:
        digest = hashlib.sha1(np.ascontiguousarray(self.rates, dtype=float).tobytes()).hexdigest()
        return ("PatchInput", self.rates.shape, digest, float(self.presentation))

    def values(self) -> dict[str, Any]:
        return {"presentation": self.presentation}

    def size(self) -> int:
        return int(np.asarray(self.rates).shape[1])

    def equations(self) -> str:
        return ""

    def threshold(self) -> str:
        return "rand() < patch_rates(t - patch_cycle*floor(t/patch_cycle), i)*dt"

    def namespace(self, name: str) -> dict[str, Any]:
        table = TimedArray(
            np.asarray(self.rates, dtype=float) * Hz, dt=self.presentation, name=f"{name}_rates"
        )
        cycle = np.asarray(self.rates).shape[0] * self.presentation
        return {"patch_rates": table, "patch_cycle": cycle}


# -- neurons -----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False, kw_only=True)
class AdaptiveLIF(LIF):
    """LIF neuron with a homeostatic threshold ``V_th + θ + θ_h``.

    ``θ`` (Diehl & Cook 2015): ``dθ/dt = -θ/tau_theta``, ``θ += theta_plus`` at each spike; at a
    steady rate ``ρ`` it sits ``theta_plus·tau_theta·ρ`` above ``V_th``, so a neuron with more
    input fires little more than one with less. It only ever raises the threshold, so a neuron
    that rarely fires keeps ``V_th`` and can stay silent.

    ``θ_h`` (intrinsic plasticity toward a target rate, the threshold rule of Zylberberg, Murphy
    & DeWeese 2011, ``Δθ = β(n - p)``): ``θ_h += ip_step`` at each spike and
    ``dθ_h/dt = -ip_step·target_rate``, i.e. ``θ_h = ip_step·(spikes so far - target_rate·t)``,
    so ``θ_h`` drifts, down as well as up, until the neuron's mean rate is ``target_rate``.
    ``ip_step = 0`` (default) turns it off: in the receptive-field network the neurons with
    poor filters are not the silent ones but the busiest (see :class:`NetworkSetup`), and equal
    rates made the filters worse (docs/receptive_fields.md).
    """

    kind: ClassVar[str] = "adaptive-lif"

    theta_plus: Quantity = param(0.5 * mV, mV, "threshold increase per spike", nonnegative=True)
    tau_theta: Quantity = param(5 * second, ms, "decay of the threshold increase", positive=True)
    ip_step: Quantity = param(
        0 * mV, mV, "homeostatic threshold change per spike (0: off)", nonnegative=True
    )
    target_rate: Quantity = param(
        3 * Hz, Hz, "rate the homeostatic threshold drives each neuron to", nonnegative=True
    )

    def equations(self) -> str:
        return (
            super().equations()
            + "dtheta/dt = -theta/tau_theta : volt\n"
            # the integral written out (Brian2's exact solver refuses a constant derivative)
            + "theta_h = ip_step*(spike_count - target_rate*t) : volt\n"
            + "spike_count : 1\n"
        )

    def threshold(self) -> str:
        return "v > V_th + theta + theta_h"

    def reset(self) -> str:
        return "v = V_reset\ntheta += theta_plus\nspike_count += 1"


# -- rules -------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False, kw_only=True)
class _Wrapper(Rule):
    """A rule that adds to a `base` rule (its key includes the base's; its values do not)."""

    base: Rule | None = field(default=None)

    def key(self) -> tuple:
        return (*super().key(), self.base.key() if self.base is not None else None)

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in super().values().items() if k != "base"}


@dataclass(frozen=True, eq=False, kw_only=True)
class Normalized(_Wrapper):
    """Any rule plus multiplicative L2 normalisation of each neuron's incoming weights.

    Build it with :meth:`wrap`, which copies the base rule's bounds. Every `interval` (at the
    end of the step, before the base rule's periodic code): ``w <- w w_norm / sqrt(Σ_incoming
    w²)``, with the sum a Brian2 summed variable over the projection, as in
    :class:`spikeplast.rules.NonlinearHebbian`. Multiplied by ``plastic`` like every change.
    """

    kind: ClassVar[str] = "normalized"
    summary: ClassVar[str] = "a rule with L2 normalisation of each neuron's incoming weights"

    w_norm: float = param(1.0, 1, "L2 norm of each neuron's incoming weights", positive=True)
    interval: Quantity = param(10 * ms, ms, "normalisation interval", positive=True)

    def __repr__(self) -> str:
        return f"Normalized({self.base!r}, w_norm={self.w_norm}, interval={self.interval})"

    def check(self) -> None:
        if self.base is None:
            raise ConfigurationError("Normalized needs a base rule")
        self.base.validate()

    @classmethod
    def wrap(cls, base: Rule, w_norm: float = 1.0, interval: Quantity = 10 * ms) -> Normalized:
        """`base` with normalisation (its bounds ``w_min``/``w_max`` are kept)."""
        return cls(base=base, w_norm=w_norm, interval=interval, w_min=base.w_min, w_max=base.w_max)

    def contribute(self, ctx: RuleContext) -> Contribution:
        assert self.base is not None
        inner = self.base.contribute(ctx)
        norm = ctx.post(IncomingNorm(ctx.projection)).variable_name()
        statement = f"w = w*(plastic*w_norm_l2/sqrt({norm}_post + 1e-300) + (1 - plastic))"
        return dataclasses.replace(
            inner,
            model="\n".join(filter(None, (inner.model.strip(), f"{norm}_post = w**2 : 1 (summed)")))
            + "\n",
            periodic=((statement, self.interval), *inner.periodic),
            namespace={**inner.namespace, "w_norm_l2": self.w_norm},
        )


@dataclass(frozen=True, eq=False, kw_only=True)
class Annealed(_Wrapper):
    """A nonlinear Hebbian rule whose learning rate decays linearly over the run.

    ``eta(t) = eta · (1 - (1 - final) · t / duration)`` (constant ``eta · final`` after
    `duration`), read from a ``TimedArray`` of `steps` values in the rule's update code: large
    steps early find the features, small ones late average out the Poisson noise of the last
    few hundred patches (stochastic approximation; the rate model anneals the same way).
    """

    kind: ClassVar[str] = "annealed"
    summary: ClassVar[str] = "a nonlinear Hebbian rule with a linearly decaying learning rate"

    duration: Quantity = param(1 * second, ms, "time over which eta decays", positive=True)
    final: float = param(0.1, 1, "final learning rate as a fraction of eta", nonnegative=True)
    steps: int = 100

    def __repr__(self) -> str:
        return f"Annealed({self.base!r}, final={self.final}, duration={self.duration})"

    def __getattr__(self, name: str) -> Any:
        # parameters of the base rule (w_norm, eta, ...) read through the wrapper
        if name != "base" and self.base is not None:
            return getattr(self.base, name)
        raise AttributeError(name)

    def check(self) -> None:
        if self.base is None or self.base.kind != "nonlinear-hebbian":
            raise ConfigurationError("Annealed wraps a nonlinear-hebbian rule")
        self.base.validate()

    @classmethod
    def wrap(cls, base: Rule, duration: Quantity, final: float) -> Annealed:
        """`base` with its learning rate decaying to ``final · eta`` over `duration`."""
        return cls(base=base, duration=duration, final=final, w_min=base.w_min, w_max=base.w_max)

    def contribute(self, ctx: RuleContext) -> Contribution:
        assert self.base is not None
        inner = self.base.contribute(ctx)
        factor = 1.0 - (1.0 - self.final) * (np.arange(self.steps) + 0.5) / self.steps
        schedule = TimedArray(factor, dt=self.duration / self.steps)
        periodic = tuple(
            (re.sub(r"\beta_nh\b", "(eta_nh*eta_schedule_nh(t))", code), interval)
            for code, interval in inner.periodic
        )
        return dataclasses.replace(
            inner, periodic=periodic, namespace={**inner.namespace, "eta_schedule_nh": schedule}
        )


def prepare_rule(rule: Rule | str | None, w_norm: float, interval: Quantity) -> Rule:
    """The plasticity rule of the feed-forward weights, checked and normalised if it needs it.

    Raises
    ------
    ConfigurationError
        A three-factor rule (it would need a modulator this network does not have), an
        inhibitory rule, or any family not known to learn from pre/post activity.
    """
    resolved = get_rule(rule or DEFAULT_RULE) if not isinstance(rule, Rule) else rule
    name = rule if isinstance(rule, str) else resolved.kind
    if resolved.kind not in LEARNING_RULES:
        probe = RuleContext("ff", LIF(), LIF(), LIF(), rule_kind=resolved.kind)
        try:
            third_factor = bool(resolved.contribute(probe).on_modulator)
        except ConfigurationError:
            third_factor = True
        reason = (
            "is a three-factor rule: it changes weights only when a modulator (dopamine, an error "
            "signal) arrives, and this network has none"
            if third_factor
            else "cannot learn receptive fields from feed-forward activity (it is not a Hebbian "
            "rule for excitatory weights)"
        )
        raise ConfigurationError(
            f"rule {name!r} ({resolved.kind}) {reason}; use one of {', '.join(LEARNING_RULES)}"
        )
    resolved.validate()
    if resolved.kind in SELF_NORMALIZING and getattr(resolved, "normalization", "l2") != "none":
        return resolved
    return Normalized.wrap(resolved, w_norm=w_norm, interval=interval)


def _default_neuron() -> AdaptiveLIF:
    return AdaptiveLIF(
        synapse="current",
        C_m=200 * pF,
        g_L=10 * nS,
        E_L=-70 * mV,
        V_th=-54 * mV,
        V_reset=-60 * mV,
        t_ref=2 * ms,
        tau_exc=5 * ms,
        tau_inh=5 * ms,
    )


@dataclass(frozen=True)
class NetworkSetup:
    """Parameters of the spiking network (see the module doc).

    Attributes
    ----------
    n_neurons
        Number of output neurons.
    presentation
        Time each patch is shown (no gap between patches).
    baseline_rate, gain, max_rate
        Input rates ``clip(r0 ± g x, 0, max_rate)``.
    neuron
        Model of the output neurons.
    weight_scale
        Current per unit of feed-forward weight (current-based receptors).
    inhibition, inhibition_scale
        Weight and unit of the lateral inhibition (every neuron onto every other one).
    plastic_inhibition
        Lateral weights learn with ``vogels-istdp`` (anti-Hebbian decorrelation, target rate
        ``inhibition_target_rate``) instead of staying fixed.
    w_norm, normalization_interval
        L2 norm of each neuron's incoming weights and how often :class:`Normalized` restores it
        (the nonlinear Hebbian rule uses its own ``w_norm``).
    dt
        Simulation time step.
    snapshots
        Number of weight snapshots recorded during learning (for the learning curve).
    max_table_patches
        Longest table of input rates (patches); longer runs repeat it (memory: 8 bytes per
        patch and input).
    centre_rule
        Set the nonlinear Hebbian rule's ``pre_offset`` to the mean input rate of the run, so
        that it sees centred presynaptic rates.
    anneal_to
        The nonlinear Hebbian rule's learning rate decays linearly over the run to this fraction
        of its ``eta`` (:class:`Annealed`); 1 keeps it constant.
    pre_offset_scale
        With `centre_rule`, the rule's ``pre_offset`` is this multiple of the mean input rate.
        Above 1 every postsynaptic spike also depresses each synapse by ``(scale - 1) ×`` the
        mean rate (heterosynaptic depression, like a subtractive constraint on the summed
        weight, Miller & MacKay 1994), which breaks the ON+OFF "contrast energy" state (see
        the module doc); 1.25 by default (1.5 makes the filters too small).
    contrast_c50
        Divisive contrast normalisation of the patches before they become rates
        (:func:`contrast_normalize`; semi-saturation in units of the median contrast); ``None``
        (default) shows the whitened patches as they are.
    """

    n_neurons: int = 32
    presentation: Quantity = field(default_factory=lambda: 20 * ms)
    baseline_rate: Quantity = field(default_factory=lambda: 20 * Hz)
    gain: Quantity = field(default_factory=lambda: 240 * Hz)
    max_rate: Quantity = field(default_factory=lambda: 1000 * Hz)
    neuron: NeuronModel = field(default_factory=_default_neuron)
    weight_scale: Quantity = field(default_factory=lambda: 75 * pA)
    inhibition: float = 5.0
    inhibition_scale: Quantity = field(default_factory=lambda: 100 * pA)
    plastic_inhibition: bool = False
    inhibition_target_rate: Quantity = field(default_factory=lambda: 5 * Hz)
    w_norm: float = 1.0
    normalization_interval: Quantity = field(default_factory=lambda: 10 * ms)
    dt: Quantity = field(default_factory=lambda: 0.5 * ms)
    snapshots: int = 8
    centre_rule: bool = True
    max_table_patches: int = 25000
    anneal_to: float = 0.1
    pre_offset_scale: float = 1.25
    contrast_c50: float | None = None

    def check(self) -> None:
        if int(self.n_neurons) != self.n_neurons or self.n_neurons < 1:
            raise ConfigurationError(f"need at least one neuron, got {self.n_neurons!r}")
        steps = float(self.presentation / self.dt)
        if steps < 1 or abs(steps - round(steps)) > 1e-9:
            raise ConfigurationError(
                f"the presentation time ({self.presentation}) must be a whole number of time "
                f"steps (dt = {self.dt})"
            )
        if not float(self.baseline_rate) >= 0 or not float(self.gain) > 0:
            raise ConfigurationError("the baseline rate must be >= 0 Hz and the gain > 0 Hz")
        if self.inhibition < 0:
            raise ConfigurationError(f"inhibition must be >= 0, got {self.inhibition}")
        if not self.pre_offset_scale >= 0:
            raise ConfigurationError(f"pre_offset_scale must be >= 0, got {self.pre_offset_scale}")
        if self.contrast_c50 is not None and not self.contrast_c50 > 0:
            raise ConfigurationError(f"contrast_c50 must be > 0 or None, got {self.contrast_c50}")


@dataclass
class SpikingResult:
    """What a spiking run learned (weights dimensionless, rates in Hz, times in s).

    ``filters`` and ``initial_filters`` are ``(n_neurons, D)`` (ON minus OFF weights);
    ``weights_on``/``weights_off`` the final weights; ``snapshot_filters`` ``(snapshots,
    n_neurons, D)`` at ``snapshot_times``; ``threshold_shift_mv`` each neuron's threshold above
    ``V_th`` at the end (``θ + θ_h`` of :class:`AdaptiveLIF`, empty for other neurons).
    """

    setup: NetworkSetup
    rule: Rule
    backend: str
    seed: int | None
    duration_s: float
    filters: np.ndarray
    initial_filters: np.ndarray
    weights_on: np.ndarray
    weights_off: np.ndarray
    snapshot_times: np.ndarray
    snapshot_filters: np.ndarray
    rates_hz: np.ndarray
    input_rate_hz: float
    presentations: int
    timings: dict[str, float] = field(default_factory=dict)
    threshold_shift_mv: np.ndarray = field(default_factory=lambda: np.zeros(0))


def filters_from_weights(weights: np.ndarray, i: np.ndarray, j: np.ndarray, n_pixels: int,
                         n_neurons: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """ON and OFF weight matrices ``(n_neurons, n_pixels)`` from synapse arrays."""
    matrix = np.zeros((2 * n_pixels, n_neurons))
    matrix[np.asarray(i), np.asarray(j)] = np.asarray(weights, dtype=float)
    return matrix[:n_pixels].T.copy(), matrix[n_pixels:].T.copy()


def _threshold_shift(group: Any) -> np.ndarray:
    """Each neuron's threshold above ``V_th`` at the end of the run, in mV (empty if fixed)."""
    names = [name for name in ("theta", "theta_h") if name in group.variables]
    if not names:
        return np.zeros(0)
    return sum(np.asarray(getattr(group, name)[:] / mV, dtype=float) for name in names)


def run_network(
    patches: np.ndarray,
    duration: Quantity,
    rule: Rule | str | None = None,
    setup: NetworkSetup | None = None,
    backend: str | None = None,
    seed: int | None = 1,
    progress: bool = False,
) -> SpikingResult:
    """Learn receptive fields from whitened patches with the spiking network.

    Parameters
    ----------
    patches
        Whitened training patches ``(n, D)``; patches are drawn from them at random (with
        replacement), one per presentation.
    duration
        Simulated learning time.
    rule
        Rule object, registry or parameter-set name (default :data:`DEFAULT_RULE`).
    setup
        Network parameters.
    backend
        ``None``/``"auto"``: cpp_standalone if available (fastest here, with a progress bar).
    seed
        Seed of the patch order, the initial weights and the simulation.
    progress
        Show a progress bar.
    """
    setup = setup or NetworkSetup()
    setup.check()
    if not (isinstance(duration, Quantity) and float(duration) > 0):
        raise ConfigurationError(f"duration must be a positive time, got {duration!r}")
    patches = np.asarray(patches, dtype=float)
    if patches.ndim != 2 or patches.shape[0] < 1:
        raise ConfigurationError("patches must be a non-empty (n, pixels) array")
    plastic_rule = prepare_rule(rule, setup.w_norm, setup.normalization_interval)
    w_norm = float(getattr(plastic_rule, "w_norm", setup.w_norm))
    rng = np.random.default_rng(seed)
    n_pixels, n = patches.shape[1], int(setup.n_neurons)
    presentations = int(math.ceil(float(duration / setup.presentation) - 1e-9))
    order = rng.integers(0, patches.shape[0], size=min(presentations, setup.max_table_patches))
    shown = patches[order]
    if setup.contrast_c50 is not None:
        shown = contrast_normalize(shown, setup.contrast_c50)
    rates = push_pull_rates(
        shown,
        float(setup.baseline_rate / Hz),
        float(setup.gain / Hz),
        float(setup.max_rate / Hz),
    )
    if setup.centre_rule and plastic_rule.kind == "nonlinear-hebbian":
        # centred presynaptic rates: subtract the actual mean input rate (clipping at 0 Hz
        # makes it differ from the baseline), scaled up so that each postsynaptic spike also
        # depresses every synapse a little (ON/OFF segregation, see the module doc)
        offset = setup.pre_offset_scale * float(rates.mean())
        plastic_rule = plastic_rule.replace(pre_offset=offset * Hz)
    if setup.anneal_to != 1.0 and plastic_rule.kind == "nonlinear-hebbian":
        plastic_rule = Annealed.wrap(plastic_rule, duration, setup.anneal_to)
    initial = rng.uniform(0.0, 1.0, size=(2 * n_pixels, n))
    initial *= w_norm / np.linalg.norm(initial, axis=0, keepdims=True)
    initial = np.clip(initial, plastic_rule.w_min, plastic_rule.w_max)
    populations = [
        Population("inputs", PatchInput(rates=rates, presentation=setup.presentation)),
        Population("neurons", setup.neuron, n=n),
    ]
    projections = [
        Projection(
            "ff",
            "inputs",
            "neurons",
            rule=plastic_rule,
            weight_scale=setup.weight_scale,
            w_init=initial.ravel(),  # all-to-all: synapse (i, j) at i*n + j
        )
    ]
    if n > 1 and setup.inhibition > 0:
        projections.append(
            Projection(
                "lateral",
                "neurons",
                "neurons",
                rule=(
                    get_rule("vogels-istdp", rho0=setup.inhibition_target_rate)
                    if setup.plastic_inhibition
                    else None
                ),
                receptor="inh",
                weight_scale=setup.inhibition_scale,
                connect={"condition": "i != j"},
                w_init=setup.inhibition,
            )
        )
    if backend in (None, "auto"):
        backend = "cpp_standalone" if "cpp_standalone" in available_backends() else None
    started = time.perf_counter()
    snapshot_dt = duration / max(int(setup.snapshots), 1)
    snapshot_steps = max(1, int(round(float(snapshot_dt / setup.dt))))
    with Session(backend, dt=setup.dt, seed=seed, progress=progress) as session:
        built = session.build(populations, projections)
        spikes = SpikeMonitor(built.groups["neurons"], record=False, name="neuron_spike_counts")
        inputs = SpikeMonitor(built.groups["inputs"], record=False, name="input_spike_counts")
        built.network.add(spikes, inputs)
        snapshots = built.monitor(
            "ff",
            "w",
            record=np.arange(2 * n_pixels * n),  # all-to-all: every synapse
            dt=snapshot_steps * setup.dt,
            name="ff_snapshots",
        )
        session.run(duration, description=f"learning ({plastic_rule.kind})")
        synapses = built.synapses["ff"]
        i, j = np.asarray(synapses.i[:]), np.asarray(synapses.j[:])
        on, off = filters_from_weights(built.weights("ff"), i, j, n_pixels, n)
        first_on, first_off = filters_from_weights(
            initial.ravel(),
            np.repeat(np.arange(2 * n_pixels), n),
            np.tile(np.arange(n), 2 * n_pixels),
            n_pixels,
            n,
        )
        recorded = np.asarray(snapshots.w, dtype=float)  # (synapses, snapshots)
        snapshot_filters = np.array(
            [np.subtract(*filters_from_weights(recorded[:, k], i, j, n_pixels, n))
             for k in range(recorded.shape[1])]
        ).reshape(-1, n, n_pixels)  # fmt: skip
        seconds = float(duration / second)
        counts = np.asarray(spikes.count[:], dtype=float)
        result = SpikingResult(
            setup=setup,
            rule=plastic_rule,
            backend=session.backend,
            seed=seed,
            duration_s=seconds,
            filters=on - off,
            initial_filters=first_on - first_off,
            weights_on=on,
            weights_off=off,
            snapshot_times=np.asarray(snapshots.t / second, dtype=float).copy(),
            snapshot_filters=snapshot_filters,
            rates_hz=counts / seconds,
            input_rate_hz=float(inputs.num_spikes) / (2 * n_pixels) / seconds,
            presentations=presentations,
            timings={**session.timings, "total": time.perf_counter() - started},
            threshold_shift_mv=_threshold_shift(built.groups["neurons"]),
        )
    return result
