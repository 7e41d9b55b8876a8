"""Numba helpers used by the generated simulation modules of the ``numba_standalone`` device.

Everything here is compiled in ``nopython`` mode and cached on disk.  The functions mirror the
C++ standalone runtime (``brianlib`` and the support code of Brian2's C++ code generator) so that a
simulation consumes random numbers in the same order and produces the same results:

* random numbers: a Mersenne Twister on an explicit state array, seeded like
  ``std::mt19937::seed`` (and NumPy's legacy seeding), refilled block-wise like libstdc++'s;
  ``_rand()`` builds doubles exactly like Brian2's C++ ``rand()``;
* the spike queue: a ring buffer of delay slots (one row per slot of a 2-D array), filled in the
  same order as Brian2's ``CSpikeQueue``;
* growing arrays for monitors and synapse creation.

The generated modules import these names; the device includes a digest of this file in the cache
key of every generated module, because Numba's cache does not notice changes of called functions.
"""

from __future__ import annotations

import ctypes
import math
import sys

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_JIT = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": {"contract"}}

# ----------------------------------------------------------------------------------------------
# Random numbers
# ----------------------------------------------------------------------------------------------


# Brian2's C++ standalone draws from std::mt19937 and NumPy's legacy generator draws from the
# same Mersenne Twister; both seed it with init_genrand.  Numba's own np.random costs ~14 ns per
# double here (a call into its helper library for the thread state), so the generator is
# implemented below on an explicit state array that the generated code passes around:
# rng_state[:624] is the current block of MT19937 words (untempered), rng_state[624] the
# position of the next unused word (624: block used up); rng_gauss holds the second
# normal deviate of the polar method ([0]: whether one is stored, [1]: its value).
_MT_N = 624
_MT_M = 397
_UPPER = 0x80000000
_LOWER = 0x7FFFFFFF
_MATRIX = 0x9908B0DF
_MASK32 = 0xFFFFFFFF
# All arithmetic is on int64 (values stay below 2**47): unsigned 64-bit integers would make the
# conversion to double slow and mixed signed/unsigned expressions float in Numba.


def new_rng_state() -> tuple[np.ndarray, np.ndarray]:
    """Unseeded generator state (seed it with :func:`seed_generator`)."""
    return np.zeros(_MT_N + 1, dtype=np.uint32), np.zeros(2, dtype=np.float64)


@njit(**_JIT)
def seed_generator(seed, rng_state, rng_gauss):
    """Seed like ``std::mt19937::seed(seed)`` and NumPy's ``RandomState.seed(seed)``."""
    value = np.int64(seed) & _MASK32
    rng_state[0] = value
    for i in range(1, _MT_N):
        value = (1812433253 * (value ^ (value >> 30)) + i) & _MASK32
        rng_state[i] = value
    rng_state[_MT_N] = _MT_N
    rng_gauss[0] = 0.0
    rng_gauss[1] = 0.0


def _twist_function(module: ir.Module) -> ir.Function:
    """The MT19937 block twist as a plain LLVM function of the state pointer (one per module).

    Written in LLVM IR rather than as a Numba function: a call to a Numba function from the
    inlined draw would make every draw update the state array's reference count (atomic, ~10 ns),
    and a Numba loop inlined at every ``rand()`` site doubles the compile time of the draw.  This
    function is called once per 624 words, does not raise and LLVM vectorises its loops.
    """
    word_type = ir.IntType(32)
    index_type = ir.IntType(64)
    function_type = ir.FunctionType(ir.VoidType(), [word_type.as_pointer()])
    function = cgutils.get_or_insert_function(module, function_type, "spikeplast_mt19937_twist")
    if not function.is_declaration:
        return function
    function.linkage = "linkonce_odr"
    function.attributes.add("nounwind")
    function.attributes.add("cold")
    builder = ir.IRBuilder(function.append_basic_block("entry"))
    state = function.args[0]

    def word(index):
        return builder.load(builder.gep(state, [index]))

    def twist(index, following, partner):
        y = builder.or_(
            builder.and_(word(index), word_type(_UPPER)),
            builder.and_(word(following), word_type(_LOWER)),
        )
        value = builder.xor(word(partner), builder.lshr(y, word_type(1)))
        value = builder.xor(value, builder.mul(builder.and_(y, word_type(1)), word_type(_MATRIX)))
        builder.store(value, builder.gep(state, [index]))

    one = index_type(1)
    # element i uses the old elements i and i + 1 and element i + 397: old below 227, new above
    with cgutils.for_range_slice(builder, index_type(0), index_type(_MT_N - _MT_M), one) as (i, _):
        twist(i, builder.add(i, one), builder.add(i, index_type(_MT_M)))
    with cgutils.for_range_slice(
        builder, index_type(_MT_N - _MT_M), index_type(_MT_N - 1), one
    ) as (i, _):
        twist(i, builder.add(i, one), builder.sub(i, index_type(_MT_N - _MT_M)))
    twist(index_type(_MT_N - 1), index_type(0), index_type(_MT_M - 1))
    builder.ret_void()
    return function


