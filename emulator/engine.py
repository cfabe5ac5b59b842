"""Run an Image on the emulator: functional (time-step exact) or cycle (core pipeline + NoC).

Both engines are one Numba kernel call for the whole run over the flat arrays of
:mod:`spikefab.emulator.flat`; this module only checks inputs, prepares the arrays and turns the
kernel's outputs into a :class:`~spikefab.arch.result.Result` (spikes, traces, final state,
counters, latency and energy from the Target).
"""

from __future__ import annotations

import os
import time
from typing import Any, Mapping, Sequence

import numpy as np

from spikefab.arch.host import input_channels, split_outputs
from spikefab.arch.image import STATE_DTYPE, Image
from spikefab.arch.result import (PROBE_VARIABLES, Result, normalize_inputs, parse_probe,
                                  readout_probes, readout_values)
from spikefab.arch.target import Target, load_target
from spikefab.arch.validate import check_fits, check_run_memory
from spikefab.emulator import costs
from spikefab.emulator.barrier import FUTEX_OK
from spikefab.emulator import kernels as FK
from spikefab.emulator.flat import FlatImage, NeuronArrays, flatten, neuron_arrays
from spikefab.emulator.learning.engine import no_learning
from spikefab.emulator.learning.engine import prepare as prepare_learning
from spikefab.emulator.learning.kernels import run_functional_plastic
from spikefab.emulator.noc.fabric import new_fabric
from spikefab.emulator.noc.kernels import S_MAXF
from spikefab.errors import InputError, TargetError

__all__ = ["simulate", "MODES"]

MODES = ("functional", "cycle")

#: Wall seconds of the last functional kernel call (the step loop; not the checks, the flattening,
#: the fan-out tables or the Result), as Brian2's ``device._last_run_time`` or SANA-FE's
#: ``chip.sim()``: the benchmarks compare simulation loops with it.
last_run_s = 0.0

#: Set True to record the functional kernel's per-thread profile of the next runs into
#: :data:`last_profile` (benchmarks only: each phase then reads two clocks, ~1 µs; when False
#: the kernel reads none, but a thread waiting at the barrier reads the monotonic clock).
profile_threads = False
#: ``(steps, workers, kernels.P_N)`` int64 of the last profiled run (``kernels.P_*`` columns)
last_profile: np.ndarray | None = None


def _probe_arrays(image: Image, flat: FlatImage, probes: Sequence[str]):
    idx, var, widths = [], [], []
    for p in probes:
        pop, v = parse_probe(image, p)
        spec = image.populations[pop]
        g = np.zeros(int(spec["size"]), np.int64)
        for sl in spec["slices"]:
            ci, off, cnt, start = (int(sl[k]) for k in ("core", "offset", "count", "start"))
            g[start:start + cnt] = flat.noff[ci] + off + np.arange(cnt)
        idx.append(g)
        var.append(np.full(len(g), PROBE_VARIABLES.index(v), np.int64))
        widths.append(len(g))
    cat = (lambda a: np.concatenate(a) if a else np.zeros(0, np.int64))
    return cat(idx), cat(var), widths


def _max_route_latency(flat: FlatImage, target: Target) -> int:
    r = flat.routes
    if r.shape[0] == 0:
        return 0
    t = target.timing
    h = r[:, 6] + r[:, 7] + r[:, 8]
    return int(np.max((h - r[:, 8] + 2) * t.link_latency + r[:, 8] * t.chiplet_link_latency))


def _check_cycle_target(target: Target) -> None:
    t = target.timing
    need = max(t.link_latency, t.chiplet_link_latency if target.topology.chiplets > 1 else 0,
               t.chiplet_link_cycles if target.topology.chiplets > 1 else 0)
    if t.barrier_cycles < need:
        raise TargetError(f"target {target.name}: timing.barrier_cycles must be >= every link "
                          f"latency ({need}) so that credits are back at the barrier, not "
                          f"{t.barrier_cycles}", where="timing.barrier_cycles")


