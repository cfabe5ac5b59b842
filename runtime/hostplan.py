"""What the host sends and how it reads answers back: pure functions, no I/O.

These turn an :class:`~spikefab.arch.image.Image` and run inputs into protocol commands
(upload writes, per-step host-queue packets) and turn the words read back (``out_log``,
``cycle_log``) into a :class:`~spikefab.arch.result.Result`'s arrays.  Kept apart from the link
so each rule of ``docs/host-protocol.md`` section 7 is testable without a board.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from spikefab.arch.image import CORE_TABLES, ROUTE_DTYPE, CoreImage, Image
from spikefab.arch.memory_map import FABRIC_CORE, CoreTable
from spikefab.arch.protocol import MAX_PAYLOAD, WriteMem, max_entries
from spikefab.arch.target import Target
from spikefab.errors import LinkError, ResourceError

__all__ = ["TableUpload", "physical_core", "core_map", "upload_tables", "state_tables",
           "channel_matrix", "step_packets", "max_outputs_per_step", "decode_out_log",
           "INJECT_MAX"]

#: Routes one INJECT frame carries (3 argument bytes).
INJECT_MAX = (MAX_PAYLOAD - 3) // ROUTE_DTYPE.itemsize


@dataclass(frozen=True)
class TableUpload:
    """One table to write: where it goes, what it holds, and a label for progress and errors."""

    core: int                #: fabric core index
    table: int               #: table id (CoreTable)
    array: np.ndarray        #: entries in the image dtype
    what: str                #: e.g. "core 1 synapses"

    @property
    def nbytes(self) -> int:
        return self.array.nbytes

    def command(self, start: int, budget: int) -> WriteMem:
        """The WRITE_MEM of entries ``start ..`` carrying at most ``budget`` bytes (>= 1 entry)."""
        esize = self.array.dtype.itemsize
        n = max(1, min(max_entries(esize, write=True), budget // esize, len(self.array) - start))
        raw = np.ascontiguousarray(self.array[start:start + n]).tobytes()
        return WriteMem(self.core, self.table, start, esize, raw)


def physical_core(target: Target, core: CoreImage) -> int:
    """The fabric's core index ``(y * mesh_x + x) * cores_per_router + slot`` (one chiplet)."""
    t = target.topology
    return (core.y * t.mesh_x + core.x) * t.cores_per_router + core.slot


def core_map(image: Image, target: Target, n_cores: int) -> list[int]:
    """Physical index of every image core; ResourceError if the board does not have it."""
    out = []
    for i, core in enumerate(image.cores):
        if core.chiplet != 0:
            raise ResourceError(f"core {i} of the image is on chiplet {core.chiplet}; a board "
                                f"link addresses one chiplet (chiplet 0)", where=f"core/{i}")
        p = physical_core(target, core)
        if p >= min(n_cores, FABRIC_CORE):
            raise ResourceError(f"core {i} of the image needs fabric core index {p}, the board "
                                f"has {n_cores} cores", where=f"core/{i}")
        out.append(p)
    return out


def upload_tables(image: Image, phys: list[int], n_cores: int) -> list[TableUpload]:
    """Every table of an upload: each core's tables in image order, then each core's config.

    Fabric cores the image does not use get ``config[0] = 0`` so stale tables from an earlier
    image can never run.
    """
    out = []
    for i, core in enumerate(image.cores):
        for k, name in enumerate(CORE_TABLES):
            arr = getattr(core, name)
            if len(arr):
                out.append(TableUpload(phys[i], k, arr, f"core {i} {name}"))
    for p in range(n_cores):
        n = next((c.n_neurons for c, q in zip(image.cores, phys) if q == p), 0)
        out.append(TableUpload(p, CoreTable.CONFIG, np.array([n], "<u2"),
                               f"fabric core {p} config"))
    return out


def state_tables(image: Image, phys: list[int]) -> list[TableUpload]:
    """Every core's initial state (written again at the start of every run)."""
    return [TableUpload(phys[i], CoreTable.STATE, core.state, f"core {i} state")
            for i, core in enumerate(image.cores) if core.n_neurons]


def channel_matrix(image: Image, inputs: Mapping[str, np.ndarray], steps: int) -> np.ndarray:
    """``(steps, channels)`` uint8 host-channel spikes from normalised inputs."""
    mat = np.zeros((steps, len(image.host_route_ptr)), np.uint8)
    for name, spec in image.inputs.items():
        b = int(spec["channel_base"])
        mat[:, b:b + int(spec["size"])] = inputs[name]
    return mat


def step_packets(image: Image, row: np.ndarray) -> np.ndarray:
    """The host packets of one step: spiking channels ascending, each channel's routes in order."""
    parts = []
    for ch in np.flatnonzero(row):
        p = image.host_route_ptr[ch]
        parts.append(image.host_routes[int(p["start"]):int(p["start"]) + int(p["count"])])
    return np.concatenate(parts) if parts else np.zeros(0, ROUTE_DTYPE)


def max_outputs_per_step(image: Image) -> int:
    """Most packets that can reach the host in one step: every host route of every neuron."""
    return int(sum(int(np.count_nonzero(c.routes["host"])) for c in image.cores))


def decode_out_log(words: np.ndarray, first_step: int, n_steps: int, n_channels: int,
                   out: np.ndarray) -> int:
    """Mark ``out[step, channel] = 1`` for each ``out_log`` word of a chunk; return the count.

    ``words`` hold ``step[15:0] << 16 | channel``; the chunk covers steps ``first_step ..
    first_step + n_steps - 1`` (``n_steps <= 65536``), which resolves the 16-bit step.  A word
    outside the chunk or the channel range means host and board disagree: LinkError.
    """
    words = np.asarray(words, np.uint32).astype(np.int64)
    step16 = words >> 16
    chan = words & 0xFFFF
    step = first_step + ((step16 - first_step) & 0xFFFF)
    bad = (step >= first_step + n_steps) | (chan >= n_channels)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise LinkError(f"board reported an output spike on channel {int(chan[j])} at step "
                        f"{int(step[j])}; the chunk read covers steps {first_step}.."
                        f"{first_step + n_steps - 1} and {n_channels} channels")
    out[step, chan] = 1
    return len(words)
