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

from dataclasses import dataclass, fields

import numpy as np

from spikefab.emulator.kernels import row_lists, scatter_by_part

__all__ = ["FanOut", "fan_out_paths", "part_bounds", "ranges", "MIN_RUN", "MAX_GAP"]

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
    numbered ``bp[p]..bp[p+1]``.  Each step the owner of a spiking neuron lists its non-empty
    rows per target part (``lp_sc``, ``lp_mb`` size those lists), so a part's thread reads
    only the rows that reach it.
    """

    pn: np.ndarray         #: (parts + 1,) int64 neuron bounds of the parts
    sc_ps: np.ndarray      #: (n * parts + 1,) int64 scatter run of (neuron, part) in sc_off / sc_w
    sc_off: np.ndarray     #: accumulator offsets (as FlatImage.syn_off) of the scattered synapses
    sc_w: np.ndarray       #: (.,) int16 their weights (a synapse weight is 16-bit)
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
    lp_sc: np.ndarray      #: (parts * parts + 1,) int64 where the spike list from part s to
                           #: part p starts (``s * parts + p``; room for every neuron of s
                           #: with scattered synapses in p)
    lp_mb: np.ndarray      #: (parts * parts + 1,) int64 the same for block memberships

    def as_tuple(self) -> tuple:
        """The fields in order: the kernels' FO tuple (``kernels.F_*`` name the positions)."""
        return tuple(getattr(self, f.name) for f in fields(self))

    @property
    def dense_synapses(self) -> int:
        """Synapses (and zero-filled gaps) delivered through blocks."""
        return int(self.dw.shape[0])


def part_bounds(n: int, parts: int) -> np.ndarray:
    """``parts`` near-equal neuron ranges (the last ones may be empty for tiny images)."""
    return (np.arange(parts + 1, dtype=np.int64) * n) // max(parts, 1)


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for every (s, c), without a Python loop."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    ends = np.cumsum(counts)
    return np.repeat(starts - (ends - counts), counts) + np.arange(total, dtype=np.int64)


def _csr(keys: np.ndarray, size: int) -> np.ndarray:
    """Start of each key ``0..size-1`` in a key-sorted array (``size + 1`` entries)."""
    out = np.zeros(size + 1, np.int64)
    if keys.size:
        out[1:] = np.cumsum(np.bincount(keys, minlength=size))
    return out


def fan_out_paths(fo_start: np.ndarray, fo_off: np.ndarray, fo_w: np.ndarray, cn: int,
                  noff: np.ndarray, parts: int = 1, eligible: np.ndarray | None = None) -> FanOut:
    """Split the neuron-major fan-out (``fo_*``, see ``flat._fan_out``) into scatter + blocks.

    Only the ``eligible`` entries (default: all) are looked at for dense runs: ``flat`` passes
    the synapses of axons that hold a run at all (:func:`~.kernels.axons_with_runs`), so sparse
    projections cost nothing here and a fully sparse image keeps its fan-out as the scatter part
    (no copy on one part).  A candidate row is a run of one source neuron's eligible fan-out
    (sorted by offset) with increasing offsets, gaps of at most ``MAX_GAP``, in one (ring slot,
    class) region and one part: at least ``MIN_RUN`` synapses covering at least half of their
    span.  The candidate rows starting in one (region, core, part) form a block spanning all of
    them; a row stays dense only if it still covers half of the block's span (zero weights fill
    its gaps), otherwise its synapses are scattered like the rest.  Which synapses become dense
    only changes speed, never the sums.
    """
    n = int(noff[-1])
    pn = part_bounds(n, parts)
    m = fo_off.shape[0]
    sub = np.arange(m, dtype=np.int64) if eligible is None else np.flatnonzero(eligible)
    owner = np.searchsorted(fo_start, sub, side="right") - 1
    off = np.asarray(fo_off[sub], np.int64)
    if sub.size:        # each neuron's fan-out by offset (regions, then targets): runs visible
        srt = np.argsort(owner * (int(off.max()) + 1) + off, kind="stable")
        sub, owner, off = sub[srt], owner[srt], off[srt]
    runs = _runs(owner, off, _target_part(off, pn), n, noff, parts)
    in_dense = np.zeros(m, bool)
    in_dense[sub] = runs.dense_g[runs.gid]
    sc_ps, sc_off, sc_w = _scatter(fo_start, fo_off, fo_w, in_dense, pn)
    bk = _blocks(runs, n, parts, off, np.asarray(fo_w[sub], np.float64))
    lp_sc, lp_mb = row_lists(sc_ps, bk["mb_ps"], pn)
    return FanOut(pn=pn, sc_ps=sc_ps, sc_off=sc_off, sc_w=sc_w, **bk, lp_sc=lp_sc, lp_mb=lp_mb)


def _target_part(off: np.ndarray, pn: np.ndarray) -> np.ndarray:
    """The part owning the target neuron of each accumulator offset."""
    n = int(pn[-1])
    if pn.shape[0] <= 2:
        return np.zeros(off.shape[0], np.int64)
    return np.searchsorted(pn, off % max(n, 1), side="right") - 1


def _scatter(fo_start, fo_off, fo_w, in_dense, pn):
    """The scatter tables: every fan-out entry outside a dense row, by (neuron, part)."""
    if pn.shape[0] == 2 and not in_dense.any():      # one part, no blocks: the fan-out itself
        return fo_start, fo_off, np.asarray(fo_w, np.int16)   # weights are 16-bit (image.py)
    return scatter_by_part(fo_start, fo_off, np.asarray(fo_w, np.int32), in_dense, pn)


