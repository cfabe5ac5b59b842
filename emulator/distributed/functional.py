"""The distributed functional engine: windows of ``min delay + 1`` steps, one exchange each.

Each rank runs :func:`~.kernels.functional_window` over its cores, sends the window's exports to
their ranks in one ``alltoallv`` (one int64 per packet: the window step and the receiver's local
axon), delivers what it receives with :func:`~.kernels.deliver_imports`, and moves to the next
window.  Counters, output spikes and the per-step cycle estimate are reduced once at the end.

With staging (delays and a negative exponent: :func:`~spikefab.emulator.kernels.staging`) each
window step delivers into its own stage row, local and imported packets alike, and the rows are
floored into the ring after the imports, before the next window reads any of them.  The window
is the same on every rank (a minimum over ranks), since each one is one collective exchange.
"""

from __future__ import annotations

import time

import numpy as np

from spikefab.arch.target import Target
from spikefab.emulator import kernels as FK
from spikefab.emulator.cycle import kernels as CK
from spikefab.emulator.distributed import kernels as DK
from spikefab.emulator.distributed.comm import RankComm
from spikefab.emulator.distributed.local import Local

__all__ = ["run_functional_rank"]

#: bound on the export buffer of one window (entries); longer windows are split
_MAX_EXPORT_BUFFER = 1 << 22
#: bound on the stage rows of one window (int64 entries, 256 MiB); longer windows are split
_MAX_STAGE_ENTRIES = 1 << 25


def run_functional_rank(rc: RankComm, loc: Local, in_spikes: np.ndarray, steps: int,
                        probe_idx: np.ndarray, probe_var: np.ndarray, target: Target,
                        timing: dict) -> dict:
    """Run ``steps`` steps of this rank's share; return its partial outputs (for the gather)."""
    flat = loc.flat
    tm = target.timing
    n_exp = len(loc.exp_rank)
    cn = flat.n_classes * flat.n
    acc = np.zeros(flat.slots * cn, np.int64)
    staged = bool(FK.staging(flat.slots, flat.nexp, acc)[2])
    min_delay = int(rc.allreduce(np.array([loc.min_delay], np.int64), "min", "setup")[0])
    window = max(1, min(min_delay + 1, steps))
    if n_exp:
        window = max(1, min(window, _MAX_EXPORT_BUFFER // n_exp))
    if staged:
        window = max(1, min(window, _MAX_STAGE_ENTRIES // max(flat.slots * cn, 1)))
    window = int(rc.allreduce(np.array([window], np.int64), "min", "setup")[0])
    if staged:
        stage = np.zeros((window, flat.slots * cn), np.int64)
        uexp = np.zeros_like(flat.nexp)
    else:
        stage, uexp = acc.reshape(1, -1), flat.nexp
    fo_start, fo_off, fo_w = flat.fan_out()
    n_cores = len(flat.noff) - 1
    params, ref = flat.params.copy(), flat.ref0.copy()
    out = np.zeros((steps, loc.n_out), np.uint8)
    traces = np.zeros((steps, len(probe_idx)), np.int64)
    counters = np.zeros(FK.N_COUNTERS, np.int64)
    est = np.zeros(steps, np.int64)
    exp_buf = np.zeros(max(window * n_exp, 1), np.int64)
    emit = np.zeros((window, max(n_cores, 1)), np.int64)
    dest_pk, dest_syn = np.zeros_like(emit), np.zeros_like(emit)
    tab = CK.tables(flat)
    fan = DK.FanTables(flat.route_dst, flat.route_sums, fo_start, fo_off, fo_w)
    state = DK.NeuronState(params, ref, uexp, acc, stage)
    win = DK.WindowIO(out, exp_buf, emit, dest_pk, dest_syn, probe_idx, probe_var, traces,
                      counters)
    t_compute = 0.0
    cpu_compute = 0.0
    for t0 in range(0, steps, window):
        t1 = min(steps, t0 + window)
        emit[:] = 0
        dest_pk[:] = 0
        dest_syn[:] = 0
        tc, cc = time.perf_counter(), time.process_time()
        k = DK.functional_window(t0, t1, in_spikes, tab, fan, state, win, loc.n_out,
                                 max(n_exp, 1))
        t_compute += time.perf_counter() - tc
        cpu_compute += time.process_time() - cc
        if rc.size > 1:
            codes = exp_buf[:k]
            j = codes % max(n_exp, 1)
            # one int64 per packet: window step << 40 | receiver's local axon
            packed = (codes // max(n_exp, 1)) << 40 | loc.exp_axon[j]
            got, _ = rc.alltoallv(packed, loc.exp_rank[j], "the spike exchange")
            imports = np.stack([got >> 40, got & ((1 << 40) - 1)], 1)
            tc, cc = time.perf_counter(), time.process_time()
            DK.deliver_imports(t0, imports, tab, stage, loc.axon_core, dest_pk, dest_syn,
                               counters)
            t_compute += time.perf_counter() - tc
            cpu_compute += time.process_time() - cc
        if staged:
            DK.commit_window(t0, t1 - t0, flat.slots, cn, flat.nexp, stage, acc)
        DK.window_estimate(flat.noff, tm.neuron_cycles, tm.packet_cycles, tm.synapse_cycles,
                           emit, dest_pk, dest_syn, t1 - t0, est, t0)
    timing.update(compute_s=t_compute, compute_cpu_s=cpu_compute, windows=-(-steps // window) if steps else 0,
                  window_steps=window)
    return {"out": out, "traces": traces, "counters": counters, "est": est, "params": params,
            "ref": ref}