def functional_parts(n_neurons: int) -> int:
    """How many parts (thread work items) the functional engine cuts the neurons into.

    ``SPIKEFAB_THREADS=k`` asks for ``k`` parts, run on Numba's threads (``NUMBA_NUM_THREADS``);
    without it the engine stays on one thread: a step is one parallel region, and on a machine
    busier than its cores each barrier waits for a descheduled thread (docs/benchmarks.md measured
    that on the shared 2-core VM).  Results are identical for any value.
    """
    env = os.environ.get("SPIKEFAB_THREADS", "").strip()
    if not env:
        return 1
    if not env.isdigit() or int(env) < 1:
        raise InputError(f"environment variable SPIKEFAB_THREADS must be a positive "
                         f"integer (the functional engine's thread parts), not {env!r}",
                         where="SPIKEFAB_THREADS")
    return min(int(env), max(n_neurons, 1))


def _run_functional(flat: FlatImage, params, ref, in_spikes, out, probe_idx, probe_var, traces,
                    counters, timing, est, steps: int) -> None:
    """The functional kernel over ``flat``: int32 accumulators when the image's bound allows,
    the fused int32 neuron update when its guard holds (:func:`fused_update`), the threaded
    driver when ``flat`` was cut into several parts and threads can run them."""
    na = neuron_arrays(flat, params, ref)
    fo = flat.fo
    size = flat.slots * flat.n_classes * flat.n
    # Lava DelayDense staging (FK.staging): deliveries go to a stage that the end of each step
    # shifts (per bucket, floored) into the ring; the update then shifts nothing
    staged = flat.slots > 2 and flat.nexp.size > 0 and int(flat.nexp.min()) < 0
    bound = flat.acc_bound
    nrn = na.as_tuple()
    if staged:
        stage = np.zeros(size, np.int32 if bound < 2**31 - 1 else np.int64)
        bound = bound << int(na.lsh.max(initial=0))     # the ring holds the shifted sums
        nrn = nrn[:FK.N_LSH] + (np.zeros_like(na.lsh), np.zeros_like(na.rsh)) \
            + nrn[FK.N_RSH + 1:]
    acc = np.zeros(size, np.int32 if bound < 2**31 - 1 else np.int64)
    if not staged:
        stage = acc
    fused = fused_update(flat, na, params) and _segments_pay(flat, na)
    dim = np.array([steps, flat.n_classes, flat.slots, int(staged), int(fused)], np.int64)
    net = (flat.noff, flat.ax_start, flat.ax_count, flat.syn_off, flat.syn_w, flat.hr_start,
           flat.hr_count, flat.routes, flat.nr_start, flat.nr_count, _route_dc(flat),
           flat.route_sums)
    workers = _workers(fo.pn.shape[0] - 1)
    prof = np.zeros((steps, workers, FK.P_N) if profile_threads else (0, 1, FK.P_N), np.int64)
    io = (in_spikes, out, probe_idx, probe_var, traces, counters, timing, est, prof)
    ops = (dim, net, io, nrn, fo.as_tuple(), (acc, stage, na.lsh, na.rsh), params, ref)
    t0 = time.perf_counter()
    if workers > 1:
        FK.run_functional_threads(workers, *ops)
    else:
        FK.run_functional(*ops)
    _loop_time(t0)
    if profile_threads:
        global last_profile
        last_profile = prof


def _route_dc(flat: FlatImage) -> np.ndarray:
    """The functional kernel's route walk table (``kernels.send_spikes``): int32 destination
    core and synapse count per route, ``-1 - channel`` for a host output."""
    rd = flat.route_dst
    return np.ascontiguousarray(np.stack([np.where(rd[:, 0] < 0, -1 - rd[:, 2], rd[:, 0]),
                                          rd[:, 1]], axis=1), np.int32).reshape(-1, 2)


def _loop_time(t0: float) -> None:
    global last_run_s
    last_run_s = time.perf_counter() - t0


def fused_update(flat: FlatImage, na: NeuronArrays, params: np.ndarray) -> bool:
    """Whether the fused int32 neuron update (``kernels.update_lif``) is exact for this run.

    It needs the input of one step, summed over the classes and shifted by their exponents, to
    stay within 2**18 (so ``u`` stays 24-bit) and the start state within 24 bits; the
    accumulator bound (:attr:`FlatImage.acc_bound`) gives the first.  Otherwise (huge weights
    or exponents) the int64 loops run; both give the reference's bytes.
    """
    shift = int(na.lsh.max(initial=0))
    if shift > 18 or flat.acc_bound * max(flat.n_classes, 1) > (2**18 >> shift):
        return False
    return bool(np.abs(params[8]).max(initial=0) <= 2**23
                and np.abs(params[9]).max(initial=0) <= 2**23)


