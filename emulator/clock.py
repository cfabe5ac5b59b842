"""Clocks that a Numba kernel can read: the calling thread's CPU time and the monotonic time.

The functional engine's per-thread profile (``engine.profile_threads``) reads both around
each phase of a step: on a shared machine a thread that waits for a core loses wall time but
no CPU time, so the CPU clock measures the work of a phase and the difference to the wall
clock measures the waiting.  ``clock_gettime`` is libc's (the monotonic clock through the
vDSO, ~20 ns; the thread CPU clock is a system call, ~0.3-1 µs), so profiled runs pay a few
µs per step and unprofiled runs nothing (only a thread waiting at the barrier reads the
monotonic clock, ``barrier.wait``).
"""

from __future__ import annotations

import time

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["clock_ns", "MONOTONIC", "THREAD_CPU"]

#: Linux clock ids (the same values Python's ``time`` module reports)
MONOTONIC = int(getattr(time, "CLOCK_MONOTONIC", 1))
THREAD_CPU = int(getattr(time, "CLOCK_THREAD_CPUTIME_ID", 3))


@intrinsic
def clock_ns(typingctx, clk):
    """``clock_gettime(clk)`` in integer nanoseconds (0 if the call fails)."""
    if not isinstance(clk, types.Integer):
        return None
    sig = types.int64(clk)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        i32 = ir.IntType(32)
        ts = cgutils.alloca_once(builder, ir.ArrayType(i64, 2))
        builder.store(ir.Constant(ir.ArrayType(i64, 2), [0, 0]), ts)
        ptr = builder.bitcast(ts, i64.as_pointer())
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(i32, [i32, i64.as_pointer()]), "clock_gettime")
        builder.call(fn, [builder.trunc(args[0], i32) if args[0].type.width > 32
                          else builder.sext(args[0], i32) if args[0].type.width < 32
                          else args[0], ptr])
        sec = builder.load(ptr)
        nsec = builder.load(builder.gep(ptr, [ir.Constant(i32, 1)]))
        return builder.add(builder.mul(sec, ir.Constant(i64, 1_000_000_000)), nsec)

    return sig, codegen
