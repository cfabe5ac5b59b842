"""Numba kernels of the functional engine: neuron update, synaptic delivery, whole-run loop.

Pure functions over the flat arrays of :mod:`spikefab.emulator.flat`; no Python objects, no
raising.  The arithmetic is :func:`spikefab.arch.neuron.lif_step` written out per neuron in
int64 (the same truncations, wraps and saturations), so the result is bit-exact with the
reference model.

The ``counters`` int64 array (shared with the cycle engine) has the ``C_*`` slots below.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# counter slots
C_SYNOPS, C_SPIKES, C_ACTIVE, C_INACTIVE, C_PACKETS, C_HOPS_EW, C_HOPS_NS, C_HOPS_CHIP, \
    C_HOST_IN, C_HOST_OUT = range(10)
N_COUNTERS = 10
STATE_MAX = (1 << 23) - 1


@njit(cache=True, inline="always")
def _wrap32(x):
    return ((x + 2147483648) & 0xFFFFFFFF) - 2147483648


@njit(cache=True, inline="always")
def _decay(x, d):
    p = x * (4096 - d)
    if p >= 0:
        return p >> 12
    return -((-p) >> 12)


@njit(cache=True)
def lif_update(t, slots, n_classes, params, ref, nexp, acc, spikes, counters):
    """Update every neuron for step ``t`` from accumulator slot ``t mod D``; clear the slot.

    ``params`` rows 8..10 (u, v, theta) and ``ref`` are updated in place; ``spikes[i]`` is set to
    0/1.  A neuron update is *active* when its synaptic input is non-zero or it spikes.
    """
    n = spikes.shape[0]
    cn = n_classes * n
    base = (t % slots) * cn
    du = params[0]
    dv = params[1]
    vth = params[2]
    reset = params[3]
    refr = params[4]
    th_dec = params[5]
    th_inc = params[6]
    bias = params[7]
    u = params[8]
    v = params[9]
    theta = params[10]
    n_spk = 0
    n_act = 0
    for i in range(n):
        a = 0
        for c in range(n_classes):
            k = base + c * n + i
            x = acc[k]
            if x != 0:
                acc[k] = 0
                e = nexp[c * n + i]
                if e > 0:
                    a += x << e
                else:
                    a += x >> (-e)
        uc = _wrap32(_wrap32(_decay(u[i], du[i] + 1)) + _wrap32(a << 6))
        if uc > 8388608:
            uc -= 16777216
        elif uc <= -8388608:
            uc += 16777216
        u[i] = uc
        th = _decay(theta[i], th_dec[i])
        vth_eff = (vth[i] << 6) + th
        s = 0
        if ref[i] > 0:
            ref[i] -= 1
        else:
            vv = _decay(v[i], dv[i]) + uc + bias[i]
            if vv > STATE_MAX:
                vv = STATE_MAX
            elif vv < -STATE_MAX:
                vv = -STATE_MAX
            if vv > vth_eff:
                s = 1
                vv = vv - vth_eff if reset[i] == 1 else 0
                ref[i] = refr[i]
                th = th + th_inc[i]
                if th > STATE_MAX:
                    th = STATE_MAX
            else:
                ref[i] = 0
            v[i] = vv
        theta[i] = th
        spikes[i] = s
        n_spk += s
        if s or a != 0:
            n_act += 1
    counters[C_SPIKES] += n_spk
    counters[C_ACTIVE] += n_act
    counters[C_INACTIVE] += n - n_act


@njit(cache=True, inline="always")
def deliver_axon(ax, t, slots, cn, ax_start, ax_count, syn_off, syn_w, acc):
    """Add the synapse run of global axon ``ax`` into the ring slots of step ``t``; return S."""
    dcn = slots * cn
    base = ((t + 1) % slots) * cn
    s0 = ax_start[ax]
    cnt = ax_count[ax]
    for k in range(s0, s0 + cnt):
        idx = base + syn_off[k]
        if idx >= dcn:
            idx -= dcn
        acc[idx] += syn_w[k]
    return cnt


@njit(cache=True)
def staging(slots, nexp, acc):
    """The delivery buffer and the exponents the update applies (Lava DelayDense, see below).

    Lava floors each (source step, delay) bucket's shifted sum separately, so with delays *and*
    a negative exponent a step's deliveries go to a staging ring (same layout as ``acc``) that
    :func:`commit_stage` shifts into ``acc`` at the end of the step; the update then applies no
    shift.  Otherwise (no delays, or no right shift) flooring the slot's sum is the same number
    and deliveries go straight to ``acc``.  Returns ``(stage, update_exps, staged)``.
    """
    staged = slots > 2 and nexp.shape[0] > 0 and nexp.min() < 0
    if staged:
        return np.zeros_like(acc), np.zeros_like(nexp), True
    return acc, nexp, False


@njit(cache=True)
def commit_stage(t, slots, cn, nexp, stage, acc):
    """End of step ``t``: shift each (delay, class, neuron) sum of the step into the ring."""
    for d in range(slots - 1):
        b = ((t + 1 + d) % slots) * cn
        for k in range(cn):
            x = stage[b + k]
            if x != 0:
                stage[b + k] = 0
                e = nexp[k]
                if e > 0:
                    acc[b + k] += x << e
                else:
                    acc[b + k] += x >> (-e)


@njit(cache=True)
def _send_routes(r0, rc, t, slots, cn, routes, ax_start, ax_count, syn_off, syn_w, acc, out,
                 counters, dest_pk, dest_syn):
    for r in range(r0, r0 + rc):
        counters[C_PACKETS] += 1
        counters[C_HOPS_EW] += routes[r, 6]
        counters[C_HOPS_NS] += routes[r, 7]
        counters[C_HOPS_CHIP] += routes[r, 8]
        if routes[r, 0] != 0:
            out[t, routes[r, 1]] = 1
            counters[C_HOST_OUT] += 1
            continue
        s = deliver_axon(routes[r, 1], t, slots, cn, ax_start, ax_count, syn_off, syn_w, acc)
        counters[C_SYNOPS] += s
        d = routes[r, 2]
        dest_pk[d] += 1
        dest_syn[d] += s


@njit(cache=True)
def _send_neuron(i, r0, rc, t, slots, cn, route_dst, route_sums, fo_start, fo_off, fo_w, acc,
                 out, counters, dest_pk, dest_syn):
    """Deliver the spike of neuron ``i``: its counters from per-neuron route sums, its packets'
    destinations for the core-time estimate, then its contiguous fan-out run (the same sums as
    routing each packet through its axon, without a cache miss per packet)."""
    counters[C_PACKETS] += rc
    counters[C_HOPS_EW] += route_sums[i, 0]
    counters[C_HOPS_NS] += route_sums[i, 1]
    counters[C_HOPS_CHIP] += route_sums[i, 2]
    counters[C_SYNOPS] += route_sums[i, 3]
    counters[C_HOST_OUT] += route_sums[i, 4]
    for r in range(r0, r0 + rc):
        d = route_dst[r, 0]
        if d < 0:
            out[t, route_dst[r, 2]] = 1
        else:
            dest_pk[d] += 1
            dest_syn[d] += route_dst[r, 1]
    dcn = slots * cn
    base = ((t + 1) % slots) * cn
    for k in range(fo_start[i], fo_start[i + 1]):
        idx = base + fo_off[k]
        if idx >= dcn:
            idx -= dcn
        acc[idx] += fo_w[k]


@njit(cache=True)
def run_functional(steps, in_spikes, n_classes, slots, noff, params, ref, nexp, ax_start,
                   ax_count, syn_off, syn_w, nr_start, nr_count, hr_start, hr_count, routes, out,
                   probe_idx, probe_var, traces, counters, timing, est_cycles, fo_start, fo_off,
                   fo_w, route_dst, route_sums):
    """Run ``steps`` time steps of the whole image (reference semantics, module docstring).

    ``timing`` = (neuron_cycles, packet_cycles, synapse_cycles); ``est_cycles[t]`` receives the
    analytic per-step core-time estimate ``max_core max(n*nc + emitted, packets*pc + synops*sc)``.
    """
    n = ref.shape[0]
    n_cores = noff.shape[0] - 1
    cn = n_classes * n
    acc = np.zeros(slots * cn, np.int64)
    stage, uexp, staged = staging(slots, nexp, acc)
    spikes = np.zeros(n, np.uint8)
    emit = np.zeros(n_cores, np.int64)
    dest_pk = np.zeros(n_cores, np.int64)
    dest_syn = np.zeros(n_cores, np.int64)
    n_in = hr_start.shape[0]
    for t in range(steps):
        lif_update(t, slots, n_classes, params, ref, uexp, acc, spikes, counters)
        emit[:] = 0
        dest_pk[:] = 0
        dest_syn[:] = 0
        for ci in range(n_cores):
            for i in range(noff[ci], noff[ci + 1]):
                if spikes[i] and nr_count[i] > 0:
                    emit[ci] += nr_count[i]
                    _send_neuron(i, nr_start[i], nr_count[i], t, slots, cn, route_dst,
                                 route_sums, fo_start, fo_off, fo_w, stage, out, counters,
                                 dest_pk, dest_syn)
        for ch in range(n_in):
            if in_spikes[t, ch] and hr_count[ch] > 0:
                counters[C_HOST_IN] += hr_count[ch]
                _send_routes(hr_start[ch], hr_count[ch], t, slots, cn, routes, ax_start,
                             ax_count, syn_off, syn_w, stage, out, counters, dest_pk, dest_syn)
        if staged:
            commit_stage(t, slots, cn, nexp, stage, acc)
        best = 0
        for ci in range(n_cores):
            upd = (noff[ci + 1] - noff[ci]) * timing[0] + emit[ci]
            syn = dest_pk[ci] * timing[1] + dest_syn[ci] * timing[2]
            best = max(best, max(upd, syn))
        est_cycles[t] = best
        record_probes(t, params, ref, spikes, probe_idx, probe_var, traces)


@njit(cache=True)
def record_probes(t, params, ref, spikes, probe_idx, probe_var, traces):
    """Copy the probed variables (0 u, 1 v, 2 theta, 3 ref, 4 s) of step ``t`` into ``traces``."""
    for j in range(probe_idx.shape[0]):
        i = probe_idx[j]
        k = probe_var[j]
        if k == 0:
            traces[t, j] = params[8, i]
        elif k == 1:
            traces[t, j] = params[9, i]
        elif k == 2:
            traces[t, j] = params[10, i]
        elif k == 3:
            traces[t, j] = ref[i]
        else:
            traces[t, j] = spikes[i]
