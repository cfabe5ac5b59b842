"""Numba kernels of the back-end passes (partition, place, route): pure functions over flat arrays.

Validation and orchestration stay in the passes; these loops only do arithmetic that NumPy cannot
vectorize (per-segment sorts, annealing moves, walking routing paths).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spikefab.arch import mesh

__all__ = ["segment_argsort", "count_distinct", "axon_runs", "segment_classes", "fill_synapses",
           "fanin_bound", "grow_range", "anneal", "placement_cost", "link_loads", "pair_ranks", "core_traffic",
           "fill_routes"]

_MESH = mesh.compile_with(njit, cache=True)
_hop_counts = _MESH.hop_counts
_add_link_loads = _MESH.add_link_loads


_RADIX_BITS = 11
_RADIX = 1 << _RADIX_BITS


@njit(cache=True)
def segment_argsort(keys, seg_lo, seg_hi, out):
    """Stable grouping sort of ``keys`` (non-negative integers) inside each segment.

    For every segment ``[seg_lo[i], seg_hi[i])`` writes into ``out`` (int32 or int64, same length
    as ``keys``) the positions of that segment's entries ordered by key, ties in their original
    order; the rest of ``out`` is left alone, so a caller can re-sort only some segments.
    Least-significant-digit radix sort of ``key - min(segment)``, 11 bits a pass (two passes
    for a segment whose keys span a million sources): linear, stable, and it touches only the
    segment's own entries (a key -> slot table over every source missed the cache on a wafer's
    10**7 sources; a comparison sort costs log n passes).
    """
    if len(keys) == 0 or len(seg_lo) == 0:
        return
    longest = 0
    for i in range(len(seg_lo)):
        longest = max(longest, seg_hi[i] - seg_lo[i])
    ka = np.empty(longest, np.int64)
    kb = np.empty(longest, np.int64)
    pa = np.empty(longest, np.int64)
    pb = np.empty(longest, np.int64)
    cnt = np.empty(_RADIX + 1, np.int64)
    for i in range(len(seg_lo)):
        a, b = seg_lo[i], seg_hi[i]
        n = b - a
        if n <= 0:
            continue
        lo = keys[a]
        hi = keys[a]
        for j in range(a, b):
            lo = min(lo, keys[j])
            hi = max(hi, keys[j])
        for j in range(n):
            ka[j] = keys[a + j] - lo
            pa[j] = a + j
        span = np.int64(hi - lo)
        shift = 0
        while (span >> shift) > 0:
            cnt[:] = 0
            for j in range(n):
                cnt[((ka[j] >> shift) & (_RADIX - 1)) + 1] += 1
            for d in range(_RADIX):
                cnt[d + 1] += cnt[d]
            for j in range(n):
                d = (ka[j] >> shift) & (_RADIX - 1)
                t = cnt[d]
                cnt[d] = t + 1
                kb[t] = ka[j]
                pb[t] = pa[j]
            ka, kb = kb, ka
            pa, pb = pb, pa
            shift += _RADIX_BITS
        for j in range(n):
            out[a + j] = pa[j]


@njit(cache=True)
def count_distinct(values, a, b, marks, stamp):
    """Number of distinct values in ``values[a:b]``; ``marks`` is a scratch table (see caller)."""
    n = 0
    for j in range(a, b):
        v = values[j]
        if marks[v] != stamp:
            marks[v] = stamp
            n += 1
    return n


@njit(cache=True)
def grow_range(src, cls, profile_id, indptr, s, e_max, n_sources, n_classes, max_axons,
               max_classes, max_profiles, marks, stamp):
    """Largest ``e`` in ``[s, e_max]`` such that neurons ``s .. e-1`` need at most
    ``max_axons`` distinct sources, ``max_classes`` accumulator classes and ``max_profiles``
    profiles.

    Each count only grows with the range, so one scan that adds neuron after neuron finds the
    same end as a binary search over ``count_distinct`` in one pass over the core's synapses.
    ``marks`` holds sources at ``[0, n_sources)``, classes after them, then profiles.
    """
    n_ax = 0
    n_cls = 0
    n_prof = 0
    for g in range(s, e_max):
        k = n_sources + n_classes + profile_id[g]
        if marks[k] != stamp:
            marks[k] = stamp
            n_prof += 1
        for j in range(indptr[g], indptr[g + 1]):
            v = src[j]
            if marks[v] != stamp:
                marks[v] = stamp
                n_ax += 1
            c = n_sources + cls[j]
            if marks[c] != stamp:
                marks[c] = stamp
                n_cls += 1
        if n_ax > max_axons or n_cls > max_classes or n_prof > max_profiles:
            return g
    return e_max


@njit(cache=True)
def _dist(gx0, gy0, gx1, gy1, mesh_x, mesh_y, extra):
    """Hops between two global routers, each chiplet-edge crossing costing ``1 + extra``."""
    ew, ns, chip = _hop_counts(gx0, gy0, gx1, gy1, mesh_x, mesh_y)
    return ew + ns + chip + extra * chip


@njit(cache=True)
def placement_cost(src, dst, w, gx, gy, mesh_x, mesh_y):
    """(spike-weighted hops, spike-weighted chiplet crossings) of directed edges ``src -> dst``."""
    hops = 0.0
    cross = 0.0
    for k in range(len(src)):
        a, b = src[k], dst[k]
        ew, ns, chip = _hop_counts(gx[a], gy[a], gx[b], gy[b], mesh_x, mesh_y)
        hops += w[k] * (ew + ns + chip)
        cross += w[k] * chip
    return hops, cross


@njit(cache=True)
def _xorshift(state):
    x = state[0]
    x ^= (x << np.uint64(13)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    x ^= x >> np.uint64(7)
    x ^= (x << np.uint64(17)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    state[0] = x
    return x


@njit(cache=True)
def _uniform(state):
    return (_xorshift(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def _node_delta(a, skip, ngx, ngy, indptr, nbr, w, gx, gy, mesh_x, mesh_y, extra):
    """Change of node ``a``'s edge costs if it moved to (ngx, ngy); edges to ``skip`` ignored."""
    d = 0.0
    for k in range(indptr[a], indptr[a + 1]):
        n = nbr[k]
        if n == skip:
            continue
        d += w[k] * (_dist(ngx, ngy, gx[n], gy[n], mesh_x, mesh_y, extra)
                     - _dist(gx[a], gy[a], gx[n], gy[n], mesh_x, mesh_y, extra))
    return d


