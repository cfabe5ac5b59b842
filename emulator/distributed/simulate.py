"""``simulate_mpi``: the same run as :func:`spikefab.emulator.simulate`, over the ranks of an MPI job.

Every rank calls it with the same arguments (the image as a path, so that each rank reads only
its own cores' sections; an in-memory Image works too).  Rank 0 returns the
:class:`~spikefab.arch.result.Result` — byte for byte the one a single process computes — and the
other ranks return ``None``.  Any typed error on any rank is raised on every rank (rank 0 reports
it); a rank that dies makes the others raise :class:`~spikefab.errors.LinkError` within the link
timeout.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from spikefab.arch.host import input_channels, split_outputs
from spikefab.arch.image import STATE_DTYPE, Image
from spikefab.arch.result import PROBE_VARIABLES, Result, normalize_inputs, parse_probe
from spikefab.arch.target import load_target
from spikefab.emulator import costs
from spikefab.emulator import kernels as FK
from spikefab.emulator.distributed.checks import check_fanout, check_whole
from spikefab.emulator.distributed.comm import DEFAULT_LINK_TIMEOUT_S, RankComm
from spikefab.emulator.distributed.local import Local, build_local, source_of
from spikefab.emulator.engine import MODES, counter_summary
from spikefab.errors import InputError

__all__ = ["simulate_mpi", "last_timing"]

#: per-phase seconds and bytes of this rank's last run (for benchmarks/scale_out.py)
last_timing: dict[str, Any] = {}


def _probes(loc: Local, probes: Sequence[str]):
    """This rank's probe neurons (local flat index), variables, and their global columns."""
    idx, var, cols, widths = [], [], [], []
    pos = {int(g): k for k, g in enumerate(loc.cores)}
    col = 0
    for p in probes:
        pop, v = parse_probe(loc.image, p)
        spec = loc.image.populations[pop]
        for sl in spec["slices"]:
            ci, off, cnt, start = (int(sl[k]) for k in ("core", "offset", "count", "start"))
            if ci in pos:
                idx.append(loc.flat.noff[pos[ci]] + off + np.arange(cnt))
                cols.append(col + start + np.arange(cnt))
        var.append(PROBE_VARIABLES.index(v))
        widths.append(int(spec["size"]))
        col += int(spec["size"])
    cat = (lambda a: np.concatenate(a).astype(np.int64) if a else np.zeros(0, np.int64))
    idx, cols = cat(idx), cat(cols)
    col_var = np.repeat(np.array(var, np.int64), widths) if widths else np.zeros(0, np.int64)
    return idx, col_var[cols], cols, widths


def _max_route_latency(loc: Local, target) -> int:
    """Zero-load latency of the longest route (the same formula as the single-process engine)."""
    r, t = loc.flat.routes, target.timing
    if r.shape[0] == 0:
        return 0
    h = r[:, 6] + r[:, 7] + r[:, 8]
    return int(np.max((h - r[:, 8] + 2) * t.link_latency + r[:, 8] * t.chiplet_link_latency))


