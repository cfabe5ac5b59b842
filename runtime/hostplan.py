"""What the host uploads to a board: pure functions, no I/O.

These turn an :class:`~spikefab.arch.image.Image` into protocol commands (the upload's table
writes, the state restored before each run).  The run itself — input channels, host packets,
chunks, out_log decoding — is the host program every backend shares, :mod:`spikefab.arch.host`.
Kept apart from the link so each rule of ``docs/host-protocol.md`` section 7 is testable without
a board.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikefab.arch.image import CORE_TABLES, ROUTE_DTYPE, CoreImage, Image
from spikefab.arch.memory_map import FABRIC_CORE, CoreTable, core_address
from spikefab.arch.protocol import MAX_PAYLOAD, WriteMem, max_entries
from spikefab.arch.target import Target
from spikefab.errors import ResourceError

__all__ = ["TableUpload", "physical_core", "core_map", "upload_tables", "state_tables",
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
    return core_address(core.x, core.y, core.slot, t.mesh_x, t.cores_per_router)


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