#: Rows of ``anneal``'s ``geometry`` array (int64): the mesh the sites lie on.
GEO_GLOBAL_X, GEO_GLOBAL_Y, GEO_CORES_PER_ROUTER, GEO_MESH_X, GEO_MESH_Y = range(5)


@njit(cache=True)
def _router_sites(site_gx, site_gy, global_x, global_y):
    """Router lookup: global ``(gx, gy)`` -> first site of that router (-1: none)."""
    router_site = -np.ones(global_x * global_y, np.int64)
    for s in range(len(site_gx)):
        r = site_gy[s] * global_x + site_gx[s]
        if router_site[r] < 0 or s < router_site[r]:
            router_site[r] = s
    return router_site


@njit(cache=True)
def _initial_temperature(state, n_movable, indptr, nbr, w, gx, gy, global_x, mesh_x, mesh_y,
                         extra):
    """The mean ``|delta|`` of 200 sampled unit moves (draws from the RNG ``state``)."""
    t0 = 0.0
    samples = 0
    for _ in range(200):
        a = np.int64(_xorshift(state) % np.uint64(n_movable))
        nx = gx[a] + (1 if _uniform(state) < 0.5 else -1)
        if nx < 0 or nx >= global_x:
            continue
        t0 += abs(_node_delta(a, -1, nx, gy[a], indptr, nbr, w, gx, gy, mesh_x, mesh_y, extra))
        samples += 1
    return t0 / max(samples, 1) + 1e-9


