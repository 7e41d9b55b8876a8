"""External Poisson input drawn with an alias table: one uniform number per neuron and step.

Brian2's ``PoissonInput`` adds ``weight * X`` to a neuron variable every step, with ``X`` the
number of spikes of ``n`` independent Poisson sources in one step, ``X ~ Binomial(n, rate*dt)``.
It draws ``X`` by sequential inversion (NumPy's ``rk_binomial_inversion``): a loop with one
division per unit of ``X`` and an unpredictable exit, about 20 ns per draw for a mean of 2,
which made it a quarter of the run time of the 10,000-neuron balanced benchmark. For
``n * p > 5`` it switches to a normal approximation (a float, not a count).

:class:`AliasPoissonInput` draws from the same binomial distribution with Walker's alias method
(Walker 1977; Vose 1991): the probabilities of the counts are laid out once, at build time, in
two tables (computed from log-gamma functions, relative accuracy ~1e-12 where it matters; the
two tails left out hold less than 2**-61 each, below the resolution of a double-precision
uniform); a draw takes one uniform number ``U``, looks at column ``k = floor(U*K)`` and returns
``k`` if the fractional part of ``U*K`` is below ``prob[k]``, else ``alias[k]``: no loop, a
select instead of a branch. Large means use the same exact table (no normal approximation).

Uniform numbers map to counts differently than in ``PoissonInput``'s inversion, so spike
trains are not the same as with ``PoissonInput`` for the same seed, but the distribution is; a
seed gives the same trains on every backend (they share the seeded MT19937 stream).

References
----------
.. [1] Walker AJ (1977) ACM Trans Math Softw 3:253–256.
.. [2] Vose MD (1991) IEEE Trans Softw Eng 17:972–975.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from brian2.core.base import Nameable
from brian2.core.functions import DEFAULT_FUNCTIONS, Function
from brian2.core.variables import Variables
from brian2.groups.group import CodeRunner
from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

__all__ = ["binomial_alias_table", "AliasBinomialFunction", "AliasPoissonInput"]

#: Mass left out of the table at each end (below a double uniform's resolution of 2**-53).
TAIL_MASS = 2.0**-61
#: Largest table; a drive whose binomial needs more columns is refused.
MAX_COLUMNS = 1 << 20


def binomial_alias_table(n: int, p: float) -> tuple[int, np.ndarray, np.ndarray]:
    """Alias table of ``Binomial(n, p)``.

    Returns
    -------
    offset, prob, alias
        A draw is ``offset + (k if frac < prob[k] else alias[k])`` with ``u = U * len(prob)``,
        ``k = floor(u)`` and ``frac = u - k`` for a uniform ``U`` in [0, 1).
    """
    # scipy.special only: scipy.stats would add ~50 MB to every run's memory
    from scipy.special import gammaln

    if not (0.0 <= p <= 1.0) or n < 0:
        raise ValueError(f"need n >= 0 and 0 <= p <= 1, got n={n}, p={p}")
    if p in (0.0, 1.0) or n == 0:
        return (0 if p == 0.0 else int(n)), np.ones(1), np.zeros(1, dtype=np.int32)
    mean, sd = n * p, math.sqrt(n * p * (1.0 - p))
    # a window far wider than the mass (> 40 sd), trimmed below to the tails' TAIL_MASS
    low = max(0, math.floor(mean - 40.0 * sd - 40.0))
    high = min(int(n), math.ceil(mean + 40.0 * sd + 40.0))
    if high - low + 1 > 4 * MAX_COLUMNS:
        raise ValueError(f"Binomial({n}, {p:g}) is too wide for an alias table")
    k = np.arange(low, high + 1, dtype=float)
    log_pmf = (
        gammaln(n + 1.0)
        - gammaln(k + 1.0)
        - gammaln(n - k + 1.0)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )
    pmf = np.exp(log_pmf)
    below = np.cumsum(pmf) < TAIL_MASS
    above = np.cumsum(pmf[::-1])[::-1] < TAIL_MASS
    keep = np.flatnonzero(~below & ~above)
    low, pmf = low + int(keep[0]), pmf[keep[0] : keep[-1] + 1]
    if len(pmf) > MAX_COLUMNS:
        raise ValueError(
            f"Binomial({n}, {p:g}) needs {len(pmf)} table columns (limit {MAX_COLUMNS})"
        )
    pmf = pmf / math.fsum(pmf)
    columns = len(pmf)
    scaled = pmf * columns
    prob = np.ones(columns)
    alias = np.arange(columns, dtype=np.int32)
    small = [k for k in range(columns) if scaled[k] < 1.0]
    large = [k for k in range(columns) if scaled[k] >= 1.0]
    while small and large:
        short, tall = small.pop(), large.pop()
        prob[short] = scaled[short]
        alias[short] = tall
        scaled[tall] -= 1.0 - scaled[short]
        (small if scaled[tall] < 1.0 else large).append(tall)
    # what is left has scaled mass 1 up to rounding: always its own column
    return low, prob, alias


def _literal(values: np.ndarray) -> str:
    return ", ".join(repr(float(v)) if values.dtype.kind == "f" else str(int(v)) for v in values)


def _cpp_code(name: str, offset: int, prob: np.ndarray, alias: np.ndarray) -> str:
    columns = len(prob)
    return f"""
