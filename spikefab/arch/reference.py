"""The golden model of a whole image: :mod:`spikefab.arch.neuron` applied core by core.

This is the readable definition of what a chip does with an image in one time step; every
backend is tested against it.  It favours clarity over speed (plain NumPy, Python loops over
spiking neurons).

One time step ``t`` (DESIGN.md section 3, "Time"):

1. every core reads its dendritic accumulators for slot ``t mod D`` (``D = max_delay + 2``),
   sums the classes into ``a``, clears the slot, and updates all its neurons with
   :func:`~spikefab.arch.neuron.lif_step`;
2. every spiking neuron sends one packet per route entry; the host sends one per route entry of
   every input channel spiking in step ``t``;
3. a packet for (core, axon) adds each synapse entry's weight to the staging accumulator
   ``[delay, acc_class, neuron]`` of step ``t``; a packet for the host marks output channel
   ``axon`` as spiking in step ``t``;
4. at the end of step ``t`` every staging sum is shifted by its class's weight exponent (floor)
   and added to the ring accumulator ``[(t + 1 + delay) mod D, acc_class, neuron]``, and the
   staging accumulators are cleared.

Step 4 is Lava's ``DelayDense`` exactly: Lava computes the delayed sums of one step's spikes per
delay, shifts *them* by ``weight_exp`` and adds them into its ring buffer, so inputs that arrive
in the same step from different (source step, delay) pairs are floored separately.  (Flooring the
slot's whole sum when it is read gives a different number for negative exponents.)  Without
delays, or with no negative exponent, staging changes nothing, and the engines may skip it.

Accumulators are unbounded integers here; the compiler proves they fit ``accumulator_bits``.
Because step 3 only adds, packet order can never change a result.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from spikefab.arch.host import host_packets, input_channels, output_width, split_outputs
from spikefab.arch.image import STATE_DTYPE, Image
from spikefab.arch.learning.readout import WeightRecorder, projection_weights
from spikefab.arch.learning.tables import CoreLearner
from spikefab.arch.neuron import lif_step, shift_input
from spikefab.arch.result import Result, normalize_inputs, parse_probe
from spikefab.arch.validate import check_run_memory

__all__ = ["ReferenceChip", "run_reference", "ring_slots"]


def ring_slots(image: Image) -> int:
    """Dendritic ring-buffer depth ``D`` the image needs: largest delay + 2."""
    max_delay = max((int(c.synapses["delay"].max()) for c in image.cores if len(c.synapses)),
                    default=0)
    return max_delay + 2


class ReferenceChip:
    """Step-by-step golden model holding the state of every core."""

    def __init__(self, image: Image) -> None:
        self.image = image
        self.slots = ring_slots(image)
        self.state = [c.state.copy() for c in image.cores]
        self.acc = [np.zeros((self.slots, max(len(c.acc_exps), 1), c.n_neurons), np.int64)
                    for c in image.cores]
        self.stage = [np.zeros((self.slots - 1, max(len(c.acc_exps), 1), c.n_neurons), np.int64)
                      for c in image.cores]
        self.address = {c.address: i for i, c in enumerate(image.cores)}
        self.n_out = output_width(image)
        self.t = 0
        self.synops = 0
        # on-chip learning: live weights, axons hit this step, one learner per plastic core
        self.weights = [c.synapses["weight"].astype(np.int64) for c in image.cores]
        self.axon_hit = [np.zeros(len(c.axons), bool) for c in image.cores]
        gen = image.manifest.get("learning", {}).get("generator", "hardware")
        self.learners = {ci: CoreLearner(c, self.weights[ci], gen)
                         for ci, c in enumerate(image.cores) if c.plastic}
        self.learning_updates = 0

    def _deliver(self, routes: np.ndarray, t: int, out_row: np.ndarray) -> None:
        for r in routes:
            if r["host"]:
                out_row[int(r["axon"])] = 1
                continue
            ci = self.address[(int(r["chiplet"]), int(r["x"]), int(r["y"]), int(r["slot"]))]
            core = self.image.cores[ci]
            ax = core.axons[int(r["axon"])]
            run = slice(int(ax["start"]), int(ax["start"]) + int(ax["count"]))
            syn = core.synapses[run]
            self.axon_hit[ci][int(r["axon"])] = True
            np.add.at(self.stage[ci], (syn["delay"].astype(np.int64),
                                       syn["acc_class"].astype(np.int64),
                                       syn["neuron"].astype(np.int64)), self.weights[ci][run])
            self.synops += len(syn)

    def _commit(self, t: int) -> None:
        """Step 4: shift each (delay, class) sum of step ``t`` and add it into the ring."""
        for ci, core in enumerate(self.image.cores):
            stage = self.stage[ci]
            for d in range(self.slots - 1):
                slot = (t + 1 + d) % self.slots
                for c, e in enumerate(core.acc_exps):
                    self.acc[ci][slot, c] += shift_input(stage[d, c], int(e))
            stage[:] = 0

    def step(self, channel_spikes: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Advance one step; ``channel_spikes`` is the host input vector over all channels.

        Returns the output-channel spike vector and, per core, the neurons' spike vector.
        """
        t = self.t
        slot = t % self.slots
        out_row = np.zeros(self.n_out, np.uint8)
        spikes_per_core = []
        for ci, core in enumerate(self.image.cores):
            acc = self.acc[ci][slot]
            a = acc.sum(axis=0)
            acc[:] = 0
            prof = core.profiles[core.neurons["profile"]] if core.n_neurons else core.profiles[:0]
            st = self.state[ci]
            u, v, s, ref, theta = lif_step(
                st["u"], st["v"], a, du=prof["du"], dv=prof["dv"], vth=prof["vth"],
                bias_mant=core.neurons["bias_mant"], bias_exp=core.neurons["bias_exp"],
                reset_mode=prof["reset_mode"], refractory=prof["refractory"], ref=st["ref"],
                theta=st["theta"], theta_inc=prof["theta_inc"], theta_decay=prof["theta_decay"])
            st["u"], st["v"], st["ref"], st["theta"] = u, v, ref, theta
            spikes_per_core.append(s)
        for ci, core in enumerate(self.image.cores):
            for n in np.flatnonzero(spikes_per_core[ci]):
                p = core.route_ptr[n]
                self._deliver(core.routes[int(p["start"]):int(p["start"]) + int(p["count"])], t,
                              out_row)
        self._deliver(host_packets(self.image, channel_spikes), t, out_row)
        self._commit(t)
        for ci, learner in self.learners.items():
            self.learning_updates += learner.step(self.axon_hit[ci], spikes_per_core[ci], t + 1)
        for hit in self.axon_hit:
            hit[:] = False
        self.t += 1
        return out_row, spikes_per_core

    def read(self, pop: str, var: str, spikes_per_core: list[np.ndarray]) -> np.ndarray:
        """Current value of ``var`` for every neuron of population ``pop`` (population order)."""
        spec = self.image.populations[pop]
        out = np.zeros(int(spec["size"]), np.int64)
        for sl in spec["slices"]:
            ci, off, cnt, start = (int(sl[k]) for k in ("core", "offset", "count", "start"))
            src = spikes_per_core[ci] if var == "s" else self.state[ci][var]
            out[start:start + cnt] = src[off:off + cnt]
        return out