def _segments_pay(flat: FlatImage, na: NeuronArrays) -> bool:
    """Speed only: the fused update is one call per profile segment, so it wants segments of
    16 neurons on average (random per-neuron profiles run the per-neuron int64 loops)."""
    return na.segments * 16 <= flat.n + 16 * flat.parts


def _workers(parts: int) -> int:
    """Threads for the functional engine's ``parts``: one region for the whole run whose
    workers meet at spin barriers, so they must all run at once: at most Numba's thread count,
    on a threading layer that gives each chunk of a ``prange`` its own thread (workqueue, the
    default here, or OpenMP), on x86-64 Linux (the barrier's futex); 1 (the single-thread
    driver) otherwise."""
    if parts < 2 or not FUTEX_OK:
        return 1
    import numba
    layer = os.environ.get("NUMBA_THREADING_LAYER", "").strip().lower()
    if not layer:
        # Numba's workqueue pool wakes its threads in microseconds, GNU OpenMP's took ~10x the
        # whole step on the shared 2-core VM; set before anything starts a pool
        numba.config.THREADING_LAYER = "workqueue"
    elif layer not in ("workqueue", "omp"):
        return 1
    return max(1, min(parts, numba.get_num_threads()))


def simulate(image: Image, inputs: Mapping[str, Any] | None, steps: int,
             mode: str = "functional", probes: Sequence[str] = (),
             target: Target | str | None = None, weight_every: int = 0) -> Result:
    """Run ``image`` for ``steps`` steps; see :func:`spikefab.run` for the parameters.

    ``weight_every = N``: plastic images record their learned weights every N steps.
    """
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    target = load_target(target if target is not None else image.target)
    check_fits(image, target)
    user_probes = list(probes)
    probes = user_probes + [p for p in readout_probes(image).values() if p not in user_probes]
    check_run_memory(image, steps, sum(int(image.populations[parse_probe(image, p)[0]]["size"])
                                       for p in probes), weight_every=weight_every)
    ins = normalize_inputs(image, inputs, steps)
    flat = flatten(image, target, functional_parts(sum(c.n_neurons for c in image.cores))
                   if mode == "functional" else 1)
    probe_idx, probe_var, widths = _probe_arrays(image, flat, probes)

    in_spikes = input_channels(image, ins, steps)
    params = flat.params.copy()
    ref = flat.ref0.copy()
    out = np.zeros((steps, flat.n_out), np.uint8)
    traces = np.zeros((steps, len(probe_idx)), np.int64)
    counters = np.zeros(FK.N_COUNTERS, np.int64)
    barrier = costs.barrier_cycles(target, flat.chiplets_used)
    tm = target.timing
    common = (steps, in_spikes, flat.n_classes, flat.slots, flat.noff, params, ref, flat.nexp,
              flat.ax_start, flat.ax_count, flat.syn_off, flat.syn_w, flat.nr_start, flat.nr_count,
              flat.hr_start, flat.hr_count, flat.routes, out, probe_idx, probe_var, traces,
              counters)
    extra: dict[str, Any] = {}
    plastic = prepare_learning(image, flat, target, steps, weight_every)
    if mode == "functional":
        est = np.zeros(steps, np.int64)
        ftiming = np.array([tm.neuron_cycles, tm.packet_cycles, tm.synapse_cycles], np.int64)
        if plastic is not None:        # learning engine: weights change, no fan-out cache
            t0 = time.perf_counter()
            run_functional_plastic(common, ftiming, est, plastic.args)
            _loop_time(t0)
        else:
            _run_functional(flat, params, ref, in_spikes, out, probe_idx, probe_var, traces,
                            counters, ftiming, est, steps)
        per_step = est + _max_route_latency(flat, target) + barrier
        cycles = None
        hops = counters[[FK.C_HOPS_EW, FK.C_HOPS_NS, FK.C_HOPS_CHIP]]
    else:
        cycles, hops, extra = _run_cycle(flat, target, common, plastic, barrier)
        per_step = cycles
    counts = counter_summary(counters, hops, extra)
    if mode == "functional":
        counts["estimated_cycles_per_step"] = per_step
    if plastic is not None:
        learned = plastic.learned(flat.syn_w)
        counts["learning_updates"] = learned["updates"]
    lat = costs.latency_us(per_step, target)
    breakdown = costs.energy_breakdown(counts, lat, target)
    spikes = split_outputs(image, out)
    tr, col = {}, 0
    for p, w in zip(probes, widths):
        tr[p] = traces[:, col:col + w].copy()
        col += w
    values = readout_values(image, tr)
    tr = {p: tr[p] for p in user_probes}
    final = _final_state(flat, params, ref)
    res = Result(spikes=spikes, traces=tr, values=values, final_state=final, counters=counts,
                 cycles_per_step=cycles, latency_us=lat, energy_pj=float(sum(breakdown.values())),
                 energy_breakdown=breakdown, backend=f"emulator-{mode}")
    if plastic is not None:
        res.weights, res.weight_snapshots = learned["weights"], learned["snapshots"]
    return res