@njit(cache=True)
def anneal(indptr, nbr, w, node_site, n_movable, site_gxy, geometry, extra, n_iter, seed):
    """Simulated annealing of node positions by swap moves; returns the improved ``node_site``.

    ``indptr``/``nbr``/``w`` is the node graph (CSR); ``site_gxy[0]``/``[1]`` the global x/y of
    every site; ``geometry`` the mesh, indexed by the ``GEO_*`` constants; ``extra`` the added
    cost of a chiplet crossing.  Nodes ``0 .. n_movable-1`` move; later nodes (the host) are
    fixed.  A move picks a node and a site in a window around it (the window shrinks as the
    temperature falls); the site's occupant, if any, takes the node's old site.  Metropolis
    acceptance with geometric cooling; the RNG is a xorshift seeded by ``seed`` so the result
    is a pure function of the inputs.
    """
    global_x, global_y = geometry[GEO_GLOBAL_X], geometry[GEO_GLOBAL_Y]
    cpr, mesh_x, mesh_y = geometry[GEO_CORES_PER_ROUTER], geometry[GEO_MESH_X], geometry[GEO_MESH_Y]
    site_gx, site_gy = site_gxy[0], site_gxy[1]
    n_nodes = len(node_site)
    n_sites = len(site_gx)
    node_site = node_site.copy()
    occupant = -np.ones(n_sites, np.int64)
    gx = np.empty(n_nodes, np.int64)
    gy = np.empty(n_nodes, np.int64)
    for i in range(n_nodes):
        if i < n_movable:
            occupant[node_site[i]] = i
        gx[i] = site_gx[node_site[i]]
        gy[i] = site_gy[node_site[i]]
    state = np.empty(1, np.uint64)
    state[0] = np.uint64(seed) * np.uint64(2654435761) + np.uint64(88172645463325252)
    if n_movable < 2 or n_iter <= 0:
        return node_site
    router_site = _router_sites(site_gx, site_gy, global_x, global_y)
    t0 = _initial_temperature(state, n_movable, indptr, nbr, w, gx, gy, global_x, mesh_x, mesh_y,
                              extra)
    t_end = t0 * 1e-3
    alpha = (t_end / t0) ** (1.0 / n_iter)
    radius0 = max(2.0, np.sqrt(n_movable / cpr) + 2.0)
    temp = t0
    for it in range(n_iter):
        temp *= alpha
        frac = 1.0 - it / n_iter
        rad = max(1, np.int64(radius0 * frac + 0.5))
        a = np.int64(_xorshift(state) % np.uint64(n_movable))
        nx = gx[a] + np.int64(_xorshift(state) % np.uint64(2 * rad + 1)) - rad
        ny = gy[a] + np.int64(_xorshift(state) % np.uint64(2 * rad + 1)) - rad
        if nx < 0 or ny < 0 or nx >= global_x or ny >= global_y:
            continue
        base = router_site[ny * global_x + nx]
        if base < 0:
            continue
        s_new = base + np.int64(_xorshift(state) % np.uint64(cpr))
        s_old = node_site[a]
        if s_new == s_old:
            continue
        b = occupant[s_new]
        delta = _node_delta(a, b, nx, ny, indptr, nbr, w, gx, gy, mesh_x, mesh_y, extra)
        if b >= 0:
            delta += _node_delta(b, a, gx[a], gy[a], indptr, nbr, w, gx, gy, mesh_x, mesh_y, extra)
        if delta <= 0.0 or _uniform(state) < np.exp(-delta / temp):
            ox, oy = gx[a], gy[a]
            node_site[a] = s_new
            occupant[s_new] = a
            gx[a], gy[a] = nx, ny
            occupant[s_old] = b
            if b >= 0:
                node_site[b] = s_old
                gx[b], gy[b] = ox, oy
    return node_site


def link_loads(src_gx, src_gy, dst_gx, dst_gy, w, global_x, global_y,
               routing: int = mesh.routing_code("xy"), dtype=np.float64) -> np.ndarray:
    """Weight ``w`` of every path on every router output port (routing algorithm ``routing``,
    a :func:`spikefab.arch.mesh.routing_code`), summed in ``dtype``.

    Returns ``loads[gy, gx, port]`` with ports 0 = N (+y), 1 = E (+x), 2 = S (-y), 3 = W (-x)
    (docs/microarchitecture.md section 3).
    """
    loads = np.zeros((global_y, global_x, 4), dtype)
    _add_link_loads(loads, routing, src_gx, src_gy, dst_gx, dst_gy, w)
    return loads


@njit(cache=True)
def axon_runs(src, order, seg_lo, seg_hi, seg_core):
    """Runs of equal source inside each segment of ``src[order]``: the (core, source) axon pairs.

    Returns ``(core, source, start, count)`` per run, in (segment, source) order; the core of
    segment ``i`` is ``seg_core[i]`` and ``start`` is a position in the sorted order.
    """
    n_seg = len(seg_lo)
    n = 0
    for i in range(n_seg):
        prev = -1
        for j in range(seg_lo[i], seg_hi[i]):
            s = src[order[j]]
            if j == seg_lo[i] or s != prev:
                n += 1
            prev = s
    core = np.empty(n, np.int32)
    source = np.empty(n, np.int32)
    start = np.empty(n, np.int32)        # a synapse position (< 2**31, gather_synapses)
    count = np.empty(n, np.int32)
    k = -1
    for i in range(n_seg):
        prev = -1
        for j in range(seg_lo[i], seg_hi[i]):
            s = src[order[j]]
            if j == seg_lo[i] or s != prev:
                k += 1
                core[k] = seg_core[i]
                source[k] = s
                start[k] = j
                count[k] = 0
            count[k] += 1
            prev = s
    return core, source, start, count


@njit(cache=True)
def segment_classes(cls, seg_ptr, n_classes):
    """``present[i, c]``: whether class ``c`` occurs in segment ``i`` of ``cls``."""
    present = np.zeros((len(seg_ptr) - 1, n_classes), np.bool_)
    for i in range(len(seg_ptr) - 1):
        for j in range(seg_ptr[i], seg_ptr[i + 1]):
            present[i, cls[j]] = True
    return present


