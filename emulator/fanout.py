"""Split each neuron's fan-out into a scatter part and dense blocks (functional engine).

A spike adds one weight per synapse it reaches.  For sparse, random connectivity the targets are
scattered and the kernel adds them one by one (``acc[base + off[k]] += w[k]``).  A dense
projection instead reaches *runs* of consecutive accumulators (one core's neurons, same delay and
class), and many source neurons reach the same run: that is a weight matrix.  Such runs become
**blocks** (one target run, its member rows):

* a block is delivered with vector adds over the run instead of one scattered add per synapse;
* when more than half of a block's rows spike in a step, the kernel adds the block's precomputed
  column sum and subtracts the rows that did *not* spike (Lava's Dense->LIF graph fires ~83 % of
  its inputs every step: five times fewer adds).

Integer sums do not depend on order, so both paths give the same accumulators bit for bit as the
event path (and as the reference model); the choice is made per block and per step from the
number of spiking rows, i.e. by density (only runs of at least ``MIN_RUN`` consecutive targets
become blocks) and by activity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FanOut", "fan_out_paths", "part_bounds", "MIN_RUN"]

#: shortest run of consecutive accumulators that becomes a dense block row (a vector add of
#: fewer lanes costs more than the scattered adds it replaces)
MIN_RUN = 16
#: largest step between two offsets of one run (the gap is filled with zero weights)
MAX_GAP = 8


@dataclass
class FanOut:
    """Per-neuron delivery tables of the functional engine (module docstring).

    The neurons are cut into ``parts`` ranges ``pn[p]..pn[p+1]`` (threads deliver into disjoint
    parts): neuron ``i``'s scattered synapses into part ``p`` are ``sc_ps[i * parts + p]`` up to
    the next entry, its block memberships likewise in ``mb_ps``, and part ``p``'s blocks are
    numbered ``bp[p]..bp[p+1]``.
    """

    pn: np.ndarray         #: (parts + 1,) int64 neuron bounds of the parts
    sc_ps: np.ndarray      #: (n * parts + 1,) int64 scatter run of (neuron, part) in sc_off / sc_w
    sc_off: np.ndarray     #: accumulator offsets (as FlatImage.syn_off) of the scattered synapses
    sc_w: np.ndarray       #: (.,) int32 their weights
    mb_ps: np.ndarray      #: (n * parts + 1,) int64 block memberships of (neuron, part) in mb_blk
    mb_blk: np.ndarray     #: (.,) int64 block of each membership
    bp: np.ndarray         #: (parts + 1,) int64 first block of each part
    bk_off: np.ndarray     #: (blocks,) int64 accumulator offset of the block's first target
    bk_len: np.ndarray     #: (blocks,) int64 targets per row
    bk_mstart: np.ndarray  #: (blocks + 1,) int64 the block's rows in bk_src / bk_wpos
    bk_src: np.ndarray     #: (rows,) int64 source neuron of each row
    bk_wpos: np.ndarray    #: (rows,) int64 first weight of the row in dw
    bk_cpos: np.ndarray    #: (blocks,) int64 first column sum of the block in bk_colsum
    bk_colsum: np.ndarray  #: (.,) int64 sum of the block's rows, per target
    dw: np.ndarray         #: (.,) weights of every block row, row after row, in the narrowest
                           #: integer type that holds them (a dense step streams all of them)

    @property
    def dense_synapses(self) -> int:
        """Synapses (and zero-filled gaps) delivered through blocks."""
        return int(self.dw.shape[0])


def part_bounds(n: int, parts: int) -> np.ndarray:
    """``parts`` near-equal neuron ranges (the last ones may be empty for tiny images)."""
    return (np.arange(parts + 1, dtype=np.int64) * n) // max(parts, 1)


def _csr(keys: np.ndarray, size: int) -> np.ndarray:
    """Start of each key ``0..size-1`` in a key-sorted array (``size + 1`` entries)."""
    out = np.zeros(size + 1, np.int64)
    if keys.size:
        out[1:] = np.cumsum(np.bincount(keys, minlength=size))
    return out


def fan_out_paths(fo_start: np.ndarray, fo_off: np.ndarray, fo_w: np.ndarray, cn: int,
                  noff: np.ndarray, parts: int = 1) -> FanOut:
    """Split the neuron-major fan-out (``fo_*``, see ``flat._fan_out``) into scatter + blocks.

    A candidate row is a run of one source neuron's fan-out (sorted by offset) with increasing
    offsets, gaps of at most ``MAX_GAP``, in one
    (ring slot, class) region and one part: at least ``MIN_RUN`` synapses covering at least half
    of their span.  The candidate rows starting in one (region, core, part) form a block spanning
    all of them; a row stays dense only if it still covers half of the block's span (zero weights
    fill its gaps), otherwise its synapses are scattered like the rest.  Which synapses become
    dense only changes speed, never the sums.
    """
    n = int(noff[-1])
    pn = part_bounds(n, parts)
    m = fo_off.shape[0]
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(fo_start))
    off = np.asarray(fo_off, np.int64)
    if m:       # each neuron's fan-out by offset (regions, then targets): runs become visible
        srt = np.argsort(owner * (int(off.max()) + 1) + off, kind="stable")
        off = off[srt]
        fo_off = fo_off[srt]
        fo_w = fo_w[srt]
    tpart = (np.searchsorted(pn, off % max(n, 1), side="right") - 1 if parts > 1
             else np.zeros(m, np.int64))
    big = np.iinfo(np.int64).max
    if m:
        # runs: stretches of one neuron's sorted fan-out with gaps of at most MAX_GAP, in one
        # (ring slot, class) region and one part
        region = off // n
        brk = np.ones(m, bool)
        d = off[1:] - off[:-1]
        brk[1:] = ((owner[1:] != owner[:-1]) | (d <= 0) | (d > MAX_GAP)
                   | (region[1:] != region[:-1]) | (tpart[1:] != tpart[:-1]))
        starts = np.flatnonzero(brk)
        gid = np.cumsum(brk) - 1
        g_cnt = np.diff(np.append(starts, m))
        g_lo = off[starts]
        g_hi = off[np.append(starts[1:], m) - 1]
        g_src = owner[starts]
        g_part = tpart[starts]
        g_core = np.searchsorted(noff, g_lo % n, side="right") - 1
        cand = (g_cnt >= MIN_RUN) & (2 * g_cnt >= g_hi - g_lo + 1)
        bkey = (region[starts] * len(noff) + g_core) * parts + g_part
        ub, g_blk = np.unique(np.where(cand, bkey, -1), return_inverse=True)
        g_blk = g_blk.reshape(-1)
        b_lo = np.full(len(ub), big)
        b_hi = np.full(len(ub), -1)
        if cand.any():
            cb = g_blk[cand]
            o2 = np.argsort(cb, kind="stable")
            cbs = cb[o2]
            st2 = np.flatnonzero(np.r_[True, cbs[1:] != cbs[:-1]])
            b_lo[cbs[st2]] = np.minimum.reduceat(g_lo[cand][o2], st2)
            b_hi[cbs[st2]] = np.maximum.reduceat(g_hi[cand][o2], st2)
        dense_g = cand & (2 * g_cnt >= b_hi[g_blk] - b_lo[g_blk] + 1)
    else:
        gid = np.zeros(0, np.int64)
        dense_g = np.zeros(0, bool)
        g_blk = g_src = g_part = b_lo = b_hi = np.zeros(0, np.int64)
    in_dense = dense_g[gid] if m else np.zeros(0, bool)
    # scatter part: every synapse outside a dense row, ordered by (neuron, part)
    keep = np.flatnonzero(~in_dense)
    if parts > 1:
        keep = keep[np.argsort(owner[keep] * parts + tpart[keep], kind="stable")]
    sc_ps = _csr(owner[keep] * parts + tpart[keep], n * parts)
    sc_off = fo_off[keep]
    sc_w = np.asarray(fo_w[keep], np.int32)
    # blocks: the (region, core, part) blocks that kept a dense row, numbered part by part
    rows = np.flatnonzero(dense_g)
    used, r_blk = np.unique(g_blk[rows], return_inverse=True)
    r_blk = r_blk.reshape(-1).astype(np.int64)
    nb = len(used)
    blk_part = np.zeros(nb, np.int64)
    blk_part[r_blk] = g_part[rows]
    renum = np.argsort(blk_part, kind="stable")          # new block k = old block renum[k]
    inv = np.empty(nb, np.int64)
    inv[renum] = np.arange(nb)
    r_blk = inv[r_blk]
    bp = _csr(blk_part[renum], parts)
    bk_off = b_lo[used][renum].astype(np.int64) if nb else np.zeros(0, np.int64)
    bk_len = (b_hi[used] - b_lo[used] + 1)[renum].astype(np.int64) if nb else \
        np.zeros(0, np.int64)
    r_src = g_src[rows].astype(np.int64)
    order = np.lexsort((r_src, r_blk))                   # rows block by block, sources ascending
    rows, r_blk, r_src = rows[order], r_blk[order], r_src[order]
    bk_mstart = _csr(r_blk, nb)
    r_len = bk_len[r_blk]
    bk_wpos = np.zeros(len(rows), np.int64)
    if len(rows):
        bk_wpos[1:] = np.cumsum(r_len)[:-1]
    bk_cpos = np.zeros(nb, np.int64)
    if nb:
        bk_cpos[1:] = np.cumsum(bk_len)[:-1]
    # dense weights: every synapse of a dense row at (row start + offset - block start); float64
    # bincounts of int32 weights are exact (no sum reaches 2**53), duplicates add up
    dw_len = int(r_len.sum())
    row_of_group = np.full(len(dense_g), -1, np.int64)
    row_of_group[rows] = np.arange(len(rows))
    sel = np.flatnonzero(in_dense)
    dw = np.zeros(dw_len, np.int32)
    bk_colsum = np.zeros(int(bk_len.sum()), np.int64)
    if len(sel):
        rr = row_of_group[gid[sel]]
        rel = off[sel] - bk_off[r_blk[rr]]
        wt = np.asarray(fo_w[sel], np.float64)
        dw = np.rint(np.bincount(bk_wpos[rr] + rel, weights=wt, minlength=dw_len)).astype(np.int32)
        bk_colsum = np.rint(np.bincount(bk_cpos[r_blk[rr]] + rel, weights=wt,
                                        minlength=len(bk_colsum))).astype(np.int64)
    dw = dw.astype(_narrow(dw))
    # memberships of each (neuron, part): blocks are numbered part by part
    mb_order = np.lexsort((r_blk, r_src))
    mb_blk = r_blk[mb_order].astype(np.int64)
    mb_ps = _csr(r_src[mb_order] * parts + blk_part[renum][mb_blk], n * parts)
    return FanOut(pn=pn, sc_ps=sc_ps, sc_off=sc_off, sc_w=sc_w, mb_ps=mb_ps, mb_blk=mb_blk,
                  bp=bp, bk_off=bk_off, bk_len=bk_len, bk_mstart=bk_mstart, bk_src=r_src,
                  bk_wpos=bk_wpos, bk_cpos=bk_cpos, bk_colsum=bk_colsum, dw=dw)


def _narrow(w: np.ndarray) -> type:
    """int8 or int16 when every value fits (a quarter or half of the bytes to stream), else int32."""
    if w.size == 0 or (w.min() >= -128 and w.max() <= 127):
        return np.int8
    if w.min() >= -32768 and w.max() <= 32767:
        return np.int16
    return np.int32
