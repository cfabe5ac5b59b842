"""Numba kernels of the distributed functional engine: a window of steps, then the imports.

They reuse the single-process kernels (:func:`~spikefab.emulator.kernels.lif_update`,
:func:`~spikefab.emulator.kernels.deliver_axon`, :func:`~spikefab.emulator.kernels.record_probes`)
for all neuron arithmetic and synaptic delivery; what they add is the split of a spike's routes
into local ones (delivered at once through the fan-out tables), output spikes, and **exports**
(recorded as ``(step - t0) * n_exp + j`` for export ``j``, sent at the end of the window).

Deliveries go to ``stage[w % stage.shape[0]]`` for window step ``w``.  Without staging (see
:func:`~spikefab.emulator.kernels.staging`) ``stage`` is a one-row view of ``acc``, so they land
in the ring at once.  With staging, Lava floors each (source step, delay) sum, and a sum is whole
only once the imports of its source step have arrived, so each window step has its own stage
row, and :func:`commit_window` floors the rows into ``acc`` after the window's imports.

A window is at most ``min delay + 1`` steps long: a spike of step ``t`` is integrated in step
``t + 1 + delay``, so a packet exported anywhere in the window is delivered on its receiver
before the receiver runs the step that reads it.  Accumulator sums are order-independent
(DESIGN.md section 3), so neither the batching nor the arrival order changes a result.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spikefab.emulator.kernels import (C_HOPS_CHIP, C_HOPS_EW, C_HOPS_NS, C_HOST_IN, C_HOST_OUT,
                                         C_PACKETS, C_SYNOPS, commit_stage, deliver_axon,
                                         lif_update, record_probes)
from spikefab.emulator.noc.kernels import (G_P, G_R, NEVER, S_NACT, S_NHOST, apply_events,
                                             eject_pop, inject, next_event_time, router_phase)


@njit(cache=True)
def functional_window(t0, t1, in_spikes, n_classes, slots, noff, params, ref, uexp, acc, stage,
                      ax_start, ax_count, syn_off, syn_w, nr_start, nr_count, hr_start, hr_count,
                      routes, route_dst, route_sums, fo_start, fo_off, fo_w, n_out, n_exp, out,
                      exp_buf, emit, dest_pk, dest_syn, probe_idx, probe_var, traces, counters):
    """Run steps ``t0 .. t1-1`` of this rank's cores; return the number of exports recorded.

    ``emit``/``dest_pk``/``dest_syn`` (window steps x local cores) collect the per-core terms of
    the functional engine's cycle estimate; imports add to ``dest_*`` later.  ``uexp`` are the
    exponents the update applies (all zero when staging), ``stage`` the delivery rows (above).
    """
    n = ref.shape[0]
    n_cores = noff.shape[0] - 1
    cn = n_classes * n
    dcn = slots * cn
    spikes = np.zeros(n, np.uint8)
    n_in = hr_start.shape[0]
    k = 0
    for t in range(t0, t1):
        w = t - t0
        lif_update(t, slots, n_classes, params, ref, uexp, acc, spikes, counters)
        dst = stage[w % stage.shape[0]]
        base = ((t + 1) % slots) * cn
        for ci in range(n_cores):
            for i in range(noff[ci], noff[ci + 1]):
                if spikes[i] == 0 or nr_count[i] == 0:
                    continue
                r0 = nr_start[i]
                rc = nr_count[i]
                emit[w, ci] += rc
                counters[C_PACKETS] += rc
                counters[C_HOPS_EW] += route_sums[i, 0]
                counters[C_HOPS_NS] += route_sums[i, 1]
                counters[C_HOPS_CHIP] += route_sums[i, 2]
                counters[C_SYNOPS] += route_sums[i, 3]
                counters[C_HOST_OUT] += route_sums[i, 4]
                for r in range(r0, r0 + rc):
                    d = route_dst[r, 0]
                    if d >= 0:
                        dest_pk[w, d] += 1
                        dest_syn[w, d] += route_dst[r, 1]
                    elif route_dst[r, 2] < n_out:
                        out[t, route_dst[r, 2]] = 1
                    else:
                        exp_buf[k] = w * n_exp + route_dst[r, 2] - n_out
                        k += 1
                for q in range(fo_start[i], fo_start[i + 1]):
                    idx = base + fo_off[q]
                    if idx >= dcn:
                        idx -= dcn
                    dst[idx] += fo_w[q]
        for ch in range(n_in):
            if in_spikes[t, ch] == 0 or hr_count[ch] == 0:
                continue
            counters[C_HOST_IN] += hr_count[ch]
            for r in range(hr_start[ch], hr_start[ch] + hr_count[ch]):
                counters[C_PACKETS] += 1
                counters[C_HOPS_EW] += routes[r, 6]
                counters[C_HOPS_NS] += routes[r, 7]
                counters[C_HOPS_CHIP] += routes[r, 8]
                d = route_dst[r, 0]
                if d >= 0:
                    s = deliver_axon(routes[r, 1], t, slots, cn, ax_start, ax_count, syn_off,
                                     syn_w, dst)
                    counters[C_SYNOPS] += s
                    dest_pk[w, d] += 1
                    dest_syn[w, d] += s
                elif route_dst[r, 2] < n_out:
                    out[t, route_dst[r, 2]] = 1
                    counters[C_HOST_OUT] += 1
                else:
                    exp_buf[k] = w * n_exp + route_dst[r, 2] - n_out
                    k += 1
        record_probes(t, params, ref, spikes, probe_idx, probe_var, traces)
    return k


@njit(cache=True)
def deliver_imports(t0, imports, slots, n_classes, n, ax_start, ax_count, syn_off, syn_w, stage,
                    axon_core, dest_pk, dest_syn, counters):
    """Deliver imported packets ``(window step, local axon)`` emitted in step ``t0 + step``
    into the stage row of that step (module docstring)."""
    cn = n_classes * n
    for q in range(imports.shape[0]):
        w = imports[q, 0]
        ax = imports[q, 1]
        s = deliver_axon(ax, t0 + w, slots, cn, ax_start, ax_count, syn_off, syn_w,
                         stage[w % stage.shape[0]])
        counters[C_SYNOPS] += s
        c = axon_core[ax]
        dest_pk[w, c] += 1
        dest_syn[w, c] += s


@njit(cache=True)
def commit_window(t0, steps, slots, cn, nexp, stage, acc):
    """Floor the stage row of each window step ``t0 + w`` into the ring (all sources in)."""
    for w in range(steps):
        commit_stage(t0 + w, slots, cn, nexp, stage[w], acc)


@njit(cache=True)
def window_estimate(noff, neuron_cycles, packet_cycles, synapse_cycles, emit, dest_pk, dest_syn,
                    steps, est, t0):
    """``est[t0 + w]`` = max over local cores of the functional engine's core-time estimate."""
    n_cores = noff.shape[0] - 1
    for w in range(steps):
        best = 0
        for ci in range(n_cores):
            upd = (noff[ci + 1] - noff[ci]) * neuron_cycles + emit[w, ci]
            syn = dest_pk[w, ci] * packet_cycles + dest_syn[w, ci] * synapse_cycles
            best = max(best, max(upd, syn))
        est[t0 + w] = best


