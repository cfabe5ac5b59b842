"""The RTL's flooring before #15, as a model: raw sums in the ring, one floor of a slot's sum.

Lava's DelayDense (and :mod:`spikefab.arch.reference`) floor each (source step, delay) bucket
apart; flooring the whole slot when it is read differs for right-shifting classes that mix
delays.  The differential tests run this model too, to show that their networks tell the two
apart (a test that cannot fail proves nothing).
"""

from __future__ import annotations

from unittest import mock

from spikefab.arch import reference
from spikefab.arch.neuron import shift_input
from spikefab.arch.result import Result


class SlotFloorChip(reference.ReferenceChip):
    """:class:`~spikefab.arch.reference.ReferenceChip` with the slot-sum floor."""

    def _commit(self, t: int) -> None:
        for ci, stage in enumerate(self.stage):
            for d in range(self.slots - 1):
                self.acc[ci][(t + 1 + d) % self.slots] += stage[d]
            stage[:] = 0

    def step(self, channel_spikes):
        slot = self.t % self.slots
        for ci, core in enumerate(self.image.cores):
            for c, e in enumerate(core.acc_exps):
                self.acc[ci][slot, c] = shift_input(self.acc[ci][slot, c], int(e))
        return super().step(channel_spikes)


def run_slot_floor(image, inputs, steps: int) -> Result:
    """:func:`~spikefab.arch.reference.run_reference` with :class:`SlotFloorChip`."""
    with mock.patch.object(reference, "ReferenceChip", SlotFloorChip):
        return reference.run_reference(image, inputs, steps)