@intrinsic
def _mt_twist(typingctx, rng_state):
    """Replace the 624 state words by the next block (``std::mt19937``'s ``_M_gen_rand``)."""

    def codegen(context, builder, signature, arguments):
        state = context.make_array(signature.args[0])(context, builder, arguments[0])
        builder.call(_twist_function(builder.module), [state.data])
        return context.get_dummy_value()

    return types.none(rng_state), codegen


@njit(inline="always", **_JIT)
def _temper(value):
    value ^= value >> 11
    value ^= (value << 7) & 0x9D2C5680
    value ^= (value << 15) & 0xEFC60000
    value ^= value >> 18
    return value


@njit(inline="always", **_JIT)
def _rand(_vectorisation_idx, rng_state):
    # 53-bit double from two words exactly as Brian2's C++ RandomGenerator::rand and NumPy's
    # random_sample.  Words are only ever consumed in pairs, so the position stays even and a
    # pair never straddles two blocks.
    position = np.int64(rng_state[_MT_N])
    if position >= _MT_N:
        _mt_twist(rng_state)
        position = 0
    rng_state[_MT_N] = position + 2
    a = _temper(np.int64(rng_state[position])) >> 5
    b = _temper(np.int64(rng_state[position + 1])) >> 6
    return (a * 67108864.0 + b) / 9007199254740992.0


@njit(inline="always", **_JIT)
def _randn(_vectorisation_idx, rng_state, rng_gauss):
    # Polar Box-Muller with a stored second value (C++ RandomGenerator::randn, NumPy legacy)
    if rng_gauss[0] != 0.0:
        rng_gauss[0] = 0.0
        return rng_gauss[1]
    while True:
        x1 = 2.0 * _rand(_vectorisation_idx, rng_state) - 1.0
        x2 = 2.0 * _rand(_vectorisation_idx, rng_state) - 1.0
        r2 = x1 * x1 + x2 * x2
        if r2 < 1.0 and r2 != 0.0:
            break
    f = math.sqrt(-2.0 * math.log(r2) / r2)
    rng_gauss[1] = f * x1
    rng_gauss[0] = 1.0
    return f * x2


@njit(**_JIT)
def _loggam(x):
    a0 = 8.333333333333333e-02
    a1 = -2.777777777777778e-03
    a2 = 7.936507936507937e-04
    a3 = -5.952380952380952e-04
    a4 = 8.417508417508418e-04
    a5 = -1.917526917526918e-03
    a6 = 6.410256410256410e-03
    a7 = -2.955065359477124e-02
    a8 = 1.796443723688307e-01
    a9 = -1.39243221690590e00
    coefficients = (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9)
    x0 = x
    n = 0
    if x == 1.0 or x == 2.0:
        return 0.0
    elif x <= 7.0:
        n = np.int32(7 - x)
        x0 = x + n
    x2 = 1.0 / (x0 * x0)
    xp = 2 * math.pi
    gl0 = coefficients[9]
    for k in range(8, -1, -1):
        gl0 *= x2
        gl0 += coefficients[k]
    gl = gl0 / x0 + 0.5 * math.log(xp) + (x0 - 0.5) * math.log(x0) - x0
    if x <= 7.0:
        for _k in range(1, n + 1):
            gl -= math.log(x0 - 1.0)
            x0 -= 1.0
    return gl


@njit(**_JIT)
def _poisson_mult(lam, _vectorisation_idx, rng_state):
    enlam = math.exp(-lam)
    X = np.int32(0)
    prod = 1.0
    while True:
        U = _rand(_vectorisation_idx, rng_state)
        prod *= U
        if prod > enlam:
            X += 1
        else:
            return X


@njit(**_JIT)
def _poisson_ptrs(lam, _vectorisation_idx, rng_state):
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        U = _rand(_vectorisation_idx, rng_state) - 0.5
        V = _rand(_vectorisation_idx, rng_state)
        us = 0.5 - abs(U)
        k = np.int32(math.floor((2 * a / us + b) * U + lam + 0.43))
        if us >= 0.07 and V <= vr:
            return k
        if k < 0 or (us < 0.013 and V > us):
            continue
        if (math.log(V) + math.log(invalpha) - math.log(a / (us * us) + b)) <= (
            -lam + k * loglam - _loggam(k + 1)
        ):
            return k


