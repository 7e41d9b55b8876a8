"""Plasticity protocols: spike-pairing experiments, run on a rule, compared with data.

Conventions (all protocols)
---------------------------
* ``Δt = t_post - t_pre``: positive means the presynaptic spike comes first.
* Pre- and postsynaptic neurons are spike sources firing at the protocol's times; the synapse has
  initial weight ``w0 = 1`` and, for additive rules, no bound is reached.
* Voltage-based rules (whose code needs the postsynaptic ``voltage`` capability, e.g. Clopath et
  al. 2010) get a real postsynaptic neuron instead, one per condition (the rule's
  ``protocol_conventions["neuron"]`` or ``post_neuron=``). It is made to spike at the protocol's
  postsynaptic times by one-step current pulses, as in the authors' code (a 1e6-pA current for one
  1-ms step): a current ``pulse_charge/dt`` (default 1 nC, i.e. a jump of several volts) during the
  time step that ends at the spike, so the spike is registered in that step. Presynaptic spikes
  drive plasticity only (no transmission), as in the same code. The rule's conventions may also
  set ``w0`` (Clopath: the authors' 0.5; ``dw_percent`` is still ``100 (w_end - w0)/w0``).
* ``dw_percent = 100 (w_end - w0)/w0``, read after the last spike of the condition, when the
  rule has finished acting (the simulation runs a tail past the last spike).
* All conditions of a protocol run in parallel in one network (one synapse per condition), so a
  protocol compiles once.

Protocols
---------
:func:`pairing`
    STDP window (Bi & Poo 1998 style): ``pairings`` pre/post pairs at ``freq_hz`` for each Δt.
:func:`sjostrom`
    Frequency dependence (Sjöström et al. 2001): pairs at Δt = ±10 ms repeated at 0.1–50 Hz.
    ``convention="continuous"`` (default): ``pairings`` (60) pairs in a row, as Pfister & Gerstner
    (2006). ``convention="clopath2010"``: 15 bursts of ``pairings`` (5) pairs, a burst every 10 s;
    when a burst lasts longer than 10 s (0.1 Hz) 10 bursts follow each other, i.e. 50 pairs at
    0.1 Hz and 75 otherwise, as in Clopath et al.'s code (VoTri.m) and the experiment.
:func:`triplets`
    Wang et al. (2005): pre-post-pre and post-pre-post triplets, 60 repetitions at 1 Hz. For
    pre-post-pre, ``dt1 = t_post - t_pre1 > 0`` and ``dt2 = t_post - t_pre2 < 0``; for
    post-pre-post, ``dt1 = t_post1 - t_pre < 0`` and ``dt2 = t_post2 - t_pre > 0``.
:func:`quadruplets`
    Wang et al. (2005): a post-pre pair (Δt = -5 ms) and a pre-post pair (Δt = +5 ms) whose
    centres are ``T`` apart; ``T > 0``: post-pre then pre-post; ``T < 0``: pre-post then
    post-pre. 60 repetitions at 1 Hz.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from brian2 import Synapses, coulomb, ms, second
from brian2.units.allunits import ncoulomb
from brian2.units.fundamentalunits import Quantity, get_dimensions

from .backend import Session
from .compose import Population, Projection
from .errors import ConfigurationError, ProtocolError, UnknownNameError, suggest
from .neurons import NeuronModel, SpikeTrains, get_neuron
from .rule import Rule, required_capabilities

__all__ = [
    "Condition",
    "Protocol",
    "ProtocolResult",
    "pairing",
    "sjostrom",
    "triplets",
    "quadruplets",
    "PROTOCOLS",
    "get_protocol",
    "run_protocol",
    "WANG2005_TRIPLETS",
    "WANG2005_QUADRUPLET_T_MS",
    "protocol_network_data",
    "SJOSTROM_CONVENTIONS",
    "protocol_conventions",
]

#: Time of the first spike of every condition.
_START_S = 0.2
#: Simulated time after the last spike, so every rule has finished acting.
_TAIL_S = 0.05


@dataclass(frozen=True)
class Condition:
    """One experimental condition: its variables and the spike times it produces (seconds)."""

    variables: dict[str, Any]
    pre: np.ndarray
    post: np.ndarray


@dataclass(frozen=True)
class Protocol:
    """A set of conditions with shared conventions.

    Attributes
    ----------
    name
        Protocol name (``"sjostrom"``).
    conditions
        The conditions, run in parallel.
    columns
        Names of the condition variables, in table order.
    description
        Human-readable summary (pairings, rates).
    default_rule
        Parameter set used when none is given.
    data
        Name of the shipped data set the protocol reproduces (``models/data/<data>.toml``).
    """

    name: str
    conditions: tuple[Condition, ...]
    columns: tuple[str, ...]
    description: str
    default_rule: str
    data: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def duration(self) -> float:
        last = max(
            (float(np.max(t)) for c in self.conditions for t in (c.pre, c.post) if t.size),
            default=0.0,
        )
        return last + _TAIL_S


@dataclass
class ProtocolResult:
    """Outcome of :func:`run_protocol`.

    Attributes
    ----------
    protocol
        The protocol that was run.
    rule_name
        Registry name or kind of the rule.
    rule
        The rule object.
    rows
        One dict per condition: the condition variables and ``dw_percent``.
    final_weights
        Weight of each condition's synapse at the end.
    backend, dt, seed
        How it was run.
    timings
        Wall-clock seconds per phase (``compose``, ``build``, ``run``).
    w0
        Initial weight of every synapse.
    post_neuron
        Postsynaptic neuron model driven by current pulses (``None``: a spike source).
    """

    protocol: Protocol
    rule_name: str
    rule: Rule
    rows: list[dict[str, Any]]
    final_weights: np.ndarray
    backend: str
    dt: Quantity
    seed: int | None
    timings: dict[str, float]
    w0: float = 1.0
    post_neuron: NeuronModel | None = None


def _check_count(value: int, name: str) -> int:
    if int(value) != value or value < 1:
        raise ProtocolError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def _check_rate(freq_hz: float, name: str = "frequency") -> float:
    if not (isinstance(freq_hz, int | float) and math.isfinite(freq_hz) and freq_hz > 0):
        raise ProtocolError(f"{name} must be a positive number of Hz, got {freq_hz!r}")
    return float(freq_hz)


def _repeat(
    pattern_pre: Sequence[float],
    pattern_post: Sequence[float],
    count: int,
    period_s: float,
    offset_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Repeat a spike pattern (times relative to its anchor, seconds) `count` times."""
    anchors = offset_s + np.arange(count) * period_s
    pre = (anchors[:, None] + np.asarray(pattern_pre)[None, :]).ravel()
    post = (anchors[:, None] + np.asarray(pattern_post)[None, :]).ravel()
    return np.sort(pre), np.sort(post)


