"""The cycle engine: docs/microarchitecture.md sections 6-9 on top of the fabric kernels.

Behaviour (spikes, states) is computed with the functional kernels: every neuron of a step reads
accumulator slot ``t mod D``, which no synapse engine writes during step ``t``, so doing the
update at the start of the step gives the same states as doing it neuron by neuron.  What this
kernel adds is *when* things happen: the update engine's emission schedule (``neuron_cycles`` per
neuron, one route entry per granted cycle, stalls on credits), the host's injection from cycle 0,
the synapse engines (``packet_cycles + S * synapse_cycles`` per packet, accumulating the packet's
synapses when popped) and the routers.  Idle cycles are skipped: when no packet is anywhere, or
when nothing moved in a cycle (every waiting sender lacks a credit or a free chiplet link), the
clock jumps to the next event (an arrival or credit, a link becoming free, an update engine's
next emission, a synapse engine becoming idle), so cost follows events, not clock ticks.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spikefab.emulator.kernels import (C_HOST_IN, C_HOST_OUT, C_PACKETS, C_SYNOPS,
                                         commit_stage, deliver_axon, lif_update, record_probes,
                                         staging)
from spikefab.emulator.learning.kernels import learning_step, snapshot
from spikefab.emulator.noc.kernels import (G_DEPTH, G_P, G_R, NEVER, S_HCH, S_HEW, S_HNS,
                                             S_NACT, S_NHOST, S_Q0H, S_Q0T, S_Q1H, S_Q1T,
                                             apply_events, eject_pop, inject, next_event_time,
                                             router_phase)


@njit(cache=True)
def run_cycle(steps, in_spikes, n_classes, slots, noff, params, ref, nexp, ax_start, ax_count,
              syn_off, syn_w, nr_start, nr_count, hr_start, hr_count, routes, out, probe_idx,
              probe_var, traces, counters, timing, cycles, core_router, core_slot, hops,
              geo, fbuf, fhead, fcnt, credit, rr, busy, lhops, rcnt, alist, aflag, core_of,
              chipmask, q0, q1, st, learning):
    """Run ``steps`` steps; ``cycles[t]`` gets the step's cycle count (section 9).

    ``timing`` = (neuron_cycles, packet_cycles, synapse_cycles, barrier cycles incl. wafer).
    ``hops`` (3,) receives the router-to-router hops (on-chip E/W, N/S, inter-chiplet) measured.
    ``learning``: the learning engine's :class:`~spikefab.emulator.learning.kernels.LearnRun`
    (``emulator.learning.engine``; no groups for a static image); its epoch phase runs after
    the step's deliveries, before the barrier
    (section 14).
    """
    hit = np.zeros(ax_start.shape[0], np.uint8)
    snap_row = 0
    n = ref.shape[0]
    n_cores = noff.shape[0] - 1
    n_in = hr_start.shape[0]
    cn = n_classes * n
    nc = timing[0]
    pc = timing[1]
    sc = timing[2]
    P = geo[G_P]
    R = geo[G_R]
    depth = geo[G_DEPTH]
    acc = np.zeros(slots * cn, np.int64)
    stage, uexp, staged = staging(slots, nexp, acc)
    spikes = np.zeros(n, np.uint8)
    req = np.empty(P, np.int64)
    ue_pos = np.zeros(n_cores, np.int64)
    ue_end = np.zeros(n_cores, np.int64)
    ue_time = np.zeros(n_cores, np.int64)
    ue_done = np.zeros(n_cores, np.int64)
    sbusy = np.zeros(n_cores, np.int64)
    stalled = np.zeros(n_cores, np.uint8)
    for t in range(steps):
        lif_update(t, slots, n_classes, params, ref, uexp, acc, spikes, counters)
        npk = 0
        for i in range(n):
            if spikes[i]:
                npk += nr_count[i]
        for ch in range(n_in):
            if in_spikes[t, ch]:
                npk += hr_count[ch]
        m = max(npk, 1)
        pk = np.empty((m, 6), np.int64)
        pn = np.empty(m, np.int64)
        harr = np.empty(m, np.int64)
        k = 0
        for ci in range(n_cores):
            ue_pos[ci] = k
            for i in range(noff[ci], noff[ci + 1]):
                if spikes[i]:
                    for r in range(nr_start[i], nr_start[i] + nr_count[i]):
                        if routes[r, 0] == 0:
                            hit[routes[r, 1]] = 1
                        pk[k, 0] = routes[r, 3]
                        pk[k, 1] = routes[r, 4]
                        pk[k, 2] = routes[r, 5]
                        pk[k, 3] = routes[r, 1]
                        pk[k, 4] = 0
                        pk[k, 5] = -1
                        pn[k] = i - noff[ci]
                        k += 1
            ue_end[ci] = k
            sbusy[ci] = 0
            stalled[ci] = 0
            if ue_pos[ci] < ue_end[ci]:
                ue_time[ci] = (pn[ue_pos[ci]] + 1) * nc
                ue_done[ci] = 0
            else:
                ue_time[ci] = NEVER
                ue_done[ci] = (noff[ci + 1] - noff[ci]) * nc
        h_pos = k
        for ch in range(n_in):
            if in_spikes[t, ch]:
                for r in range(hr_start[ch], hr_start[ch] + hr_count[ch]):
                    if routes[r, 0] == 0:
                        hit[routes[r, 1]] = 1
                    pk[k, 0] = routes[r, 3]
                    pk[k, 1] = routes[r, 4]
                    pk[k, 2] = routes[r, 5]
                    pk[k, 3] = routes[r, 1]
                    pk[k, 4] = 0
                    pk[k, 5] = -1
                    k += 1
        h_end = k
        counters[C_PACKETS] += npk
        counters[C_HOST_IN] += h_end - h_pos
        st[S_NHOST] = 0
        c = 0
        while True:
            apply_events(c, geo, fbuf, fhead, fcnt, credit, rcnt, alist, aflag, q0, q1, st, pk,
                         harr)
            if st[S_NACT] == 0 and h_pos >= h_end:
                nxt = next_event_time(q0, q1, st)
                for ci in range(n_cores):
                    if ue_time[ci] < nxt:
                        nxt = ue_time[ci]
                    if fcnt[R * P + ci] > 0:
                        nxt = min(nxt, max(sbusy[ci], c))
                if nxt >= NEVER:
                    break
                if nxt > c:
                    c = nxt
                    continue
            moved = False
            if h_pos < h_end and inject(c, geo, credit, q0, st, 3, h_pos):
                h_pos += 1
                moved = True
            for ci in range(n_cores):
                if ue_time[ci] != c:
                    continue
                p = ue_pos[ci]
                stalled[ci] = 0
                if inject(c, geo, credit, q0, st, core_router[ci] * P + 4 + core_slot[ci], p):
                    moved = True
                    i = pn[p]
                    ue_pos[ci] += 1
                    if ue_pos[ci] < ue_end[ci]:
                        j = pn[ue_pos[ci]]
                        ue_time[ci] = c + 1 if j == i else c + 1 + (j - i) * nc
                    else:
                        ue_time[ci] = NEVER
                        ue_done[ci] = c + 1 + (noff[ci + 1] - noff[ci] - i - 1) * nc
                else:
                    ue_time[ci] = c + 1
                    stalled[ci] = 1
            for ci in range(n_cores):
                if fcnt[R * P + ci] > 0 and sbusy[ci] <= c:
                    moved = True
                    p = eject_pop(c, geo, fbuf, fhead, fcnt, q0, st, ci)
                    s = deliver_axon(pk[p, 3], t, slots, cn, ax_start, ax_count, syn_off, syn_w,
                                     stage)
                    counters[C_SYNOPS] += s
                    sbusy[ci] = c + pc + s * sc
            grants, blocked_until = router_phase(c, geo, fbuf, fhead, fcnt, credit, rr, busy, lhops,
                                                 rcnt, alist, aflag, core_of, chipmask, q0, q1,
                                                 st, pk, req)
            c += 1
            if moved or grants > 0:
                continue
            # nothing moved in this cycle: every waiting sender lacks a credit (which only an
            # event brings), a busy chiplet link, or its own scheduled time -> jump there
            nxt = min(next_event_time(q0, q1, st), blocked_until)
            for ci in range(n_cores):
                if stalled[ci] == 0 and ue_time[ci] < nxt:
                    nxt = ue_time[ci]
                if fcnt[R * P + ci] > 0 and sbusy[ci] < nxt:
                    nxt = sbusy[ci]
            if c < nxt < NEVER:
                for ci in range(n_cores):
                    if stalled[ci] == 1:
                        ue_time[ci] = nxt
                c = nxt
        q = 0
        for ci in range(n_cores):
            q = max(q, ue_done[ci], sbusy[ci])
        for j in range(st[S_NHOST]):
            p = harr[j]
            out[t, pk[p, 3]] = 1
            q = max(q, pk[p, 5])
        counters[C_HOST_OUT] += st[S_NHOST]
        if staged:
            commit_stage(t, slots, cn, nexp, stage, acc)
        lc = learning_step(t, hit, spikes, n_cores, syn_w, learning)
        hit[:] = 0
        cycles[t] = q + lc + timing[3]
        snap_row = snapshot(t, syn_w, learning, snap_row)
        # section 9: every credit is back and every FIFO empty at the next step's cycle 0
        credit[:] = depth
        busy[:] = 0
        st[S_Q0H] = st[S_Q0T]
        st[S_Q1H] = st[S_Q1T]
        record_probes(t, params, ref, spikes, probe_idx, probe_var, traces)
    hops[0] = st[S_HEW]
    hops[1] = st[S_HNS]
    hops[2] = st[S_HCH]
