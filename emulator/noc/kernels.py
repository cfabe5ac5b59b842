"""Numba kernels of the 2D-mesh fabric: FIFOs, credits, routing, round-robin arbitration.

One implementation of docs/microarchitecture.md sections 2-5 (the routing decision is
:func:`spikefab.arch.mesh.next_port`, tabulated per sign of the offset to the destination by
:func:`spikefab.emulator.noc.fabric.new_fabric`: ``next_port`` only compares coordinates),
used by the cycle engine (cores + host as end points) and by the NoC traffic mode (synthetic
sources and sinks).

State (all flat arrays, created by :func:`spikefab.emulator.noc.fabric.new_fabric`):

* ``geo`` (ints; a tuple in :class:`~spikefab.emulator.noc.fabric.FabricArrays`): GX, GY,
  mesh_x, mesh_y, P (ports), cores_per_router, depth, L, Lc, Lcyc, R, NF, ROUTING (the
  :func:`spikefab.arch.mesh.routing_code` of the target's algorithm).
* FIFOs ``f``: router input FIFO of router ``r`` port ``p`` is ``r * P + p``; the ejection FIFO of
  end point ``e`` (an image core, or a traffic sink) is ``R * P + e``.  ``fbuf[f * depth + i]``
  ring buffers of (packet id, destination key << 8 | requested output; 16 bytes an
  entry) with ``fhead``/``fcnt``; ``credit[f]`` is the credit counter of the
  FIFO's (only) sender.  The host's receiving side has no FIFO (``f = -1``, never out of credit).
* Per output port ``o = r * P + port``: ``rr`` round-robin pointer, ``busy`` first cycle a new
  grant is allowed (inter-chiplet serialisation), ``lhops`` packets granted.
* ``blk[r]``: the mask of router ``r``'s outputs whose downstream FIFO has no credit (set by
  the grant that takes the last one, cleared by the credit that returns it: ``upr[f]``/``upb[f]``
  the router and output bit feeding FIFO ``f``; ``R``, a spare mask, for one fed by an end
  point or the host), so
  arbitration never looks at a blocked output.
* ``rcnt[r]`` packets in router ``r``'s input FIFOs; ``alist``/``aflag`` the routers with packets.
* Arbitration without scanning ports: ``reqm[r * P + o]`` is the bit mask of router ``r``'s input
  ports whose head packet requests output ``o``, ``want[r]`` the mask of outputs with a request;
  a round-robin pick is the lowest set bit of the mask rotated by the output's pointer.
* ``wait[f]``: the end point whose update engine waits for a credit of FIFO ``f`` (-1: none).
* Two monotone event queues (``q0``: on-chip latency L, ``q1``: inter-chiplet latency Lc), rows
  (time, kind 0 arrival / 1 credit, fifo, packet): every event of one queue has the same latency,
  so each queue is ordered by time by construction.
* Next-cycle lists (``G_NEXT`` = 1: the on-chip latency L is 1 and no other process owns a
  router): an on-chip event is always applied in the next cycle, so instead of a queue row
  (time, kind, fifo, packet) it is one entry of ``nxa`` (arrivals: fifo, packet, destination
  key) or ``nxc`` (credits: fifo), ``st[S_NXA]``/``st[S_NXC]`` entries due at ``st[S_NXT]``:
  no time compare and no unpredictable arrival/credit branch per event.  The destination key
  (:func:`packet_key`: tx, ty, slot) travels with the packet through the lists and the FIFO
  entries, so a hop does not read the packet table.  Inter-chiplet events stay in ``q1``.
* ``pk`` int64 (6, packets): dest gx, dest gy, slot (-1: host), axon, creation cycle, arrival
  cycle (visible in the final FIFO, or at the host; the cycle engine records it for the host
  only).
* ``st`` int64 scalars: see the ``S_*`` slots.
* Tables fixed by the geometry (so that the hot path neither divides nor branches on ports):
  ``frouter[f]`` the router of FIFO ``f`` (-1: an ejection FIFO), ``rxy[r]`` router ``r``'s
  (gx, gy), ``frxy[f]`` = (router, gx, gy, input port) of FIFO ``f`` (one row: no dependent
  load from the FIFO to its router's coordinates), ``down[o]`` the FIFO fed by output ``o``
  (-1: the host), ``okind[o]`` the ``st`` slot
  counting an on-chip hop out of ``o`` (``S_HEW``, ``S_HNS``, or ``S_NOHOP`` for local and host
  ports), ``port9[3 * (sign(tx - gx) + 1) + sign(ty - gy) + 1]`` the routing algorithm's output
  for a packet to ``(tx, ty)`` (-1: it has arrived), from :func:`spikefab.arch.mesh.next_port`.

The kernels take these arrays as one :class:`~spikefab.emulator.noc.fabric.FabricArrays`
namedtuple ``fab``.  End points with work at a known cycle (an update engine's next emission, a
synapse engine's next pop) sit in a timing wheel (:data:`Timers`): a cycle visits only the
routers with packets and the end points due, so its cost follows the packets, not the mesh size.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from spikefab.arch import mesh

G_GX, G_GY, G_MX, G_MY, G_P, G_CPR, G_DEPTH, G_L, G_LC, G_LCYC, G_R, G_NF, G_ROUTING, G_NEXT = \
    range(14)
# S_HEW, S_HNS, S_HCH, S_NOHOP name the kinds of hop (``okind``); the router phase no longer
# counts them in ``st`` (:func:`hop_totals` sums ``lhops`` by kind)
S_NACT, S_Q0H, S_Q0T, S_Q1H, S_Q1T, S_HEW, S_HNS, S_HCH, S_MAXF, S_NHOST, S_INFLIGHT, S_NOHOP, \
    S_NXA, S_NXC, S_NXT = range(15)
N_ST = 15
NEVER = np.int64(1) << 62

#: Timing wheel of end-point work items (item ``k * n_ends + e``: kind ``k`` of end point ``e``;
#: kind 0 the update engine's next emission, 1 the synapse engine's next pop).  ``wheel[b]``
#: heads a list (``link``) of the items due at the one cycle ``c`` in ``[now, now + W)`` with
#: ``c mod W == b``; ``occ`` marks non-empty buckets; items further away wait in ``far``.
#: ``s``: (items in far, earliest far time).
Timers = namedtuple("Timers", "time link wheel occ far s")
T_FARN, T_FARMIN = range(2)
WHEEL = 1024
K_UPDATE, K_SYNAPSE = range(2)


def new_timers(n_items: int) -> Timers:
    """Empty timers for ``n_items`` items."""
    return Timers(np.zeros(max(n_items, 1), np.int64), np.full(max(n_items, 1), -1, np.int64),
                  np.full(WHEEL, -1, np.int64), np.zeros(WHEEL // 64, np.int64),
                  np.zeros(max(n_items, 1), np.int64), np.array([0, NEVER], np.int64))


@njit(cache=True, inline="always")
def lowbit(m):
    """Index of the lowest set bit of ``m`` (> 0): one ``tzcnt``."""
    return trailing_zeros(m)


@njit(cache=True, inline="always")
def timer_set(tm, item, time, now):
    """Make ``item`` due at cycle ``time`` (>= ``now``, the current cycle)."""
    W = tm.wheel.shape[0]
    tm.time[item] = time
    if time - now >= W:
        tm.far[tm.s[T_FARN]] = item
        tm.s[T_FARN] += 1
        if time < tm.s[T_FARMIN]:
            tm.s[T_FARMIN] = time
        return
    b = time & (W - 1)
    tm.link[item] = tm.wheel[b]
    tm.wheel[b] = item
    tm.occ[b >> 6] |= np.int64(1) << (b & 63)


@njit(cache=True, inline="always")
def timer_migrate(tm, now):
    """Move the far items due before ``now + W`` into the wheel."""
    W = tm.wheel.shape[0]
    if tm.s[T_FARN] == 0 or tm.s[T_FARMIN] >= now + W:
        return
    n = tm.s[T_FARN]
    tm.s[T_FARN] = 0
    tm.s[T_FARMIN] = NEVER
    for j in range(n):
        item = tm.far[j]
        timer_set(tm, item, tm.time[item], now)


@njit(cache=True, inline="always")
def timer_take(tm, now):
    """Detach the list of items due at ``now``; returns its head (-1: none)."""
    W = tm.wheel.shape[0]
    b = now & (W - 1)
    item = tm.wheel[b]
    if item >= 0:
        tm.wheel[b] = -1
        tm.occ[b >> 6] &= ~(np.int64(1) << (b & 63))
    return item


@njit(cache=True, inline="always")
def timer_next(tm, now):
    """Earliest cycle >= ``now`` at which an item is due, or NEVER."""
    W = tm.wheel.shape[0]
    best = tm.s[T_FARMIN] if tm.s[T_FARN] > 0 else NEVER
    words = W >> 6
    b = now & (W - 1)
    wi = b >> 6
    x = tm.occ[wi] & (np.int64(-1) << (b & 63))
    for _ in range(words + 1):
        if x != 0:
            d = (wi * 64 + lowbit(x) - b) & (W - 1)
            return min(best, now + d)
        wi += 1
        if wi == words:
            wi = 0
        x = tm.occ[wi]
    return best


@njit(cache=True, inline="always")
def _push(q, st, head_slot, time, kind, f, p):
    k = st[head_slot + 1] & (q.shape[1] - 1)          # capacity is a power of two
    q[0, k] = time
    q[1, k] = kind
    q[2, k] = f
    q[3, k] = p
    st[head_slot + 1] += 1


@njit(cache=True, inline="always")
def _fifo_tail(fab, f, p):
    """Append packet ``p`` to FIFO ``f``; returns (entries now, index of the new entry)."""
    depth = fab.geo[G_DEPTH]
    n = fab.fcnt[f]
    k = fab.fhead[f] + n
    if k >= depth:
        k -= depth
    n += 1
    fab.fcnt[f] = n
    i = f * depth + k
    fab.fbuf[i, 0] = p
    return n, i


@njit(cache=True, inline="always")
def fifo_pop(fab, f):
    """Remove the head of FIFO ``f``; returns (packet, destination key)."""
    depth = fab.geo[G_DEPTH]
    h = fab.fhead[f]
    i = f * depth + h
    p = fab.fbuf[i, 0]
    key = fab.fbuf[i, 1] >> 8
    h += 1
    fab.fhead[f] = h if h < depth else 0
    fab.fcnt[f] -= 1
    return p, key


@njit(cache=True, inline="always")
def _arrive(c, fab, f, p, key, pk, harr, tm, sbusy, ends, maxf, nact, nhost):
    """Packet ``p`` (destination ``key``) becomes visible at the tail of FIFO ``f`` (-1: the
    host) at ``c``; returns the updated (deepest FIFO, active routers, host arrivals), which the
    caller keeps in registers (a store into any array would force them to be re-read).

    A router FIFO also stores the output the packet requests at that router (its route is
    fixed on arrival), so arbitration never touches the packet table; a packet that becomes the
    head of its FIFO adds its input to the request mask of that output, and its router joins
    the active list.  A packet reaching an empty ejection FIFO makes its synapse engine due
    when it is free (``sbusy``).  One branch separates the two kinds of FIFO (the kind is
    data-dependent: testing it twice cost a second mispredict).
    """
    if f < 0:
        pk[p, 5] = c
        harr[nhost] = p
        return maxf, nact, nhost + 1
    n, i = _fifo_tail(fab, f, p)
    if n > maxf:
        maxf = n
    r = fab.frxy[f, 0]
    if r < 0:                                           # an ejection FIFO
        fab.fbuf[i, 1] = key << 8
        if not ends:            # traffic mode: the latency; the cycle engine does not read it
            pk[p, 5] = c
        elif n == 1:
            e = f - fab.geo[G_R] * fab.geo[G_P]
            timer_set(tm, K_SYNAPSE * sbusy.shape[0] + e, max(sbusy[e], c), c)
        return maxf, nact, nhost
    P = fab.geo[G_P]
    o = _route_at(fab, key, fab.frxy[f, 1], fab.frxy[f, 2])
    fab.fbuf[i, 1] = (key << 8) | o
    # a new head requests its output (branch-free: whether the FIFO was empty is
    # data-dependent, a mispredict per hop in a congested mesh)
    head = np.int64(n == 1)
    fab.reqm[r * P + o] |= head << fab.frxy[f, 3]
    fab.want[r] |= head << o
    fab.rcnt[r] += 1
    if fab.aflag[r] == 0:
        fab.aflag[r] = 1
        fab.alist[nact] = r
        nact += 1
    return maxf, nact, nhost


@njit(cache=True, inline="always")
def _credit(c, fab, f, tm, n_ends, ends):
    """A credit for FIFO ``f`` is back at its sender; a waiting update engine is due now, a
    router output that had none may grant again."""
    cr = fab.credit[f] + 1
    fab.credit[f] = cr
    fab.blk[fab.upr[f]] &= ~(fab.upb[f] & -np.int64(cr == 1))       # branch-free
    if ends:
        e = fab.wait[f]
        if e >= 0:
            timer_set(tm, K_UPDATE * n_ends + e, c, c)
            fab.wait[f] = -1


@njit(cache=True, inline="always")
def _apply_queue(c, q, hs, fab, pk, harr, tm, sbusy, ends):
    """The events of queue ``q`` (head and tail at ``st[hs]``, ``st[hs + 1]``) due by ``c``.

    Head, tail, the deepest FIFO, the active-router count, the host arrivals and the packets in
    flight live in locals for the loop and are stored once at its end."""
    st = fab.st
    mask = q.shape[1] - 1
    h = st[hs]
    tail = st[hs + 1]
    if h >= tail or q[0, h & mask] > c:
        return
    maxf = st[S_MAXF]
    nact = st[S_NACT]
    nhost = st[S_NHOST]
    arrived = 0
    n_ends = sbusy.shape[0]
    while h < tail:
        k = h & mask
        if q[0, k] > c:
            break
        h += 1
        f = q[2, k]
        if q[1, k] == 1:
            _credit(c, fab, f, tm, n_ends, ends)
            continue
        arrived += 1
        p = q[3, k]
        maxf, nact, nhost = _arrive(c, fab, f, p, packet_key(pk, p), pk, harr, tm, sbusy, ends,
                                    maxf, nact, nhost)
    st[hs] = h
    st[S_MAXF] = maxf
    st[S_NACT] = nact
    st[S_NHOST] = nhost
    st[S_INFLIGHT] -= arrived


@njit(cache=True, inline="always")
def _apply_next(c, fab, pk, harr, tm, sbusy, ends):
    """The next-cycle lists (all due at ``st[S_NXT]`` = ``c``): credits, then arrivals."""
    st = fab.st
    n_ends = sbusy.shape[0]
    nxc = fab.nxc
    for j in range(st[S_NXC]):
        _credit(c, fab, nxc[j], tm, n_ends, ends)
    st[S_NXC] = 0
    na = st[S_NXA]
    if na == 0:
        return
    nxa = fab.nxa
    maxf = st[S_MAXF]
    nact = st[S_NACT]
    nhost = st[S_NHOST]
    for j in range(na):
        maxf, nact, nhost = _arrive(c, fab, nxa[j, 0], nxa[j, 1], nxa[j, 2], pk, harr, tm,
                                    sbusy, ends, maxf, nact, nhost)
    st[S_NXA] = 0
    st[S_MAXF] = maxf
    st[S_NACT] = nact
    st[S_NHOST] = nhost
    st[S_INFLIGHT] -= na


@njit(cache=True, inline="always")
def apply_events(c, fab, pk, harr, tm, sbusy, ends):
    """Apply every arrival and credit return due at the start of cycle ``c``.

    With ``ends`` (the cycle engine's cores as end points) a credit for a FIFO whose sender
    waits (``wait``) makes that update engine due now, and a packet reaching an empty ejection
    FIFO makes its synapse engine due when it is free (``sbusy``).  Events due in the same cycle
    touch distinct FIFOs and credit counters (one sender per FIFO, one grant per output and
    cycle), so their order within the cycle does not matter.
    """
    st = fab.st
    if st[S_NXA] + st[S_NXC] > 0 and st[S_NXT] <= c:
        _apply_next(c, fab, pk, harr, tm, sbusy, ends)
    _apply_queue(c, fab.q0, S_Q0H, fab, pk, harr, tm, sbusy, ends)
    _apply_queue(c, fab.q1, S_Q1H, fab, pk, harr, tm, sbusy, ends)


@njit(cache=True, inline="always")
def next_event_time(fab):
    """Earliest time of a queued event, or NEVER."""
    st = fab.st
    best = NEVER
    if st[S_NXA] + st[S_NXC] > 0:
        best = st[S_NXT]
    if st[S_Q0H] < st[S_Q0T]:
        best = min(best, fab.q0[0, st[S_Q0H] & (fab.q0.shape[1] - 1)])
    if st[S_Q1H] < st[S_Q1T]:
        best = min(best, fab.q1[0, st[S_Q1H] & (fab.q1.shape[1] - 1)])
    return best


@njit(cache=True, inline="always")
def inject(c, fab, f, p, key):
    """Try to send packet ``p`` (destination ``key``, :func:`packet_key`) from an end point into
    FIFO ``f`` (on-chip link); True if granted."""
    if fab.credit[f] <= 0:
        return False
    fab.credit[f] -= 1
    st = fab.st
    if fab.geo[G_NEXT]:
        n = st[S_NXA]
        fab.nxa[n, 0] = f
        fab.nxa[n, 1] = p
        fab.nxa[n, 2] = key
        st[S_NXA] = n + 1
        st[S_NXT] = c + 1
    else:
        _push(fab.q0, st, S_Q0H, c + fab.geo[G_L], 0, f, p)
    st[S_INFLIGHT] += 1
    return True


@njit(cache=True, inline="always")
def eject_pop(c, fab, e):
    """End point ``e`` pops its ejection FIFO head in cycle ``c`` (credit back after L)."""
    f = fab.geo[G_R] * fab.geo[G_P] + e
    p, _ = fifo_pop(fab, f)
    st = fab.st
    if fab.geo[G_NEXT]:
        n = st[S_NXC]
        fab.nxc[n] = f
        st[S_NXC] = n + 1
        st[S_NXT] = c + 1
    else:
        _push(fab.q0, st, S_Q0H, c + fab.geo[G_L], 1, f, -1)
    return p


@njit(cache=True, inline="always")
def packet_key(pk, p):
    """Packet ``p``'s destination in one int: ``tx << 32 | ty << 16 | (slot + 1)`` (the FIFO
    entries shift it by 8 more: tx < 2**23, ty and slot < 2**16)."""
    return (pk[p, 0] << 32) | (pk[p, 1] << 16) | (pk[p, 2] + 1)


@njit(cache=True, inline="always")
def _route_key(fab, key, r):
    """Output port at router ``r`` of a packet to ``key`` (host packets leave by W of (0, 0)):
    the routing algorithm's decision for the signs of (tx - gx, ty - gy) (``port9``), or the
    local port when it has arrived."""
    return _route_at(fab, key, fab.rxy[r, 0], fab.rxy[r, 1])


@njit(cache=True, inline="always")
def _route_at(fab, key, gx, gy):
    """:func:`_route_key` at the router at (``gx``, ``gy``)."""
    tx = key >> 32
    ty = (key >> 16) & 0xFFFF
    o = fab.port9[3 * ((tx > gx) - (tx < gx) + 1) + (ty > gy) - (ty < gy) + 1]
    slot = (key & 0xFFFF) - 1
    local = mesh.PORT_W if slot < 0 else mesh.PORT_LOCAL + slot
    return o if o >= 0 else local


@njit(cache=True, inline="always")
def _route(fab, pk, p, r):
    """:func:`_route_key` of packet ``p``."""
    return _route_key(fab, packet_key(pk, p), r)


@njit(cache=True, inline="always")
def router_phase(c, fab):
    """One cycle of every router holding packets (section 5), from start-of-cycle state.

    Each requested output grants the first requesting input at or after its round-robin
    pointer, if the link is free and the FIFO it feeds has a credit.  A granted input's next
    packet requests its output only from the next cycle on (a mask collects those inputs).
    Returns ``(grants, first cycle a busy inter-chiplet link that blocked a request is free)``
    so that a caller can skip cycles in which nothing can move.

    A grant pops the input FIFO, sends the credit back to the input's sender and the packet to
    the FIFO the output feeds (one event each, on the on-chip or the inter-chiplet queue).  The
    queue tails, the packets in flight and the hop counters are kept in locals for the whole
    phase and stored once at its end (a store into any array would otherwise force them to be
    re-read: Numba cannot prove the arrays distinct).  The hop counters are not kept per grant:
    :func:`hop_totals` sums them from the per-output counts ``lhops``.
    """
    geo = fab.geo
    P = geo[G_P]
    depth = geo[G_DEPTH]
    L = geo[G_L]
    LC = geo[G_LC]
    LCYC = geo[G_LCYC]
    nxt_on = geo[G_NEXT] != 0
    st = fab.st
    nxa = fab.nxa
    nxc = fab.nxc
    na = st[S_NXA]
    nc = st[S_NXC]
    q0 = fab.q0
    q1 = fab.q1
    m0 = q0.shape[1] - 1
    m1 = q1.shape[1] - 1
    t0 = st[S_Q0T]
    t1 = st[S_Q1T]
    n_act = st[S_NACT]
    kept = 0
    grants = 0
    blocked_until = NEVER
    for i in range(n_act):
        r = fab.alist[i]
        wr = fab.want[r]
        blk = fab.blk[r]
        w = wr & ~blk
        chipmask = fab.chipmask[r]
        rP = r * P
        npop = 0
        pm = 0
        while w != 0:
            o = lowbit(w)
            w &= w - 1
            ob = rP + o
            chip_out = (chipmask >> o) & 1 == 1
            if chip_out and c < fab.busy[ob]:
                blocked_until = min(blocked_until, fab.busy[ob])
                continue
            df = fab.down[ob]
            m = fab.reqm[ob]
            hi = m & (np.int64(-1) << fab.rr[ob])
            pin = lowbit(hi if hi != 0 else m)
            m &= ~(np.int64(1) << pin)
            fab.reqm[ob] = m
            wr &= ~(np.int64(m == 0) << o)
            # the grant: pop input pin, credit back over the link that feeds it, packet out
            fin = rP + pin
            pkt, key = fifo_pop(fab, fin)
            if (chipmask >> (8 + pin)) & 1 == 1:
                k = t1 & m1
                q1[0, k] = c + LC
                q1[1, k] = 1
                q1[2, k] = fin
                q1[3, k] = -1
                t1 += 1
            elif nxt_on:
                nxc[nc] = fin
                nc += 1
            else:
                k = t0 & m0
                q0[0, k] = c + L
                q0[1, k] = 1
                q0[2, k] = fin
                q0[3, k] = -1
                t0 += 1
            if df >= 0:
                cd = fab.credit[df] - 1
                fab.credit[df] = cd
                blk |= np.int64(cd == 0) << o
            if chip_out:
                k = t1 & m1
                q1[0, k] = c + LC
                q1[1, k] = 0
                q1[2, k] = df
                q1[3, k] = pkt
                t1 += 1
                fab.busy[ob] = c + LCYC
            else:
                if nxt_on:
                    nxa[na, 0] = df
                    nxa[na, 1] = pkt
                    nxa[na, 2] = key
                    na += 1
                else:
                    k = t0 & m0
                    q0[0, k] = c + L
                    q0[1, k] = 0
                    q0[2, k] = df
                    q0[3, k] = pkt
                    t0 += 1
            fab.lhops[ob] += 1
            fab.rr[ob] = pin + 1 if pin + 1 < P else 0
            pm |= np.int64(1) << pin
            npop += 1
        if npop > 0:
            grants += npop
            while pm != 0:
                pin = lowbit(pm)
                pm &= pm - 1
                fin = rP + pin
                # branch-free too: an empty FIFO's stale entry names a valid output
                more = np.int64(fab.fcnt[fin] > 0)
                o2 = fab.fbuf[fin * depth + fab.fhead[fin], 1] & 0xFF
                fab.reqm[rP + o2] |= more << pin
                wr |= more << o2
            fab.want[r] = wr
            fab.blk[r] = blk
            nr = fab.rcnt[r] - npop
            fab.rcnt[r] = nr
        else:
            nr = fab.rcnt[r]
        if nr > 0:
            fab.alist[kept] = r
            kept += 1
        else:
            fab.aflag[r] = 0
    st[S_NACT] = kept
    st[S_Q0T] = t0
    st[S_Q1T] = t1
    if na + nc > 0:
        st[S_NXA] = na
        st[S_NXC] = nc
        st[S_NXT] = c + 1
    st[S_INFLIGHT] += grants
    return grants, blocked_until


@njit(cache=True, _nrt=False)
def hop_totals(fab):
    """(on-chip E/W hops, on-chip N/S hops, inter-chiplet hops) granted so far: every output's
    ``lhops`` by the kind of its link (a local or host output is no hop)."""
    P = fab.geo[G_P]
    hew = 0
    hns = 0
    hch = 0
    for ob in range(fab.lhops.shape[0]):
        n = fab.lhops[ob]
        if n == 0:
            continue
        if (fab.chipmask[ob // P] >> (ob % P)) & 1 == 1:
            hch += n
        elif fab.okind[ob] == S_HEW:
            hew += n
        elif fab.okind[ob] == S_HNS:
            hns += n
    return hew, hns, hch


#: Traffic sources: next generation cycle per router, per-router FIFO of created packets
#: (``qhead``/``qtail``/``qnext``) and ``cnt`` = (packets created, queued, created in the window).
Sources = namedtuple("Sources", "next_gen qnext qhead qtail cnt")


@njit(cache=True, _nrt=False)
def _generate(c, fab, src, pk, pattern, rate, hot_frac, warmup, cycles):
    """Every source whose next packet is due by ``c`` creates it (Bernoulli arrivals)."""
    gxn = fab.geo[G_GX]
    gyn = fab.geo[G_GY]
    R = fab.geo[G_R]
    hot = (gyn // 2) * gxn + gxn // 2
    cnt = src.cnt
    for r in range(R):
        while src.next_gen[r] <= c:
            src.next_gen[r] += np.random.geometric(rate)
            npk = cnt[0]
            if npk >= pk.shape[0]:
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
                cnt[2] += 1
            if src.qtail[r] >= 0:
                src.qnext[src.qtail[r]] = npk
            else:
                src.qhead[r] = npk
            src.qtail[r] = npk
            cnt[1] += 1
            cnt[0] += 1


@njit(cache=True, _nrt=False)
def _inject_sources(c, fab, src, pk):
    """Every source with a queued packet tries to inject its oldest one."""
    P = fab.geo[G_P]
    for r in range(fab.geo[G_R]):
        p = src.qhead[r]
        if p >= 0 and inject(c, fab, r * P + 4, p, packet_key(pk, p)):
            src.cnt[1] -= 1
            src.qhead[r] = src.qnext[p]
            if src.qhead[r] < 0:
                src.qtail[r] = -1


@njit(cache=True, _nrt=False)
def _traffic_loop(fab, src, pk, scratch, spec):
    """The cycles of :func:`run_traffic` (compiled without reference counting, like the cycle
    engine's window: the fabric's arrays are read in every cycle); returns the cycles run."""
    sbusy, harr, tm = scratch
    pattern, rate, hot_frac, cycles, drain, warmup = spec
    R = fab.geo[G_R]
    P = fab.geo[G_P]
    arrived_measured = 0
    c = 0
    end = cycles + drain
    while c < end:
        if c >= cycles and arrived_measured >= src.cnt[2]:
            break
        apply_events(c, fab, pk, harr, tm, sbusy, False)
        _generate(c, fab, src, pk, pattern, rate, hot_frac, warmup, cycles)
        if src.cnt[1] > 0:
            _inject_sources(c, fab, src, pk)
        # sinks
        for r in range(R):
            f = R * P + r
            if fab.fcnt[f] > 0 and sbusy[r] <= c:
                p = eject_pop(c, fab, r)
                sbusy[r] = c + 1
                if warmup <= pk[p, 4] < cycles:
                    arrived_measured += 1
        router_phase(c, fab)
        c += 1
        # skip idle cycles: nothing queued, nothing in routers, nothing to eject
        if src.cnt[1] == 0 and fab.st[S_NACT] == 0 and fab.st[S_INFLIGHT] == 0:
            nxt = NEVER
            for r in range(R):
                nxt = min(nxt, src.next_gen[r])
                if fab.fcnt[R * P + r] > 0:
                    nxt = c
            nxt = min(nxt, next_event_time(fab))
            if nxt > c and nxt < NEVER:
                c = min(nxt, end)
    return c


@njit(cache=True)
def run_traffic(fab, pattern, rate, hot_frac, cycles, drain, warmup, seed, pool):
    """Synthetic traffic: every router's one end point is a Bernoulli source and a sink.

    ``pattern`` 0 uniform (self included, as BookSim), 1 transpose, 2 hotspot (``hot_frac`` of the
    packets go to the centre router, the rest uniform).  A packet created in cycle c may be
    injected in cycle c; its latency is (cycle it is visible in the destination's ejection FIFO)
    - c.  The sink pops one packet per cycle.  Sources keep injecting after ``cycles`` until every
    packet created in [warmup, cycles) has arrived or ``drain`` more cycles have passed.  Returns
    (packets array (6, n), cycles simulated).
    """
    np.random.seed(seed)
    R = fab.geo[G_R]
    pk = np.full((pool, 6), -1, np.int64)
    src = Sources(np.empty(R, np.int64), np.full(pool, -1, np.int64), np.full(R, -1, np.int64),
                  np.full(R, -1, np.int64), np.zeros(3, np.int64))
    for r in range(R):
        src.next_gen[r] = np.random.geometric(rate) - 1
    sbusy = np.zeros(R, np.int64)
    harr = np.empty(1, np.int64)
    tm = Timers(np.zeros(1, np.int64), np.zeros(1, np.int64), np.full(64, -1, np.int64),
                np.zeros(1, np.int64), np.zeros(1, np.int64), np.array([0, NEVER], np.int64))
    c = _traffic_loop(fab, src, pk, (sbusy, harr, tm),
                      (pattern, rate, hot_frac, cycles, drain, warmup))
    return pk[:src.cnt[0]].T.copy(), c
