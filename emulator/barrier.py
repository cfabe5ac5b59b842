"""A spin barrier for Numba threads that stay inside one parallel region for a whole run.

Numba's ``prange`` forks and joins its threads at every region; the functional engine's
threaded driver instead opens one region for the whole run (one iteration per worker) and
separates the phases of each step with :func:`wait`, which costs an atomic add and a few
cache-line reads when both threads are on a core.  On a machine busier than its cores a spinning
thread would burn the time slice its partner needs, so after ``SPIN`` polls it yields the core
(``sched_yield``).

The barrier only works when every worker runs at the same time on its own thread: the engine
starts it with no more workers than Numba threads, on the workqueue or OpenMP layer (one chunk
per thread); see ``engine._threaded``.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["new_barrier", "wait", "SPIN"]

#: polls before a waiting thread starts yielding its core
SPIN = 2000
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
def _sched_yield(typingctx):
    """libc ``sched_yield()``: let the thread we wait for have the core."""
    sig = types.int32()

    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []),
                                            "sched_yield")
        return builder.call(fn, [])
    return sig, codegen


@njit(cache=True)
def new_barrier():
    """The barrier's shared words: arrival count at 0, generation at ``_LINE``."""
    return np.zeros(2 * _LINE, np.int64)


@njit(cache=True)
def wait(bar, workers, gen):
    """Block until all ``workers`` have called ``wait`` with the same ``gen`` (each worker counts
    its own calls from 0); returns ``gen + 1``.  The last to arrive resets the count and opens
    the next generation; every write before the barrier is visible after it."""
    if workers > 1:
        if _atomic_add(bar, 0, 1) == workers - 1:
            _atomic_store(bar, 0, 0)
            _atomic_store(bar, _LINE, gen + 1)
        else:
            polls = 0
            while _atomic_load(bar, _LINE) <= gen:
                polls += 1
                if polls > SPIN:
                    _sched_yield()
    return gen + 1
