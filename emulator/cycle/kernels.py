"""The cycle engine: docs/microarchitecture.md sections 6-9 on top of the fabric kernels.

Behaviour (spikes, states) is computed with the functional kernels: every neuron of a step reads
accumulator slot ``t mod D``, which no synapse engine writes during step ``t``, so doing the
update at the start of the step gives the same states as doing it neuron by neuron.  What this
kernel adds is *when* things happen: the update engine's emission schedule (``neuron_cycles`` per
neuron, one route entry per granted cycle, stalls on credits), the host's injection from cycle 0,
the synapse engines (``packet_cycles + S * synapse_cycles`` per packet, accumulating the packet's
synapses when popped) and the routers.

A cycle visits only what has work in it: the routers holding packets (the fabric's active list,
arbitrated through request masks) and the engines due in that cycle (a timing wheel: an update
engine is due at its next emission, or, stalled, when the credit it waits for returns; a synapse
engine when it is free and its ejection FIFO holds a packet).  Idle cycles are skipped: when no
packet is anywhere, or when nothing moved in a cycle (every waiting sender lacks a credit or a
free chiplet link), the clock jumps to the next event (an arrival or credit, a link becoming
free, an engine due), so cost follows events, not clock ticks or the number of cores.

:func:`cycle_window` runs the cycles of one step up to a bound; the single-process engine
(:func:`run_cycle`) runs it unbounded, the MPI engine (``emulator.distributed``) in windows
between event exchanges.

Numba's cache keys a kernel by the content of its own source file only, and this module
inlines the fabric's kernels (``emulator/noc/kernels.py``): a change there that does not
change the fabric's argument types must come with a change here (this note's revision: round 5
of issue 19, FIFO entries (packet, destination key << 8 | output), branch-free requests and
masks, one FIFO-kind branch per arrival), or a stale compiled kernel runs against the new
layout.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from spikefab.emulator.kernels import (C_HOST_IN, C_HOST_OUT, C_PACKETS, C_SYNOPS,
                                         commit_stage, gather_fan_out, lif_update,
                                         record_probes, staging)
from spikefab.emulator.learning.kernels import learning_step, snapshot
from spikefab.emulator.noc.kernels import (G_DEPTH, G_P, G_R, K_SYNAPSE, K_UPDATE, NEVER,
                                             S_NACT, S_NHOST, S_NXA, S_NXC, S_Q0H, S_Q0T, S_Q1H,
                                             S_Q1T, apply_events, eject_pop, hop_totals, inject,
                                             new_timers, next_event_time, packet_key,
                                             router_phase, timer_migrate, timer_next, timer_set,
                                             timer_take)

#: The image's tables as the cycle kernels read them (from a :class:`~.flat.FlatImage`).
Tables = namedtuple("Tables", "n_classes slots noff nexp ax_start ax_count syn_off syn_w "
                              "nr_start nr_count hr_start hr_count routes core_router core_slot")
#: Per-core engine state: update engine (next packet ``ue_pos``, end ``ue_end``, last busy cycle
#: ``ue_done``), synapse engine (busy until ``sbusy``), and the timing wheel ``tm`` of both.
Engines = namedtuple("Engines", "ue_pos ue_end ue_done sbusy tm")
#: Outputs of :func:`run_cycle`.
Outputs = namedtuple("Outputs", "out probe_idx probe_var traces counters cycles hops")
#: ``sc`` slots: current cycle, next host packet, end of host packets, packets in the table
SC_C, SC_HPOS, SC_HEND, SC_USED = range(4)
#: ``timing`` slots
T_NC, T_PC, T_SC, T_BARRIER = range(4)


def tables(flat) -> Tables:
    """The cycle kernels' view of a flat image."""
    return Tables(int(flat.n_classes), int(flat.slots), flat.noff, flat.nexp, flat.ax_start,
                  flat.ax_count, flat.syn_off, flat.syn_w, flat.nr_start, flat.nr_count,
                  flat.hr_start, flat.hr_count, flat.routes, flat.core_router, flat.core_slot)