def simulate_mpi(image: Image | str | Path, inputs: Mapping[str, Any] | None, steps: int,
                 mode: str = "functional", probes: Sequence[str] = (), target=None, *,
                 comm=None, link_timeout_s: float = DEFAULT_LINK_TIMEOUT_S) -> Result | None:
    """Run ``image`` over the ranks of ``comm`` (default COMM_WORLD); Result on rank 0."""
    rc = RankComm(timeout_s=link_timeout_s, comm=comm)
    t_start = time.perf_counter()

    def setup():
        if mode not in MODES:
            raise InputError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        src = source_of(image)
        tgt = load_target(target if target is not None else src.target)
        check_whole(src, tgt)                     # the whole-image checks, on every rank
        loc = build_local(src, tgt, rc.rank, rc.size)
        loc.image.manifest["populations"] = src.manifest.get("populations", {})
        ins = normalize_inputs(loc.image, inputs, steps)
        pr = _probes(loc, list(probes))
        return tgt, loc, ins, pr

    tgt, loc, ins, (probe_idx, probe_var, probe_cols, widths) = rc.agree(setup, "setup")
    rc.agree(lambda: check_fanout(rc, loc, tgt), "the fan-out check")
    t_setup = time.perf_counter() - t_start
    in_spikes = (input_channels(loc.image, ins, steps) if rc.rank == 0
                 else np.zeros((steps, loc.n_in), np.uint8))
    timing: dict[str, Any] = {}
    t_run, cpu_run = time.perf_counter(), time.process_time()
    if mode == "functional":
        from spikefab.emulator.distributed.functional import run_functional_rank
        part = run_functional_rank(rc, loc, in_spikes, steps, probe_idx, probe_var, tgt, timing)
    else:
        from spikefab.emulator.distributed.cycle import run_cycle_rank
        part = run_cycle_rank(rc, loc, in_spikes, steps, probe_idx, probe_var, tgt, timing)
    t_run, cpu_run = time.perf_counter() - t_run, time.process_time() - cpu_run
    last_timing.clear()
    last_timing.update(timing, setup_s=t_setup, run_s=t_run, run_cpu_s=cpu_run, wait_s=rc.t_wait,
                       exchange_s=rc.t_exchange, bytes_sent=rc.bytes_sent, rank=rc.rank,
                       ranks=rc.size, cores=len(loc.cores), neurons=loc.flat.n)
    t_gather = time.perf_counter()
    result = _gather(rc, loc, part, steps, mode, list(probes), probe_cols, widths, tgt)
    last_timing["gather_s"] = time.perf_counter() - t_gather
    return result


def _gather(rc: RankComm, loc: Local, part: dict, steps: int, mode: str, probes, probe_cols,
            widths, target) -> Result | None:
    """Reduce counters and spikes, gather states and traces; build the Result on rank 0."""
    out = rc.allreduce(part["out"], "max", "the output gather")
    counters = rc.allreduce(part["counters"], "sum", "the counter gather")
    extra_red = rc.allreduce(part.get("reduce", np.zeros(0, np.int64)), "sum", "the gather")
    if mode == "functional":
        lat_local = np.array([_max_route_latency(loc, target)], np.int64)
        per_step = rc.allreduce(np.concatenate([part["est"], lat_local]), "max",
                                "the cycle-estimate gather")
    else:
        per_step = part["cycles"]
    flat = loc.flat
    states = []
    for k in range(len(loc.cores)):
        lo, hi = int(flat.noff[k]), int(flat.noff[k + 1])
        s = np.zeros(hi - lo, STATE_DTYPE)
        s["u"], s["v"], s["theta"], s["ref"] = part["params"][8, lo:hi], \
            part["params"][9, lo:hi], part["params"][10, lo:hi], part["ref"][lo:hi]
        states.append(s)
    pieces = rc.gather((loc.cores, states, probe_cols, part["traces"], part.get("gather")),
                       "the state gather")
    if rc.rank != 0:
        return None
    n_cores = len(loc.part.core_owner)
    final: list[np.ndarray] = [None] * n_cores  # type: ignore[list-item]
    traces_all = np.zeros((steps, int(sum(widths))), np.int64)
    for cores, sts, cols, tr, _ in pieces:
        for g, s in zip(cores, sts):
            final[int(g)] = s
        traces_all[:, cols] = tr
    barrier = costs.barrier_cycles(target, loc.chiplets_used)
    extra: dict[str, Any] = {}
    if mode == "functional":
        cycles = None
        per_step = per_step[:steps] + per_step[steps] + barrier
        hops = counters[[FK.C_HOPS_EW, FK.C_HOPS_NS, FK.C_HOPS_CHIP]]
    else:
        from spikefab.emulator.distributed.cycle import finish_cycle
        cycles, hops, extra = finish_cycle(loc, extra_red, [p[4] for p in pieces], target)
        per_step = cycles
    counts = counter_summary(counters, hops, extra)
    if mode == "functional":
        counts["estimated_cycles_per_step"] = per_step
    lat = costs.latency_us(per_step, target)
    breakdown = costs.energy_breakdown(counts, lat, target)
    spikes = split_outputs(loc.image, out)
    tr, col = {}, 0
    for p, w in zip(probes, widths):
        tr[p] = traces_all[:, col:col + w].copy()
        col += w
    return Result(spikes=spikes, traces=tr, final_state=final, counters=counts,
                  cycles_per_step=cycles, latency_us=lat, energy_pj=float(sum(breakdown.values())),
                  energy_breakdown=breakdown, backend=f"emulator-{mode}")