def _run_cycle(flat: FlatImage, target: Target, common: tuple, plastic, barrier: int):
    """The cycle engine over ``flat``: (cycles per step, hops E/W N/S chiplet, extra counters)."""
    from spikefab.emulator.cycle import kernels as CK
    _check_cycle_target(target)
    topo = target.topology
    tm = target.timing
    fab = new_fabric(topo.global_x, topo.global_y, topo.mesh_x, topo.mesh_y,
                     topo.cores_per_router, tm.fifo_depth, tm.link_latency,
                     tm.chiplet_link_latency, tm.chiplet_link_cycles,
                     np.stack([flat.core_router, flat.core_slot], 1), routing=topo.routing)
    steps, in_spikes, params, ref = common[0], common[1], common[5], common[6]
    out, probe_idx, probe_var, traces, counters = common[17:22]
    cycles = np.zeros(steps, np.int64)
    hops = np.zeros(3, np.int64)
    CK.run_cycle(steps, in_spikes, CK.tables(flat), params, ref,
                 CK.Outputs(out, probe_idx, probe_var, traces, counters, cycles, hops),
                 np.array([tm.neuron_cycles, tm.packet_cycles, tm.synapse_cycles, barrier],
                          np.int64), fab.args(), CK.new_engines(len(flat.noff) - 1),
                 plastic.args if plastic is not None else no_learning())
    links = sorted(fab.link_table(), key=lambda r: (-r[3], r[0], r[1], r[2]))
    return cycles, hops, {"max_fifo": int(fab.st[S_MAXF]), "links": links}


def _final_state(flat: FlatImage, params: np.ndarray, ref: np.ndarray) -> list[np.ndarray]:
    """Each core's end-of-run state table from the global arrays."""
    final = []
    for ci in range(flat.noff.shape[0] - 1):
        lo, hi = int(flat.noff[ci]), int(flat.noff[ci + 1])
        s = np.zeros(hi - lo, STATE_DTYPE)
        s["u"], s["v"], s["theta"], s["ref"] = params[8, lo:hi], params[9, lo:hi], \
            params[10, lo:hi], ref[lo:hi]
        final.append(s)
    return final


def counter_summary(counters: np.ndarray, hops: np.ndarray, extra: Mapping[str, Any]) -> dict:
    """The Result's counters from the kernels' counter array and the (E/W, N/S, chiplet) hops;
    one definition for the single-process and the MPI engines."""
    return {
        "synops": int(counters[FK.C_SYNOPS]),
        "spikes": int(counters[FK.C_SPIKES]),
        "neuron_updates_active": int(counters[FK.C_ACTIVE]),
        "neuron_updates_inactive": int(counters[FK.C_INACTIVE]),
        "packets": int(counters[FK.C_PACKETS]),
        "host_packets_in": int(counters[FK.C_HOST_IN]),
        "host_packets_out": int(counters[FK.C_HOST_OUT]),
        "hops_ew": int(hops[0]), "hops_ns": int(hops[1]), "chiplet_hops": int(hops[2]),
        **extra,
    }