def new_engines(n_cores: int) -> Engines:
    """Idle engines of ``n_cores`` cores."""
    z = [np.zeros(n_cores, np.int64) for _ in range(4)]
    return Engines(*z, new_timers(2 * n_cores))


@njit(cache=True, _nrt=False)
def count_packets(t, tab, params, ref, uexp, acc, spikes, counters, in_spikes):
    """Neuron update of step ``t``; return the packets the cores and the host send."""
    lif_update(t, tab.slots, tab.n_classes, params, ref, uexp, acc, spikes, counters)
    npk = 0
    for i in range(spikes.shape[0]):
        if spikes[i]:
            npk += tab.nr_count[i]
    for ch in range(tab.hr_count.shape[0]):
        if in_spikes[t, ch]:
            npk += tab.hr_count[ch]
    return npk


@njit(cache=True, inline="always")
def _put_packet(pk, k, routes, r, hit, counted):
    if routes[r, 0] == 0:
        hit[routes[r, 1]] = 1
    pk[k, 0] = routes[r, 3]
    pk[k, 1] = routes[r, 4]
    pk[k, 2] = routes[r, 5]
    pk[k, 3] = routes[r, 1]
    pk[k, 4] = routes[r, 9] if counted else -1
    pk[k, 5] = -1


@njit(cache=True, _nrt=False)
def fill_packets(t, tab, nc, spikes, in_spikes, pk, pn, eng, hit, sc, counters):
    """Build step ``t``'s packet table (cores' in emission order, then the host's) and put
    every update engine with packets on the wheel at its first emission; ``hit`` marks the
    input axons the packets address (learning).  Column 4 is -1: the synapse engine delivers
    the packet when it pops it (the MPI engine)."""
    _fill(t, tab, nc, spikes, in_spikes, pk, pn, eng, hit, sc, counters, False)


@njit(cache=True, _nrt=False)
def fill_counted(t, tab, nc, spikes, in_spikes, pk, pn, eng, hit, sc, counters):
    """:func:`fill_packets` with each packet's synapse count in column 4, for packets whose
    synapses :func:`predeliver` accumulates before the step's cycles."""
    _fill(t, tab, nc, spikes, in_spikes, pk, pn, eng, hit, sc, counters, True)


@njit(cache=True, inline="always")
def _fill(t, tab, nc, spikes, in_spikes, pk, pn, eng, hit, sc, counters, counted):
    noff = tab.noff
    routes = tab.routes
    n_cores = noff.shape[0] - 1
    k = 0
    for ci in range(n_cores):
        eng.ue_pos[ci] = k
        for i in range(noff[ci], noff[ci + 1]):
            if spikes[i]:
                for r in range(tab.nr_start[i], tab.nr_start[i] + tab.nr_count[i]):
                    _put_packet(pk, k, routes, r, hit, counted)
                    pn[k] = i - noff[ci]
                    k += 1
        eng.ue_end[ci] = k
        eng.sbusy[ci] = 0
        if eng.ue_pos[ci] < eng.ue_end[ci]:
            timer_set(eng.tm, K_UPDATE * n_cores + ci, (pn[eng.ue_pos[ci]] + 1) * nc, 0)
            eng.ue_done[ci] = 0
        else:
            eng.ue_done[ci] = (noff[ci + 1] - noff[ci]) * nc
    h_pos = k
    for ch in range(tab.hr_start.shape[0]):
        if in_spikes[t, ch]:
            for r in range(tab.hr_start[ch], tab.hr_start[ch] + tab.hr_count[ch]):
                _put_packet(pk, k, routes, r, hit, counted)
                k += 1
    counters[C_PACKETS] += k
    counters[C_HOST_IN] += k - h_pos
    sc[SC_C] = 0
    sc[SC_HPOS] = h_pos
    sc[SC_HEND] = k
    sc[SC_USED] = k