@dataclass
class _Runs:
    """Runs of the sorted eligible fan-out (:func:`_runs`), one entry per run ``g``."""

    gid: np.ndarray       #: run of each sorted entry
    dense_g: np.ndarray   #: the run is a dense row
    g_blk: np.ndarray     #: its candidate block
    g_src: np.ndarray     #: its source neuron
    g_part: np.ndarray    #: the part of its targets
    b_lo: np.ndarray      #: (candidate blocks,) lowest offset
    b_hi: np.ndarray      #: highest offset


def _runs(owner, off, tpart, n, noff, parts) -> _Runs:
    """Cut the (neuron, offset)-sorted entries into runs; keep the dense rows (see
    :func:`fan_out_paths`)."""
    m = off.shape[0]
    if m == 0:
        z = np.zeros(0, np.int64)
        return _Runs(gid=z, dense_g=np.zeros(0, bool), g_blk=z, g_src=z, g_part=z, b_lo=z, b_hi=z)
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
    g_core = np.searchsorted(noff, g_lo % n, side="right") - 1
    cand = (g_cnt >= MIN_RUN) & (2 * g_cnt >= g_hi - g_lo + 1)
    bkey = (region[starts] * len(noff) + g_core) * parts + tpart[starts]
    ub, g_blk = np.unique(np.where(cand, bkey, -1), return_inverse=True)
    g_blk = g_blk.reshape(-1)
    b_lo = np.full(len(ub), np.iinfo(np.int64).max)
    b_hi = np.full(len(ub), -1)
    if cand.any():
        cb = g_blk[cand]
        o2 = np.argsort(cb, kind="stable")
        cbs = cb[o2]
        st2 = np.flatnonzero(np.r_[True, cbs[1:] != cbs[:-1]])
        b_lo[cbs[st2]] = np.minimum.reduceat(g_lo[cand][o2], st2)
        b_hi[cbs[st2]] = np.maximum.reduceat(g_hi[cand][o2], st2)
    dense_g = cand & (2 * g_cnt >= b_hi[g_blk] - b_lo[g_blk] + 1)
    return _Runs(gid=gid, dense_g=dense_g, g_blk=g_blk, g_src=owner[starts],
                 g_part=tpart[starts], b_lo=b_lo, b_hi=b_hi)


def _blocks(runs: _Runs, n: int, parts: int, off: np.ndarray, wt: np.ndarray) -> dict:
    """The block tables of :class:`FanOut` from the dense rows of ``runs`` (``off``/``wt``: the
    sorted eligible entries' offsets and weights)."""
    rows = np.flatnonzero(runs.dense_g)
    used, r_blk = np.unique(runs.g_blk[rows], return_inverse=True)
    r_blk = r_blk.reshape(-1).astype(np.int64)
    nb = len(used)
    blk_part = np.zeros(nb, np.int64)
    blk_part[r_blk] = runs.g_part[rows]
    renum = np.argsort(blk_part, kind="stable")          # new block k = old block renum[k]
    inv = np.empty(nb, np.int64)
    inv[renum] = np.arange(nb)
    r_blk = inv[r_blk]
    bk_off = runs.b_lo[used][renum].astype(np.int64)
    bk_len = (runs.b_hi[used] - runs.b_lo[used] + 1)[renum].astype(np.int64)
    r_src = runs.g_src[rows].astype(np.int64)
    order = np.lexsort((r_src, r_blk))                   # rows block by block, sources ascending
    rows, r_blk, r_src = rows[order], r_blk[order], r_src[order]
    r_len = bk_len[r_blk]
    bk_wpos = np.zeros(len(rows), np.int64)
    bk_wpos[1:] = np.cumsum(r_len)[:-1] if len(rows) else 0
    bk_cpos = np.zeros(nb, np.int64)
    bk_cpos[1:] = np.cumsum(bk_len)[:-1] if nb else 0
    # dense weights: every synapse of a dense row at (row start + offset - block start); float64
    # bincounts of int32 weights are exact (no sum reaches 2**53), duplicates add up
    dw_len = int(r_len.sum())
    row_of_group = np.full(len(runs.dense_g), -1, np.int64)
    row_of_group[rows] = np.arange(len(rows))
    sel = np.flatnonzero(runs.dense_g[runs.gid])
    dw = np.zeros(dw_len, np.int32)
    bk_colsum = np.zeros(int(bk_len.sum()), np.int64)
    if len(sel):
        rr = row_of_group[runs.gid[sel]]
        rel = off[sel] - bk_off[r_blk[rr]]
        dw = np.rint(np.bincount(bk_wpos[rr] + rel, weights=wt[sel],
                                 minlength=dw_len)).astype(np.int32)
        bk_colsum = np.rint(np.bincount(bk_cpos[r_blk[rr]] + rel, weights=wt[sel],
                                        minlength=len(bk_colsum))).astype(np.int64)
    # memberships of each (neuron, part): blocks are numbered part by part
    mb_order = np.lexsort((r_blk, r_src))
    mb_blk = r_blk[mb_order].astype(np.int64)
    return dict(mb_ps=_csr(r_src[mb_order] * parts + blk_part[renum][mb_blk], n * parts),
                mb_blk=mb_blk, bp=_csr(blk_part[renum], parts), bk_off=bk_off, bk_len=bk_len,
                bk_mstart=_csr(r_blk, nb), bk_src=r_src, bk_wpos=bk_wpos, bk_cpos=bk_cpos,
                bk_colsum=bk_colsum, dw=dw.astype(_narrow(dw)))


def _narrow(w: np.ndarray) -> type:
    """int8 or int16 when every value fits (a quarter or half of the bytes to stream), else int32."""
    if w.size == 0 or (w.min() >= -128 and w.max() <= 127):
        return np.int8
    if w.min() >= -32768 and w.max() <= 32767:
        return np.int16
    return np.int32
