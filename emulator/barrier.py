"""A spin barrier for Numba threads that stay inside one parallel region for a whole run.

Numba's ``prange`` forks and joins its threads at every region; the functional engine's
threaded driver instead opens one region for the whole run (one iteration per worker) and
separates the phases of each step with :func:`wait`, which costs an atomic add and a few
cache-line reads when both threads are on a core.  On a machine busier than its cores a spinning
thread would burn the time slice its partner needs, so after ``SPIN`` polls it sleeps in the
kernel (a futex on the barrier's generation word) until the last thread to arrive wakes it.

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

__all__ = ["new_barrier", "wait", "SPIN", "FUTEX_OK"]

#: polls before a waiting thread goes to sleep
SPIN = 2000
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
def new_barrier():
    """The barrier's shared words: arrival count at 0, generation at ``_LINE``, sleepers at
    ``2 * _LINE`` (each on its own cache line)."""
    return np.zeros(3 * _LINE, np.int64)


@njit(cache=True)
def wait(bar, workers, gen):
    """Block until all ``workers`` have called ``wait`` with the same ``gen`` (each worker counts
    its own calls from 0); returns ``gen + 1``.  The last to arrive resets the count and opens
    the next generation; every write before the barrier is visible after it.

    A waiter polls ``SPIN`` times, then sleeps on the generation word (futex) after announcing
    itself in the sleepers word; the opener wakes sleepers only when there are any.  Both sides
    use sequentially consistent operations, so either the opener sees the sleeper or the
    sleeper's futex sees the new generation and returns at once."""
    if workers > 1:
        if _atomic_add(bar, 0, 1) == workers - 1:
            _atomic_store(bar, 0, 0)
            _atomic_add(bar, _LINE, 1)                       # generation gen + 1
            if _atomic_load(bar, 2 * _LINE) > 0:
                _futex(bar, _LINE, _FUTEX_WAKE_PRIVATE, 2147483647)
        else:
            polls = 0
            while _atomic_load(bar, _LINE) <= gen:
                polls += 1
                if polls > SPIN:
                    _atomic_add(bar, 2 * _LINE, 1)
                    while _atomic_load(bar, _LINE) <= gen:
                        _futex(bar, _LINE, _FUTEX_WAIT_PRIVATE, gen & 0xFFFFFFFF)
                    _atomic_add(bar, 2 * _LINE, -1)
    return gen + 1
