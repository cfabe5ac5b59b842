"""Numba kernels of the distributed functional engine: a window of steps, then the imports.

They reuse the single-process kernels (:func:`~spikefab.emulator.kernels.lif_update`,
:func:`~spikefab.emulator.kernels.deliver_axon`, :func:`~spikefab.emulator.kernels.record_probes`,
:func:`~spikefab.emulator.kernels.count_routes`) for all neuron arithmetic, synaptic delivery and
spike counters; what they add is the split of a spike's routes into local ones (delivered at once
through the fan-out tables), output spikes, and **exports** (recorded as ``(step - t0) * n_exp +
j`` for export ``j``, sent at the end of the window).

Deliveries go to ``stage[w % stage.shape[0]]`` for window step ``w``.  Without staging (see
:func:`~spikefab.emulator.kernels.staging`) ``stage`` is a one-row view of ``acc``, so they land
in the ring at once.  With staging, Lava floors each (source step, delay) sum, and a sum is whole
only once the imports of its source step have arrived, so each window step has its own stage
row, and :func:`commit_window` floors the rows into ``acc`` after the window's imports.

A window is at most ``min delay + 1`` steps long: a spike of step ``t`` is integrated in step
``t + 1 + delay``, so a packet exported anywhere in the window is delivered on its receiver
before the receiver runs the step that reads it.  Accumulator sums are order-independent
(DESIGN.md section 3), so neither the batching nor the arrival order changes a result.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from spikefab.emulator.kernels import (C_HOPS_CHIP, C_HOPS_EW, C_HOPS_NS, C_HOST_IN, C_HOST_OUT,
                                         C_PACKETS, C_SYNOPS, commit_stage, count_routes,
                                         deliver_axon, lif_update, record_probes)


#: The fan-out of the flat image (``FlatImage.route_dst``/``route_sums``/``fan_out()``).
FanTables = namedtuple("FanTables", "route_dst route_sums fo_start fo_off fo_w")
#: Neuron state and accumulators: ``uexp`` the exponents the update applies (all zero when
#: staging), ``stage`` the delivery rows (module docstring).
NeuronState = namedtuple("NeuronState", "params ref uexp acc stage")
#: What a window writes: outputs, exports, per-core cycle-estimate terms, probes, counters.
WindowIO = namedtuple("WindowIO", "out exp_buf emit dest_pk dest_syn probe_idx probe_var traces "
                                  "counters")


@njit(cache=True)
def _core_spikes(t, w, k, tab, fan, spikes, dst, n_out, n_exp, win):
    """Deliver, count and export the packets of the cores' spikes of window step ``w``."""
    noff = tab.noff
    nr_start = tab.nr_start
    nr_count = tab.nr_count
    route_dst = fan.route_dst
    route_sums = fan.route_sums
    fo_start = fan.fo_start
    fo_off = fan.fo_off
    fo_w = fan.fo_w
    emit = win.emit
    dest_pk = win.dest_pk
    dest_syn = win.dest_syn
    out = win.out
    exp_buf = win.exp_buf
    counters = win.counters
    cn = tab.nexp.shape[0]
    dcn = tab.slots * cn
    base = ((t + 1) % tab.slots) * cn
    for ci in range(noff.shape[0] - 1):
        for i in range(noff[ci], noff[ci + 1]):
            if spikes[i] == 0 or nr_count[i] == 0:
                continue
            r0 = nr_start[i]
            rc = nr_count[i]
            emit[w, ci] += rc
            count_routes(counters, route_sums, i, rc)
            for r in range(r0, r0 + rc):
                d = route_dst[r, 0]
                if d >= 0:
                    dest_pk[w, d] += 1
                    dest_syn[w, d] += route_dst[r, 1]
                elif route_dst[r, 2] < n_out:
                    out[t, route_dst[r, 2]] = 1
                else:
                    exp_buf[k] = w * n_exp + route_dst[r, 2] - n_out
                    k += 1
            for q in range(fo_start[i], fo_start[i + 1]):
                idx = base + fo_off[q]
                if idx >= dcn:
                    idx -= dcn
                dst[idx] += fo_w[q]
    return k