def _pattern_condition(
    variables: dict[str, Any],
    pre_ms: Sequence[float],
    post_ms: Sequence[float],
    count: int,
    freq_hz: float,
) -> Condition:
    """A condition repeating a pattern; refuses patterns longer than the repetition period."""
    times = np.concatenate([pre_ms, post_ms]) * 1e-3
    extent = float(times.max() - times.min()) if times.size else 0.0
    period = 1.0 / freq_hz
    if extent >= period:
        described = ", ".join(f"{k} = {v}" for k, v in variables.items())
        raise ProtocolError(
            f"condition ({described}): the spike pattern spans {extent * 1e3:g} ms, which does "
            f"not fit in the repetition period of {period * 1e3:g} ms ({freq_hz:g} Hz); "
            "use a lower frequency or shorter intervals"
        )
    offset = _START_S - float(times.min())
    pre, post = _repeat(
        np.asarray(pre_ms) * 1e-3, np.asarray(post_ms) * 1e-3, count, period, offset
    )
    return Condition(variables, pre, post)


def pairing(
    dts_ms: Sequence[float] = tuple(range(-100, 101, 5)),
    pairings: int = 60,
    freq_hz: float = 1.0,
) -> Protocol:
    """STDP window: `pairings` pre/post pairs at `freq_hz` for each Δt (ms)."""
    pairings = _check_count(pairings, "pairings")
    freq_hz = _check_rate(freq_hz)
    conditions = tuple(
        _pattern_condition({"dt_ms": float(dt)}, [0.0], [float(dt)], pairings, freq_hz)
        for dt in dts_ms
    )
    if not conditions:
        raise ProtocolError("pairing needs at least one Δt")
    return Protocol(
        "pairing",
        conditions,
        ("dt_ms",),
        f"{pairings} pairings at {freq_hz:g} Hz for each Δt = t_post - t_pre",
        default_rule="pfister2006-hippo-aa-full",
        data="bipoo1998_window",
        settings={"pairings": pairings, "freq_hz": freq_hz},
    )


