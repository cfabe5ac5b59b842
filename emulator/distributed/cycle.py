"""The distributed cycle engine: conservative synchronous windows of ``lookahead`` cycles.

Every rank holds the fabric state of the whole mesh (small: FIFOs and credits, no synapses) but
only acts for the routers and cores it owns.  A step runs in windows ``[c, c + W)`` with ``W``
the latency of the fastest link between two ranks (``chiplet_link_latency`` when ranks own
chiplets): an arrival or credit that one rank schedules inside a window lands on another rank at
``c + W`` or later, so the ranks can run a window independently and then exchange the events
that belong to another rank (arrival rows carry their packet).  The same exchange tells every
rank the earliest cycle anyone has work (each rank sends its own along with its row counts):
that is the next window's start, or the end of the step when nobody has any.  A window in which
no rank ships an event costs one small ``alltoall``.  The step's cycle count is the largest last
busy cycle of any rank plus the hierarchical barrier (chiplet, then wafer: section 9 of
docs/microarchitecture.md), exactly as in one process.

Every packet of step ``t`` reaches its synapse engine within step ``t``, so staging (delays and
a negative exponent: :func:`~spikefab.emulator.kernels.staging`) works as in one process: the
synapse engines add into the stage, which is floored into the ring at the end of the step.
"""

from __future__ import annotations

import time

import numpy as np

from spikefab.arch.target import Target
from spikefab.emulator import costs
from spikefab.emulator import kernels as FK
from spikefab.emulator.cycle import kernels as CK
from spikefab.emulator.distributed.comm import RankComm
from spikefab.emulator.distributed.local import Local
from spikefab.emulator.engine import _check_cycle_target
from spikefab.emulator.noc import kernels as NK
from spikefab.emulator.noc.fabric import Fabric, new_fabric

__all__ = ["run_cycle_rank", "finish_cycle"]


def _owners(fab: Fabric, rank_of_router: np.ndarray, me: int):
    """Owner rank of an arrival into FIFO ``f`` and of a credit for it, at index ``f + 1``.

    A router input FIFO belongs to its router; its credit counter to the router (or core, or the
    host) that feeds it.  Ejection FIFOs (``f >= R * P``) and the host (``f = -1``) never cross
    ranks: a core's router is on the core's rank, and the host is at router (0, 0) on rank 0.
    """
    R, P, gxn = int(fab.geo[NK.G_R]), fab.ports, int(fab.geo[NK.G_GX])
    f = np.arange(R * P)
    router, port = f // P, f % P
    step = np.select([port == 0, port == 1, port == 2, port == 3], [gxn, 1, -gxn, -1], 0)
    sender = np.where((port == 3) & (router % gxn == 0), 0, np.clip(router + step, 0, R - 1))
    n_ej = int(fab.geo[NK.G_NF]) - R * P
    host, ej = int(rank_of_router[0]), np.full(n_ej, me, np.int64)
    return (np.concatenate([[host], rank_of_router[router], ej]),
            np.concatenate([[host], rank_of_router[sender], ej]))


