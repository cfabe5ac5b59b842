"""Numba kernels of the learning engine and the functional run loop of plastic images.

The arithmetic is :mod:`spikefab.arch.learning.engine` written out per synapse in int64 (int32
wraps where Lava's products wrap, one binary64 multiply per trace decay); tests pin it bit-exact
to the reference.  A *group* is one learning profile in one core (see ``emulator.learning.flat``
for the array layout).  Delivery reads the live weight array ``syn_w`` through the axon table,
so learned weights take effect in the next step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from spikefab.arch.learning.layout import REWARD_CYCLES
from spikefab.emulator.kernels import (C_HOST_IN, _send_routes, commit_stage, deliver_axon,
                                       lif_update, staging,
                                       record_probes)

# per-group integer parameters (columns of LearnGroups.gp)
G_CORE, G_TEPOCH, G_DEC, G_SIGN, G_XO, G_NAX, G_AB, G_YO, G_NN, G_NB, G_SO, G_SE, G_PO, G_PE, \
    G_RO, G_RE, G_REWARD = range(17)
N_G = 17
# columns of LearnRules.prod
P_TARGET, P_DEP, P_MANT, P_SEXP, P_NF = range(5)
# columns of LearnState.xs (x1, x2, spike time) and LearnState.ys (y1, y2, y3, spike time)
X_TX, Y_TY = 2, 3
# positions of LearnRandom.r_end[t, g]: x decay, x impulse, y decay, y impulse, rounding
R_XDEC, R_XIMP, R_YDEC, R_YIMP, R_ROUND = range(5)
# the per-synapse context of a rule evaluation (one int64 array): its variables w, d, t,
# dependencies x0, y0, u, epoch length, spike times, local axon and neuron, sign mode
C_W, C_D, C_T, C_X0, C_Y0, C_U, C_TE, C_TX, C_TY, C_A, C_J, C_SIGN = range(12)
N_C = 12
_ACC_MAX = (1 << 15) - 1
_ACC_MIN = -(1 << 15) - 1
_WIDTH = np.array([1, 1, 7, 7, 7, 7, 7, 9, 9, 9], np.int64)   # x0 y0 x1 x2 y1 y2 y3 w d t


class LearnGroups(NamedTuple):
    """One row per group (core, learning profile): ``gp`` integer parameters (``G_*``
    columns), ``gimp`` impulse integer parts (5) then fractions (5), ``gtau`` time constants,
    ``gdec`` decay factors (x1, x2, y1, y2, y3)."""

    gp: np.ndarray
    gimp: np.ndarray
    gtau: np.ndarray
    gdec: np.ndarray


class LearnState(NamedTuple):
    """Mutable learning state: ``xs`` (rows, 3) pre traces, ``ys`` (rows, 4) post traces,
    ``tags`` (n, 2) delay and tag of each plastic synapse; ``clipped[g]`` is set once group
    ``g``'s epoch has visited all its synapses (from then on every value its rule writes is in
    range, so synapses without a spike in an epoch are left alone)."""

    xs: np.ndarray
    ys: np.ndarray
    tags: np.ndarray
    clipped: np.ndarray


class LearnSynapses(NamedTuple):
    """Plastic synapse ``s``: global synapse ``s_glob[s]`` from group-local axon ``s_pre[s]``
    to group-local neuron ``s_post[s]``; reward synapses ``r_pre``/``r_post`` likewise.  The
    synapses of ``xs`` row ``r`` are ``x_syn[x_ptr[r]:x_ptr[r + 1]]``, of ``ys`` rows likewise
    (``y_ptr``, ``y_syn``)."""

    s_glob: np.ndarray
    s_pre: np.ndarray
    s_post: np.ndarray
    r_pre: np.ndarray
    r_post: np.ndarray
    x_ptr: np.ndarray
    x_syn: np.ndarray
    y_ptr: np.ndarray
    y_syn: np.ndarray


class LearnRules(NamedTuple):
    """Products of every group: ``prod`` (P, 5) ``P_*`` columns, then per factor its variable,
    constant and sgn flag (P, 4)."""

    prod: np.ndarray
    pvar: np.ndarray
    pconst: np.ndarray
    psgn: np.ndarray


class LearnRun(NamedTuple):
    """Everything the learning engine needs for one run (``PlasticRun.args``).

    ``r_mid[t, g]`` / ``r_end[t, g]`` are the drawn random values (``R_*``); ``learn_cycles`` =
    (update_cycles, trace_cycles, 1 for the RTL engine's cycle model else 0); ``learn_counts[0]`` receives the synapse updates; every
    ``snap_every`` steps (0: never) ``syn_w[snap_idx]`` goes into the next row of ``snaps``."""

    groups: LearnGroups
    state: LearnState
    syn: LearnSynapses
    rules: LearnRules
    r_mid: np.ndarray
    r_end: np.ndarray
    learn_cycles: np.ndarray
    learn_counts: np.ndarray
    snap_every: int
    snaps: np.ndarray
    snap_idx: np.ndarray



@njit(cache=True)
def rtl_phase_cycles(T, gp, hit, spikes, n_cores, r_pre):
    """Per core: cycles of the RTL learning phase after 1-based step ``T`` (0: no profiles).

    For a target whose ``[learning]`` section says ``cycle_model = "rtl_engine"``: what the RTL
    (``spikefab.rtl.learning.core_learning``) takes per core and step instead of the
    ``update_cycles`` / ``trace_cycles`` model -- the recorded spikes replayed into the engine
    (one record per distinct axon hit and per spike, ``1 + 2 * profiles`` cycles each; one per
    reward synapse of a reward profile whose axon was hit, ``REWARD_CYCLES`` each), then
    ``step_end`` and the epoch phase of every profile whose epoch ends
    (:func:`spikefab.arch.learning.layout.epoch_cycles`, ``phase_cycles``).
    """
    n_prof = np.zeros(n_cores, np.int64)
    records = np.zeros(n_cores, np.int64)
    rewards = np.zeros(n_cores, np.int64)
    epochs = np.zeros(n_cores, np.int64)
    ending = np.zeros(n_cores, np.int64)
    for g in range(gp.shape[0]):
        c = gp[g, G_CORE]
        if n_prof[c] == 0:
            for a in range(gp[g, G_AB], gp[g, G_AB] + gp[g, G_NAX]):
                records[c] += hit[a]
            for j in range(gp[g, G_NB], gp[g, G_NB] + gp[g, G_NN]):
                records[c] += spikes[j]
        n_prof[c] += 1
        if gp[g, G_REWARD]:
            for q in range(gp[g, G_RO], gp[g, G_RE]):
                rewards[c] += hit[gp[g, G_AB] + r_pre[q]]
        te = gp[g, G_TEPOCH]
        if T % te == 0:
            ending[c] = 1
            epochs[c] += (1 + (gp[g, G_SE] - gp[g, G_SO])
                          * (4 + 5 * te + 6 * (gp[g, G_PE] - gp[g, G_PO]))
                          + gp[g, G_NAX] * (3 + 2 * te) + gp[g, G_NN] * (3 + 3 * te))
        else:
            epochs[c] += 1
    out = np.zeros(n_cores, np.int64)
    for c in range(n_cores):
        if n_prof[c] > 0:
            out[c] = 2 + records[c] * (1 + 2 * n_prof[c]) + REWARD_CYCLES * rewards[c] + 1 \
                + ending[c] * epochs[c]
    return out


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


@njit(cache=True, inline="always")
def _xorshift(s):
    s ^= s << np.uint64(13)
    s ^= s >> np.uint64(7)
    s ^= s << np.uint64(17)
    return s


@njit(cache=True, inline="always")
def _stream_value(s, i):
    """The current draw of stream ``i`` from its state: 7-bit impulses (streams 1 and 3), else
    uniforms ``(s >> 11) * 2^-53`` (``spikefab.arch.learning.random``)."""
    if i == 1 or i == 3:
        return float(s >> np.uint64(57))
    return float(s >> np.uint64(11)) * 2.0 ** -53


@njit(cache=True)
def draw_hardware(states, t_epoch, t0, r_mid, r_end):
    """The hardware generator's draws of steps ``t0 + 1 ..`` in the contract's order (two
    advances of the four trace streams per step, ``r_mid`` between them; at an epoch end one
    advance of the rounding stream and ``r_end`` = all five values); ``states`` (groups, 5)
    xorshift64 words, advanced in place."""
    for t in range(r_mid.shape[0]):
        T = t0 + t + 1
        for g in range(states.shape[0]):
            for i in range(4):
                states[g, i] = _xorshift(states[g, i])
            r_mid[t, g] = _stream_value(states[g, 3], 3)
            for i in range(4):
                states[g, i] = _xorshift(states[g, i])
            if T % t_epoch[g] == 0:
                states[g, 4] = _xorshift(states[g, 4])
                for i in range(5):
                    r_end[t, g, i] = _stream_value(states[g, i], i)


@njit(cache=True)
def record_spikes(g, t_in_epoch, groups, state, syn, hit, spikes, r_mid):
    """Phases 1, 2 and 2b of a step for group ``g``: spike times, second-spike impulses and
    (reward profiles) the reward synapses' y2 impulses."""
    gp, gimp = groups.gp, groups.gimp
    xs, ys = state.xs, state.ys
    r_pre, r_post = syn.r_pre, syn.r_post      # arrays bound once (see learn_epoch)
    reward = gp[g, G_REWARD]
    for a in range(gp[g, G_NAX]):
        if hit[gp[g, G_AB] + a]:
            row = gp[g, G_XO] + a
            if xs[row, X_TX] > 0:
                for i in range(2):
                    xs[row, i] = _impulse(xs[row, i], gimp[g, i], gimp[g, 5 + i], 0.0)
            xs[row, X_TX] = t_in_epoch
    for j in range(gp[g, G_NN]):
        if spikes[gp[g, G_NB] + j]:
            row = gp[g, G_YO] + j
            if ys[row, Y_TY] > 0:
                for i in range(3):
                    if i == 1 and reward:
                        continue
                    ys[row, i] = _impulse(ys[row, i], gimp[g, 2 + i], gimp[g, 7 + i], r_mid)
            ys[row, Y_TY] = t_in_epoch
    if reward:
        for q in range(gp[g, G_RO], gp[g, G_RE]):
            if hit[gp[g, G_AB] + r_pre[q]]:
                row = gp[g, G_YO] + r_post[q]
                ys[row, 1] = _impulse(ys[row, 1], gimp[g, 3], gimp[g, 8], 0.0)


@njit(cache=True)
def _history(groups, g, tr, rows0, n_slots, base, r_dec, r_imp, skip):
    """(t_epoch + 1, n_traces, n_slots) trace values over the epoch; ``tr`` is ``xs`` (base 0)
    or ``ys`` (base 2), its last column the spike time; ``skip`` a trace that takes no impulse."""
    gimp, gtau, gdec = groups.gimp, groups.gtau, groups.gdec
    te = groups.gp[g, G_TEPOCH]
    n_tr = tr.shape[1] - 1
    h = np.zeros((te + 1, n_tr, n_slots), np.int64)
    live = np.zeros(n_slots, np.bool_)
    for s in range(n_slots):
        for i in range(n_tr):
            h[0, i, s] = tr[rows0 + s, i]
            live[s] |= h[0, i, s] != 0
        # a zero trace without a spike stays 0: floor(0 * f) = 0 and r_dec < 0 never holds
        live[s] |= tr[rows0 + s, n_tr] != 0 or r_dec < 0.0
    for k in range(1, te + 1):
        for i in range(n_tr):
            tau = gtau[g, base + i]
            f = gdec[g, base + i]
            for s in range(n_slots):
                if not live[s]:
                    continue
                v = 0
                if tau != 0:
                    p = float(h[k - 1, i, s]) * f
                    fl = np.floor(p)
                    v = np.int64(fl) + (1 if r_dec < p - fl else 0)
                if tr[rows0 + s, n_tr] == k and i != skip:
                    v = _impulse(v, gimp[g, base + i], gimp[g, 5 + base + i], r_imp)
                h[k, i, s] = v
    return h


@njit(cache=True)
def _rule_info(gp, g, prod, time_step):
    """(u, where the products of targets 1 and 2 begin, whether any product depends on u) of
    group ``g``; its products are sorted by target (``flat``), so target ``k``'s are
    ``bounds[k] .. bounds[k + 1]`` with bounds ``(po, b1, b2, pe)``."""
    te = gp[g, G_TEPOCH]
    u = 0
    if gp[g, G_DEC] >= 0:
        u = 1 if (time_step // te) % (1 << gp[g, G_DEC]) == 0 else 0
    b1 = b2 = gp[g, G_PO]
    has_u = False
    for p in range(gp[g, G_PO], gp[g, G_PE]):
        b1 += prod[p, P_TARGET] < 1
        b2 += prod[p, P_TARGET] < 2
        if prod[p, P_DEP] == 2:
            has_u = True
    return u, b1, b2, has_u


@njit(cache=True, inline="always")
def _factor(m, val, const, sgn, b):
    """``m`` times one factor of a product: its value plus the constant, ``sgn``-ed when
    flagged, clipped to its ``b``-bit range (int32 wrap as in Lava)."""
    val += const
    if sgn:
        val = 1 if val > 0 else (-1 if val < 0 else 0)
    return _w32(m * _clip(val, -(1 << b), (1 << b) - 1))


@njit(cache=True, inline="always")
def _scale(m, width, mant, sexp):
    """A product's factor result times its scale ``mant * 2^sexp``, shifted by its factor
    widths and saturated to the accumulator's range."""
    m = _w32(m * mant)
    sh = width + 4 - 15
    if sh > 0:
        m = m >> sh
    m = _w32(m << sexp)
    return _clip(m, _ACC_MIN, _ACC_MAX)


@njit(cache=True, inline="always")
def _round_clip(acc, target, sign, r_round):
    """Sign floor, stochastic rounding and range clip of an accumulated ``target``
    (0 w, 1 d, 2 t)."""
    if target == 0:
        if sign == 2:
            acc = max(acc, 0)
        elif sign == 3:
            acc = min(acc, 0)
        lo, hi = (0, 255) if sign == 2 else ((-255, 0) if sign == 3 else (-256, 255))
    elif target == 1:
        acc = max(acc, 0)
        lo, hi = 0, 255
    else:
        lo, hi = -257, 255
    frac = (acc & 127) / 128.0
    return _clip((acc >> 7) + (1 if r_round < frac else 0), lo, hi)


@njit(cache=True)
def _commit_traces(gp, g, state, hx, hy):
    """Traces take their end-of-epoch values; spike times are cleared."""
    te = gp[g, G_TEPOCH]
    xo, yo = gp[g, G_XO], gp[g, G_YO]
    for a in range(gp[g, G_NAX]):
        state.xs[xo + a, 0] = hx[te, 0, a]
        state.xs[xo + a, 1] = hx[te, 1, a]
        state.xs[xo + a, X_TX] = 0
    for j in range(gp[g, G_NN]):
        for i in range(3):
            state.ys[yo + j, i] = hy[te, i, j]
        state.ys[yo + j, Y_TY] = 0


@njit(cache=True)
def _active(gp, g, xs, ys, syn):
    """The synapses of group ``g`` with a pre or post spike in the epoch, each once (in table
    order when they are many): the only ones whose products can be non-zero when no product
    with a ``u`` dependency is on."""
    x_ptr, x_syn, y_ptr, y_syn = syn.x_ptr, syn.x_syn, syn.y_ptr, syn.y_syn
    xo, yo, so = gp[g, G_XO], gp[g, G_YO], gp[g, G_SO]
    mark = np.zeros(gp[g, G_SE] - so, np.uint8)
    n = 0
    for r in range(xo, xo + gp[g, G_NAX]):
        if xs[r, X_TX] > 0:
            n += x_ptr[r + 1] - x_ptr[r]
    for r in range(yo, yo + gp[g, G_NN]):
        if ys[r, Y_TY] > 0:
            n += y_ptr[r + 1] - y_ptr[r]
    visit = np.empty(n, np.int64)
    n = 0
    for r in range(xo, xo + gp[g, G_NAX]):
        if xs[r, X_TX] > 0:
            for q in range(x_ptr[r], x_ptr[r + 1]):
                mark[x_syn[q] - so] = 1
                visit[n] = x_syn[q]
                n += 1
    for r in range(yo, yo + gp[g, G_NN]):
        if ys[r, Y_TY] > 0:
            for q in range(y_ptr[r], y_ptr[r + 1]):
                if mark[y_syn[q] - so] == 0:        # not listed through its axon
                    mark[y_syn[q] - so] = 1
                    visit[n] = y_syn[q]
                    n += 1
    if 8 * n > mark.shape[0]:          # many: in table order (sequential reads), branch-free
        m = 0
        for q in range(mark.shape[0]):
            visit[m] = so + q
            m += mark[q]
            if m == n:
                break
    return visit[:n]


@njit(cache=True)
def learn_epoch(g, time_step, groups, state, syn, rules, syn_w, rend):
    """Phase 3 for group ``g`` at an epoch end: traces, rule evaluation, rounding, clipping.

    A synapse without a spike in the epoch (and no ``u`` product on) only has its values
    clipped to their range; once every synapse has been (``state.clipped[g]``) such a synapse
    cannot change, so later epochs visit only :func:`_active`'s synapses.  Every array is bound
    to a local here, once: an array handed to an inlined helper inside the synapse loop is a
    new reference per call (an atomic incref/decref pair Numba's reference-count pruning leaves
    in the loop), which made this loop 3-4x slower; the inlined helpers take scalars only."""
    gp = groups.gp
    xs, ys, tags = state.xs, state.ys, state.tags
    s_pre, s_post, s_glob = syn.s_pre, syn.s_post, syn.s_glob
    prod, pvar, pconst, psgn = rules.prod, rules.pvar, rules.pconst, rules.psgn
    te = gp[g, G_TEPOCH]
    xo, yo = gp[g, G_XO], gp[g, G_YO]
    hx = _history(groups, g, xs, xo, gp[g, G_NAX], 0, rend[R_XDEC], rend[R_XIMP], -1)
    hy = _history(groups, g, ys, yo, gp[g, G_NN], 2, rend[R_YDEC], rend[R_YIMP],
                  1 if gp[g, G_REWARD] else -1)
    u, b1, b2, has_u = _rule_info(gp, g, prod, time_step)
    sign = gp[g, G_SIGN]
    wlo, whi = (0, 255) if sign == 2 else ((-255, 0) if sign == 3 else (-256, 255))
    po, pe, r = gp[g, G_PO], gp[g, G_PE], rend[R_ROUND]
    p0, p1, p2 = po < b1, b1 < b2, b2 < pe                # which targets have products
    so = gp[g, G_SO]
    full = state.clipped[g] == 0 or (u != 0 and has_u)
    visit = syn.x_syn[:0] if full else _active(gp, g, xs, ys, syn)
    for q in range(gp[g, G_SE] - so if full else visit.shape[0]):
        s = so + q if full else visit[q]
        a, j, sg = s_pre[s], s_post[s], s_glob[s]
        tx, ty = xs[xo + a, X_TX], ys[yo + j, Y_TY]
        x0 = 1 if tx > 0 else 0
        y0 = 1 if ty > 0 else 0
        w, d, tg = np.int64(syn_w[sg]), tags[s, 0], tags[s, 1]
        if x0 == 0 and y0 == 0 and (u == 0 or not has_u):
            # every product is 0: the accumulator holds var << 7 exactly, so rounding keeps var
            # and only the range clip (and sign floor) can change it
            if p0:
                syn_w[sg] = _clip(w, wlo, whi)
            if p1:
                tags[s, 0] = _clip(d, 0, 255)
            if p2:
                tags[s, 1] = _clip(tg, -257, 255)
            continue
        new0, new1, new2 = w, d, tg
        for target in range(3):
            lo = po if target == 0 else (b1 if target == 1 else b2)
            hi = b1 if target == 0 else (b2 if target == 1 else pe)
            if lo == hi:
                continue
            acc = (w if target == 0 else (d if target == 1 else tg)) << 7
            for p in range(lo, hi):
                dep = prod[p, P_DEP]
                m = x0 if dep == 0 else (y0 if dep == 1 else u)
                if m == 0:              # the product is 0 (adding it only clips acc)
                    acc = _clip(acc, _ACC_MIN, _ACC_MAX)
                    continue
                at = tx if dep == 0 else (ty if dep == 1 else te)   # the dependency's time
                width = 0
                for k in range(prod[p, P_NF]):
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
                        val = w if v == 7 else (d if v == 8 else tg)
                    width += _WIDTH[v]
                    m = _factor(m, val, pconst[p, k], psgn[p, k], _WIDTH[v])
                acc = _clip(acc + _scale(m, width, prod[p, P_MANT], prod[p, P_SEXP]),
                            _ACC_MIN, _ACC_MAX)
            val = _round_clip(acc, target, sign, r)
            if target == 0:
                new0 = val
            elif target == 1:
                new1 = val
            else:
                new2 = val
        syn_w[sg] = new0
        tags[s, 0] = new1
        tags[s, 1] = new2
    state.clipped[g] = 1
    _commit_traces(gp, g, state, hx, hy)
    return gp[g, G_SE] - gp[g, G_SO]


@njit(cache=True)
def learning_step(t, hit, spikes, n_cores, syn_w, lr):
    """The learning engine after step ``t``'s deliveries; returns its cycles (max over cores).

    ``hit[a]`` marks global input axons that received a packet in step ``t``; ``spikes`` the
    neurons that spiked; ``lr`` the :class:`LearnRun`.  No groups: returns 0 (static images
    pass empty arrays).
    """
    gp = lr.groups.gp
    n_groups = gp.shape[0]
    if n_groups == 0:
        return 0
    T = t + 1                                     # Lava's 1-based time step
    lcyc = np.zeros(n_cores, np.int64)
    for g in range(n_groups):
        te = gp[g, G_TEPOCH]
        k = T % te
        record_spikes(g, te if k == 0 else k, lr.groups, lr.state, lr.syn, hit, spikes,
                      lr.r_mid[t, g])
        if k == 0:
            done = learn_epoch(g, T, lr.groups, lr.state, lr.syn, lr.rules, syn_w,
                               lr.r_end[t, g])
            lr.learn_counts[0] += done
            lcyc[gp[g, G_CORE]] += done * lr.learn_cycles[0] + \
                (gp[g, G_NAX] + gp[g, G_NN]) * te * lr.learn_cycles[1]
    if lr.learn_cycles[2] == 1:                   # cycle_model "rtl_engine": what the RTL takes
        lcyc = rtl_phase_cycles(T, gp, hit, spikes, n_cores, lr.syn.r_pre)
    return lcyc.max()


@njit(cache=True)
def snapshot(t, syn_w, lr, row):
    """After step ``t``: copy the snapshot weights into row ``row`` when one is due; returns
    the next row."""
    if lr.snap_every > 0 and (t + 1) % lr.snap_every == 0:
        snaps, snap_idx = lr.snaps, lr.snap_idx
        for q in range(snap_idx.shape[0]):
            snaps[row, q] = syn_w[snap_idx[q]]
        return row + 1
    return row


@njit(cache=True)
def _mark_hits(start, count, routes, hit):
    """Local axons reached by routes ``start .. start + count`` (the learning engine's pre
    spikes)."""
    for r in range(start, start + count):
        if routes[r, 0] == 0:
            hit[routes[r, 1]] = 1


@njit(cache=True)
def run_functional_plastic(common, timing, est_cycles, lr):
    """The functional engine's step loop with the learning engine after each step's delivery.

    ``common``: the functional engine's image, state and output arrays (the tuple
    ``emulator.engine`` builds); ``timing`` = (neuron, packet, synapse cycles); ``lr``: the
    :class:`LearnRun`.
    """
    (steps, in_spikes, n_classes, slots, noff, params, ref, nexp, ax_start, ax_count, syn_off,
     syn_w, nr_start, nr_count, hr_start, hr_count, routes, out, probe_idx, probe_var, traces,
     counters) = common
    n = ref.shape[0]
    n_cores = noff.shape[0] - 1
    cn = n_classes * n
    acc = np.zeros(slots * cn, np.int64)
    spikes = np.zeros(n, np.uint8)
    hit = np.zeros(ax_start.shape[0], np.uint8)
    dest_pk = np.zeros(n_cores, np.int64)
    dest_syn = np.zeros(n_cores, np.int64)
    emit = np.zeros(n_cores, np.int64)
    row = 0
    stage, uexp, staged = staging(slots, nexp, acc)     # Lava's per-(step, delay) flooring
    tabs = (ax_start, ax_count, syn_off, syn_w)
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
                    _send_routes(nr_start[i], nr_count[i], t, slots, cn, routes, tabs, stage,
                                 out, counters, dest_pk, dest_syn)
                    _mark_hits(nr_start[i], nr_count[i], routes, hit)
        for ch in range(hr_start.shape[0]):
            if in_spikes[t, ch] and hr_count[ch] > 0:
                counters[C_HOST_IN] += hr_count[ch]
                _send_routes(hr_start[ch], hr_count[ch], t, slots, cn, routes, tabs, stage, out,
                             counters, dest_pk, dest_syn)
                _mark_hits(hr_start[ch], hr_count[ch], routes, hit)
        if staged:
            commit_stage(t, slots, cn, nexp, stage, acc)
        lmax = learning_step(t, hit, spikes, n_cores, syn_w, lr)
        best = 0
        for ci in range(n_cores):
            upd = (noff[ci + 1] - noff[ci]) * timing[0] + emit[ci]
            syn = dest_pk[ci] * timing[1] + dest_syn[ci] * timing[2]
            best = max(best, max(upd, syn))
        est_cycles[t] = best + lmax
        record_probes(t, params, ref, spikes, probe_idx, probe_var, traces)
        row = snapshot(t, syn_w, lr, row)