@njit(**_JIT)
def _poisson(lam, _vectorisation_idx, rng_state):
    if lam >= 10:
        return _poisson_ptrs(lam, _vectorisation_idx, rng_state)
    elif lam == 0:
        return np.int32(0)
    else:
        return _poisson_mult(lam, _vectorisation_idx, rng_state)


# ----------------------------------------------------------------------------------------------
# Mathematical functions with C++ semantics
# ----------------------------------------------------------------------------------------------


@njit(inline="always", **_JIT)
def _clip(value, a_min, a_max):
    if value < a_min:
        return a_min
    if value > a_max:
        return a_max
    return value


@njit(inline="always", **_JIT)
def _sign(value):
    return np.int32((0 < value) - (value < 0))


@njit(inline="always", **_JIT)
def _timestep(t, dt):
    return np.int64((t + 1e-3 * dt) / dt)


@njit(inline="always", **_JIT)
def _exprel(x):
    if abs(x) < 1e-16:
        return 1.0
    if x > 717:
        return np.inf
    return math.expm1(x) / x


@njit(inline="always", **_JIT)
def _int(x):
    return np.int32(x)


@njit(inline="always", **_JIT)
def _floor(x):
    return np.floor(np.float64(x))


@njit(inline="always", **_JIT)
def _ceil(x):
    return np.ceil(np.float64(x))


@njit(inline="always", **_JIT)
def _float(x):
    return np.float64(x)


# ----------------------------------------------------------------------------------------------
# Growing arrays (monitors, synapse creation)
# ----------------------------------------------------------------------------------------------