def run_cycle_rank(rc: RankComm, loc: Local, in_spikes: np.ndarray, steps: int,
                   probe_idx: np.ndarray, probe_var: np.ndarray, target: Target,
                   timing: dict) -> dict:
    """Run ``steps`` steps of this rank's share of the cycle engine; return partial outputs."""
    _check_cycle_target(target)
    flat, part, tm, topo = loc.flat, loc.part, target.timing, target.topology
    me = rc.rank
    # the fabric's end points are this rank's cores (local index k ejects from FIFO R*P + k);
    # routers and their FIFOs keep global numbers on every rank
    fab = new_fabric(topo.global_x, topo.global_y, topo.mesh_x, topo.mesh_y,
                     topo.cores_per_router, tm.fifo_depth, tm.link_latency,
                     tm.chiplet_link_latency, tm.chiplet_link_cycles,
                     np.stack([flat.core_router, flat.core_slot], 1), routing=topo.routing,
                     next_lists=False)     # events to other ranks are shipped from the queues
    ncl = len(loc.cores)
    arr_own, cred_own = _owners(fab, part.router_owner, me)
    n = flat.n
    cn = flat.n_classes * n
    acc = np.zeros(flat.slots * cn, np.int64)
    stage, uexp, staged = FK.staging(flat.slots, flat.nexp, acc)
    params, ref = flat.params.copy(), flat.ref0.copy()
    spikes = np.zeros(n, np.uint8)
    out = np.zeros((steps, loc.n_out), np.uint8)
    traces = np.zeros((steps, len(probe_idx)), np.int64)
    counters = np.zeros(FK.N_COUNTERS, np.int64)
    cycles = np.zeros(steps, np.int64)
    eng = CK.new_engines(ncl)
    tab = CK.tables(flat)
    fa = fab.args()
    tim = np.array([tm.neuron_cycles, tm.packet_cycles, tm.synapse_cycles, 0], np.int64)
    hit = np.zeros(len(flat.ax_start), np.uint8)       # no learning in the MPI engine
    sc = np.zeros(4, np.int64)
    barrier = costs.barrier_cycles(target, loc.chiplets_used)
    W = int(min(part.lookahead_cycles, 1 << 40))
    t_compute = 0.0
    windows = 0
    for t in range(steps):
        tc = time.perf_counter()
        npk = CK.count_packets(t, tab, params, ref, uexp, acc, spikes, counters, in_spikes)
        cap = max(npk, 1) + 64
        pk = np.empty((cap, 6), np.int64)
        pn = np.empty(cap, np.int64)
        harr = np.empty(cap, np.int64)
        CK.fill_packets(t, tab, tm.neuron_cycles, spikes, in_spikes, pk, pn, eng, hit, sc,
                        counters)
        fab.st[NK.S_NHOST] = 0
        t_compute += time.perf_counter() - tc
        seen = [int(fab.st[NK.S_Q0T]), int(fab.st[NK.S_Q1T])]
        c = 0
        while True:
            c_end = c + W
            tc = time.perf_counter()
            CK.cycle_window(c_end, t, tab, tim, eng, fa, pk, pn, harr, stage, sc, counters)
            t_compute += time.perf_counter() - tc
            windows += 1
            c = int(sc[0])
            if rc.size > 1:
                nxt, pk, harr, seen = _exchange(rc, fab, c, sc, eng, fa, pk, harr, seen,
                                                (arr_own, cred_own))
            else:
                nxt = int(CK.next_activity(c, sc, eng, fa))
            if nxt >= NK.NEVER:
                break
            c = max(c, nxt)
            sc[0] = c
        q = CK.finish_step(t, eng, fa, pk, harr, out, counters)
        if staged:
            FK.commit_stage(t, flat.slots, cn, flat.nexp, stage, acc)
        q = int(rc.allreduce(np.array([q], np.int64), "max", "the step barrier")[0]) \
            if rc.size > 1 else int(q)
        cycles[t] = q + barrier
        CK.reset_step(fa, tm.fifo_depth)
        FK.record_probes(t, params, ref, spikes, probe_idx, probe_var, traces)
    timing.update(compute_s=t_compute, windows=windows, window_cycles=W)
    return _rank_result(fab, {"out": out, "traces": traces, "counters": counters,
                              "params": params, "ref": ref, "cycles": cycles})


def _rank_result(fab: Fabric, res: dict) -> dict:
    """``res`` plus what :func:`finish_cycle` reduces (hop counts) and gathers (link loads,
    the deepest FIFO, the step cycles)."""
    st = fab.st
    red = np.array(NK.hop_totals(fab.args()), np.int64)
    links = (np.flatnonzero(fab.lhops), fab.lhops[fab.lhops > 0])
    return {**res, "reduce": red, "gather": (links, int(st[NK.S_MAXF]), res["cycles"])}


def _exchange(rc: RankComm, fab: Fabric, c: int, sc, eng, fa, pk, harr, seen, owners):
    """Ship this window's events that belong to other ranks and merge in theirs.

    Returns the next window's start (the minimum over ranks of the earliest cycle each has
    work), the packet and host-arrival arrays (grown if needed) and the new queue tails.
    """
    me = rc.rank
    arr_own, cred_own = owners
    sent = []
    for qi, (q, hs) in enumerate(((fab.q0, NK.S_Q0H), (fab.q1, NK.S_Q1H))):
        sent.append(_extract_remote(q, fab.st, hs, seen[qi], qi, me, arr_own, cred_own, pk))
    rows = np.concatenate([s[0] for s in sent])
    dest = np.concatenate([s[1] for s in sent])
    # the earliest cycle this rank has work, counting the events it ships (they are work for
    # their receivers): the minimum over ranks is the next window's start
    mine = CK.next_activity(c, sc, eng, fa)
    if len(rows):
        mine = min(int(mine), int(rows[:, 1].min()))
    got, nxt = rc.alltoallv(rows, dest, "the event exchange", value=int(mine))
    if len(got):
        pk, harr = _insert_remote(fab, got, pk, harr, sc)
    return nxt, pk, harr, [int(fab.st[NK.S_Q0T]), int(fab.st[NK.S_Q1T])]