@njit(cache=True, inline="always")
def _emit(c, ci, tab, nc, eng, fab, pk, pn):
    """Update engine of core ``ci`` is due at ``c``: send its next packet, or wait for the
    credit (the fabric's ``wait`` makes it due again when the credit returns)."""
    n_cores = eng.ue_pos.shape[0]
    p = eng.ue_pos[ci]
    f = tab.core_router[ci] * fab.geo[G_P] + 4 + tab.core_slot[ci]
    if not inject(c, fab, f, p, packet_key(pk, p)):
        fab.wait[f] = ci
        return False
    i = pn[p]
    eng.ue_pos[ci] += 1
    if eng.ue_pos[ci] < eng.ue_end[ci]:
        j = pn[eng.ue_pos[ci]]
        timer_set(eng.tm, K_UPDATE * n_cores + ci, c + 1 if j == i else c + 1 + (j - i) * nc, c)
    else:
        eng.ue_done[ci] = c + 1 + (tab.noff[ci + 1] - tab.noff[ci] - i - 1) * nc
    return True


@njit(cache=True, inline="always")
def _deliver(ax, t, tab, stage):
    """:func:`~spikefab.emulator.kernels.deliver_axon`, inlined here: a call per packet from
    this kernel (compiled without reference counting) would count references per array."""
    cn = tab.nexp.shape[0]
    dcn = tab.slots * cn
    base = ((t + 1) % tab.slots) * cn
    s0 = tab.ax_start[ax]
    cnt = tab.ax_count[ax]
    for k in range(s0, s0 + cnt):
        idx = base + tab.syn_off[k]
        if idx >= dcn:
            idx -= dcn
        stage[idx] += tab.syn_w[k]
    return cnt


@njit(cache=True, _nrt=False)
def predeliver(t, tab, fo, spikes, pk, h_pos, n, stage):
    """Accumulate every synapse of step ``t``'s packets now (packets ``0 .. h_pos - 1`` are
    the cores', ``h_pos .. n - 1`` the host's, filled by :func:`fill_counted`).

    The sums do not depend on when a packet is popped (integer sums into slots the update of
    this step does not read), so the single-process engine does them in one pass; a static
    image (no learning: the weights are fixed) through its neuron-major fan-out ``fo`` =
    ``(fo_start, fo_off, fo_w)`` (:func:`fan_out`; each spiking neuron's synapses are
    contiguous) instead of route -> axon -> synapses, which costs several cache misses per
    packet.  The synapse engines then only time the packets.
    """
    fo_start, fo_off, fo_w = fo
    if fo_start.shape[0] != spikes.shape[0] + 1:
        for p in range(n):
            if pk[p, 2] >= 0:
                _deliver(pk[p, 3], t, tab, stage)
        return
    cn = tab.nexp.shape[0]
    dcn = tab.slots * cn
    base = ((t + 1) % tab.slots) * cn
    for i in range(spikes.shape[0]):
        if spikes[i]:
            for k in range(fo_start[i], fo_start[i + 1]):
                idx = base + fo_off[k]
                if idx >= dcn:
                    idx -= dcn
                stage[idx] += fo_w[k]
    for p in range(h_pos, n):
        if pk[p, 2] >= 0:
            _deliver(pk[p, 3], t, tab, stage)


@njit(cache=True)
def fan_out(tab, static):
    """The neuron-major fan-out ``(fo_start, fo_off, fo_w)`` of a ``static`` image (as
    :meth:`~spikefab.emulator.flat.FlatImage.fan_out`), or empty arrays (weights that learn
    are read from ``tab.syn_w`` at delivery)."""
    n = tab.nr_start.shape[0]
    if not static:
        return (np.zeros(0, np.int64), np.zeros(0, tab.syn_off.dtype),
                np.zeros(0, tab.syn_w.dtype))
    fo_start = np.zeros(n + 1, np.int64)
    for i in range(n):
        s = 0
        for r in range(tab.nr_start[i], tab.nr_start[i] + tab.nr_count[i]):
            s += tab.routes[r, 9]
        fo_start[i + 1] = fo_start[i] + s
    m = fo_start[n]
    fo_off = np.empty(m, tab.syn_off.dtype)
    fo_w = np.empty(m, tab.syn_w.dtype)
    gather_fan_out(tab.nr_start, tab.nr_count, tab.routes, tab.ax_start, tab.syn_off, tab.syn_w,
                   fo_start, fo_off, fo_w, np.empty(m, np.bool_),
                   np.zeros(tab.ax_start.shape[0], np.bool_))
    return fo_start, fo_off, fo_w