# ---------------------------------------------------------------------------- cycle engine
# The step of :func:`spikefab.emulator.cycle.kernels.run_cycle`, cut into a start and windows of
# cycles between exchanges.  Every statement of a window is the single-process loop's, with one
# difference: a jump over idle cycles stops at the window's end, because a packet or credit from
# another rank may arrive there (and never earlier: the window is no longer than the latency of
# any link between ranks).  A stalled update engine retried at the window's end fails again
# until its credit arrives, as it would have in one process: a failed try changes nothing.


@njit(cache=True)
def cycle_count_packets(t, slots, n_classes, params, ref, nexp, acc, spikes, counters, nr_count,
                        in_spikes, hr_count):
    """Neuron update of step ``t``; return the packets this rank's cores and host send."""
    lif_update(t, slots, n_classes, params, ref, nexp, acc, spikes, counters)
    npk = 0
    for i in range(spikes.shape[0]):
        if spikes[i]:
            npk += nr_count[i]
    for ch in range(hr_count.shape[0]):
        if in_spikes[t, ch]:
            npk += hr_count[ch]
    return npk


@njit(cache=True)
def cycle_fill_packets(t, noff, nc, spikes, nr_start, nr_count, in_spikes, hr_start, hr_count,
                       routes, pk, pn, ue_pos, ue_end, ue_time, ue_done, sbusy, stalled, sc,
                       counters):
    """Build this step's packet table and update-engine schedule (as ``run_cycle``)."""
    n_cores = noff.shape[0] - 1
    k = 0
    for ci in range(n_cores):
        ue_pos[ci] = k
        for i in range(noff[ci], noff[ci + 1]):
            if spikes[i]:
                for r in range(nr_start[i], nr_start[i] + nr_count[i]):
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
    for ch in range(hr_start.shape[0]):
        if in_spikes[t, ch]:
            for r in range(hr_start[ch], hr_start[ch] + hr_count[ch]):
                pk[k, 0] = routes[r, 3]
                pk[k, 1] = routes[r, 4]
                pk[k, 2] = routes[r, 5]
                pk[k, 3] = routes[r, 1]
                pk[k, 4] = 0
                pk[k, 5] = -1
                k += 1
    counters[C_PACKETS] += k
    counters[C_HOST_IN] += k - h_pos
    sc[0] = 0
    sc[1] = h_pos
    sc[2] = k
    sc[3] = k


