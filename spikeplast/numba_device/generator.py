"""Code generator of the ``numba_standalone`` device: Brian2 abstract code to Numba-Python.

The generated statements are plain Python, compiled by Numba inside one ``@njit`` function per
code-object block.  Arrays are accessed by their device-wide names (dynamic arrays by the name of
the array object itself, since the device keeps them as plain NumPy arrays); constants are
referred to by their names in the code object and become arguments of the compiled function.

Function implementations for this target are registered by :func:`register_functions`; they name
helpers of :mod:`spikeplast.numba_device.runtime` or carry their own Python source (``def``).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from brian2.codegen.generators.base import CodeGenerator
from brian2.core.functions import DEFAULT_FUNCTIONS, Function
from brian2.core.variables import DynamicArrayVariable
from brian2.parsing.bast import brian_dtype_from_dtype
from brian2.parsing.rendering import NodeRenderer
from brian2.utils.stringtools import indent, word_substitute

__all__ = [
    "NumbaCodeGenerator",
    "register_functions",
    "implementation_arrays",
    "NUMBA_TARGET_NAME",
]

#: The ``class_name`` of the generator, used as key for `TimedArray`/`BinomialFunction`.
NUMBA_TARGET_NAME = "numba"


def implementation_arrays(impl, owner) -> dict[str, Any]:
    """Arrays a Numba function implementation takes as extra arguments.

    They come from the implementation's namespace or, for implementations whose constructor
    cannot pass a namespace (Brian2's `BinomialFunction`), from an ``"arrays"`` entry of a code
    dictionary ``{"support_code": ..., "arrays": {...}}``.
    """
    arrays = dict(impl.get_namespace(owner) or {})
    code = impl.get_code(owner)
    if isinstance(code, dict):
        arrays.update(code.get("arrays") or {})
    return arrays


def _unsigned(index: str) -> str:
    """An array index as an unsigned integer.

    Numba wraps negative signed indices around (a compare and select on every access); Brian2's
    indices are never negative.  On random accesses, such as a synaptic pathway reading weights
    by synapse index, the unsigned index is 1.7x faster.
    """
    # only plain names: a literal or an expression keeps Numba's usual (signed) indexing
    return f"np.uint64({index})" if index.isidentifier() else index


class NumbaNodeRenderer(NodeRenderer):
    """Render expressions as Numba-compatible Python.

    `extra_call_args` maps a (translated) function name to names that are appended to its
    arguments: the arrays a function implementation needs (e.g. the values of a TimedArray).
    """

    def __init__(self, auto_vectorise=None, extra_call_args=None):
        super().__init__(auto_vectorise=auto_vectorise)
        self.extra_call_args = extra_call_args or {}

    def render_Name(self, node):
        return {"True": "True", "False": "False"}.get(node.id, node.id)

    def render_Call(self, node):
        rendered = super().render_Call(node)
        name = self.render_func(node.func)
        extra = self.extra_call_args.get(name)
        if extra:
            if rendered.endswith("()"):
                rendered = f"{rendered[:-1]}{', '.join(extra)})"
            else:
                rendered = f"{rendered[:-1]}, {', '.join(extra)})"
        return rendered


class NumbaCodeGenerator(CodeGenerator):
    """Translate Brian2 statements into Python statements for Numba's ``nopython`` mode."""

    class_name = NUMBA_TARGET_NAME

    def __init__(self, *args: Any, **kwds: Any) -> None:
        super().__init__(*args, **kwds)
        self.extra_call_args: dict[str, list[str]] = {}
        self.support_code: dict[str, str] = {}
        self._collect_functions()

    # -- names ----------------------------------------------------------------------------------
    @staticmethod
    def get_array_name(var, access_data=True):
        """Device-wide name; data and dynamic-array object share one name (a NumPy array)."""
        from brian2.devices.device import get_device

        device = get_device()
        if isinstance(var, DynamicArrayVariable):
            return device.get_array_name(var, access_data=False)
        return device.get_array_name(var, access_data=access_data)

    # -- functions ------------------------------------------------------------------------------
    def _collect_functions(self) -> None:
        added: set[int] = set()
        for varname, var in list(self.variables.items()):
            if isinstance(var, Function):
                self._add_function(varname, var, added)

    def _add_function(self, varname: str, func: Function, added: set[int]) -> None:
        try:
            impl = func.implementations[self.codeobj_class]
        except KeyError as error:
            raise NotImplementedError(
                f"numba_standalone: function '{varname}' has no Numba implementation "
                "(user-defined functions need an implementation for the 'numba' target)"
            ) from error
        if id(impl) in added:
            return
        added.add(id(impl))
        name = impl.name or varname
        code = impl.get_code(self.owner)
        arrays = implementation_arrays(impl, self.owner)
        if isinstance(code, dict):
            if code.get("error"):
                raise ValueError(f"numba_standalone: {code['error']}")
            code = code.get("support_code")
        if code is not None:
            if not isinstance(code, str):
                raise NotImplementedError(
                    f"numba_standalone: the implementation of function '{varname}' must be "
                    "Python source code (a string with a 'def')"
                )
            self.support_code[name] = code
        extra = sorted(arrays)
        for dep_name, dep in (impl.dependencies or {}).items():
            if dep_name not in self.variables:
                self.variables[dep_name] = dep
            self._add_function(dep_name, dep, added)
            dep_impl = dep.implementations[self.codeobj_class]
            extra += [
                arg
                for arg in self.extra_call_args.get(dep_impl.name or dep_name, [])
                if arg not in extra
            ]
        for arg in _RNG_ARGS.get(name, ()):
            if arg not in extra:
                extra.append(arg)
        if extra:
            self.extra_call_args[name] = extra

    # -- translation ----------------------------------------------------------------------------
    def translate_expression(self, expr):
        expr = word_substitute(expr, self.func_name_replacements)
        renderer = NumbaNodeRenderer(
            auto_vectorise=self.auto_vectorise, extra_call_args=self.extra_call_args
        )
        return renderer.render_expr(expr).strip()

    def translate_statement(self, statement):
        var, op, expr, comment = (
            statement.var,
            statement.op,
            statement.expr,
            statement.comment,
        )
        if op == ":=":
            op = "="
        # Like the Cython generator: expressions over boolean variables become if/elif chains
        # of simpler expressions (the abstract code's boolean simplification).
        if (
            statement.used_boolean_variables is not None
            and len(statement.used_boolean_variables)
            and brian_dtype_from_dtype(statement.dtype) == "float"
        ):
            used_boolvars = statement.used_boolean_variables
            lines = []
            for number, (bool_assigns, simp_expr) in enumerate(
                statement.boolean_simplified_expressions.items()
            ):
                atomics = [
                    boolvar if boolval else f"not {boolvar}" for boolvar, boolval in bool_assigns
                ]
                if number == 0:
                    line = f"if {' and '.join(atomics)}:"
                elif len(used_boolvars) > 1:
                    line = f"elif {' and '.join(atomics)}:"
                else:
                    line = "else:"
                line += f"\n    {var} {op} {self.translate_expression(simp_expr)}"
                lines.append(line)
            code = "\n".join(lines)
        else:
            code = f"{var} {op} {self.translate_expression(expr)}"
        if len(comment):
            code += f"  # {comment}"
        return code

    def _read_arrays(self, read, indices):
        lines = []
        for varname in itertools.chain(sorted(indices), sorted(read)):
            var = self.variables[varname]
            index = self.variable_indices[varname]
            lines.append(f"{varname} = {self.get_array_name(var)}[{_unsigned(index)}]")
        return lines

    def _statements(self, statements, conditional_write_vars):
        lines = []
        for stmt in statements:
            line = self.translate_statement(stmt)
            if stmt.var in conditional_write_vars:
                lines.append(f"if {conditional_write_vars[stmt.var]}:")
                lines.append(indent(line))
            else:
                lines.append(line)
        return lines

    def _write_arrays(self, write):
        lines = []
        for varname in sorted(write):
            index = self.variable_indices[varname]
            var = self.variables[varname]
            lines.append(f"{self.get_array_name(var)}[{_unsigned(index)}] = {varname}")
        return lines

    def translate_one_statement_sequence(self, statements, scalar=False):
        read, write, indices, conditional_write_vars = self.arrays_helper(statements)
        lines = self._read_arrays(read, indices)
        lines += self._statements(statements, conditional_write_vars)
        lines += self._write_arrays(write)
        return "\n".join(lines)

    def translate_statement_sequence(self, sc_statements, ve_statements):
        # Scalar variables read by the vector code are read once in the scalar code (as in the
        # Cython and C++ generators), unless the vector code writes them.
        scalar_code = {}
        vector_code = {}
        for block_name in sc_statements:
            sc_block = sc_statements[block_name]
            ve_block = ve_statements[block_name]
            sc_read, sc_write, sc_indices, sc_cond = self.arrays_helper(sc_block)
            ve_read, ve_write, ve_indices, ve_cond = self.arrays_helper(ve_block)
            for varname in set(ve_read):
                var = self.variables[varname]
                if var.scalar and varname not in ve_write:
                    sc_read.add(varname)
                    ve_read.remove(varname)
            for target, stmts, read, write, indices, cond in [
                (scalar_code, sc_block, sc_read, sc_write, sc_indices, sc_cond),
                (vector_code, ve_block, ve_read, ve_write, ve_indices, ve_cond),
            ]:
                lines = self._read_arrays(read, indices)
                lines += self._statements(stmts, cond)
                lines += self._write_arrays(write)
                target[block_name] = "\n".join(lines) if lines else "pass"
        return scalar_code, vector_code, self.determine_keywords()

    def determine_keywords(self):
        registry = getattr(self.device, "function_support", None)
        if registry is not None:
            registry[self.name] = (dict(self.support_code), dict(self.extra_call_args))
        return {
            "support_code_numba": dict(self.support_code),
            "extra_call_args_numba": dict(self.extra_call_args),
        }


# ----------------------------------------------------------------------------------------------
# Function implementations
# ----------------------------------------------------------------------------------------------
#: Generator-state arrays passed to the random functions of the runtime (explicit MT19937 state).
RNG_STATE_ARRAYS = ("_rng_state", "_rng_gauss")
_RNG_ARGS = {
    "_rand": ("_rng_state",),
    "_randn": ("_rng_state", "_rng_gauss"),
    "_poisson": ("_rng_state",),
}

_RUNTIME_NAMES = {
    # Brian name: name in the generated module (imported from runtime or math)
    "sin": "_m_sin",
    "cos": "_m_cos",
    "tan": "_m_tan",
    "sinh": "_m_sinh",
    "cosh": "_m_cosh",
    "tanh": "_m_tanh",
    "exp": "_m_exp",
    "log": "_m_log",
    "log10": "_m_log10",
    "expm1": "_m_expm1",
    "log1p": "_m_log1p",
    "sqrt": "_m_sqrt",
    "arcsin": "_m_asin",
    "arccos": "_m_acos",
    "arctan": "_m_atan",
    "abs": "abs",
    "ceil": "_ceil",
    "floor": "_floor",
    "int": "_int",
    "clip": "_clip",
    "sign": "_sign",
    "timestep": "_timestep",
    "exprel": "_exprel",
    "rand": "_rand",
    "randn": "_randn",
    "poisson": "_poisson",
}


def _timed_array_code_1d(values, dt, name):
    from brian2.input.timedarray import _find_K

    def numba_impl(owner):
        K = _find_K(owner.clock.dt_, dt)
        return f"""
def {name}(t, {name}_values):
    epsilon = {dt!r} / {K}
    i = np.int32((t / epsilon + 0.5) / {K})
    if i < 0:
        i = 0
    if i >= {name}_values.shape[0]:
        i = {name}_values.shape[0] - 1
    return {name}_values[i]
"""

    return numba_impl


def _timed_array_code_2d(values, dt, name):
    from brian2.input.timedarray import _find_K

    rows, cols = values.shape

    def numba_impl(owner):
        K = _find_K(owner.clock.dt_, dt)
        return f"""
def {name}(t, i, {name}_values):
    epsilon = {dt!r} / {K}
    if i < 0 or i >= {cols}:
        return np.nan
    timestep = np.int32((t / epsilon + 0.5) / {K})
    if timestep < 0:
        timestep = 0
    elif timestep >= {name}_values.shape[0] // {cols}:
        timestep = {name}_values.shape[0] // {cols} - 1
    return {name}_values[timestep * {cols} + i]
"""

    return numba_impl


#: Buckets of the binomial lookup table (a power of two, so that ``U * buckets`` is exact).
BINOMIAL_BUCKETS = 4096
#: Largest number of inversion steps for which a lookup table is built.
_BINOMIAL_MAX_STEPS = 1000
# Distance from a bucket edge below which the table defers to the inversion loop.  The loop's
# running difference U - px_0 - ... - px_(k-1) differs from the exact one by at most k * 2**-53
# (< 1.2e-13 for k <= 1000), and the cumulative sums here carry less than 1e-15.
_BINOMIAL_MARGIN = 1e-12


def binomial_bucket_table(n: int, P: float, q: float, qn: float, bound: float) -> np.ndarray | None:
    """Lookup table of Brian2's binomial inversion: the count for each of 4096 buckets of U.

    Brian2 draws a binomial count with one uniform U and the loop ``while U > px: X += 1;
    U -= px; px = (n - X + 1) * P * px / (X * q)`` (restarting with a new U when X exceeds
    `bound`).  Every comparison is a comparison of U with a cumulative sum of the px, so the
    count is a step function of U.  For a bucket of U values that contains no step (with a
    margin covering the loop's rounding), the entry is that count; otherwise it is -1 and the
    caller runs the loop.  The counts are therefore exactly the loop's: the same random numbers
    give the same values, as on the other targets.  The arguments are the constants as they
    appear (rounded to 15 decimals) in the generated code.
    """
    steps = int(math.floor(bound)) + 1
    if steps > _BINOMIAL_MAX_STEPS:
        return None
    px = [qn]
    for X in range(1, steps):
        px.append(((n - X + 1) * P * px[-1]) / (X * q))
    edges = np.array([math.fsum(px[: k + 1]) for k in range(steps)])
    lower = np.arange(BINOMIAL_BUCKETS) / BINOMIAL_BUCKETS
    upper = lower + 1.0 / BINOMIAL_BUCKETS
    count = np.searchsorted(edges, lower, side="left")  # steps whose edge lies below the bucket
    near = np.searchsorted(edges, lower - _BINOMIAL_MARGIN, side="left") != np.searchsorted(
        edges, upper + _BINOMIAL_MARGIN, side="left"
    )
    table = np.where(near | (count >= steps), -1, count)
    return table.astype(np.int16)  # counts stay below _BINOMIAL_MAX_STEPS


def _binomial_code(n, p, use_normal, name):
    from brian2.input.binomial import _pre_calc_constants, _pre_calc_constants_approximated

    if use_normal:
        loc, scale = _pre_calc_constants_approximated(n, p)
        # C++ returns a float (single precision) here; keep that rounding for identical results.
        code = f"""
def {name}(_vectorisation_idx, _rng_state, _rng_gauss):
    return np.float64(np.float32(
        _randn(_vectorisation_idx, _rng_state, _rng_gauss) * {scale:.15f} + {loc:.15f}
    ))
"""
        return code, {"_randn": DEFAULT_FUNCTIONS["randn"]}
    reverse, q, P, qn, bound = _pre_calc_constants(n, p)
    literal = {"q": q, "P": P, "qn": qn, "b": bound}
    literal = {key: f"{value:.15f}" for key, value in literal.items()}
    if float(literal["qn"]) == 0.0:
        # Reported when a code object uses the function, not here: Brian2 creates every
        # target's implementation in BinomialFunction.__init__, also for the numpy target.
        return {
            "error": f"BinomialFunction(n={n}, p={p}, approximate=False) cannot be drawn by "
            f"Brian2's inversion sampler: (1 - p)**n = {qn:.3g} is written as 0 in the "
            "generated code and its loop never ends (C++ standalone and Cython hang on it). "
            "Use approximate=True (a normal approximation when n*p > 5) or a smaller n*p "
            "((1 - p)**n must stay above 5e-16)."
        }, {}
    result = f"{int(n)} - X" if reverse else "X"
    inversion = f"""
    X = 0
    px = {literal["qn"]}
    while U > px:
        X += 1
        if X > {literal["b"]}:
            X = 0
            px = {literal["qn"]}
            U = _rand(_vectorisation_idx, _rng_state)
        else:
            U -= px
            px = (({int(n)} - X + 1) * {literal["P"]} * px) / (X * {literal["q"]})
    return {result}
"""
    dependencies = {"_rand": DEFAULT_FUNCTIONS["rand"]}
    table = binomial_bucket_table(int(n), *(float(literal[key]) for key in ("P", "q", "qn", "b")))
    if table is None:
        head = f"def {name}(_vectorisation_idx, _rng_state):\n"
        return head + "    U = _rand(_vectorisation_idx, _rng_state)" + inversion, dependencies
    code = f"""
def {name}(_vectorisation_idx, {name}_buckets, _rng_state):
    U = _rand(_vectorisation_idx, _rng_state)
    X = {name}_buckets[np.int64(U * {BINOMIAL_BUCKETS})]
    if X >= 0:
        return {result}
{inversion.lstrip(chr(10))}"""
    return {"support_code": code, "arrays": {f"{name}_buckets": table}}, dependencies


def _alias_binomial_code(name, offset, prob, alias):
    columns = len(prob)
    code = f"""
def {name}(_vectorisation_idx, {name}_alias, {name}_prob, _rng_state):
    u = _rand(_vectorisation_idx, _rng_state) * {columns}
    k = np.int32(u)
    if (u - k) < {name}_prob[k]:
        return {offset} + k
    return {offset} + {name}_alias[k]
"""
    return code, {f"{name}_prob": prob, f"{name}_alias": alias}


_registered = False


def register_functions(codeobj_class) -> None:
    """Add the Numba implementations of Brian2's default functions (idempotent)."""
    global _registered
    if _registered:
        return
    from brian2.input.binomial import BinomialFunction
    from brian2.input.timedarray import TimedArray

    from ..poisson_input import AliasBinomialFunction

    for brian_name, numba_name in _RUNTIME_NAMES.items():
        DEFAULT_FUNCTIONS[brian_name].implementations.add_implementation(
            NumbaCodeGenerator, code=None, name=numba_name
        )
    TimedArray.implementations[NUMBA_TARGET_NAME] = (
        _timed_array_code_1d,
        _timed_array_code_2d,
    )
    BinomialFunction.implementations[NUMBA_TARGET_NAME] = _binomial_code
    AliasBinomialFunction.implementations[NUMBA_TARGET_NAME] = _alias_binomial_code
    _registered = True


def ensure_function_implementation(func: Function) -> None:
    """Give TimedArrays and BinomialFunctions created before registration a Numba version."""
    from brian2.input.binomial import BinomialFunction
    from brian2.input.timedarray import TimedArray

    if NUMBA_TARGET_NAME in func.implementations._implementations:
        return
    if isinstance(func, TimedArray):
        generate = TimedArray.implementations[NUMBA_TARGET_NAME][func.values.ndim - 1]
        if func.values.ndim == 1:
            values = func.values
        else:
            values = func.values.astype("float64", order="C", copy=False).ravel()
        func.implementations.add_dynamic_implementation(
            NUMBA_TARGET_NAME,
            generate(func.values, func.dt, func.name),
            namespace=lambda owner, key=f"{func.name}_values", v=values: {key: v},
            name=func.name,
        )
    elif isinstance(func, BinomialFunction):  # pragma: no cover - created after registration
        raise NotImplementedError(
            "numba_standalone: BinomialFunction created before the device was registered"
        )