#: Pairing conventions of :func:`sjostrom`.
SJOSTROM_CONVENTIONS = ("continuous", "clopath2010")


def _bursts(
    pre_ms: Sequence[float],
    post_ms: Sequence[float],
    variables: dict[str, Any],
    per_burst: int,
    freq_hz: float,
    bursts: int,
    burst_period_s: float,
) -> Condition:
    """`bursts` bursts of `per_burst` pairings at `freq_hz`, a burst every `burst_period_s`
    (back to back when a burst is longer)."""
    burst = _pattern_condition(variables, pre_ms, post_ms, per_burst, freq_hz)
    spacing = max(burst_period_s, per_burst / freq_hz)
    offsets = np.arange(bursts) * spacing
    pre = (offsets[:, None] + burst.pre[None, :]).ravel()
    post = (offsets[:, None] + burst.post[None, :]).ravel()
    return Condition(variables, np.sort(pre), np.sort(post))


def sjostrom(
    freqs_hz: Sequence[float] = (0.1, 10.0, 20.0, 40.0, 50.0),
    dts_ms: Sequence[float] = (10.0, -10.0),
    pairings: int | None = None,
    convention: str = "continuous",
) -> Protocol:
    """Sjöström et al. (2001) frequency dependence at each frequency and Δt.

    Parameters
    ----------
    pairings
        ``continuous``: number of pairings (default 60). ``clopath2010``: pairings per burst
        (default 5; 15 bursts every 10 s, 10 back-to-back bursts when a burst is longer than
        10 s, see the module doc).
    convention
        ``"continuous"`` or ``"clopath2010"``.
    """
    if convention not in SJOSTROM_CONVENTIONS:
        raise ProtocolError(
            f"unknown Sjöström convention {convention!r}."
            f"{suggest(convention, SJOSTROM_CONVENTIONS)} Known: {', '.join(SJOSTROM_CONVENTIONS)}"
        )
    clopath = convention == "clopath2010"
    pairings = _check_count(
        pairings if pairings is not None else (5 if clopath else 60), "pairings"
    )
    conditions = []
    for freq in freqs_hz:
        freq = _check_rate(freq)
        for dt in dts_ms:
            variables = {"freq_hz": freq, "dt_ms": float(dt)}
            if clopath:
                long_burst = pairings / freq > 10.0
                conditions.append(
                    _bursts(
                        [0.0],
                        [float(dt)],
                        variables,
                        pairings,
                        freq,
                        10 if long_burst else 15,
                        10.0,
                    )
                )
            else:
                conditions.append(_pattern_condition(variables, [0.0], [float(dt)], pairings, freq))
    if not conditions:
        raise ProtocolError("sjostrom needs at least one frequency and one Δt")
    description = (
        f"{pairings} pairings at each frequency, Δt = t_post - t_pre"
        if not clopath
        else f"15 bursts of {pairings} pairings every 10 s (10 back-to-back bursts when a burst "
        "lasts longer than 10 s), Δt = t_post - t_pre (Clopath et al. 2010)"
    )
    return Protocol(
        "sjostrom",
        tuple(conditions),
        ("freq_hz", "dt_ms"),
        description,
        default_rule="pfister2006-visual-aa-full",
        data="sjostrom2001",
        settings={"pairings": pairings, "convention": convention},
    )


