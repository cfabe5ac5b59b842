"""A spin barrier for Numba threads that stay inside one parallel region for a whole run.

Numba's ``prange`` forks and joins its threads at every region; the functional engine's
threaded driver instead opens one region for the whole run (one iteration per worker) and
separates the phases of each step with :func:`wait`, which costs an atomic add and a few
cache-line reads when both threads are on a core.  A waiting thread polls for at most
``SPIN_NS`` (a ``pause`` between polls), then sleeps in the kernel (a futex on the barrier's
generation word) until the last thread to arrive wakes it.  Waking a sleeper costs ~4-6 µs on
the benchmark VM (``benchmarks/barrier_overhead.py``), a tenth of the burst network's 45 µs
step, and its two threads' work per step differs by 0.8 µs (median), 3.1 µs (99th percentile),
4.3 µs at most (per-thread CPU profile): 5 µs of polling covers that, and a partner later than
that is not running at all, so the waiter sleeps rather than burn the core that a busier
machine's scheduler could give it.  The budget is time, not a poll count (``pause`` takes
~10-140 cycles across x86 generations); it is bounded in polls too.

The barrier only works when every worker runs at the same time on its own thread: the engine
starts it with no more workers than Numba threads, on the workqueue or OpenMP layer (one chunk
per thread); see ``engine._threaded``.
"""

from __future__ import annotations

import platform
import sys

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from spikefab.emulator.clock import MONOTONIC, clock_ns

__all__ = ["new_barrier", "wait", "SPIN_NS", "FUTEX_OK"]

#: nanoseconds a waiting thread polls (a ``pause`` between polls) before it sleeps
SPIN_NS = 5_000
#: polls after which it sleeps even if the clock did not advance (a failed clock read): the
#: spin is bounded either way
SPIN_POLLS = 1 << 15
#: polls between two reads of the clock while spinning
_CLOCK_EVERY = 64
_X86 = platform.machine() in ("x86_64", "AMD64", "i386", "i686")
#: the futex syscall number above is x86-64 Linux's (engine.py runs one worker elsewhere)
FUTEX_OK = sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")
#: int64 slots between the barrier's two words (one cache line each)
_LINE = 8


@intrinsic
def _atomic_add(typingctx, arr, idx, val):
    """``arr[idx] += val`` atomically (sequentially consistent); returns the old value."""
    sig = arr.dtype(arr, idx, arr.dtype)

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]])
        return builder.atomic_rmw("add", ptr, args[2], "seq_cst")
    return sig, codegen


@intrinsic
def _atomic_load(typingctx, arr, idx):
    """``arr[idx]`` read with acquire ordering (never hoisted out of a polling loop)."""
    sig = arr.dtype(arr, idx)

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]])
        return builder.load_atomic(ptr, "acquire", 8)
    return sig, codegen


@intrinsic
def _atomic_store(typingctx, arr, idx, val):
    """``arr[idx] = val`` with release ordering."""
    sig = types.void(arr, idx, arr.dtype)

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]])
        builder.store_atomic(args[2], ptr, "release", 8)
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def _pause(typingctx):
    """The x86 ``pause`` hint in a polling loop (nothing elsewhere)."""
    sig = types.void()

    def codegen(context, builder, sig, args):
        if _X86:
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause")
            builder.call(fn, [])
        return context.get_dummy_value()
    return sig, codegen


_SYS_FUTEX = 202          # x86-64 Linux; other machines run the engine with one worker
_FUTEX_WAIT_PRIVATE = 128
_FUTEX_WAKE_PRIVATE = 129


@intrinsic
def _futex(typingctx, arr, idx, op, val):
    """``syscall(SYS_futex, &arr[idx] (low 32 bits), op, val, NULL)``: sleep while the word
    still holds ``val`` (WAIT), or wake every sleeper on it (WAKE)."""
    sig = types.int64(arr, idx, types.int64, types.int64)

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]])
        i64 = ir.IntType(64)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(i64, [i64], var_arg=True), "syscall")
        i32 = ir.IntType(32)
        return builder.call(fn, [ir.Constant(i64, _SYS_FUTEX), builder.ptrtoint(ptr, i64),
                                 builder.trunc(args[2], i32), builder.trunc(args[3], i32),
                                 ir.Constant(i64, 0)])
    return sig, codegen


@njit(cache=True)
def new_barrier(spin_ns=SPIN_NS):
    """The barrier's shared words: arrival count at 0, generation at ``_LINE``, sleepers at
    ``2 * _LINE`` (each on its own cache line), and the waiters' spin budget in ns at
    ``3 * _LINE`` (read-only; ``benchmarks/barrier_overhead.py`` compares budgets)."""
    bar = np.zeros(4 * _LINE, np.int64)
    bar[3 * _LINE] = spin_ns
    return bar


@njit(cache=True)
def wait(bar, workers, gen):
    """Block until all ``workers`` have called ``wait`` with the same ``gen`` (each worker counts
    its own calls from 0); returns ``gen + 1``.  The last to arrive resets the count and opens
    the next generation; every write before the barrier is visible after it.

    A waiter polls for the barrier's budget (``SPIN_NS`` unless :func:`new_barrier` was given
    another; the clock read every ``_CLOCK_EVERY`` polls, at most ``SPIN_POLLS`` polls), then
    sleeps on the generation word (futex) after announcing itself in the sleepers word; the
    opener wakes sleepers only when there are any.  Both sides use sequentially consistent
    operations, so either the opener sees the sleeper or the sleeper's futex sees the new
    generation and returns at once."""
    if workers > 1:
        if _atomic_add(bar, 0, 1) == workers - 1:
            _atomic_store(bar, 0, 0)
            _atomic_add(bar, _LINE, 1)                       # generation gen + 1
            if _atomic_load(bar, 2 * _LINE) > 0:
                _futex(bar, _LINE, _FUTEX_WAKE_PRIVATE, 2147483647)
        else:
            polls = 0
            t0 = np.int64(0)
            while _atomic_load(bar, _LINE) <= gen:
                _pause()
                polls += 1
                if polls % _CLOCK_EVERY != 0:
                    continue
                now = clock_ns(MONOTONIC)
                if polls == _CLOCK_EVERY:
                    t0 = now
                elif now - t0 > bar[3 * _LINE] or polls > SPIN_POLLS:
                    _atomic_add(bar, 2 * _LINE, 1)
                    while _atomic_load(bar, _LINE) <= gen:
                        _futex(bar, _LINE, _FUTEX_WAIT_PRIVATE, gen & 0xFFFFFFFF)
                    _atomic_add(bar, 2 * _LINE, -1)
    return gen + 1