@njit(cache=True)
def cycle_window(c_end, t, sc, slots, n_classes, n, nc, pc, scyc, noff, ax_start, ax_count,
                 syn_off, syn_w, acc, counters, core_router, core_slot, pk, pn, harr, ue_pos,
                 ue_end, ue_time, ue_done, sbusy, stalled, req, geo, fbuf, fhead, fcnt, credit,
                 rr, busy, lhops, rcnt, alist, aflag, core_of, chipmask, q0, q1, st):
    """Run cycles ``sc[0] .. c_end - 1`` of step ``t`` on this rank (module comment above)."""
    n_cores = noff.shape[0] - 1
    cn = n_classes * n
    P = geo[G_P]
    R = geo[G_R]
    c = sc[0]
    h_pos = sc[1]
    h_end = sc[2]
    while c < c_end:
        apply_events(c, geo, fbuf, fhead, fcnt, credit, rcnt, alist, aflag, q0, q1, st, pk,
                     harr)
        if st[S_NACT] == 0 and h_pos >= h_end:
            nxt = next_event_time(q0, q1, st)
            for ci in range(n_cores):
                if ue_time[ci] < nxt:
                    nxt = ue_time[ci]
                if fcnt[R * P + ci] > 0:
                    nxt = min(nxt, max(sbusy[ci], c))
            if nxt > c:
                c = min(nxt, c_end)
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
                s = deliver_axon(pk[p, 3], t, slots, cn, ax_start, ax_count, syn_off, syn_w, acc)
                counters[C_SYNOPS] += s
                sbusy[ci] = c + pc + s * scyc
        grants, blocked_until = router_phase(c, geo, fbuf, fhead, fcnt, credit, rr, busy, lhops,
                                             rcnt, alist, aflag, core_of, chipmask, q0, q1, st,
                                             pk, req)
        c += 1
        if moved or grants > 0:
            continue
        nxt = min(next_event_time(q0, q1, st), blocked_until)
        for ci in range(n_cores):
            if stalled[ci] == 0 and ue_time[ci] < nxt:
                nxt = ue_time[ci]
            if fcnt[R * P + ci] > 0 and sbusy[ci] < nxt:
                nxt = sbusy[ci]
        if c < nxt:
            nxt = min(nxt, c_end)
            for ci in range(n_cores):
                if stalled[ci] == 1:
                    ue_time[ci] = nxt
            c = nxt
    sc[0] = c
    sc[1] = h_pos


@njit(cache=True)
def cycle_next_activity(c, sc, st, q0, q1, ue_time, fcnt, sbusy, geo):
    """Earliest cycle at which this rank has something to do (NEVER if nothing)."""
    if st[S_NACT] > 0 or sc[1] < sc[2]:
        return c
    nxt = next_event_time(q0, q1, st)
    base = geo[G_R] * geo[G_P]
    for ci in range(ue_time.shape[0]):
        if ue_time[ci] < nxt:
            nxt = ue_time[ci]
        if fcnt[base + ci] > 0:
            nxt = min(nxt, max(sbusy[ci], c))
    return nxt


@njit(cache=True)
def cycle_finish_step(t, sc, st, pk, harr, ue_done, sbusy, out, counters):
    """Output spikes that reached the host; return this rank's last busy cycle of the step."""
    q = 0
    for ci in range(ue_done.shape[0]):
        q = max(q, ue_done[ci], sbusy[ci])
    for j in range(st[S_NHOST]):
        p = harr[j]
        out[t, pk[p, 3]] = 1
        q = max(q, pk[p, 5])
    counters[C_HOST_OUT] += st[S_NHOST]
    return q