@njit(cache=True)
def _host_spikes(t, w, k, in_spikes, tab, fan, dst, n_out, n_exp, win):
    """Deliver, count and export the host's packets of window step ``w``."""
    routes = tab.routes
    route_dst = fan.route_dst
    hr_start = tab.hr_start
    hr_count = tab.hr_count
    counters = win.counters
    cn = tab.nexp.shape[0]
    for ch in range(hr_start.shape[0]):
        if in_spikes[t, ch] == 0 or hr_count[ch] == 0:
            continue
        counters[C_HOST_IN] += hr_count[ch]
        for r in range(hr_start[ch], hr_start[ch] + hr_count[ch]):
            counters[C_PACKETS] += 1
            counters[C_HOPS_EW] += routes[r, 6]
            counters[C_HOPS_NS] += routes[r, 7]
            counters[C_HOPS_CHIP] += routes[r, 8]
            d = route_dst[r, 0]
            if d >= 0:
                s = deliver_axon(routes[r, 1], t, tab.slots, cn, tab.ax_start, tab.ax_count,
                                 tab.syn_off, tab.syn_w, dst)
                counters[C_SYNOPS] += s
                win.dest_pk[w, d] += 1
                win.dest_syn[w, d] += s
            elif route_dst[r, 2] < n_out:
                win.out[t, route_dst[r, 2]] = 1
                counters[C_HOST_OUT] += 1
            else:
                win.exp_buf[k] = w * n_exp + route_dst[r, 2] - n_out
                k += 1
    return k


@njit(cache=True)
def functional_window(t0, t1, in_spikes, tab, fan, state, win, n_out, n_exp):
    """Run steps ``t0 .. t1-1`` of this rank's cores; return the number of exports recorded.

    ``tab``: :class:`~spikefab.emulator.cycle.kernels.Tables` of the rank's flat image.
    ``win.emit``/``dest_pk``/``dest_syn`` (window steps x local cores) collect the per-core
    terms of the functional engine's cycle estimate; imports add to ``dest_*`` later.
    """
    spikes = np.zeros(state.ref.shape[0], np.uint8)
    stage = state.stage
    k = 0
    for t in range(t0, t1):
        w = t - t0
        lif_update(t, tab.slots, tab.n_classes, state.params, state.ref, state.uexp, state.acc,
                   spikes, win.counters)
        dst = stage[w % stage.shape[0]]
        k = _core_spikes(t, w, k, tab, fan, spikes, dst, n_out, n_exp, win)
        k = _host_spikes(t, w, k, in_spikes, tab, fan, dst, n_out, n_exp, win)
        record_probes(t, state.params, state.ref, spikes, win.probe_idx, win.probe_var,
                      win.traces)
    return k


@njit(cache=True)
def deliver_imports(t0, imports, tab, stage, axon_core, dest_pk, dest_syn, counters):
    """Deliver imported packets ``(window step, local axon)`` emitted in step ``t0 + step``
    into the stage row of that step (module docstring)."""
    cn = tab.nexp.shape[0]
    for q in range(imports.shape[0]):
        w = imports[q, 0]
        ax = imports[q, 1]
        s = deliver_axon(ax, t0 + w, tab.slots, cn, tab.ax_start, tab.ax_count, tab.syn_off,
                         tab.syn_w, stage[w % stage.shape[0]])
        counters[C_SYNOPS] += s
        c = axon_core[ax]
        dest_pk[w, c] += 1
        dest_syn[w, c] += s


@njit(cache=True)
def commit_window(t0, steps, slots, cn, nexp, stage, acc):
    """Floor the stage row of each window step ``t0 + w`` into the ring (all sources in)."""
    for w in range(steps):
        commit_stage(t0 + w, slots, cn, nexp, stage[w], acc)


@njit(cache=True)
def window_estimate(noff, neuron_cycles, packet_cycles, synapse_cycles, emit, dest_pk, dest_syn,
                    steps, est, t0):
    """``est[t0 + w]`` = max over local cores of the functional engine's core-time estimate."""
    n_cores = noff.shape[0] - 1
    for w in range(steps):
        best = 0
        for ci in range(n_cores):
            upd = (noff[ci + 1] - noff[ci]) * neuron_cycles + emit[w, ci]
            syn = dest_pk[w, ci] * packet_cycles + dest_syn[w, ci] * synapse_cycles
            best = max(best, max(upd, syn))
        est[t0 + w] = best


# ---------------------------------------------------------------------------- cycle engine
# The MPI cycle engine runs the single-process engine's kernels (count_packets, fill_packets,
# cycle_window, next_activity, finish_step of :mod:`spikefab.emulator.cycle.kernels`) on the
# rank's own cores, in windows of cycles between event exchanges.