@njit(**_JIT)
def grow_1d(array, min_size):
    """Return `array` or a copy with room for at least `min_size` elements (doubling)."""
    if array.shape[0] >= min_size:
        return array
    new_size = max(2 * array.shape[0], min_size, 16)
    grown = np.zeros(new_size, dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown


@njit(**_JIT)
def grow_2d(array, min_rows):
    """Return `array` or a copy with room for at least `min_rows` rows (doubling)."""
    if array.shape[0] >= min_rows:
        return array
    new_rows = max(2 * array.shape[0], min_rows, 16)
    grown = np.zeros((new_rows, array.shape[1]), dtype=array.dtype)
    grown[: array.shape[0], :] = array
    return grown


@njit(**_JIT)
def reserve_1d(array, min_size):
    """Return `array` or a copy with exactly `min_size` elements (no slack)."""
    if array.shape[0] >= min_size:
        return array
    grown = np.zeros(min_size, dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown


@njit(**_JIT)
def reserve_2d(array, min_rows):
    """Return `array` or a copy with exactly `min_rows` rows (no slack)."""
    if array.shape[0] >= min_rows:
        return array
    grown = np.zeros((min_rows, array.shape[1]), dtype=array.dtype)
    grown[: array.shape[0], :] = array
    return grown


@njit(**_JIT)
def resize_1d(array, size):
    """Resize like ``std::vector::resize``: keep the first elements, zero-fill new ones."""
    if array.shape[0] == size:
        return array
    resized = np.zeros(size, dtype=array.dtype)
    n = min(size, array.shape[0])
    resized[:n] = array[:n]
    return resized


# ----------------------------------------------------------------------------------------------
# Spike queue (one per synaptic pathway)
# ----------------------------------------------------------------------------------------------
# state[0]: offset of the current slot; state[1]: 1 if all delays are equal ("scalar delay").
# data[slot, :count[slot]] holds the synapse indices due `(slot - offset) % n_slots` steps ahead.


@njit(**_JIT)
def queue_prepare(real_delays, sources, source_start, n_sources, dt, data, count, state):
    """Index synapses by source neuron and convert delays to steps (``CSpikeQueue::prepare``).

    Returns the CSR pointer and index arrays, the delays in steps and the (possibly enlarged)
    queue data and count arrays.
    """
    n_synapses = sources.shape[0]
    n_delays = real_delays.shape[0]
    delays = np.empty(n_delays, dtype=np.int32)
    first_delay = real_delays[0] if n_delays > 0 else 0.0
    min_delay = np.int32(first_delay / dt + 0.5)
    max_delay = min_delay
    for i in range(n_delays):
        delays[i] = np.int32(real_delays[i] / dt + 0.5)
        if delays[i] > max_delay:
            max_delay = delays[i]
        elif delays[i] < min_delay:
            min_delay = delays[i]
    pointers = np.zeros(n_sources + 1, dtype=np.int64)
    for i in range(n_synapses):
        pointers[sources[i] - source_start + 1] += 1
    for i in range(n_sources):
        pointers[i + 1] += pointers[i]
    fill = pointers[:n_sources].copy()
    indices = np.empty(n_synapses, dtype=np.int32)
    for i in range(n_synapses):
        source = sources[i] - source_start
        indices[fill[source]] = i
        fill[source] += 1
    n_slots = data.shape[0]
    if max_delay + 1 > n_slots:
        # Rotate so that the current slot becomes slot 0, then add empty slots at the end
        # (CSpikeQueue::expand); spikes already in the queue keep their due times.
        offset = state[0]
        new_data = np.zeros((max_delay + 1, data.shape[1]), dtype=np.int32)
        new_count = np.zeros(max_delay + 1, dtype=np.int64)
        for k in range(n_slots):
            old = (offset + k) % n_slots
            new_count[k] = count[old]
            new_data[k, : count[old]] = data[old, : count[old]]
        data = new_data
        count = new_count
        state[0] = 0
    state[1] = 1 if min_delay == max_delay else 0
    return pointers, indices, delays, data, count


@njit(**_JIT)
def _ensure_slot_capacity(data, needed):
    if needed <= data.shape[1]:
        return data
    new_capacity = max(2 * data.shape[1], needed, 16)
    grown = np.zeros((data.shape[0], new_capacity), dtype=np.int32)
    grown[:, : data.shape[1]] = data
    return grown


@njit(**_JIT)
def queue_push(eventspace, source_start, source_end, pointers, indices, delays, data, count, state):
    """Advance the queue by one slot, then push the synapses of this step's spiking sources.

    Mirrors ``synapses_push_spikes.cpp`` (advance, then ``CSpikeQueue::push``).  Returns the
    queue data array, which is replaced when a slot needs more room.
    """
    n_slots = data.shape[0]
    offset = state[0]
    count[offset] = 0
    offset = (offset + 1) % n_slots
    state[0] = offset
    n_events = eventspace[eventspace.shape[0] - 1]
    if n_events == 0 or delays.shape[0] == 0:
        return data
    start = 0
    while start < n_events and eventspace[start] < source_start:
        start += 1
    stop = start
    while stop < n_events and eventspace[stop] < source_end:
        stop += 1
    if state[1] == 1:
        slot = (offset + delays[0]) % n_slots
        needed = count[slot]
        for k in range(start, stop):
            neuron = eventspace[k] - source_start
            needed += pointers[neuron + 1] - pointers[neuron]
        data = _ensure_slot_capacity(data, needed)
        # one slice copy per spiking neuron: vectorised, 1.8x faster than an element loop
        row = data[slot]
        position = count[slot]
        for k in range(start, stop):
            neuron = eventspace[k] - source_start
            first = pointers[neuron]
            length = pointers[neuron + 1] - first
            row[position : position + length] = indices[first : first + length]
            position += length
        count[slot] = position
    else:
        for k in range(start, stop):
            neuron = eventspace[k] - source_start
            for j in range(pointers[neuron], pointers[neuron + 1]):
                synapse = indices[j]
                slot = (offset + delays[synapse]) % n_slots
                if count[slot] >= data.shape[1]:
                    data = _ensure_slot_capacity(data, count[slot] + 1)
                data[slot, count[slot]] = synapse
                count[slot] += 1
    return data


# ----------------------------------------------------------------------------------------------
# Clocks
# ----------------------------------------------------------------------------------------------


@njit(**_JIT)
def clock_set_interval(dt, timestep, t, start, end):
    """Set the clock to the first step at or after `start`; return the end step (Clock.h)."""
    epsilon = 1e-14
    i_start = np.int64(start / dt[0] + 0.5)
    t_start = i_start * dt[0]
    if t_start == start or abs(t_start - start) <= epsilon * abs(t_start):
        timestep[0] = i_start
    else:
        timestep[0] = np.int64(math.ceil(start / dt[0]))
    t[0] = timestep[0] * dt[0]
    i_end = np.int64(end / dt[0] + 0.5)
    t_end = i_end * dt[0]
    if not (t_end == end or abs(t_end - end) <= epsilon * abs(t_end)):
        i_end = np.int64(math.ceil(end / dt[0]))
    return i_end


# Profiling (run(..., profile=True)) reads the process CPU clock around every block, as C++
# standalone's profiled code objects do with std::clock(); POSIX fixes CLOCKS_PER_SEC at 10**6.
if sys.platform == "win32":
    CLOCKS_PER_SEC = 1000
    _libc_clock = ctypes.cdll.msvcrt.clock
else:
    CLOCKS_PER_SEC = 1_000_000
    _libc_clock = ctypes.CDLL(None).clock
_libc_clock.restype = ctypes.c_long
_libc_clock.argtypes = []


@njit(inline="always", cache=False)
def _cpu_clock():
    return _libc_clock()