@njit(cache=True)
def fill_synapses(order, post, weight, delay, cls, seg_ptr, bounds, class_rank, out_neuron,
                  out_weight, out_delay, out_class):
    """Write the synapse memory of every core (entries in ``order``) into the output fields."""
    for i in range(len(seg_ptr) - 1):
        base = bounds[i]
        for j in range(seg_ptr[i], seg_ptr[i + 1]):
            k = order[j]
            out_neuron[j] = post[k] - base
            out_weight[j] = weight[k]
            out_delay[j] = delay[k]
            out_class[j] = class_rank[i, cls[k]]


@njit(cache=True)
def pair_ranks(pair_core):
    """Rank of each pair among the pairs of its core (pairs sorted by core): its axon id."""
    out = np.empty(len(pair_core), np.int32)
    r = 0
    for j in range(len(pair_core)):
        if j > 0 and pair_core[j] != pair_core[j - 1]:
            r = 0
        out[j] = r
        r += 1
    return out


@njit(cache=True)
def core_traffic(pair_core, pair_src, rate, n_channels, neuron_core, out_src, out_rate,
                 n_cores):
    """Spike-weighted core-to-core edges (host = ``n_cores``) from axon pairs and outputs.

    Pairs are sorted by destination core, so each destination's sources are summed in a dense
    scratch row.  Returns ``(src, dst, weight)`` sorted by (dst, src); edges into the host come
    from the output neurons ``out_src`` (global ids) with rates ``out_rate``.
    """
    acc = np.zeros(n_cores + 1, np.float64)
    seen = np.zeros(n_cores + 1, np.bool_)
    touched = np.empty(n_cores + 1, np.int64)
    src_l = []
    dst_l = []
    w_l = []
    j = 0
    n = len(pair_core)
    while j < n:
        d = pair_core[j]
        nt = 0
        while j < n and pair_core[j] == d:
            s = pair_src[j]
            c = n_cores if s < n_channels else neuron_core[s - n_channels]
            if not seen[c]:
                seen[c] = True
                touched[nt] = c
                nt += 1
            acc[c] += rate[s]
            j += 1
        order = np.sort(touched[:nt])
        for c in order:
            src_l.append(c)
            dst_l.append(d)
            w_l.append(acc[c])
            acc[c] = 0.0
            seen[c] = False
    for k in range(len(out_src)):
        c = neuron_core[out_src[k]]
        seen[c] = True
        acc[c] += out_rate[k]
    for c in range(n_cores):
        if seen[c]:
            src_l.append(c)
            dst_l.append(n_cores)
            w_l.append(acc[c])
    return np.array(src_l, dtype=np.int64), np.array(dst_l, dtype=np.int64), np.array(w_l)


@njit(cache=True)
def fill_routes(pair_src, pair_core, out_src, out_channel, core_site, site_chiplet,
                site_x, site_y, site_slot, n_sources, r_host, r_slot, r_chiplet, r_x, r_y, r_axon):
    """Route entries grouped by source key (pairs in order, then the source's host entry).

    A pair's destination axon is its rank among its core's pairs (``pair_ranks``; pairs are
    sorted by core), counted here rather than read from a second per-pair array.

    Returns the number of entries per source key; writes each entry's fields straight into the
    ``r_*`` arrays (the fields of the ROUTE_DTYPE table, strided views are fine), so a wafer's
    hundreds of millions of entries need no wide intermediate rows.
    """
    counts = np.zeros(n_sources, np.int64)
    for s in pair_src:
        counts[s] += 1
    for s in out_src:
        counts[s] += 1
    nxt = np.empty(n_sources, np.int64)
    acc = 0
    for i in range(n_sources):
        nxt[i] = acc
        acc += counts[i]
    first = 0
    for j in range(len(pair_src)):
        if j > 0 and pair_core[j] != pair_core[j - 1]:
            first = j
        p = nxt[pair_src[j]]
        nxt[pair_src[j]] += 1
        site = core_site[pair_core[j]]
        r_host[p] = 0
        r_slot[p] = site_slot[site]
        r_chiplet[p] = site_chiplet[site]
        r_x[p] = site_x[site]
        r_y[p] = site_y[site]
        r_axon[p] = j - first
    for k in range(len(out_src)):
        p = nxt[out_src[k]]
        nxt[out_src[k]] += 1
        r_host[p] = 1
        r_slot[p] = 0
        r_chiplet[p] = 0
        r_x[p] = 0
        r_y[p] = 0
        r_axon[p] = out_channel[k]
    return counts


@njit(cache=True)
def fanin_bound(post, weight, cls, scale, n_neurons):
    """Per neuron ``sum |w| * scale[class]`` over its fan-in: the accumulator-width proof."""
    out = np.zeros(n_neurons, np.float64)
    for k in range(len(post)):
        out[post[k]] += abs(weight[k]) * scale[cls[k]]
    return out