@njit(cache=True, inline="always")
def _absorb(c, ci, t, tab, timing, eng, fab, pk, stage, counters):
    """Synapse engine of core ``ci`` pops its ejection FIFO at ``c`` and accumulates the
    packet's synapses; due again when free if more packets wait."""
    n_cores = eng.ue_pos.shape[0]
    p = eject_pop(c, fab, ci)
    s = pk[p, 4]
    if s < 0:
        s = _deliver(pk[p, 3], t, tab, stage)
    counters[C_SYNOPS] += s
    eng.sbusy[ci] = c + timing[T_PC] + s * timing[T_SC]
    if fab.fcnt[fab.geo[G_R] * fab.geo[G_P] + ci] > 0:
        timer_set(eng.tm, K_SYNAPSE * n_cores + ci, max(eng.sbusy[ci], c + 1), c)


@njit(cache=True, inline="always")
def _engines_phase(c, t, tab, timing, eng, fab, pk, pn, stage, counters):
    """Every engine due at ``c``; returns whether one of them moved a packet."""
    n_cores = eng.ue_pos.shape[0]
    moved = False
    item = timer_take(eng.tm, c)
    while item >= 0:
        nxt_item = eng.tm.link[item]
        if item < n_cores:
            if _emit(c, item, tab, timing[T_NC], eng, fab, pk, pn):
                moved = True
        else:
            _absorb(c, item - n_cores, t, tab, timing, eng, fab, pk, stage, counters)
            moved = True
        item = nxt_item
    return moved


@njit(cache=True, _nrt=False)
def next_activity(c, sc, eng, fab):
    """Earliest cycle >= ``c`` at which something can happen (NEVER if nothing)."""
    if fab.st[S_NACT] > 0 or sc[SC_HPOS] < sc[SC_HEND]:
        return c
    return min(next_event_time(fab), timer_next(eng.tm, c))


@njit(cache=True, _nrt=False)
def cycle_window(c_end, t, tab, timing, eng, fab, pk, pn, harr, stage, sc, counters):
    """Run cycles ``sc[SC_C] .. c_end - 1`` of step ``t`` (``c_end = NEVER``: to the end).

    A jump over idle cycles stops at ``c_end``: in the MPI engine a packet or credit from
    another rank may arrive there (never earlier: a window is no longer than the latency of
    any link between ranks).
    """
    c = sc[SC_C]
    h_pos = sc[SC_HPOS]
    h_end = sc[SC_HEND]
    tm = eng.tm
    while c < c_end:
        timer_migrate(tm, c)
        apply_events(c, fab, pk, harr, tm, eng.sbusy, True)
        if fab.st[S_NACT] == 0 and h_pos >= h_end:
            nxt = min(next_event_time(fab), timer_next(tm, c))
            if nxt > c:
                c = min(nxt, c_end)
                continue
        moved = False
        if h_pos < h_end and inject(c, fab, 3, h_pos, packet_key(pk, h_pos)):
            h_pos += 1
            moved = True
        if _engines_phase(c, t, tab, timing, eng, fab, pk, pn, stage, counters):
            moved = True
        grants, blocked_until = router_phase(c, fab)
        c += 1
        if moved or grants > 0:
            continue
        # nothing moved in this cycle: every waiting sender lacks a credit (which only an
        # event brings), a busy chiplet link, or its own scheduled time -> jump there
        nxt = min(min(next_event_time(fab), blocked_until), timer_next(tm, c))
        if c < nxt:
            c = min(nxt, c_end)
    sc[SC_C] = c
    sc[SC_HPOS] = h_pos