def run_reference(image: Image, inputs: Mapping[str, Any] | None, steps: int,
                  probes: Sequence[str] = (), weight_every: int = 0) -> Result:
    """Run the golden model for ``steps`` steps; inputs as for every backend.

    ``weight_every = N`` records the plastic projections' weights after every N steps.
    """
    parsed = [parse_probe(image, p) for p in probes]
    check_run_memory(image, steps, sum(int(image.populations[pop]["size"]) for pop, _ in parsed),
                     weight_every=weight_every)
    rec = WeightRecorder(image, weight_every)
    ins = normalize_inputs(image, inputs, steps)
    chip = ReferenceChip(image)
    channels = input_channels(image, ins, steps)
    traces = {p: np.zeros((steps, int(image.populations[pp]["size"])), np.int64)
              for p, (pp, _) in zip(probes, parsed)}
    out_rows = np.zeros((steps, chip.n_out), np.uint8)
    n_spikes = 0
    for t in range(steps):
        out_rows[t], spk = chip.step(channels[t])
        n_spikes += int(sum(s.sum() for s in spk))
        for p, (pop, var) in zip(probes, parsed):
            traces[p][t] = chip.read(pop, var, spk)
        rec.after_step(t + 1, chip.weights)
    spikes = split_outputs(image, out_rows)
    final = [np.asarray(s, dtype=STATE_DTYPE).copy() for s in chip.state]
    counters = {"synops": chip.synops, "spikes": n_spikes}
    if chip.learners:
        counters["learning_updates"] = chip.learning_updates
    return Result(spikes=spikes, traces=traces, final_state=final, counters=counters,
                  backend="reference", weights=projection_weights(image, chip.weights),
                  weight_snapshots=rec.result())
