"""Numba kernels of the 2D-mesh fabric: FIFOs, credits, routing, round-robin arbitration.

One implementation of docs/microarchitecture.md sections 2-5 (the routing decision is
:func:`spikefab.arch.mesh.next_port`, compiled here), used by the cycle engine
(cores + host as end points) and by the NoC traffic mode (synthetic sources and sinks).

State (all flat arrays, created by :func:`spikefab.emulator.noc.fabric.new_fabric`):

* ``geo`` int64: GX, GY, mesh_x, mesh_y, P (ports), cores_per_router, depth, L, Lc, Lcyc, R, NF,
  ROUTING (the :func:`spikefab.arch.mesh.routing_code` of the target's algorithm).
* FIFOs ``f``: router input FIFO of router ``r`` port ``p`` is ``r * P + p``; the ejection FIFO of
  end point ``e`` (an image core, or a traffic sink) is ``R * P + e``.  ``fbuf[f * depth + i]``
  ring buffers of (packet id, requested output) with ``fhead``/``fcnt``; ``credit[f]`` is the credit counter of the
  FIFO's (only) sender.  The host's receiving side has no FIFO (``f = -1``, never out of credit).
* Per output port ``o = r * P + port``: ``rr`` round-robin pointer, ``busy`` first cycle a new
  grant is allowed (inter-chiplet serialisation), ``lhops`` packets granted.
* ``rcnt[r]`` packets in router ``r``'s input FIFOs; ``alist``/``aflag`` the routers with packets.
* Two monotone event queues (``q0``: on-chip latency L, ``q1``: inter-chiplet latency Lc), rows
  (time, kind 0 arrival / 1 credit, fifo, packet): every event of one queue has the same latency,
  so each queue is ordered by time by construction.
* ``pk`` int64 (6, packets): dest gx, dest gy, slot (-1: host), axon, creation cycle, arrival
  cycle (visible in the final FIFO, or at the host).
* ``st`` int64 scalars: see the ``S_*`` slots.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spikefab.arch import mesh

G_GX, G_GY, G_MX, G_MY, G_P, G_CPR, G_DEPTH, G_L, G_LC, G_LCYC, G_R, G_NF, G_ROUTING = range(13)
S_NACT, S_Q0H, S_Q0T, S_Q1H, S_Q1T, S_HEW, S_HNS, S_HCH, S_MAXF, S_NHOST, S_INFLIGHT = range(11)
N_ST = 11
NEVER = np.int64(1) << 62
_MESH = mesh.compile_with(njit, cache=True, inline="always")
_next_port = _MESH.next_port


@njit(cache=True, inline="always")
def _push(q, st, head_slot, time, kind, f, p):
    k = st[head_slot + 1] & (q.shape[1] - 1)          # capacity is a power of two
    q[0, k] = time
    q[1, k] = kind
    q[2, k] = f
    q[3, k] = p
    st[head_slot + 1] += 1


@njit(cache=True, inline="always")
def fifo_push(geo, fbuf, fhead, fcnt, rcnt, alist, aflag, st, f, p, pk):
    """Make packet ``p`` visible at the tail of FIFO ``f`` (activating its router).

    A router FIFO also stores the output the packet requests at that router (its route is
    fixed on arrival), so arbitration never touches the packet table.
    """
    depth = geo[G_DEPTH]
    k = fhead[f] + fcnt[f]
    if k >= depth:
        k -= depth
    fbuf[f * depth + k, 0] = p
    fcnt[f] += 1
    if fcnt[f] > st[S_MAXF]:
        st[S_MAXF] = fcnt[f]
    if f < geo[G_R] * geo[G_P]:
        r = f // geo[G_P]
        fbuf[f * depth + k, 1] = _route(pk, p, r % geo[G_GX], r // geo[G_GX], geo[G_ROUTING])
        rcnt[r] += 1
        if aflag[r] == 0:
            aflag[r] = 1
            alist[st[S_NACT]] = r
            st[S_NACT] += 1


@njit(cache=True, inline="always")
def fifo_pop(geo, fbuf, fhead, fcnt, f):
    depth = geo[G_DEPTH]
    p = fbuf[f * depth + fhead[f], 0]
    fhead[f] += 1
    if fhead[f] == depth:
        fhead[f] = 0
    fcnt[f] -= 1
    return p


@njit(cache=True)
def apply_events(c, geo, fbuf, fhead, fcnt, credit, rcnt, alist, aflag, q0, q1, st, pk, harr):
    """Apply every arrival and credit return due at the start of cycle ``c``."""
    for which in range(2):
        q = q0 if which == 0 else q1
        hs = S_Q0H if which == 0 else S_Q1H
        mask = q.shape[1] - 1
        while st[hs] < st[hs + 1]:
            k = st[hs] & mask
            if q[0, k] > c:
                break
            st[hs] += 1
            f = q[2, k]
            if q[1, k] == 1:
                credit[f] += 1
                continue
            p = q[3, k]
            st[S_INFLIGHT] -= 1
            if f < 0:
                pk[p, 5] = c
                harr[st[S_NHOST]] = p
                st[S_NHOST] += 1
            else:
                if f >= geo[G_R] * geo[G_P]:
                    pk[p, 5] = c
                fifo_push(geo, fbuf, fhead, fcnt, rcnt, alist, aflag, st, f, p, pk)


@njit(cache=True)
def next_event_time(q0, q1, st):
    """Earliest time of a queued event, or NEVER."""
    best = NEVER
    if st[S_Q0H] < st[S_Q0T]:
        best = min(best, q0[0, st[S_Q0H] & (q0.shape[1] - 1)])
    if st[S_Q1H] < st[S_Q1T]:
        best = min(best, q1[0, st[S_Q1H] & (q1.shape[1] - 1)])
    return best


@njit(cache=True, inline="always")
def inject(c, geo, credit, q0, st, f, p):
    """Try to send packet ``p`` from an end point into FIFO ``f`` (on-chip link); True if granted."""
    if credit[f] <= 0:
        return False
    credit[f] -= 1
    _push(q0, st, S_Q0H, c + geo[G_L], 0, f, p)
    st[S_INFLIGHT] += 1
    return True


@njit(cache=True, inline="always")
def eject_pop(c, geo, fbuf, fhead, fcnt, q0, st, e):
    """End point ``e`` pops its ejection FIFO head in cycle ``c`` (credit back after L)."""
    f = geo[G_R] * geo[G_P] + e
    p = fifo_pop(geo, fbuf, fhead, fcnt, f)
    _push(q0, st, S_Q0H, c + geo[G_L], 1, f, -1)
    return p


@njit(cache=True, inline="always")
def _route(pk, p, gx, gy, routing):
    """Output port at router ``(gx, gy)`` of packet ``p`` (host packets leave by W of (0, 0))."""
    slot = pk[p, 2]
    return _next_port(routing, gx, gy, pk[p, 0], pk[p, 1],
                           mesh.PORT_W if slot < 0 else mesh.PORT_LOCAL + slot)


@njit(cache=True)
def router_phase(c, geo, fbuf, fhead, fcnt, credit, rr, busy, lhops, rcnt, alist, aflag, core_of,
                 chipmask, q0, q1, st, pk, req):
    """One cycle of every router holding packets (section 5), from start-of-cycle state.

    Returns ``(grants, first cycle a busy inter-chiplet link that blocked a request is free)``
    so that a caller can skip cycles in which nothing can move.
    """
    gxn = geo[G_GX]
    P = geo[G_P]
    cpr = geo[G_CPR]
    depth = geo[G_DEPTH]
    L = geo[G_L]
    Lc = geo[G_LC]
    R = geo[G_R]
    n_act = st[S_NACT]
    kept = 0
    grants = 0
    blocked_until = NEVER
    for i in range(n_act):
        r = alist[i]
        gx = r % gxn
        gy = r // gxn
        wanted = 0
        for p in range(P):
            f = r * P + p
            if fcnt[f] > 0:
                req[p] = fbuf[f * depth + fhead[f], 1]
                wanted |= 1 << req[p]
            else:
                req[p] = -1
        for o in range(P):
            if (wanted >> o) & 1 == 0:
                continue
            ob = r * P + o
            if c < busy[ob]:
                blocked_until = min(blocked_until, busy[ob])
                continue
            chip = (chipmask[r] >> o) & 1 == 1
            if o == 0:
                df = (r + gxn) * P + 2
            elif o == 1:
                df = (r + 1) * P + 3
            elif o == 2:
                df = (r - gxn) * P + 0
            elif o == 3:
                df = -1 if gx == 0 else (r - 1) * P + 1
            else:
                e = core_of[r * cpr + o - 4]
                df = R * P + e
            pin = rr[ob] - 1
            for j in range(P):
                pin += 1
                if pin == P:
                    pin = 0
                if req[pin] != o:
                    continue
                if df >= 0 and credit[df] <= 0:
                    break
                fin = r * P + pin
                pkt = fifo_pop(geo, fbuf, fhead, fcnt, fin)
                rcnt[r] -= 1
                req[pin] = -2
                # credit back to the sender feeding input pin, over that link
                if (chipmask[r] >> (8 + pin)) & 1 == 1:
                    _push(q1, st, S_Q1H, c + Lc, 1, fin, -1)
                else:
                    _push(q0, st, S_Q0H, c + L, 1, fin, -1)
                if df >= 0:
                    credit[df] -= 1
                st[S_INFLIGHT] += 1
                if chip:
                    _push(q1, st, S_Q1H, c + Lc, 0, df, pkt)
                    busy[ob] = c + geo[G_LCYC]
                    st[S_HCH] += 1
                else:
                    _push(q0, st, S_Q0H, c + L, 0, df, pkt)
                    if o == 1 or (o == 3 and df >= 0):
                        st[S_HEW] += 1
                    elif o == 0 or o == 2:
                        st[S_HNS] += 1
                lhops[ob] += 1
                grants += 1
                rr[ob] = pin + 1 if pin + 1 < P else 0
                break
        if rcnt[r] > 0:
            alist[kept] = r
            kept += 1
        else:
            aflag[r] = 0
    st[S_NACT] = kept
    return grants, blocked_until


@njit(cache=True)
def run_traffic(geo, fbuf, fhead, fcnt, credit, rr, busy, lhops, rcnt, alist, aflag, core_of,
                chipmask, q0, q1, st, pattern, rate, hot_frac, cycles, drain, warmup, seed, pool):
    """Synthetic traffic: every router's one end point is a Bernoulli source and a sink.

    ``pattern`` 0 uniform (self included, as BookSim), 1 transpose, 2 hotspot (``hot_frac`` of the
    packets go to the centre router, the rest uniform).  A packet created in cycle c may be
    injected in cycle c; its latency is (cycle it is visible in the destination's ejection FIFO)
    - c.  The sink pops one packet per cycle.  Sources keep injecting after ``cycles`` until every
    packet created in [warmup, cycles) has arrived or ``drain`` more cycles have passed.  Returns
    (packets array (6, n), cycles simulated).
    """
    np.random.seed(seed)
    gxn = geo[G_GX]
    gyn = geo[G_GY]
    R = geo[G_R]
    P = geo[G_P]
    pk = np.full((pool, 6), -1, np.int64)
    qnext = np.full(pool, -1, np.int64)
    qhead = np.full(R, -1, np.int64)
    qtail = np.full(R, -1, np.int64)
    next_gen = np.empty(R, np.int64)
    for r in range(R):
        next_gen[r] = np.random.geometric(rate) - 1
    sbusy = np.zeros(R, np.int64)
    harr = np.empty(1, np.int64)
    req = np.empty(P, np.int64)
    npk = 0
    queued = 0
    measured = 0
    arrived_measured = 0
    hot = (gyn // 2) * gxn + gxn // 2
    c = 0
    end = cycles + drain
    while c < end:
        if c >= cycles and arrived_measured >= measured:
            break
        apply_events(c, geo, fbuf, fhead, fcnt, credit, rcnt, alist, aflag, q0, q1, st, pk, harr)
        # generation
        for r in range(R):
            while next_gen[r] <= c:
                next_gen[r] += np.random.geometric(rate)
                if npk >= pool:
                    continue
                if pattern == 1:
                    d = (r % gxn) * gxn + r // gxn
                elif pattern == 2 and np.random.random() < hot_frac:
                    d = hot
                else:
                    d = np.random.randint(0, R)
                pk[npk, 0] = d % gxn
                pk[npk, 1] = d // gxn
                pk[npk, 2] = 0
                pk[npk, 3] = r
                pk[npk, 4] = c
                pk[npk, 5] = -1
                if warmup <= c < cycles:
                    measured += 1
                if qtail[r] >= 0:
                    qnext[qtail[r]] = npk
                else:
                    qhead[r] = npk
                qtail[r] = npk
                queued += 1
                npk += 1
        # injection
        if queued > 0:
            for r in range(R):
                p = qhead[r]
                if p >= 0 and inject(c, geo, credit, q0, st, r * P + 4, p):
                    queued -= 1
                    qhead[r] = qnext[p]
                    if qhead[r] < 0:
                        qtail[r] = -1
        # sinks
        for r in range(R):
            f = R * P + r
            if fcnt[f] > 0 and sbusy[r] <= c:
                p = eject_pop(c, geo, fbuf, fhead, fcnt, q0, st, r)
                sbusy[r] = c + 1
                if warmup <= pk[p, 4] < cycles:
                    arrived_measured += 1
        router_phase(c, geo, fbuf, fhead, fcnt, credit, rr, busy, lhops, rcnt, alist, aflag,
                     core_of, chipmask, q0, q1, st, pk, req)
        c += 1
        # skip idle cycles: nothing queued, nothing in routers, nothing to eject
        if queued == 0 and st[S_NACT] == 0 and st[S_INFLIGHT] == 0:
            nxt = NEVER
            for r in range(R):
                nxt = min(nxt, next_gen[r])
                if fcnt[R * P + r] > 0:
                    nxt = c
            nxt = min(nxt, next_event_time(q0, q1, st))
            if nxt > c and nxt < NEVER:
                c = min(nxt, end)
    return pk[:npk].T.copy(), c