@njit(cache=True, _nrt=False)
def finish_step(t, eng, fab, pk, harr, out, counters):
    """Output spikes that reached the host; return the step's last busy cycle."""
    q = 0
    for ci in range(eng.ue_done.shape[0]):
        q = max(q, eng.ue_done[ci], eng.sbusy[ci])
    st = fab.st
    for j in range(st[S_NHOST]):
        p = harr[j]
        out[t, pk[p, 3]] = 1
        q = max(q, pk[p, 5])
    counters[C_HOST_OUT] += st[S_NHOST]
    return q


@njit(cache=True, _nrt=False)
def reset_step(fab, depth):
    """Section 9: every credit is back and every FIFO empty at the next step's cycle 0."""
    fab.credit[:] = depth
    fab.blk[:] = 0
    fab.busy[:] = 0
    fab.st[S_Q0H] = fab.st[S_Q0T]
    fab.st[S_Q1H] = fab.st[S_Q1T]
    fab.st[S_NXA] = 0
    fab.st[S_NXC] = 0


@njit(cache=True)
def run_cycle(steps, in_spikes, tab, params, ref, io, timing, fab, eng, learning):
    """Run ``steps`` steps; ``io.cycles[t]`` gets the step's cycle count (section 9).

    ``timing`` = (neuron_cycles, packet_cycles, synapse_cycles, barrier cycles incl. wafer).
    ``io.hops`` (3,) receives the router-to-router hops (on-chip E/W, N/S, inter-chiplet).
    ``learning``: the learning engine's :class:`~spikefab.emulator.learning.kernels.LearnRun`
    (``emulator.learning.engine``; no groups for a static image); its epoch phase runs after
    the step's deliveries, before the barrier (section 14).
    """
    hit = np.zeros(tab.ax_start.shape[0], np.uint8)
    snap_row = 0
    n = ref.shape[0]
    n_cores = tab.noff.shape[0] - 1
    cn = tab.n_classes * n
    acc = np.zeros(tab.slots * cn, np.int64)
    stage, uexp, staged = staging(tab.slots, tab.nexp, acc)
    spikes = np.zeros(n, np.uint8)
    sc = np.zeros(4, np.int64)
    counters = io.counters
    plastic = learning.groups.gp.shape[0] > 0
    fo = fan_out(tab, not plastic)
    # the packet tables are reused from step to step (grown when a step sends more): fresh
    # pages every step cost page faults comparable to the accumulation itself
    pk = np.empty((1, 6), np.int64)
    pn = np.empty(1, np.int64)
    harr = np.empty(1, np.int64)
    for t in range(steps):
        npk = count_packets(t, tab, params, ref, uexp, acc, spikes, counters, in_spikes)
        if npk > pk.shape[0]:
            m = max(npk, 2 * pk.shape[0])
            pk = np.empty((m, 6), np.int64)
            pn = np.empty(m, np.int64)
            harr = np.empty(m, np.int64)
        fill_counted(t, tab, timing[T_NC], spikes, in_spikes, pk, pn, eng, hit, sc, counters)
        predeliver(t, tab, fo, spikes, pk, sc[SC_HPOS], sc[SC_USED], stage)
        fab.st[S_NHOST] = 0
        cycle_window(NEVER, t, tab, timing, eng, fab, pk, pn, harr, stage, sc, counters)
        q = finish_step(t, eng, fab, pk, harr, io.out, counters)
        if staged:
            commit_stage(t, tab.slots, cn, tab.nexp, stage, acc)
        lc = learning_step(t, hit, spikes, n_cores, tab.syn_w, learning)
        if plastic:
            hit[:] = 0
        io.cycles[t] = q + lc + timing[T_BARRIER]
        snap_row = snapshot(t, tab.syn_w, learning, snap_row)
        reset_step(fab, fab.geo[G_DEPTH])
        record_probes(t, params, ref, spikes, io.probe_idx, io.probe_var, io.traces)
    io.hops[0], io.hops[1], io.hops[2] = hop_totals(fab)
