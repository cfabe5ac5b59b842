"""Numba kernels of the learning engine and the functional run loop of plastic images.

The arithmetic is :mod:`spikefab.arch.learning.engine` written out per synapse in int64 (int32
wraps where Lava's products wrap, one binary64 multiply per trace decay); tests pin it bit-exact
to the reference.  A *group* is one learning profile in one core (see ``emulator.learning.flat``
for the array layout).  Delivery reads the live weight array ``syn_w`` through the axon table,
so learned weights take effect in the next step.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spikefab.emulator.kernels import (C_HOST_IN, _send_routes, commit_stage, deliver_axon,
                                       lif_update, staging,
                                       record_probes)

# per-group integer parameters (gp columns)
G_CORE, G_TEPOCH, G_DEC, G_SIGN, G_XO, G_NAX, G_AB, G_YO, G_NN, G_NB, G_SO, G_SE, G_PO, G_PE, \
    G_RO, G_RE, G_REWARD = range(17)
N_G = 17
_ACC_MAX = (1 << 15) - 1
_ACC_MIN = -(1 << 15) - 1
_WIDTH = np.array([1, 1, 7, 7, 7, 7, 7, 9, 9, 9], np.int64)   # x0 y0 x1 x2 y1 y2 y3 w d t


@njit(cache=True, inline="always")
def _w32(x):
    return ((x + 2147483648) & 0xFFFFFFFF) - 2147483648


@njit(cache=True, inline="always")
def _clip(x, lo, hi):
    return lo if x < lo else (hi if x > hi else x)


@njit(cache=True, inline="always")
def _impulse(tr, ii, fr, r):
    v = tr + ii + (1 if r < fr else 0)
    return _clip(v, 0, 127)


@njit(cache=True)
def record_spikes(g, t_in_epoch, gp, gimp, xs, ys, hit, spikes, r_mid, r_pre, r_post):
    """Phases 1, 2 and 2b of a step for group ``g``: spike times, second-spike impulses and
    (reward profiles) the reward synapses' y2 impulses."""
    reward = gp[g, G_REWARD]
    for a in range(gp[g, G_NAX]):
        if hit[gp[g, G_AB] + a]:
            row = gp[g, G_XO] + a
            if xs[row, 2] > 0:
                for i in range(2):
                    xs[row, i] = _impulse(xs[row, i], gimp[g, i], gimp[g, 5 + i], 0.0)
            xs[row, 2] = t_in_epoch
    for j in range(gp[g, G_NN]):
        if spikes[gp[g, G_NB] + j]:
            row = gp[g, G_YO] + j
            if ys[row, 3] > 0:
                for i in range(3):
                    if i == 1 and reward:
                        continue
                    ys[row, i] = _impulse(ys[row, i], gimp[g, 2 + i], gimp[g, 7 + i], r_mid)
            ys[row, 3] = t_in_epoch
    if reward:
        for q in range(gp[g, G_RO], gp[g, G_RE]):
            if hit[gp[g, G_AB] + r_pre[q]]:
                row = gp[g, G_YO] + r_post[q]
                ys[row, 1] = _impulse(ys[row, 1], gimp[g, 3], gimp[g, 8], 0.0)


@njit(cache=True)
def _history(te, n_slots, n_tr, base, tr, tcol, rows0, gimp, gtau, gdec, g, r_dec, r_imp,
             skip):
    h = np.zeros((te + 1, n_tr, n_slots), np.int64)
    for s in range(n_slots):
        for i in range(n_tr):
            h[0, i, s] = tr[rows0 + s, i]
    for k in range(1, te + 1):
        for i in range(n_tr):
            tau = gtau[g, base + i]
            f = gdec[g, base + i]
            for s in range(n_slots):
                v = 0
                if tau != 0:
                    p = float(h[k - 1, i, s]) * f
                    fl = np.floor(p)
                    v = np.int64(fl) + (1 if r_dec < p - fl else 0)
                if tr[rows0 + s, tcol] == k and i != skip:
                    v = _impulse(v, gimp[g, base + i], gimp[g, 5 + base + i], r_imp)
                h[k, i, s] = v
    return h