#: Triplet conditions of Wang et al. (2005) as (pattern, dt1_ms, dt2_ms).
WANG2005_TRIPLETS: tuple[tuple[str, float, float], ...] = (
    ("pre-post-pre", 5.0, -5.0),
    ("pre-post-pre", 10.0, -10.0),
    ("pre-post-pre", 15.0, -5.0),
    ("pre-post-pre", 5.0, -15.0),
    ("post-pre-post", -5.0, 5.0),
    ("post-pre-post", -10.0, 10.0),
    ("post-pre-post", -5.0, 15.0),
    ("post-pre-post", -15.0, 5.0),
)


def triplets(
    conditions: Sequence[tuple[str, float, float]] = WANG2005_TRIPLETS,
    repetitions: int = 60,
    freq_hz: float = 1.0,
) -> Protocol:
    """Wang et al. (2005) triplets (see module doc for the sign conventions)."""
    repetitions = _check_count(repetitions, "repetitions")
    freq_hz = _check_rate(freq_hz)
    built = []
    for pattern, dt1, dt2 in conditions:
        variables = {"pattern": pattern, "dt1_ms": float(dt1), "dt2_ms": float(dt2)}
        if pattern == "pre-post-pre":
            if not (dt1 > 0 and dt2 < 0):
                raise ProtocolError(
                    f"pre-post-pre needs dt1 = t_post - t_pre1 > 0 and dt2 = t_post - t_pre2 < 0, "
                    f"got dt1 = {dt1:g} ms, dt2 = {dt2:g} ms"
                )
            pre, post = [-float(dt1), -float(dt2)], [0.0]
        elif pattern == "post-pre-post":
            if not (dt1 < 0 and dt2 > 0):
                raise ProtocolError(
                    f"post-pre-post needs dt1 = t_post1 - t_pre < 0 and dt2 = t_post2 - t_pre > 0, "
                    f"got dt1 = {dt1:g} ms, dt2 = {dt2:g} ms"
                )
            pre, post = [0.0], [float(dt1), float(dt2)]
        else:
            raise ProtocolError(
                f"unknown triplet pattern {pattern!r}; use 'pre-post-pre' or 'post-pre-post'"
            )
        built.append(_pattern_condition(variables, pre, post, repetitions, freq_hz))
    return Protocol(
        "triplets",
        tuple(built),
        ("pattern", "dt1_ms", "dt2_ms"),
        f"{repetitions} repetitions at {freq_hz:g} Hz",
        default_rule="pfister2006-hippo-aa-full",
        data="wang2005_triplets",
        settings={"repetitions": repetitions, "freq_hz": freq_hz},
    )


#: Quadruplet spacings T (ms) of Wang et al. (2005) / Pfister & Gerstner (2006) Fig. 6.
WANG2005_QUADRUPLET_T_MS: tuple[float, ...] = tuple(float(t) for t in range(-100, 101, 10) if t)


def quadruplets(
    T_ms: Sequence[float] = WANG2005_QUADRUPLET_T_MS,
    pair_dt_ms: float = 5.0,
    repetitions: int = 60,
    freq_hz: float = 1.0,
) -> Protocol:
    """Wang et al. (2005) quadruplets: pairs with Δt = ∓`pair_dt_ms` whose centres are T apart."""
    repetitions = _check_count(repetitions, "repetitions")
    freq_hz = _check_rate(freq_hz)
    if not pair_dt_ms > 0:
        raise ProtocolError(f"pair_dt_ms must be positive, got {pair_dt_ms!r}")
    half = pair_dt_ms / 2
    built = []
    for T in T_ms:
        T = float(T)
        if abs(T) <= pair_dt_ms:
            raise ProtocolError(
                f"|T| must exceed the pair interval ({pair_dt_ms:g} ms) so the pairs do not "
                f"overlap, got T = {T:g} ms"
            )
        # post-pre pair centred at 0, pre-post pair centred at T (T < 0: it comes first)
        pre = [half, T - half]
        post = [-half, T + half]
        built.append(_pattern_condition({"T_ms": T}, pre, post, repetitions, freq_hz))
    return Protocol(
        "quadruplets",
        tuple(built),
        ("T_ms",),
        f"{repetitions} repetitions at {freq_hz:g} Hz; pairs Δt = ∓{pair_dt_ms:g} ms",
        default_rule="pfister2006-hippo-aa-full",
        data="wang2005_quadruplets",
        settings={"repetitions": repetitions, "freq_hz": freq_hz, "pair_dt_ms": pair_dt_ms},
    )