static const double {name}_prob[{columns}] = {{{_literal(prob)}}};
static const int32_t {name}_alias[{columns}] = {{{_literal(alias)}}};
inline int32_t {name}(const int _vectorisation_idx)
{{
    const double u = _rand(_vectorisation_idx) * {columns};
    const int32_t k = (int32_t)u;
    return {offset} + ((u - k) < {name}_prob[k] ? k : {name}_alias[k]);
}}
"""


def _cython_code(name: str, offset: int, prob: np.ndarray, alias: np.ndarray) -> str:
    columns = len(prob)
    return f"""
cdef double {name}_prob[{columns}]
{name}_prob[:] = [{_literal(prob)}]
cdef int {name}_alias[{columns}]
{name}_alias[:] = [{_literal(alias)}]
cdef inline int {name}(const int _vectorisation_idx):
    cdef double u = _rand(_vectorisation_idx) * {columns}
    cdef int k = <int>u
    if (u - k) < {name}_prob[k]:
        return {offset} + k
    return {offset} + {name}_alias[k]
"""


class AliasBinomialFunction(Function, Nameable):
    """Brian2 function drawing ``Binomial(n, p)`` counts with an alias table (see module doc).

    ``implementations`` maps a code-generation target to a function ``(name, offset, prob,
    alias) -> code`` or ``-> (code, namespace)``; devices that add targets extend it (the
    ``numba_standalone`` device does).
    """

    implementations: dict[str, Callable[..., Any]] = {"cpp": _cpp_code, "cython": _cython_code}

    def __init__(self, n: int, p: float, name: str = "_alias_binomial*"):
        Nameable.__init__(self, name)
        offset, prob, alias = binomial_alias_table(int(n), float(p))
        self.offset, self.prob, self.alias = offset, prob, alias
        columns = len(prob)

        def sample(vectorisation_idx: Any) -> np.ndarray:
            try:
                size = len(vectorisation_idx)
            except TypeError:
                size = int(vectorisation_idx)
            u = np.random.rand(size) * columns
            k = u.astype(np.int32)
            return offset + np.where(u - k < prob[k], k, alias[k])

        Function.__init__(
            self,
            pyfunc=lambda: sample(1),
            arg_units=[],
            return_unit=1,
            stateless=False,
            auto_vectorise=True,
        )
        self.implementations.add_implementation("numpy", sample)
        for target, generate in AliasBinomialFunction.implementations.items():
            generated = generate(self.name, offset, prob, alias)
            code, namespace = generated if isinstance(generated, tuple) else (generated, None)
            self.implementations.add_implementation(
                target,
                {"support_code": code} if target == "cpp" else code,
                namespace=namespace,
                dependencies={"_rand": DEFAULT_FUNCTIONS["rand"]},
                name=self.name,
            )


class AliasPoissonInput(CodeRunner):
    """``n`` independent Poisson sources at `rate` onto `target_var` of every neuron of `target`.

    The same model as Brian2's ``PoissonInput`` (``target_var += weight * X`` every step with
    ``X ~ Binomial(n, rate*dt)``, skipped while the neuron is refractory if the variable is
    ``(unless refractory)``), drawn with :class:`AliasBinomialFunction`.
    """

    def __init__(
        self,
        target: Any,
        target_var: str,
        n: int,
        rate: Any,
        weight: Any,
        when: str = "synapses",
        order: int = 0,
    ):
        if target_var not in target.variables:
            raise KeyError(f"{target_var} is not a variable of {target.name}")
        if get_dimensions(weight) is not target.variables[target_var].dim:
            raise DimensionMismatchError(
                f"the weight must have the unit of '{target_var}'",
                get_dimensions(weight),
                target.variables[target_var].dim,
            )
        probability = float(rate * target.clock.dt)
        if not 0.0 <= probability <= 1.0:
            raise ValueError(
                f"rate*dt must be in [0, 1] (one spike per source and step at most), got "
                f"{probability:g}"
            )
        self.n, self.rate, self.weight, self.target_var = int(n), rate, weight, target_var
        sampler = AliasBinomialFunction(int(n), probability, name="poissondrive_binomial*")
        self._group = target
        CodeRunner.__init__(
            self,
            group=target,
            template="stateupdate",
            code=f"{target_var} += {sampler.name}()*{weight!r}",
            user_code="",
            when=when,
            order=order,
            name="poissondrive*",
            clock=target.clock,
        )
        self.variables = Variables(self)
        self.variables._add_variable(sampler.name, sampler)