@njit(cache=True)
def learn_epoch(g, time_step, gp, gimp, gtau, gdec, xs, ys, s_glob, s_pre, s_post, tags,
                prod, pvar, pconst, psgn, syn_w, rend):
    """Phase 3 for group ``g`` at an epoch end: traces, rule evaluation, rounding, clipping."""
    te = gp[g, G_TEPOCH]
    nax, nn = gp[g, G_NAX], gp[g, G_NN]
    xo, yo = gp[g, G_XO], gp[g, G_YO]
    hx = _history(te, nax, 2, 0, xs, 2, xo, gimp, gtau, gdec, g, rend[0], rend[1], -1)
    hy = _history(te, nn, 3, 2, ys, 3, yo, gimp, gtau, gdec, g, rend[2], rend[3],
                  1 if gp[g, G_REWARD] else -1)
    r_round = rend[4]
    u = 0
    if gp[g, G_DEC] >= 0:
        u = 1 if (time_step // te) % (1 << gp[g, G_DEC]) == 0 else 0
    sign = gp[g, G_SIGN]
    present = np.zeros(3, np.bool_)
    has_u = False
    for p in range(gp[g, G_PO], gp[g, G_PE]):
        present[prod[p, 0]] = True
        if prod[p, 1] == 2:
            has_u = True
    wlo, whi = (0, 255) if sign == 2 else ((-255, 0) if sign == 3 else (-256, 255))
    for s in range(gp[g, G_SO], gp[g, G_SE]):
        a, j = s_pre[s], s_post[s]
        tx, ty = xs[xo + a, 2], ys[yo + j, 3]
        x0 = 1 if tx > 0 else 0
        y0 = 1 if ty > 0 else 0
        w = np.int64(syn_w[s_glob[s]])
        if x0 == 0 and y0 == 0 and (u == 0 or not has_u):
            # every product is 0: the accumulator holds var << 7 exactly, so rounding keeps var
            # and only the range clip (and sign floor) can change it
            if present[0]:
                syn_w[s_glob[s]] = _clip(w, wlo, whi)
            if present[1]:
                tags[s, 0] = _clip(tags[s, 0], 0, 255)
            if present[2]:
                tags[s, 1] = _clip(tags[s, 1], -257, 255)
            continue
        var3 = (w, tags[s, 0], tags[s, 1])
        new0, new1, new2 = w, tags[s, 0], tags[s, 1]
        for target in range(3):
            acc = var3[target] << 7
            seen = False
            for p in range(gp[g, G_PO], gp[g, G_PE]):
                if prod[p, 0] != target:
                    continue
                seen = True
                dep = prod[p, 1]
                m = x0 if dep == 0 else (y0 if dep == 1 else u)
                at = tx if dep == 0 else (ty if dep == 1 else te)
                width = 0
                for k in range(prod[p, 4]):
                    v = pvar[p, k]
                    if v == 0:
                        val = x0
                    elif v == 1:
                        val = y0
                    elif v <= 3:
                        val = hx[at, v - 2, a]
                    elif v <= 6:
                        val = hy[at, v - 4, j]
                    else:
                        val = var3[v - 7]
                    val += pconst[p, k]
                    if psgn[p, k]:
                        val = 1 if val > 0 else (-1 if val < 0 else 0)
                    b = _WIDTH[v]
                    width += b
                    val = _clip(val, -(1 << b), (1 << b) - 1)
                    m = _w32(m * val)
                m = _w32(m * prod[p, 2])
                sh = width + 4 - 15
                if sh > 0:
                    m = m >> sh
                m = _w32(m << prod[p, 3])
                m = _clip(m, _ACC_MIN, _ACC_MAX)
                acc = _clip(acc + m, _ACC_MIN, _ACC_MAX)
            if not seen:
                continue
            if target == 0:
                if sign == 2:
                    acc = max(acc, 0)
                elif sign == 3:
                    acc = min(acc, 0)
                lo, hi = wlo, whi
            elif target == 1:
                acc = max(acc, 0)
                lo, hi = 0, 255
            else:
                lo, hi = -257, 255
            frac = (acc & 127) / 128.0
            val = _clip((acc >> 7) + (1 if r_round < frac else 0), lo, hi)
            if target == 0:
                new0 = val
            elif target == 1:
                new1 = val
            else:
                new2 = val
        syn_w[s_glob[s]] = new0
        tags[s, 0] = new1
        tags[s, 1] = new2
    for a in range(nax):
        xs[xo + a, 0] = hx[te, 0, a]
        xs[xo + a, 1] = hx[te, 1, a]
        xs[xo + a, 2] = 0
    for j in range(nn):
        for i in range(3):
            ys[yo + j, i] = hy[te, i, j]
        ys[yo + j, 3] = 0
    return gp[g, G_SE] - gp[g, G_SO]


@njit(cache=True)
def learning_step(t, hit, spikes, n_cores, gp, gimp, gtau, gdec, xs, ys, s_glob, s_pre, s_post,
                  tags, prod, pvar, pconst, psgn, syn_w, r_mid, r_end, learn_cycles,
                  learn_counts, r_pre, r_post):
    """The learning engine after step ``t``'s deliveries; returns its cycles (max over cores).

    ``hit[a]`` marks global input axons that received a packet in step ``t``; ``spikes`` the
    neurons that spiked.  No groups: returns 0 (static images pass empty arrays).
    """
    n_groups = gp.shape[0]
    if n_groups == 0:
        return 0
    T = t + 1                                     # Lava's 1-based time step
    lcyc = np.zeros(n_cores, np.int64)
    for g in range(n_groups):
        te = gp[g, G_TEPOCH]
        k = T % te
        record_spikes(g, te if k == 0 else k, gp, gimp, xs, ys, hit, spikes, r_mid[t, g], r_pre,
                      r_post)
        if k == 0:
            done = learn_epoch(g, T, gp, gimp, gtau, gdec, xs, ys, s_glob, s_pre, s_post,
                               tags, prod, pvar, pconst, psgn, syn_w, r_end[t, g])
            learn_counts[0] += done
            lcyc[gp[g, G_CORE]] += done * learn_cycles[0] + \
                (gp[g, G_NAX] + gp[g, G_NN]) * te * learn_cycles[1]
    return lcyc.max()


@njit(cache=True)
def run_functional_plastic(steps, in_spikes, n_classes, slots, noff, params, ref, nexp, ax_start,
                           ax_count, syn_off, syn_w, nr_start, nr_count, hr_start, hr_count,
                           routes, out, probe_idx, probe_var, traces, counters, timing,
                           est_cycles, gp, gimp, gtau, gdec, xs, ys, s_glob, s_pre, s_post, tags,
                           prod, pvar, pconst, psgn, r_mid, r_end, learn_cycles, learn_counts,
                           snap_every, snaps, snap_idx, r_pre, r_post):
    """The functional engine's step loop with the learning engine after each step's delivery.

    ``learn_cycles`` = (update_cycles, trace_cycles); ``learn_counts[0]`` receives the synapse
    updates made.  Every ``snap_every`` steps (0: never) the weights ``syn_w[snap_idx]`` are
    copied into the next row of ``snaps``.
    """
    n = ref.shape[0]
    n_cores = noff.shape[0] - 1
    cn = n_classes * n
    acc = np.zeros(slots * cn, np.int64)
    spikes = np.zeros(n, np.uint8)
    hit = np.zeros(ax_start.shape[0], np.uint8)
    dest_pk = np.zeros(n_cores, np.int64)
    dest_syn = np.zeros(n_cores, np.int64)
    emit = np.zeros(n_cores, np.int64)
    n_in = hr_start.shape[0]
    row = 0
    stage, uexp, staged = staging(slots, nexp, acc)     # Lava's per-(step, delay) flooring
    for t in range(steps):
        lif_update(t, slots, n_classes, params, ref, uexp, acc, spikes, counters)
        emit[:] = 0
        dest_pk[:] = 0
        dest_syn[:] = 0
        hit[:] = 0
        for ci in range(n_cores):
            for i in range(noff[ci], noff[ci + 1]):
                if spikes[i] and nr_count[i] > 0:
                    emit[ci] += nr_count[i]
                    _send_routes(nr_start[i], nr_count[i], t, slots, cn, routes, ax_start,
                                 ax_count, syn_off, syn_w, stage, out, counters, dest_pk, dest_syn)
                    for r in range(nr_start[i], nr_start[i] + nr_count[i]):
                        if routes[r, 0] == 0:
                            hit[routes[r, 1]] = 1
        for ch in range(n_in):
            if in_spikes[t, ch] and hr_count[ch] > 0:
                counters[C_HOST_IN] += hr_count[ch]
                _send_routes(hr_start[ch], hr_count[ch], t, slots, cn, routes, ax_start,
                             ax_count, syn_off, syn_w, stage, out, counters, dest_pk, dest_syn)
                for r in range(hr_start[ch], hr_start[ch] + hr_count[ch]):
                    if routes[r, 0] == 0:
                        hit[routes[r, 1]] = 1
        if staged:
            commit_stage(t, slots, cn, nexp, stage, acc)
        lmax = learning_step(t, hit, spikes, n_cores, gp, gimp, gtau, gdec, xs, ys, s_glob,
                             s_pre, s_post, tags, prod, pvar, pconst, psgn, syn_w, r_mid, r_end,
                             learn_cycles, learn_counts, r_pre, r_post)
        best = 0
        for ci in range(n_cores):
            upd = (noff[ci + 1] - noff[ci]) * timing[0] + emit[ci]
            syn = dest_pk[ci] * timing[1] + dest_syn[ci] * timing[2]
            best = max(best, max(upd, syn))
        est_cycles[t] = best + lmax
        record_probes(t, params, ref, spikes, probe_idx, probe_var, traces)
        if snap_every > 0 and (t + 1) % snap_every == 0:
            for q in range(snap_idx.shape[0]):
                snaps[row, q] = syn_w[snap_idx[q]]
            row += 1