#: Protocol factories by name.
PROTOCOLS: dict[str, Callable[..., Protocol]] = {
    "pairing": pairing,
    "sjostrom": sjostrom,
    "triplets": triplets,
    "quadruplets": quadruplets,
}


def get_protocol(name: str, **settings: Any) -> Protocol:
    """Build a protocol by name with its settings."""
    if name not in PROTOCOLS:
        raise UnknownNameError(
            f"unknown protocol {name!r}.{suggest(name, PROTOCOLS)} Known: {', '.join(PROTOCOLS)}"
        )
    return PROTOCOLS[name](**settings)


def protocol_conventions(rule: Rule) -> dict[str, Any]:
    """How protocols run `rule`: ``neuron``, ``w0`` and per-protocol ``settings`` (may be empty).

    Voltage-based rules declare them as the class attribute ``protocol_conventions``.
    """
    return dict(getattr(rule, "protocol_conventions", {}) or {})


def needs_post_neuron(rule: Rule) -> bool:
    """Whether `rule` needs a postsynaptic neuron with a membrane potential (not a spike source)."""
    return "voltage" in required_capabilities(rule)["post"]


def _post_neuron_model(
    rule: Rule, post_neuron: NeuronModel | str | None, rule_name: str
) -> NeuronModel | None:
    """The postsynaptic neuron of a protocol (``None``: a spike source)."""
    if post_neuron is None:
        if not needs_post_neuron(rule):
            return None
        post_neuron = protocol_conventions(rule).get("neuron")
        if post_neuron is None:
            raise ProtocolError(
                f"rule {rule_name or rule.kind!r} needs a postsynaptic neuron with a membrane "
                "potential; give post_neuron= (e.g. 'clopath2010-adex' or a NeuronModel)"
            )
    model = get_neuron(post_neuron) if isinstance(post_neuron, str) else post_neuron
    if not isinstance(model, NeuronModel) or model.is_source:
        raise ProtocolError(
            f"post_neuron must be a neuron model with a membrane potential, got {post_neuron!r}"
        )
    model.validate()
    return model


def _add_current_pulses(
    built: Any, driver: str, target: str, charge: Quantity, dt: Quantity
) -> Synapses:
    """One-step current pulses into ``I_ext`` of `target` at each spike of `driver` (one-to-one).

    The driver fires one step before the postsynaptic spike; its synapses add ``charge/dt`` to
    ``I_ext`` in that step's synapse slot and remove it one step later, so the neuron integrates
    the pulse in exactly the step at whose start time the spike is registered.
    """
    group = built.groups[target]
    if "I_ext" not in group.variables:
        raise ConfigurationError(
            f"the postsynaptic neuron ({type(group).__name__}) has no external current I_ext to "
            "force spikes with"
        )
    pulses = Synapses(
        built.groups[driver],
        group,
        on_pre={"on": "I_ext_post += pulse_current", "off": "I_ext_post -= pulse_current"},
        delay={"off": dt},
        namespace={"pulse_current": charge / dt},
        name=f"{target}_current_pulses",
    )
    pulses.connect(j="i")
    built.network.add(pulses)
    return pulses


