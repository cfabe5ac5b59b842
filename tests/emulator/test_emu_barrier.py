"""The functional engine's per-step barrier (``emulator/barrier.py``) on two threads: every write
made before it is seen after it, whether the waiting thread is still polling (partner late by
less than its budget) or asleep on the futex (budget 0, or partner later than the budget)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit, prange

from spikefab.emulator.barrier import SPIN_NS, new_barrier, wait
from spikefab.emulator.clock import MONOTONIC, clock_ns
from spikefab.emulator.engine import _workers


@njit(parallel=True)          # not cached: a cached caller keeps a stale barrier.py
def _phases(steps, spin_ns, late_ns, seen):
    """Two workers, two barriers per step: each writes its step number, then reads its
    partner's; on every step one of them (alternating) arrives ``late_ns`` late."""
    bar = new_barrier(spin_ns)
    box = np.zeros(16, np.int64)                  # one cache line per worker
    for w in prange(2):
        gen = 0
        for t in range(steps):
            if (t & 1) == w:
                t0 = clock_ns(MONOTONIC)
                while clock_ns(MONOTONIC) - t0 < late_ns:
                    pass
            box[8 * w] = t + 1
            gen = wait(bar, 2, gen)
            seen[w, t] = box[8 * (1 - w)]
            gen = wait(bar, 2, gen)


@pytest.mark.parametrize("spin_ns, late_ns", [(0, 0), (0, 20_000), (SPIN_NS, 1_000),
                                              (SPIN_NS, 4 * SPIN_NS)])
def test_barrier_orders_writes_spinning_or_asleep(spin_ns, late_ns):
    if _workers(2) < 2:
        pytest.skip("the barrier needs two threads on x86-64 Linux (engine._workers)")
    steps = 300
    seen = np.zeros((2, steps), np.int64)
    _phases(steps, spin_ns, late_ns, seen)
    want = np.arange(1, steps + 1)
    assert (seen[0] == want).all() and (seen[1] == want).all()


def test_spin_budget_is_bounded():
    """CI machines are oversubscribed: the default budget is a few µs, stored per barrier."""
    assert 0 < SPIN_NS <= 50_000
    assert new_barrier()[3 * 8] == SPIN_NS and new_barrier(123)[3 * 8] == 123
