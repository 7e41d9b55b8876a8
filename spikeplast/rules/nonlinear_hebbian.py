"""nonlinear-hebbian — nonlinear Hebbian learning with weight normalisation (Brito & Gerstner 2016).

Description
-----------
The rate form (Brito & Gerstner 2016, after Hyvärinen & Oja 1998): a neuron with input ``x``
and weights ``w`` changes them by ``Δw = η x f(wᵀx)`` under the constraint ``‖w‖ = const``; on
whitened input its fixed points are the heavy-tailed (non-Gaussian) projections, which for
natural image patches are localised, oriented, Gabor-like filters. :func:`apply_nonlinearity`
evaluates ``f`` for that form (the demo's ``--model rate``).

The spiking form implemented here replaces ``x`` by a presynaptic rate estimate and ``wᵀx`` by
a postsynaptic signal ``u``::

    dw/dt = eta * (r_pre(t) - pre_offset) * f(u_post(t))

* ``r_pre = x_pre / tau_pre``: the presynaptic spike trace (+1 per spike, time constant
  ``tau_pre``) as a rate in Hz, so ``eta`` is the weight change per presynaptic spike when
  ``f(u) = 1``; ``pre_offset`` subtracts a mean rate, so that the rule sees centred input as the
  rate form does (``x`` is zero-mean there). With push-pull ON/OFF inputs around a baseline rate
  (the receptive-field demo), subtracting the baseline makes the ON and OFF weights of a pixel
  change in opposite directions (a covariance rule, Sejnowski 1977), instead of growing together;
* ``u_post`` (``post_signal``): ``"rate"`` — the postsynaptic trace over ``tau_post`` as a
  rate, ``u = x_post / (tau_post * rate_unit)``; or ``"voltage"`` — the membrane potential
  low-pass filtered with ``tau_post``, ``u = (v̄ - v_offset) / v_unit``;
* ``f`` (``nonlinearity``) with threshold ``theta``: ``linear`` ``u - θ``; ``linear-rectifier``
  ``[u - θ]₊``; ``quadratic-rectifier`` ``[u - θ]₊²``; ``bcm`` ``u (u - θ)``; ``cubic``
  ``(u - θ)³``.

Integration: every ``update_interval`` (a multiple of dt; periodic code at the end of the time
step, after the step's spikes), for every synapse::

    w <- w * w_norm / sqrt(Σ_incoming w²)           (normalization = "l2")
    w <- clip(w + eta * update_interval * (r_pre - pre_offset) * f(u_post), w_min, w_max)

i.e. the rectangle rule on the update grid, with the traces and ``v̄`` read at the end of the
step (including this step's spikes). ``Σ_incoming w²`` is a Brian2 summed variable over the
projection's synapses onto the neuron, computed at the start of the step; nothing else changes
``w`` in between, so the rescaling is exact: each neuron's incoming weights have L2 norm
``w_norm`` before every Hebbian step (Brito & Gerstner's ``‖w‖ = const``, by explicit
normalisation). Both steps are multiplied by ``plastic``. With ``normalization = "none"`` only
the bounds constrain the weights.

Choices where the paper leaves the spiking form open (its Methods could not be consulted): the
post signal is a rate estimate or a filtered voltage, as the issue asks; the normalisation is
multiplicative (L2) rather than subtractive, so the weights stay non-negative with ON/OFF inputs;
the nonlinearities are the families the paper compares (rectifiers, BCM, cubic), with our own
parametrisation by one threshold.

Coincident spikes
    No pairing and no spike order: the rule integrates rates. Spikes in the step of an update
    are included in the traces it reads (pre and post alike).

Parameters
----------
post_signal : "rate" | "voltage"      what the nonlinearity is applied to
nonlinearity : see above              the function f
theta : 1                             threshold of f (in units of u)
eta : 1                               weight change per presynaptic spike at f(u) = 1
tau_pre : time                        presynaptic trace (rate estimate), 20 ms
pre_offset : Hz                       rate subtracted from the presynaptic estimate, 0 Hz
tau_post : time                       postsynaptic rate trace or voltage filter, 20 ms
rate_unit : Hz                        u = 1 at this postsynaptic rate (post_signal "rate")
v_offset, v_unit : volt               u = (v̄ - v_offset)/v_unit (post_signal "voltage")
normalization : "l2" | "none"         multiplicative normalisation of incoming weights
w_norm : 1                            L2 norm of each neuron's incoming weights
update_interval : time                integration step of the rule (a multiple of dt), 1 ms
w_min, w_max : 1                      hard bounds (default 0 and +inf)

Neuron-side needs
-----------------
Presynaptic ``Trace(tau_pre)``; postsynaptic ``Trace(tau_post)`` (rate) or
``Lowpass("v", tau_post)`` (voltage: needs a neuron with a membrane potential); with L2
normalisation a per-projection variable ``incoming_norm2_<projection>`` on the postsynaptic
group (:class:`IncomingNorm`), filled by a summed variable.

References
----------
.. [1] Brito CSN, Gerstner W (2016) Nonlinear Hebbian learning as a unifying principle in
       receptive field formation. PLoS Comput Biol 12:e1005070.
.. [2] Hyvärinen A, Oja E (1998) Independent component analysis by general nonlinear Hebbian-like
       learning rules. Signal Processing 64:301-313.
.. [3] Oja E (1982) A simplified neuron model as a principal component analyzer. J Math Biol
       15:267-273.
.. [4] Sejnowski TJ (1977) Storing covariance with nonlinearly interacting neurons. J Math Biol
       4:303-321.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from brian2 import Hz, ms, mV, volt
from brian2.units.fundamentalunits import Quantity

from ..errors import ParameterError
from ..needs import Lowpass, Need, Trace
from ..params import option, param
from ..rule import Contribution, Rule, RuleContext

__all__ = ["NonlinearHebbian", "IncomingNorm", "NONLINEARITIES", "apply_nonlinearity"]

#: Each nonlinearity f(u; θ): a Brian2 expression template in ``u`` and ``theta_nh`` and its NumPy
#: form (used by the rate model and the reference).
NONLINEARITIES: dict[str, tuple[str, Callable[[np.ndarray, float], np.ndarray]]] = {
    "linear": ("({u} - theta_nh)", lambda u, theta: u - theta),
    "linear-rectifier": ("clip({u} - theta_nh, 0, inf)", lambda u, theta: np.maximum(u - theta, 0)),
    "quadratic-rectifier": (
        "clip({u} - theta_nh, 0, inf)**2",
        lambda u, theta: np.maximum(u - theta, 0) ** 2,
    ),
    "bcm": ("({u})*({u} - theta_nh)", lambda u, theta: u * (u - theta)),
    "cubic": ("(({u}) - theta_nh)**3", lambda u, theta: (u - theta) ** 3),
}


def apply_nonlinearity(name: str, u: np.ndarray, theta: float = 0.0) -> np.ndarray:
    """The nonlinearity ``f(u; θ)`` named `name`, in NumPy (the rate form of the rule)."""
    if name not in NONLINEARITIES:
        raise ParameterError(
            f"unknown nonlinearity {name!r}; use one of {', '.join(NONLINEARITIES)}"
        )
    return NONLINEARITIES[name][1](np.asarray(u, dtype=float), float(theta))


@dataclass(frozen=True, eq=False)
class IncomingNorm(Need):
    """Per-neuron sum of squared incoming weights of one projection (a summed variable target).

    Keyed by the projection, so two normalised projections onto one group get one variable each
    (Brian2 allows one summed variable per target variable).
    """

    projection: str

    def key(self) -> tuple:
        return ("incoming-norm", self.projection)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IncomingNorm) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def variable_name(self) -> str:
        return f"incoming_norm2_{self.projection}"

    def group_equations(self) -> str:
        return f"{self.variable_name()} : 1"

    def group_reset(self) -> str:
        return ""

    def group_namespace(self) -> dict:
        return {}

    def ref(self, side: str) -> IncomingNorm:
        return self

    def namespace(self) -> dict:
        return {}


@dataclass(frozen=True, eq=False, kw_only=True)
class NonlinearHebbian(Rule):
    """Spiking nonlinear Hebbian rule with L2 weight normalisation (see module doc)."""

    kind: ClassVar[str] = "nonlinear-hebbian"
    summary: ClassVar[str] = (
        "nonlinear Hebbian, Brito & Gerstner 2016 (rate/voltage signal, L2 normalisation)"
    )

    post_signal: str = option("rate", ("rate", "voltage"), "postsynaptic signal u")
    nonlinearity: str = option(
        "quadratic-rectifier", tuple(NONLINEARITIES), "the function f applied to u"
    )
    theta: float = param(1.0, 1, "threshold of f, in units of u")
    eta: float = param(1e-3, 1, "weight change per presynaptic spike at f(u) = 1", nonnegative=True)
    tau_pre: Quantity = param(20 * ms, ms, "presynaptic trace (rate estimate)", positive=True)
    pre_offset: Quantity = param(0 * Hz, Hz, "rate subtracted from the presynaptic estimate")
    tau_post: Quantity = param(
        20 * ms, ms, "postsynaptic rate trace or voltage filter", positive=True
    )
    rate_unit: Quantity = param(10 * Hz, Hz, "postsynaptic rate at which u = 1", positive=True)
    v_offset: Quantity = param(-65 * mV, volt, "filtered voltage at which u = 0")
    v_unit: Quantity = param(5 * mV, volt, "filtered voltage change for a unit of u", positive=True)
    normalization: str = option("l2", ("l2", "none"), "normalisation of incoming weights")
    w_norm: float = param(1.0, 1, "L2 norm of each neuron's incoming weights", positive=True)
    update_interval: Quantity = param(1 * ms, ms, "integration step of the rule", positive=True)

    def check(self) -> None:
        super().check()
        if self.normalization == "l2" and self.w_min < 0:
            raise ParameterError(
                f"{self.kind}: L2 normalisation rescales weights towards zero, so w_min must be "
                f"0 or more (got {self.w_min})"
            )

    def f_expression(self, u: str) -> str:
        """Brian2 expression of f applied to the expression `u`."""
        return NONLINEARITIES[self.nonlinearity][0].format(u=u)

    def f(self, u: np.ndarray) -> np.ndarray:
        """f(u) in NumPy."""
        return apply_nonlinearity(self.nonlinearity, u, self.theta)

    def contribute(self, ctx: RuleContext) -> Contribution:
        pre = ctx.pre(Trace(self.tau_pre))
        namespace = {
            "eta_nh": self.eta,
            "theta_nh": self.theta,
            "tau_pre_nh": self.tau_pre,
            "pre_offset_nh": self.pre_offset,
            "update_interval_nh": self.update_interval,
            **self.bounds_namespace(),
        }
        if self.post_signal == "rate":
            post = ctx.post(Trace(self.tau_post))
            u = f"{post.value}/(tau_post_nh*rate_unit_nh)"
            namespace.update(tau_post_nh=self.tau_post, rate_unit_nh=self.rate_unit)
        else:
            post = ctx.post(Lowpass("v", self.tau_post))
            u = f"({post.value} - v_offset_nh)/v_unit_nh"
            namespace.update(v_offset_nh=self.v_offset, v_unit_nh=self.v_unit)
        model = ""
        statements = []
        if self.normalization == "l2":
            norm = ctx.post(IncomingNorm(ctx.projection)).variable_name()
            model = f"{norm}_post = w**2 : 1 (summed)\n"
            namespace["w_norm_nh"] = self.w_norm
            # Frozen plasticity (plastic = 0) must leave the weights untouched.
            statements.append(
                f"w = w*(plastic*w_norm_nh/sqrt({norm}_post + 1e-300) + (1 - plastic))"
            )
        statements.append(
            "w = clip(w + plastic*eta_nh*update_interval_nh*"
            f"({pre.value}/tau_pre_nh - pre_offset_nh)*{self.f_expression(u)}, w_min, w_max)"
        )
        return Contribution(
            model=model,
            periodic=(("\n".join(statements), self.update_interval),),
            namespace=namespace,
        )
