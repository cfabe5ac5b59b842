"""Numba kernels of the functional engine: neuron update, synaptic delivery, whole-run loop.

Pure functions over the flat arrays of :mod:`spikefab.emulator.flat`; no Python objects, no
raising.  The arithmetic is :func:`spikefab.arch.neuron.lif_step` written out per neuron in
int64 (the same truncations, wraps and saturations), so the result is bit-exact with the
reference model.

The ``counters`` int64 array (shared with the cycle engine) has the ``C_*`` slots below.

The per-step kernels are compiled with ``_nrt=False``: Numba's *private* option that drops its
reference counting, so that an array slice costs no atomic increment and decrement (the fused
update takes slices per segment, the delivery per row).  Numba offers no supported per-function
way to do this; ``tests/emulator/test_emu_nrt.py`` fails clearly if an upgrade drops it.  Such
kernels cannot allocate: their scratch comes from :func:`new_state`.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from spikefab.emulator.barrier import new_barrier, wait
from spikefab.emulator.clock import MONOTONIC, THREAD_CPU, clock_ns

# counter slots
C_SYNOPS, C_SPIKES, C_ACTIVE, C_INACTIVE, C_PACKETS, C_HOPS_EW, C_HOPS_NS, C_HOPS_CHIP, \
    C_HOST_IN, C_HOST_OUT = range(10)
N_COUNTERS = 10
STATE_MAX = (1 << 23) - 1


@intrinsic
def prefetch(typingctx, arr, idx):
    """Hint the CPU to load ``arr[idx]``'s cache line (LLVM ``llvm.prefetch``, read, keep in
    all levels); nothing else happens, and an index past the end is harmless (no load)."""
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = builder.bitcast(builder.gep(ary.data, [args[1]]), ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32]),
            "llvm.prefetch.p0")
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


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


@njit(cache=True, inline="always", _nrt=False)
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


@njit(cache=True, _nrt=False)
def commit_part(t, slots, n_classes, n, lo, hi, lsh, rsh, stage, acc):
    """:func:`commit_stage` for the neurons ``lo..hi`` only (one thread part): each staged
    (delay, class, neuron) sum of step ``t`` is shifted by its class exponent, floored, added
    into its ring slot and cleared.  Vectorized like :func:`synaptic_input`."""
    cn = n_classes * n
    for d in range(slots - 1):
        b = ((t + 1 + d) % slots) * cn
        for c in range(n_classes):
            o = b + c * n
            s = stage[o + lo:o + hi]
            a = acc[o + lo:o + hi]
            ls = lsh[c * n + lo:c * n + hi]
            rs = rsh[c * n + lo:c * n + hi]
            for k in range(hi - lo):
                a[k] += (np.int64(s[k]) << ls[k]) >> rs[k]
                s[k] = 0


@njit(cache=True, _nrt=False)
def _send_routes(r0, rc, t, slots, cn, routes, tabs, acc, out, counters, dest_pk, dest_syn):
    """Send the routes ``r0 .. r0 + rc`` of step ``t``: count their hops, set the host outputs,
    deliver the core-bound ones into ``acc`` and add their packets and synapses to their cores.

    ``tabs``: the synapse tables ``(ax_start, ax_count, syn_off, syn_w)`` (NET's ``T_AX_START``
    .. ``T_SYN_W``, in that order) that :func:`deliver_axon` reads.
    """
    ax_start, ax_count, syn_off, syn_w = tabs
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


@njit(cache=True, _nrt=False)
def synaptic_input(t, slots, n_classes, n, lo, hi, shifted, lsh, rsh, acc, ain):
    """``ain[i]`` for neurons ``lo..hi``: each class of slot ``t mod D`` shifted by its exponent
    (floor on the sum), summed over classes; those accumulators are cleared.

    Vectorized: ``(x << lsh) >> rsh`` is the signed shift without a branch, and one class with
    exponent 0 (``shifted`` False) is a plain copy.  Returns how many ``ain`` are non-zero
    (counted in the copy itself when not ``shifted``).
    """
    base = (t % slots) * n_classes * n
    a = acc[base + lo:base + hi]
    x = ain[lo:hi]
    nz = 0
    if not shifted:
        for i in range(hi - lo):
            x[i] = a[i]
            nz += a[i] != 0
            a[i] = 0
        return nz
    ls = lsh[lo:hi]
    rs = rsh[lo:hi]
    for i in range(hi - lo):
        x[i] = (np.int64(a[i]) << ls[i]) >> rs[i]
        a[i] = 0
    for c in range(1, n_classes):
        a = acc[base + c * n + lo:base + c * n + hi]
        ls = lsh[c * n + lo:c * n + hi]
        rs = rsh[c * n + lo:c * n + hi]
        for i in range(hi - lo):
            x[i] += (np.int64(a[i]) << ls[i]) >> rs[i]
            a[i] = 0
    for i in range(hi - lo):
        nz += x[i] != 0
    return nz


@njit(cache=True, inline="always")
def _trunc12(p):
    """``trunc0(p / 4096)`` without a branch (arithmetic shift after biasing negatives)."""
    return (p + ((p >> 63) & 4095)) >> 12


# The neuron update is four short loops rather than one: each touches few arrays, so LLVM's
# runtime alias checks stay under its limit and every loop is vectorized (one fused loop over
# nine arrays is not, and costs three times as much).  Callers pass slices: indexing a slice
# from 0 is what lets LLVM drop Numba's negative-index handling and vectorize.

@njit(cache=True, _nrt=False)
def update_current(ain, u, du1):
    """``u <- wrap24(int32(trunc0(u * du1 / 4096)) + int32(a << 6))`` for every neuron."""
    for i in range(u.shape[0]):
        ud = _trunc12(np.int64(u[i]) * du1[i])
        uc = _wrap32(_wrap32(ud) + _wrap32(ain[i] << 6))
        u[i] = uc - np.int64(16777216) * (uc > 8388608) + np.int64(16777216) * (uc <= -8388608)


@njit(cache=True, _nrt=False)
def update_voltage(u, v, dv1, bias):
    """``v <- sat24(trunc0(v * dv1 / 4096) + u + bias)`` for every neuron."""
    for i in range(v.shape[0]):
        vv = _trunc12(np.int64(v[i]) * dv1[i]) + u[i] + bias[i]
        v[i] = min(max(vv, -STATE_MAX), STATE_MAX)


@njit(cache=True, _nrt=False)
def fire(v, vth6, rsub, spikes):
    """Spike where ``v > vth << 6``; reset to 0 or by subtraction; returns the spike count."""
    c = 0
    for i in range(v.shape[0]):
        vv = np.int64(v[i])
        th = np.int64(vth6[i])
        s = vv > th
        v[i] = ((vv - th) * rsub[i]) if s else vv
        spikes[i] = s
        c += s
    return c


# The fused update (issue 19): at low rates only a few neurons spike per step, so the step is
# the neuron update; one pass over narrow int32 state with the profile's constants as scalars
# does it at a few instructions per neuron.  Its int32 arithmetic is exact under the guard that
# ``engine._run_functional`` checks once per run (|input| <= 2**18 per step, |u|, |v| <= 2**23
# at start): then |u| stays <= 2**23 (the 24-bit correction is never needed twice) and
# decayed v + u + bias, with the bias clipped to +-2**25 (beyond it the sum saturates either
# way), cannot overflow.  Runs that fail the guard use the int64 loops below.
I32 = np.int32
F64 = np.float64


@njit(cache=True, _nrt=False)
def update_lif(a, u, v, ref, spikes, bias32, duf, dvf, vth6, rmask, refr):
    """One segment of neurons sharing a profile: input ``a`` (the accumulator slot, or the
    shifted class sum; cleared here), current, voltage, threshold, reset and refractory
    period, in one vectorized loop.  Returns (inputs non-zero, spikes without input): the
    active-update count's parts.

    The decays ``trunc0(x * d / 4096)`` are one double multiply (``duf = d / 4096``): the
    product of an int32 and a 13-bit factor is exact in a double, so its truncation toward zero
    is the integer result, and it costs less than two 32-bit multiplies.  A factor of 0 (du =
    4095: no current memory) or 1 (dv = 0: no leak) is common and is hoisted out of the loop,
    and so is a refractory period of 0 (``ref`` then stays 0 and is not read): eight copies of
    the loop, LLVM folding the constant flags.  ``rmask`` is -1 for reset by subtraction, 0 for
    reset to zero; ``refr``: the segment's refractory period (a spike sets ``ref`` to it, a
    neuron with ``ref > 0`` keeps its voltage, cannot spike and counts ``ref`` down).
    """
    if refr > 0:
        if duf == 0.0:
            if dvf == 1.0:
                return _lif_loop(a, u, v, ref, spikes, bias32, duf, dvf, vth6, rmask, refr,
                                 False, False, True)
            return _lif_loop(a, u, v, ref, spikes, bias32, duf, dvf, vth6, rmask, refr,
                             False, True, True)
        if dvf == 1.0:
            return _lif_loop(a, u, v, ref, spikes, bias32, duf, dvf, vth6, rmask, refr,
                             True, False, True)
        return _lif_loop(a, u, v, ref, spikes, bias32, duf, dvf, vth6, rmask, refr,
                         True, True, True)
    if duf == 0.0:
        if dvf == 1.0:
            return _lif_loop(a, u, v, ref, spikes, bias32, duf, dvf, vth6, rmask, refr,
                             False, False, False)
        return _lif_loop(a, u, v, ref, spikes, bias32, duf, dvf, vth6, rmask, refr,
                         False, True, False)
    if dvf == 1.0:
        return _lif_loop(a, u, v, ref, spikes, bias32, duf, dvf, vth6, rmask, refr,
                         True, False, False)
    return _lif_loop(a, u, v, ref, spikes, bias32, duf, dvf, vth6, rmask, refr,
                     True, True, False)


@njit(cache=True, inline="always")
def _lif_loop(a, u, v, ref, spikes, bias32, duf, dvf, vth6, rmask, refr, decay_u, decay_v,
              refractory):
    """The loop of :func:`update_lif`.  Every value stays int32 (``I32`` after each step) so
    LLVM packs eight neurons per 256-bit register (the decays' doubles in 512-bit ones)."""
    zeros = I32(0)
    nq = I32(0)
    for i in range(u.shape[0]):
        x = a[i]
        a[i] = 0
        z = I32(x == 0)
        zeros = I32(zeros + z)
        uc = I32(x << 6)
        if decay_u:
            uc = I32(I32(F64(u[i]) * duf) + uc)
        uc = I32(uc - I32(16777216 * I32(uc > 8388608)) + I32(16777216 * I32(uc <= -8388608)))
        u[i] = uc
        v0 = v[i]
        vd = v0
        if decay_v:
            vd = I32(F64(vd) * dvf)
        vv = I32(I32(vd + uc) + bias32[i])
        vv = min(max(vv, I32(-STATE_MAX)), I32(STATE_MAX))
        s = I32(vv > vth6)
        vn = I32(I32(vv - vth6) & rmask) if s else vv
        if refractory:
            r = ref[i]
            fz = I32(r > 0)
            s = I32(s & I32(fz ^ 1))
            v[i] = v0 if fz else vn
            ref[i] = I32(r - 1) if fz else I32(refr * s)
        else:
            v[i] = vn
        spikes[i] = s
        nq = I32(nq + I32(s & z))
    return u.shape[0] - zeros, nq


@njit(cache=True, _nrt=False)
def special_neurons(special, vold, had, nrn, st, spikes):
    """The rare paths (refractory, adaptive threshold) of the listed neurons, redone from their
    voltage before the vectorized loops (``vold``); ``had[j]``: whether neuron ``special[j]``
    had input this step.  Returns the change in spikes without input (the active count).
    ``nrn``/``st``: the driver's NRN and ST tuples (indices below)."""
    u, v, theta, ref = st[S_U], st[S_V], st[S_THETA], st[S_REF]
    dv1, vth6, bias, rsub = nrn[N_DV1], nrn[N_VTH6], nrn[N_BIAS], nrn[N_RSUB]
    d_quiet = 0
    for j in range(special.shape[0]):
        i = special[j]
        hs = np.int64(spikes[i])
        th = _trunc12(theta[i] * nrn[N_THD1][i])
        vth_eff = np.int64(vth6[i]) + th
        s = 0
        if ref[i] > 0:
            ref[i] -= 1
            v[i] = vold[j]
        else:
            vv = _trunc12(vold[j] * dv1[i]) + u[i] + bias[i]
            vv = min(max(vv, -STATE_MAX), STATE_MAX)
            if vv > vth_eff:
                s = 1
                vv = vv - vth_eff if rsub[i] == 1 else 0
                ref[i] = nrn[N_REFR][i]
                th = min(th + nrn[N_THINC][i], STATE_MAX)
            else:
                ref[i] = 0
            v[i] = vv
        theta[i] = th
        spikes[i] = s
        if had[j] == 0:
            d_quiet += s - hs
    return d_quiet


# ---- the functional driver -------------------------------------------------------------------
# Its operands travel as a few tuples with named field indices (a Numba kernel of fifty bare
# parameters is unreadable); the Python side builds them in ``engine._run_functional``.
#: NRN: :class:`~spikefab.emulator.flat.NeuronArrays`, in field order
N_DU1, N_DV1, N_VTH6, N_BIAS, N_RSUB, N_REFR, N_THD1, N_THINC, N_SPECIAL, N_SP_START, N_LSH, \
    N_RSH, N_BIAS32, N_SEG_LO, N_SEG_PS, N_SEG_DUF, N_SEG_DVF, N_SEG_VTH6, N_SEG_RMASK, \
    N_SEG_REFR, N_SPECIAL_F, N_SPF_START = range(22)
#: FO: :class:`~spikefab.emulator.fanout.FanOut`, in field order
F_PN, F_SC_PS, F_SC_OFF, F_SC_W, F_MB_PS, F_MB_BLK, F_BP, F_BK_OFF, F_BK_LEN, F_BK_MSTART, \
    F_BK_SRC, F_BK_WPOS, F_BK_CPOS, F_BK_COLSUM, F_DW, F_LP_SC, F_LP_MB = range(17)
#: NET: the image's tables (:class:`~spikefab.emulator.flat.FlatImage`)
T_NOFF, T_AX_START, T_AX_COUNT, T_SYN_OFF, T_SYN_W, T_HR_START, T_HR_COUNT, T_ROUTES, \
    T_NR_START, T_NR_COUNT, T_ROUTE_DST, T_ROUTE_SUMS = range(12)
#: IO: what the run reads and writes besides the state (I_PROF: the per-thread profile,
#: ``(steps, workers, P_N)`` int64, or an empty array: no profile, no clock read)
I_IN, I_OUT, I_PROBE_IDX, I_PROBE_VAR, I_TRACES, I_COUNTERS, I_TIMING, I_EST, I_PROF = range(9)
#: PROF columns: per phase of a step the thread's CPU ns and wall ns (deliver: the previous
#: step's spikes and host input into the worker's parts and their staged commit; update: its
#: neurons; send: listing its spikes, their routes and rows, its probes; serial: worker 0's
#: host-input counts and the previous step's estimate; wait: the barrier), then the worker's
#: work: spike rows it delivered, their scattered synaptic events and block rows, its neurons
#: and their spikes (of the previous step)
P_DELIVER_CPU, P_DELIVER_WALL, P_UPDATE_CPU, P_UPDATE_WALL, P_SEND_CPU, P_SEND_WALL, \
    P_SERIAL_CPU, P_SERIAL_WALL, P_WAIT_CPU, P_WAIT_WALL, P_ROWS, P_EVENTS, P_BLOCK_ROWS, \
    P_NEURONS, P_SPIKES = range(15)
P_N = 15
#: RING: accumulators ``acc``, the staging ring and the class shifts its commit applies
R_ACC, R_STAGE, R_CLSH, R_CRSH = range(4)
#: DIM: int64 array of sizes and flags (D_FUSED: the fused int32 update's guard holds)
D_STEPS, D_CLASSES, D_SLOTS, D_STAGED, D_FUSED = range(5)
#: ST: the run's state and scratch (:func:`new_state`).  Per part and step parity: the core
#: loads of its spikes (EMIT, DPK, DSYN: ``(2, parts, cores)``), its spike rows for each target
#: part (LSC: scatter ``(start, end)`` pairs, LMB: block membership rows ``q``, at
#: ``FO[F_LP_SC]`` / ``FO[F_LP_MB]``) and their counts (LCNT ``(2, parts, .)``: scatter rows
#: per target, block rows per target, own spikes); per part its counter totals (PC).
S_U, S_V, S_THETA, S_REF, S_AIN, S_SPK, S_VOLD, S_HAD, S_EMIT, S_DPK, S_DSYN, S_CORE_OF, \
    S_UPD, S_BCNT, S_TOUCHED, S_FIRED, S_PACT, S_LSC, S_LMB, S_LCNT, S_PC = range(21)


@njit(cache=True, inline="always")
def _pad8(k):
    """``k`` rounded up to whole 64-byte lines of int64, plus one line: rows that different
    threads write do not share a cache line."""
    return (k + 7) // 8 * 8 + 8


@njit(cache=True)
def new_state(params, ref, n_special, n_cores, n_blocks, fo, noff, nc):
    """The ST tuple: 32-bit u/v, theta, 32-bit ref, two spike buffers (step
    parity; padded to 8 for :func:`send_part`), the special neurons' voltage and input flag
    before the update, per-part core loads, block scratch, fired lists, per-part active
    counts, spike-row lists and counters (see ``S_*``)."""
    n = ref.shape[0]
    parts = fo[F_PN].shape[0] - 1
    core_of, upd = _core_loads(noff, n, nc)
    cp = _pad8(n_cores)
    return (params[8].astype(np.int32), params[9].astype(np.int32), params[10].copy(),
            ref.astype(np.int32), np.zeros(n, np.int64),
            np.zeros((2, (n + 7) // 8 * 8), np.uint8),
            np.zeros(n_special, np.int64), np.zeros(n_special, np.uint8),
            np.zeros((2, parts, cp), np.int64), np.zeros((2, parts, cp), np.int64),
            np.zeros((2, parts, cp), np.int64), core_of, upd, np.zeros(n_blocks, np.int64),
            np.zeros(n_blocks, np.int64), np.zeros(n, np.int64), np.zeros(_pad8(parts), np.int64),
            # one part builds no row lists (deliver_part reads its spikes)
            np.zeros((2, fo[F_LP_SC][-1] if parts > 1 else 0, 2), np.int64),
            np.zeros((2, fo[F_LP_MB][-1] if parts > 1 else 0), np.int64),
            np.zeros((2, parts, _pad8(2 * parts + 1)), np.int64),
            np.zeros((parts, _pad8(N_COUNTERS)), np.int64))


@njit(cache=True, _nrt=False)
def _save_special(special, s0, s1, src, st):
    """The voltage of the special neurons ``special[s0:s1]`` and whether they have input,
    before the update."""
    v, vold, had = st[S_V], st[S_VOLD], st[S_HAD]
    for j in range(s0, s1):
        i = special[j]
        vold[j] = v[i]
        had[j] = src[i] != 0


@njit(cache=True, _nrt=False)
def _fused_part(p, src, nrn, st, spikes):
    """:func:`update_lif` over the profile segments of part ``p``, then its special neurons;
    ``src``: the step's input per neuron (global index).  Returns the part's active count."""
    u, v, ref = st[S_U], st[S_V], st[S_REF]
    special = nrn[N_SPECIAL_F]
    s0 = nrn[N_SPF_START][p]
    s1 = nrn[N_SPF_START][p + 1]
    _save_special(special, s0, s1, src, st)
    seg_lo, bias32 = nrn[N_SEG_LO], nrn[N_BIAS32]
    duf, dvf, vth6, rmask = nrn[N_SEG_DUF], nrn[N_SEG_DVF], nrn[N_SEG_VTH6], nrn[N_SEG_RMASK]
    refr = nrn[N_SEG_REFR]
    act = 0
    for g in range(nrn[N_SEG_PS][p], nrn[N_SEG_PS][p + 1]):
        lo = seg_lo[g]
        hi = seg_lo[g + 1]
        nz, nq = update_lif(src[lo:hi], u[lo:hi], v[lo:hi], ref[lo:hi], spikes[lo:hi],
                            bias32[lo:hi], duf[g], dvf[g], vth6[g], rmask[g], refr[g])
        act += nz + nq
    if s1 > s0:
        act += special_neurons(special[s0:s1], st[S_VOLD][s0:s1], st[S_HAD][s0:s1], nrn, st,
                               spikes)
    return act


@njit(cache=True, _nrt=False)
def update_part(p, t, dim, nrn, pn, shifted, acc, st, spikes):
    """Step ``t`` of the neurons of part ``p`` (``pn[p]..pn[p+1]``); the part's active count
    (input non-zero, or spiking) goes to ``ST[S_PACT][p]``.

    Fused (``DIM[D_FUSED]``): :func:`update_lif` reads the accumulator slot itself (one class,
    exponent 0) or the shifted class sums of :func:`synaptic_input`.  Otherwise the int64
    loops: input, current, voltage, fire, each vectorized on its own."""
    u, v, ain = st[S_U], st[S_V], st[S_AIN]
    n = u.shape[0]
    lo = pn[p]
    hi = pn[p + 1]
    if dim[D_FUSED]:
        if shifted:
            synaptic_input(t, dim[D_SLOTS], dim[D_CLASSES], n, lo, hi, True, nrn[N_LSH],
                           nrn[N_RSH], acc, ain)
            st[S_PACT][p] = _fused_part(p, ain, nrn, st, spikes)
        else:
            base = (t % dim[D_SLOTS]) * dim[D_CLASSES] * n
            st[S_PACT][p] = _fused_part(p, acc[base:base + n], nrn, st, spikes)
        return
    nz = synaptic_input(t, dim[D_SLOTS], dim[D_CLASSES], n, lo, hi, shifted,
                        nrn[N_LSH], nrn[N_RSH], acc, ain)
    s0 = nrn[N_SP_START][p]
    s1 = nrn[N_SP_START][p + 1]
    _save_special(nrn[N_SPECIAL], s0, s1, ain, st)
    update_current(ain[lo:hi], u[lo:hi], nrn[N_DU1][lo:hi])
    update_voltage(u[lo:hi], v[lo:hi], nrn[N_DV1][lo:hi], nrn[N_BIAS][lo:hi])
    fire(v[lo:hi], nrn[N_VTH6][lo:hi], nrn[N_RSUB][lo:hi], spikes[lo:hi])
    if s1 > s0:
        special_neurons(nrn[N_SPECIAL][s0:s1], st[S_VOLD][s0:s1], st[S_HAD][s0:s1], nrn, st,
                        spikes)
    st[S_PACT][p] = nz + _quiet(ain[lo:hi], spikes[lo:hi])


@njit(cache=True, _nrt=False)
def _quiet(ain, spikes):
    """Spikes without input (they count as active updates too)."""
    c = 0
    for i in range(ain.shape[0]):
        c += spikes[i] & (ain[i] == 0)
    return c


@njit(cache=True, _nrt=False)
def deliver_blocks(base, dcn, spikes, touched, bcnt, fo, acc):
    """Deliver every block in ``touched`` (fanout.py): the spiking rows, or the column sum minus
    the silent rows when most rows spike.  Resets ``bcnt`` of those blocks."""
    bk_mstart, bk_src, bk_wpos, dw = fo[F_BK_MSTART], fo[F_BK_SRC], fo[F_BK_WPOS], fo[F_DW]
    for j in range(touched.shape[0]):
        b = touched[j]
        m0 = bk_mstart[b]
        m1 = bk_mstart[b + 1]
        ln = fo[F_BK_LEN][b]
        o = base + fo[F_BK_OFF][b]
        if o >= dcn:
            o -= dcn
        a = acc[o:o + ln]                  # slices: the row loops vectorize (indexing does not)
        if 2 * bcnt[b] > m1 - m0:
            c0 = fo[F_BK_CPOS][b]
            cs = fo[F_BK_COLSUM][c0:c0 + ln]
            for k in range(ln):
                a[k] += cs[k]
            for m in range(m0, m1):
                if spikes[bk_src[m]] == 0:
                    w = dw[bk_wpos[m]:bk_wpos[m] + ln]
                    for k in range(ln):
                        a[k] -= w[k]
        else:
            for m in range(m0, m1):
                if spikes[bk_src[m]] != 0:
                    w = dw[bk_wpos[m]:bk_wpos[m] + ln]
                    for k in range(ln):
                        a[k] += w[k]
        bcnt[b] = 0


#: rows (spikes) ahead of the one being delivered (listed) whose cache lines are requested: far
#: enough to cover a miss to memory, near enough that the lines are still in L1/L2 when used
AHEAD = 16
#: neurons above which a spiking neuron's entries (~100 bytes of route, row and core tables)
#: are cold and :func:`send_part` requests them ahead; below, they stay in L2 from step to
#: step and the requests only cost instructions (Dense->LIF, 2,000 neurons: ~4 us of a 45 us
#: step)
COLD_N = 1 << 16
#: rows ahead whose accumulator lines are requested (needs the row's offsets, AHEAD - ACC_AHEAD
#: rows after their own request)
ACC_AHEAD = 6
#: accumulator entries of one part above which its ring is not cache-resident and the scatter's
#: targets are requested ahead (below it, the address arithmetic would cost more than it saves)
FAR_ACC = 1 << 18


@njit(cache=True, inline="always")
def _row(k, one, fired, sc_ps, lsc):
    """Scatter row ``k`` of a delivery list as ``(start, end)`` in FO[F_SC_OFF]: with one part
    (``one``) the ``k``-th spiking neuron's whole row, else entry ``k`` of ST[S_LSC]."""
    if one:
        i = fired[k]
        return sc_ps[i], sc_ps[i + 1]
    return lsc[k, 0], lsc[k, 1]


@njit(cache=True, _nrt=False)
def deliver_part(p, base, dcn, bp_, prev, fo, st, acc):
    """Add the previous step's spikes into the accumulators of part ``p`` only: the rows that
    their owners listed for ``p`` (buffer ``bp_`` of ST[S_LSC] / ST[S_LMB], see
    :func:`send_part`), scattered synapses first, then blocks (``prev``: those spikes).  With
    one part the lists are the spiking neurons themselves (ST[S_FIRED], still holding the
    previous step's: only the part's own send overwrites them), so none are built.

    A spiking neuron's row is cold: the lines of the row ``AHEAD`` rows on are requested
    before each row is added, and on a ring too large for the caches also the accumulators
    that the row ``ACC_AHEAD`` on will add to."""
    parts = fo[F_PN].shape[0] - 1
    one = parts == 1
    sc_ps, sc_off, sc_w, mb_ps, mb_blk = fo[F_SC_PS], fo[F_SC_OFF], fo[F_SC_W], fo[F_MB_PS], \
        fo[F_MB_BLK]
    lp_sc, lp_mb = fo[F_LP_SC], fo[F_LP_MB]
    lsc, lmb, lcnt = st[S_LSC][bp_], st[S_LMB][bp_], st[S_LCNT][bp_]
    bcnt, touched, fired = st[S_BCNT], st[S_TOUCHED], st[S_FIRED]
    far = dcn > FAR_ACC * parts
    for s in range(parts if sc_off.shape[0] > 0 else 0):        # no scatter rows: all dense
        o = 0 if one else lp_sc[s * parts + p]
        e = o + (lcnt[0, 2] if one else lcnt[s, p])
        for k in range(o, min(o + AHEAD, e)):
            r0, r1 = _row(k, one, fired, sc_ps, lsc)
            for x in range(r0, r1, 16):
                prefetch(sc_off, x)
            for x in range(r0, r1, 32):
                prefetch(sc_w, x)
        for k in range(o, e):
            if k + AHEAD < e:
                r0, r1 = _row(k + AHEAD, one, fired, sc_ps, lsc)
                for x in range(r0, r1, 16):
                    prefetch(sc_off, x)
                for x in range(r0, r1, 32):
                    prefetch(sc_w, x)
            if far and k + ACC_AHEAD < e:
                r0, r1 = _row(k + ACC_AHEAD, one, fired, sc_ps, lsc)
                for x in range(r0, r1):
                    idx = base + sc_off[x]
                    prefetch(acc, idx - dcn if idx >= dcn else idx)
            r0, r1 = _row(k, one, fired, sc_ps, lsc)
            for x in range(r0, r1):
                idx = base + sc_off[x]
                if idx >= dcn:
                    idx -= dcn
                acc[idx] += sc_w[x]
    nt = 0
    t0 = fo[F_BP][p]
    for s in range(parts if mb_blk.shape[0] > 0 else 0):
        o = 0 if one else lp_mb[s * parts + p]
        for k in range(o, o + (lcnt[0, 2] if one else lcnt[s, parts + p])):
            q = fired[k] if one else lmb[k]
            for m in range(mb_ps[q], mb_ps[q + 1]):
                b = mb_blk[m]
                if bcnt[b] == 0:
                    touched[t0 + nt] = b
                    nt += 1
                bcnt[b] += 1
    if nt > 0:
        deliver_blocks(base, dcn, prev, touched[t0:t0 + nt], bcnt, fo, acc)


@njit(cache=True, inline="always")
def count_routes(counters, route_sums, i, rc):
    """Add spiking neuron ``i``'s ``rc`` packets and its route sums (``route_sums[i]``: hops
    east-west, north-south and between chiplets, synaptic events, host outputs; flat.py) to
    ``counters``.  One owner for every functional kernel that sends spikes (this module's
    threaded walk, the distributed window in ``distributed/kernels.py``)."""
    counters[C_PACKETS] += rc
    counters[C_HOPS_EW] += route_sums[i, 0]
    counters[C_HOPS_NS] += route_sums[i, 1]
    counters[C_HOPS_CHIP] += route_sums[i, 2]
    counters[C_SYNOPS] += route_sums[i, 3]
    counters[C_HOST_OUT] += route_sums[i, 4]


@njit(cache=True, inline="always")
def _ask_neuron(i, parts, nr_start, nr_count, route_sums, sc_ps, mb_ps, core_of, blocks):
    """Request the lines of spiking neuron ``i``'s entries that :func:`send_part` reads."""
    prefetch(nr_start, i)
    prefetch(nr_count, i)
    prefetch(route_sums, 5 * i)
    prefetch(sc_ps, i * parts)
    if blocks:
        prefetch(mb_ps, i * parts)
    prefetch(core_of, i)


@njit(cache=True, _nrt=False)
def send_part(p, t, b, spikes, net, io, fo, st):
    """After part ``p``'s update of step ``t``: list its spiking neurons (ST[S_FIRED] from
    ``pn[p]``), add their packets, hops, synaptic events and host outputs to the part's
    counters and their packets and synapses to its per-core loads of the estimate (buffer
    ``b``), and list their non-empty rows per target part (:func:`deliver_part` adds them next
    step).

    ``NET[T_ROUTE_DST]`` is int32 ``(routes, 2)``: destination core and synapses, or ``-1 -
    channel`` for the host (engine.py): a busy step walks tens of thousands of routes, and
    8 bytes each stream from cache faster than the flat image's 24.  A spiking neuron's entries
    are cold: those of the neuron ``AHEAD`` on are requested before each neuron is walked,
    and its route rows ``ACC_AHEAD`` on (their start is in cache by then)."""
    parts = fo[F_PN].shape[0] - 1
    lo = fo[F_PN][p]
    hi = fo[F_PN][p + 1]
    fired, out = st[S_FIRED], io[I_OUT]
    nr_start, nr_count, route_dc, route_sums = net[T_NR_START], net[T_NR_COUNT], \
        net[T_ROUTE_DST], net[T_ROUTE_SUMS]
    sc_ps, mb_ps, lp_sc, lp_mb = fo[F_SC_PS], fo[F_MB_PS], fo[F_LP_SC], fo[F_LP_MB]
    emit, dest_pk, dest_syn = st[S_EMIT][b, p], st[S_DPK][b, p], st[S_DSYN][b, p]
    lsc, lmb, lcnt, pc, core_of = st[S_LSC][b], st[S_LMB][b], st[S_LCNT][b, p], st[S_PC][p], \
        st[S_CORE_OF]
    n_f = 0
    words = spikes.view(np.uint64)                  # few neurons spike: skip 8 at a time
    for w in range(lo // 8, (hi + 7) // 8):
        if words[w] != 0:              # branch-free: busy layers spike at random
            for i in range(max(8 * w, lo), min(8 * w + 8, hi)):
                fired[lo + n_f] = i            # lo + n_f <= i: never past the part
                n_f += spikes[i] != 0
    for k in range(2 * parts):
        lcnt[k] = 0
    has_blocks = fo[F_BK_OFF].shape[0] > 0
    cold = nr_start.shape[0] > COLD_N
    end = lo + n_f
    for j in range(lo, min(lo + AHEAD, end) if cold else lo):
        _ask_neuron(fired[j], parts, nr_start, nr_count, route_sums, sc_ps, mb_ps, core_of,
                    has_blocks)
    for j in range(lo, min(lo + ACC_AHEAD, end) if cold else lo):
        i = fired[j]
        for k in range(2 * nr_start[i], 2 * (nr_start[i] + nr_count[i]), 16):
            prefetch(route_dc, k)
    for j in range(lo, end):
        if cold and j + AHEAD < end:
            _ask_neuron(fired[j + AHEAD], parts, nr_start, nr_count, route_sums, sc_ps, mb_ps,
                        core_of, has_blocks)
        if cold and j + ACC_AHEAD < end:
            i = fired[j + ACC_AHEAD]
            for k in range(2 * nr_start[i], 2 * (nr_start[i] + nr_count[i]), 16):
                prefetch(route_dc, k)
        i = fired[j]
        rc = nr_count[i]
        if rc == 0:
            continue
        emit[core_of[i]] += rc
        count_routes(pc, route_sums, i, rc)
        for r in range(nr_start[i], nr_start[i] + rc):
            d = route_dc[r, 0]
            if d < 0:
                out[t, -1 - d] = 1
            else:
                dest_pk[d] += 1
                dest_syn[d] += route_dc[r, 1]
        for tp in range(parts if parts > 1 else 0):      # one part: deliver_part reads fired
            q = i * parts + tp
            if sc_ps[q + 1] > sc_ps[q]:
                k = lp_sc[p * parts + tp] + lcnt[tp]
                lsc[k, 0] = sc_ps[q]
                lsc[k, 1] = sc_ps[q + 1]
                lcnt[tp] += 1
            if has_blocks and mb_ps[q + 1] > mb_ps[q]:
                lmb[lp_mb[p * parts + tp] + lcnt[parts + tp]] = q
                lcnt[parts + tp] += 1
    lcnt[2 * parts] = n_f
    act = st[S_PACT][p]
    pc[C_SPIKES] += n_f
    pc[C_ACTIVE] += act
    pc[C_INACTIVE] += hi - lo - act


@njit(cache=True, _nrt=False)
def host_counts(t, b, net, io, st):
    """Worker 0, step ``t``: the host input's packets, hops, synaptic events and host outputs
    into part 0's counters and per-core loads (buffer ``b``); :func:`host_deliver` adds its
    synapses next step, each part its own."""
    hr_start, hr_count, in_spikes, routes = net[T_HR_START], net[T_HR_COUNT], io[I_IN], \
        net[T_ROUTES]
    ax_count, out, pc = net[T_AX_COUNT], io[I_OUT], st[S_PC][0]
    dest_pk, dest_syn = st[S_DPK][b, 0], st[S_DSYN][b, 0]
    for ch in range(hr_start.shape[0]):
        if in_spikes[t, ch] and hr_count[ch] > 0:
            pc[C_HOST_IN] += hr_count[ch]
            for r in range(hr_start[ch], hr_start[ch] + hr_count[ch]):
                pc[C_PACKETS] += 1
                pc[C_HOPS_EW] += routes[r, 6]
                pc[C_HOPS_NS] += routes[r, 7]
                pc[C_HOPS_CHIP] += routes[r, 8]
                if routes[r, 0] != 0:
                    out[t, routes[r, 1]] = 1
                    pc[C_HOST_OUT] += 1
                    continue
                s = ax_count[routes[r, 1]]
                pc[C_SYNOPS] += s
                d = routes[r, 2]
                dest_pk[d] += 1
                dest_syn[d] += s


@njit(cache=True, _nrt=False)
def host_deliver(t, base, dcn, lo, hi, net, io, acc):
    """The host input of step ``t`` into the accumulators of neurons ``lo..hi`` (one part; an
    accumulator offset's neuron is the offset modulo ``n``), at ring offset ``base``."""
    hr_start, hr_count, in_spikes, routes = net[T_HR_START], net[T_HR_COUNT], io[I_IN], \
        net[T_ROUTES]
    ax_start, ax_count, syn_off, syn_w = net[T_AX_START], net[T_AX_COUNT], net[T_SYN_OFF], \
        net[T_SYN_W]
    n = net[T_NR_START].shape[0]
    whole = lo == 0 and hi == n
    for ch in range(hr_start.shape[0]):
        if in_spikes[t, ch] and hr_count[ch] > 0:
            for r in range(hr_start[ch], hr_start[ch] + hr_count[ch]):
                if routes[r, 0] != 0:
                    continue
                ax = routes[r, 1]
                for k in range(ax_start[ax], ax_start[ax] + ax_count[ax]):
                    off = syn_off[k]
                    if not whole:
                        i = off % n
                        if i < lo or i >= hi:
                            continue
                    idx = base + off
                    if idx >= dcn:
                        idx -= dcn
                    acc[idx] += syn_w[k]


@njit(cache=True, _nrt=False)
def estimate(t, b, io, st):
    """Worker 0: step ``t``'s core-time estimate from the parts' per-core loads (buffer ``b``,
    cleared here): ``max_core max(n*nc + emitted, packets*pc + synops*sc)``."""
    timing = io[I_TIMING]
    emit, dest_pk, dest_syn, upd = st[S_EMIT][b], st[S_DPK][b], st[S_DSYN][b], st[S_UPD]
    best = 0
    for ci in range(upd.shape[0]):
        e = 0
        pk = 0
        sy = 0
        for p in range(emit.shape[0]):
            e += emit[p, ci]
            pk += dest_pk[p, ci]
            sy += dest_syn[p, ci]
            emit[p, ci] = 0
            dest_pk[p, ci] = 0
            dest_syn[p, ci] = 0
        best = max(best, max(upd[ci] + e, pk * timing[1] + sy * timing[2]))
    io[I_EST][t] = best


@njit(cache=True, _nrt=False)
def probe_part(t, lo, hi, io, st, spikes):
    """Step ``t``'s probed variables of the neurons ``lo..hi`` (one part) into the traces."""
    probe_idx, probe_var, traces = io[I_PROBE_IDX], io[I_PROBE_VAR], io[I_TRACES]
    for j in range(probe_idx.shape[0]):
        i = probe_idx[j]
        if i < lo or i >= hi:
            continue
        k = probe_var[j]
        if k == 0:
            traces[t, j] = st[S_U][i]
        elif k == 1:
            traces[t, j] = st[S_V][i]
        elif k == 2:
            traces[t, j] = st[S_THETA][i]
        elif k == 3:
            traces[t, j] = st[S_REF][i]
        else:
            traces[t, j] = spikes[i]


@njit(cache=True, _nrt=False)
def _shifted(n_classes, lsh, rsh):
    if n_classes > 1:
        return True
    for k in range(lsh.shape[0]):
        if lsh[k] != 0 or rsh[k] != 0:
            return True
    return False


@njit(cache=True)
def _core_loads(noff, n, nc):
    core_of = np.zeros(n, np.int64)
    upd = np.zeros(noff.shape[0] - 1, np.int64)          # hoisted: per-core update time
    for ci in range(noff.shape[0] - 1):
        core_of[noff[ci]:noff[ci + 1]] = ci
        upd[ci] = (noff[ci + 1] - noff[ci]) * nc
    return core_of, upd


@njit(cache=True, inline="always")
def _tick(row, col, c0, m0):
    """Profile: add the thread CPU and wall ns since the last tick (``c0``, ``m0``) to
    ``row[col]`` and ``row[col + 1]`` (``col`` -1: only restart); returns the clocks now."""
    c = clock_ns(THREAD_CPU)
    m = clock_ns(MONOTONIC)
    if col >= 0:
        row[col] += c - c0
        row[col + 1] += m - m0
    return c, m


@njit(cache=True, _nrt=False)
def _count_work(p, bp_, fo, st, row):
    """Profile: the work of part ``p`` in this step (counted before its timed phases): the
    spike rows listed for it (buffer ``bp_``), their scattered synaptic events and block rows,
    its neurons and their spikes of the previous step."""
    parts = fo[F_PN].shape[0] - 1
    lp_sc, lsc, lcnt = fo[F_LP_SC], st[S_LSC][bp_], st[S_LCNT][bp_]
    if parts == 1:                     # no lists: the spiking neurons' rows (deliver_part)
        sc_ps, mb_ps, fired = fo[F_SC_PS], fo[F_MB_PS], st[S_FIRED]
        for k in range(lcnt[0, 2]):
            i = fired[k]
            row[P_ROWS] += sc_ps[i + 1] > sc_ps[i]
            row[P_EVENTS] += sc_ps[i + 1] - sc_ps[i]
            row[P_BLOCK_ROWS] += mb_ps[i + 1] > mb_ps[i]
    for s in range(parts if parts > 1 else 0):
        o = lp_sc[s * parts + p]
        row[P_ROWS] += lcnt[s, p]
        for k in range(o, o + lcnt[s, p]):
            row[P_EVENTS] += lsc[k, 1] - lsc[k, 0]
        row[P_BLOCK_ROWS] += lcnt[s, parts + p]
    row[P_NEURONS] += fo[F_PN][p + 1] - fo[F_PN][p]
    row[P_SPIKES] += lcnt[p, 2 * parts]


@njit(cache=True, _nrt=False)
def step_loop(w, workers, bar, dim, net, io, nrn, fo, ring, st):
    """The whole run as seen by worker ``w`` of ``workers`` (one for the single-thread driver).

    Step ``t``, for each of the worker's parts (``w, w + workers, ...``): add step ``t - 1``'s
    spike rows listed for the part and the host input into its accumulators (no other part
    writes them) and commit their staged sums, update its neurons, then list its spikes
    (:func:`send_part`: counters, routes, per-core loads, rows per target part) and record its
    probes.  Worker 0 also counts step ``t``'s host input and finishes step ``t - 1``'s
    estimate; then one barrier.  Everything a step writes for the next one is kept per step
    parity, so one barrier per step suffices.  Parts own disjoint neurons and accumulators,
    counters are per part, and integer sums do not depend on order, so any number of parts
    and workers gives the same bytes.  The last step's spikes and host input are never
    delivered, which changes nothing (only the accumulators would see them);
    :func:`finish_run` does the last estimate and sums the counters.

    Lava DelayDense staging (:func:`staging`): when ``DIM[D_STAGED]``, deliveries go to
    ``RING[R_STAGE]`` and :func:`commit_part` shifts each step's sums by the class exponents
    into ``RING[R_ACC]``; the update's exponents (``NRN[N_LSH]``/``[N_RSH]``) are then zero.
    """
    n = st[S_REF].shape[0]
    pn = fo[F_PN]
    parts = pn.shape[0] - 1
    slots = dim[D_SLOTS]
    cn = dim[D_CLASSES] * n
    acc, stage = ring[R_ACC], ring[R_STAGE]
    shifted = _shifted(dim[D_CLASSES], nrn[N_LSH], nrn[N_RSH])
    prof = io[I_PROF]
    on = prof.shape[0] > 0
    c_ns = m_ns = np.int64(0)          # the profile's clocks at the last tick
    gen = 0
    for t in range(dim[D_STEPS]):
        b = t & 1
        spikes = st[S_SPK][b]
        if on and t > 0:
            for p in range(w, parts, workers):
                _count_work(p, b ^ 1, fo, st, prof[t, w])
        for p in range(w, parts, workers):
            if on:
                c_ns, m_ns = _tick(prof[t, w], -1, c_ns, m_ns)
            if t > 0:
                deliver_part(p, (t % slots) * cn, slots * cn, b ^ 1, st[S_SPK][b ^ 1], fo, st,
                             stage)
                host_deliver(t - 1, (t % slots) * cn, slots * cn, pn[p], pn[p + 1], net, io,
                             stage)
                if dim[D_STAGED]:       # step t-1's staged sums (spikes, host input)
                    commit_part(t - 1, slots, dim[D_CLASSES], n, pn[p], pn[p + 1],
                                ring[R_CLSH], ring[R_CRSH], stage, acc)
            if on:
                c_ns, m_ns = _tick(prof[t, w], P_DELIVER_CPU, c_ns, m_ns)
            update_part(p, t, dim, nrn, pn, shifted, acc, st, spikes)
            if on:
                c_ns, m_ns = _tick(prof[t, w], P_UPDATE_CPU, c_ns, m_ns)
            send_part(p, t, b, spikes, net, io, fo, st)
            probe_part(t, pn[p], pn[p + 1], io, st, spikes)
            if on:
                c_ns, m_ns = _tick(prof[t, w], P_SEND_CPU, c_ns, m_ns)
        if w == 0:
            host_counts(t, b, net, io, st)
            if t > 0:
                estimate(t - 1, b ^ 1, io, st)
            if on:
                c_ns, m_ns = _tick(prof[t, w], P_SERIAL_CPU, c_ns, m_ns)
        gen = wait(bar, workers, gen)
        if on:
            c_ns, m_ns = _tick(prof[t, w], P_WAIT_CPU, c_ns, m_ns)


@njit(cache=True)
def finish_run(dim, io, st, params, ref):
    """After the step loop: the last step's estimate, the parts' counters summed into
    ``IO[I_COUNTERS]``, the state back into ``params`` and ``ref``."""
    steps = dim[D_STEPS]
    if steps > 0:
        estimate(steps - 1, (steps - 1) & 1, io, st)
    counters, pc = io[I_COUNTERS], st[S_PC]
    for p in range(pc.shape[0]):
        for k in range(N_COUNTERS):
            counters[k] += pc[p, k]
    params[8, :] = st[S_U]
    params[9, :] = st[S_V]
    params[10, :] = st[S_THETA]
    ref[:] = st[S_REF]


@njit(cache=True)
def run_functional(dim, net, io, nrn, fo, ring, params, ref):
    """Run ``DIM[D_STEPS]`` time steps of the whole image on one thread (:func:`step_loop`).

    ``ring[R_ACC]`` is the zeroed ring (int32 when the image's accumulator bound allows, else
    int64).  ``IO[I_TIMING]`` = (neuron_cycles, packet_cycles, synapse_cycles);
    ``IO[I_EST][t]`` receives the analytic per-step core-time estimate
    ``max_core max(n*nc + emitted, packets*pc + synops*sc)``.
    """
    st = new_state(params, ref, nrn[N_SPECIAL].shape[0], net[T_NOFF].shape[0] - 1,
                   fo[F_BK_OFF].shape[0], fo, net[T_NOFF], io[I_TIMING][0])
    step_loop(0, 1, new_barrier(), dim, net, io, nrn, fo, ring, st)
    finish_run(dim, io, st, params, ref)


@njit(cache=True, parallel=True)
def run_functional_threads(workers, dim, net, io, nrn, fo, ring, params, ref):
    """:func:`run_functional` on ``workers`` threads: ONE parallel region for the whole run
    (one iteration per worker, :func:`step_loop`), one spin barrier per step instead of a
    fork and join.  ``workers`` must not exceed the threads that run at once (engine.py)."""
    st = new_state(params, ref, nrn[N_SPECIAL].shape[0], net[T_NOFF].shape[0] - 1,
                   fo[F_BK_OFF].shape[0], fo, net[T_NOFF], io[I_TIMING][0])
    bar = new_barrier()
    for w in prange(workers):
        step_loop(w, workers, bar, dim, net, io, nrn, fo, ring, st)
    finish_run(dim, io, st, params, ref)


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


# ---- flatten helpers: one pass over the synapses, no per-synapse temporaries -------------------

@njit(cache=True)
def axons_with_runs(ax_start, ax_count, syn_off, n, min_run, max_gap):
    """Per axon, whether its synapses hold a dense run (fanout.py): at least ``min_run``
    offsets, sorted, with steps of 1..``max_gap`` inside one (ring slot, class) region, covering
    at least half of their span.

    Sorting every axon costs ~100 ns per synapse, so a necessary condition screens first: such a
    run touches at most ``2 * cnt / 16 + 2`` aligned 16-offset buckets, so one bucket holds at
    least ``16 cnt / (2 cnt + 31)`` > 4 of its offsets (for ``min_run`` >= 16).  Axons whose
    buckets all hold 4 or fewer are skipped after one pass (sparse, random fan-outs)."""
    na = ax_start.shape[0]
    out = np.zeros(na, np.bool_)
    if n == 0 or na == 0 or syn_off.shape[0] == 0:
        return out
    hist = np.zeros(np.int64(syn_off.max()) // 16 + 1, np.uint8)
    buf = np.zeros(max(ax_count.max(), 1), np.int64)
    for a in range(na):
        c = ax_count[a]
        if c < min_run:
            continue
        s0 = ax_start[a]
        crowded = False
        for k in range(s0, s0 + c):
            b = syn_off[k] // 16
            if hist[b] < 255:
                hist[b] += 1
            if hist[b] > 4:
                crowded = True
        for k in range(s0, s0 + c):
            hist[syn_off[k] // 16] = 0
        if not crowded:
            continue
        for k in range(c):
            buf[k] = syn_off[s0 + k]
        srt = np.sort(buf[:c])
        lo = 0
        for k in range(1, c + 1):
            if k == c or srt[k] - srt[k - 1] <= 0 or srt[k] - srt[k - 1] > max_gap \
                    or srt[k] // n != srt[k - 1] // n:
                cnt = k - lo
                if cnt >= min_run and 2 * cnt >= srt[k - 1] - srt[lo] + 1:
                    out[a] = True
                    break
                lo = k
    return out


@njit(cache=True)
def gather_fan_out(nr_start, nr_count, routes, ax_start, syn_off, syn_w, fo_start, fo_off,
                   fo_w, entry_dense, ax_dense):
    """Fill the neuron-major fan-out (``flat._fan_out``): neuron ``i``'s synapses through all its
    routes, in route order, from ``fo_start[i]``; ``entry_dense`` marks the entries whose axon
    is in ``ax_dense`` (only those are looked at for dense blocks)."""
    for i in range(nr_start.shape[0]):
        k = fo_start[i]
        for r in range(nr_start[i], nr_start[i] + nr_count[i]):
            cnt = routes[r, 9]
            if cnt == 0:
                continue
            ax = routes[r, 1]
            s0 = ax_start[ax]
            dense = ax_dense[ax]
            for j in range(cnt):
                fo_off[k] = syn_off[s0 + j]
                fo_w[k] = syn_w[s0 + j]
                entry_dense[k] = dense
                k += 1


@njit(cache=True)
def acc_bound(ax_start, ax_count, mult, syn_off, syn_w, cn):
    """Largest sum of |weight| x (routes into its axon) over the synapses of one (class, neuron)
    accumulator: what one ring slot can receive (each route fires at most once per step, a
    synapse has one delay).  Axons no route reaches (``mult`` 0) deliver nothing."""
    if syn_w.shape[0] == 0 or cn == 0:
        return 0
    s = np.zeros(cn, np.int64)
    for a in range(ax_start.shape[0]):
        m = np.int64(mult[a])
        if m == 0:
            continue
        for k in range(ax_start[a], ax_start[a] + ax_count[a]):
            s[np.int64(syn_off[k]) % cn] += abs(np.int64(syn_w[k])) * m
    return s.max()


@njit(cache=True)
def scatter_by_part(fo_start, fo_off, fo_w, in_dense, pn):
    """The scatter tables of :class:`~spikefab.emulator.fanout.FanOut`: every fan-out entry
    outside a dense row, grouped by (source neuron, part of its target) in fan-out order; a
    counting sort (two passes, no per-entry temporaries).  Returns ``(sc_ps, sc_off, sc_w)``."""
    parts = pn.shape[0] - 1
    n_src = fo_start.shape[0] - 1
    n = max(pn[parts], 1)
    sc_ps = np.zeros(n_src * parts + 1, np.int64)
    for i in range(n_src):
        for k in range(fo_start[i], fo_start[i + 1]):
            if not in_dense[k]:
                p = np.searchsorted(pn, np.int64(fo_off[k]) % n, side="right") - 1
                sc_ps[i * parts + p + 1] += 1
    for q in range(n_src * parts):
        sc_ps[q + 1] += sc_ps[q]
    pos = sc_ps[:-1].copy()
    sc_off = np.empty(sc_ps[-1], fo_off.dtype)
    sc_w = np.empty(sc_ps[-1], np.int16)      # synapse weights are 16-bit (image.py)
    for i in range(n_src):
        for k in range(fo_start[i], fo_start[i + 1]):
            if not in_dense[k]:
                p = np.searchsorted(pn, np.int64(fo_off[k]) % n, side="right") - 1
                j = pos[i * parts + p]
                sc_off[j] = fo_off[k]
                sc_w[j] = fo_w[k]
                pos[i * parts + p] = j + 1
    return sc_ps, sc_off, sc_w


@njit(cache=True)
def row_lists(sc_ps, mb_ps, pn):
    """Where each (source part s, target part p) spike list starts (``FanOut.lp_sc`` for the
    scatter rows, ``lp_mb`` for block memberships): room for every neuron of ``s`` with a
    non-empty row into ``p``, so no step can overflow it (:func:`send_part`)."""
    parts = pn.shape[0] - 1
    lp_sc = np.zeros(parts * parts + 1, np.int64)
    lp_mb = np.zeros(parts * parts + 1, np.int64)
    for s in range(parts):
        for i in range(pn[s], pn[s + 1]):
            for p in range(parts):
                q = i * parts + p
                if sc_ps[q + 1] > sc_ps[q]:
                    lp_sc[s * parts + p + 1] += 1
                if mb_ps[q + 1] > mb_ps[q]:
                    lp_mb[s * parts + p + 1] += 1
    for k in range(parts * parts):
        lp_sc[k + 1] += lp_sc[k]
        lp_mb[k + 1] += lp_mb[k]
    return lp_sc, lp_mb