def run_protocol(
    rule: Rule,
    protocol: Protocol,
    backend: str | None = None,
    dt: Quantity = 0.1 * ms,
    seed: int | None = None,
    rule_name: str = "",
    progress: bool = False,
    w0: float | None = None,
    post_neuron: NeuronModel | str | None = None,
    pulse_charge: Quantity = 1 * ncoulomb,
) -> ProtocolResult:
    """Run every condition of `protocol` with `rule` (one synapse per condition, in parallel).

    Parameters
    ----------
    w0
        Initial weight (default: the rule's protocol convention, else 1).
    post_neuron
        Postsynaptic neuron model or parameter-set name, forced to spike at the protocol's
        times by current pulses. Default: a spike source, or for rules that need a membrane
        potential the neuron of their ``protocol_conventions``.
    pulse_charge
        Charge of each one-step current pulse (the current is ``pulse_charge/dt``).
    """
    rule.validate()
    conventions = protocol_conventions(rule)
    if w0 is None:
        w0 = float(conventions.get("w0", 1.0))
    if not (math.isfinite(w0) and w0 != 0):
        raise ProtocolError(f"w0 must be a finite non-zero weight, got {w0!r}")
    if get_dimensions(pulse_charge) is not get_dimensions(coulomb) or not float(pulse_charge) > 0:
        raise ProtocolError(f"pulse_charge must be a positive charge, got {pulse_charge!r}")
    neuron = _post_neuron_model(rule, post_neuron, rule_name)
    pre = [c.pre for c in protocol.conditions]
    post = [c.post for c in protocol.conditions]
    step = float(dt / second)
    if neuron is not None and min((float(t[0]) for t in post if t.size), default=1.0) < step:
        raise ProtocolError(
            "postsynaptic spikes of a neuron-driven protocol must come after t = dt"
        )
    with Session(backend, dt=dt, seed=seed, progress=progress) as session:
        populations = [Population("pre", SpikeTrains(pre))]
        if neuron is None:
            populations.append(Population("post", SpikeTrains(post)))
        else:
            populations += [
                Population("post", neuron, n=len(post)),
                Population("post_driver", SpikeTrains([t - step for t in post])),
            ]
        built = session.build(
            populations,
            [
                Projection(
                    "synapse",
                    "pre",
                    "post",
                    rule=rule,
                    connect="one-to-one",
                    w_init=w0,
                    receptor=None,
                )
            ],
        )
        if neuron is not None:
            _add_current_pulses(built, "post_driver", "post", pulse_charge, dt)
        session.run(protocol.duration() * second, description=f"{protocol.name} protocol")
        weights = built.weights("synapse")
        timings = dict(session.timings)
        backend_name = session.backend
    rows = []
    for condition, w in zip(protocol.conditions, weights, strict=True):
        rows.append({**condition.variables, "dw_percent": 100.0 * (float(w) - w0) / w0})
    return ProtocolResult(
        protocol=protocol,
        rule_name=rule_name or rule.kind,
        rule=rule,
        rows=rows,
        final_weights=weights,
        backend=backend_name,
        dt=dt,
        seed=seed,
        timings=timings,
        w0=w0,
        post_neuron=neuron,
    )


def protocol_network_data(
    protocol: Protocol,
    rule: str,
    rule_parameters: dict[str, Any] | None = None,
    dt_ms: float = 0.1,
) -> dict[str, Any]:
    """A protocol as network-file data (see :mod:`spikeplast.netspec`), e.g. for compiled
    reruns and sweeps over rule parameters: populations ``pre``/``post`` of spike trains and one
    one-to-one projection ``synapse`` (w0 = 1)."""

    def trains(side: str) -> list[list[float]]:
        return [[float(t) * 1e3 for t in getattr(c, side)] for c in protocol.conditions]

    projection: dict[str, Any] = {
        "pre": "pre",
        "post": "post",
        "rule": rule,
        "connect": "one-to-one",
        "w_init": 1.0,
    }
    if rule_parameters:
        projection["rule_parameters"] = dict(rule_parameters)
    return {
        "name": f"{protocol.name}-protocol",
        "description": protocol.description,
        "run": {"duration": f"{protocol.duration()} s", "dt": f"{dt_ms} ms"},
        "populations": {
            "pre": {"model": "spike-trains", "trains_ms": trains("pre")},
            "post": {"model": "spike-trains", "trains_ms": trains("post")},
        },
        "projections": {"synapse": projection},
    }