def _extract_remote(q, st, hs, seen, qi, me, arr_own, cred_own, pk):
    """Remove the events pushed since ``seen`` that belong to other ranks; return them.

    Rows: (queue, time, kind, fifo, packet fields x 6); the events stay time-ordered.
    """
    tail = int(st[hs + 1])
    head = int(st[hs])
    start = max(seen, head)
    mask = q.shape[1] - 1
    idx = (start + np.arange(tail - start)) & mask
    ev = q[:, idx]
    f = ev[2]
    owner = np.where(ev[1] == 0, arr_own[f + 1], cred_own[f + 1])
    remote = owner != me
    if not remote.any():
        return np.zeros((0, 10), np.int64), np.zeros(0, np.int64)
    keep = ev[:, ~remote]
    q[:, (start + np.arange(keep.shape[1])) & mask] = keep
    st[hs + 1] = start + keep.shape[1]
    r = ev[:, remote]
    rows = np.zeros((r.shape[1], 10), np.int64)
    rows[:, 0] = qi
    rows[:, 1:4] = r[:3].T
    arrivals = r[1] == 0
    rows[arrivals, 4:] = pk[r[3, arrivals]]
    return rows, owner[remote]


def _insert_remote(fab: Fabric, got: np.ndarray, pk, harr, sc):
    """Append the received packets, then merge the received events into the queues by time."""
    arrivals = got[:, 2] == 0
    m = int(arrivals.sum())
    used = int(sc[3])
    if used + m > len(pk):
        cap = 2 * (used + m)
        pk = np.concatenate([pk, np.empty((cap - len(pk), 6), np.int64)])
        harr = np.concatenate([harr, np.empty(cap - len(harr), np.int64)])
    pk[used:used + m] = got[arrivals, 4:]
    pid = np.full(len(got), -1, np.int64)
    pid[arrivals] = used + np.arange(m)
    sc[3] = used + m
    st = fab.st
    for qi, (q, hs) in enumerate(((fab.q0, NK.S_Q0H), (fab.q1, NK.S_Q1H))):
        sel = got[:, 0] == qi
        if not sel.any():
            continue
        new = np.stack([got[sel, 1], got[sel, 2], got[sel, 3], pid[sel]])
        head, tail = int(st[hs]), int(st[hs + 1])
        mask = q.shape[1] - 1
        idx = (head + np.arange(tail - head)) & mask
        allev = np.concatenate([q[:, idx], new], axis=1)
        order = np.lexsort((allev[3], allev[2], allev[1], allev[0]))
        allev = allev[:, order]
        q[:, (head + np.arange(allev.shape[1])) & mask] = allev
        st[hs + 1] = head + allev.shape[1]
        st[NK.S_INFLIGHT] += int((new[1] == 0).sum())
    return pk, harr


def finish_cycle(loc: Local, red: np.ndarray, gathered: list, target: Target):
    """Rank 0: cycles per step, hops, and the link table / deepest FIFO of the whole mesh."""
    topo, tm = target.topology, target.timing
    fab = new_fabric(topo.global_x, topo.global_y, topo.mesh_x, topo.mesh_y,
                     topo.cores_per_router, tm.fifo_depth, tm.link_latency,
                     tm.chiplet_link_latency, tm.chiplet_link_cycles,
                     np.stack([loc.part.core_router, loc.part.core_slot], 1),
                     routing=topo.routing)
    for (idx, vals), _, _ in gathered:
        fab.lhops[idx] += vals
    links = sorted(fab.link_table(), key=lambda r: (-r[3], r[0], r[1], r[2]))
    cycles = gathered[0][2]
    return cycles, red, {"max_fifo": max(g[1] for g in gathered), "links": links}
