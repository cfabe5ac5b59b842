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
from spikefab.arch.learning.words import EngineCaps
from spikefab.arch.memory_map import FABRIC_CORE, CoreTable, core_address
from spikefab.arch.protocol import MAX_PAYLOAD, WriteMem, max_entries
from spikefab.arch.target import Target
from spikefab.errors import ResourceError

__all__ = ["TableUpload", "physical_core", "core_map", "upload_tables", "state_tables",
           "INJECT_MAX", "board_engine", "learning_engine", "learning_tables"]

#: Routes one INJECT frame carries (3 argument bytes).
INJECT_MAX = (MAX_PAYLOAD - 3) // ROUTE_DTYPE.itemsize


@dataclass(frozen=True)
class TableUpload:
    """One table to write: where it goes, what it holds, and a label for progress and errors."""

    core: int                #: fabric core index
    table: int               #: table id (CoreTable)
    array: np.ndarray        #: entries in the image dtype
    what: str                #: e.g. "core 1 synapses"
    first: int = 0           #: index of the table's entry that ``array[0]`` goes to

    @property
    def nbytes(self) -> int:
        return self.array.nbytes

    def command(self, start: int, budget: int) -> WriteMem:
        """The WRITE_MEM of entries ``start ..`` carrying at most ``budget`` bytes (>= 1 entry)."""
        esize = self.array.dtype.itemsize
        n = max(1, min(max_entries(esize, write=True), budget // esize, len(self.array) - start))
        raw = np.ascontiguousarray(self.array[start:start + n]).tobytes()
        return WriteMem(self.core, self.table, self.first + start, esize, raw)


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


def board_engine(target: Target) -> EngineCaps | None:
    """The learning engine every core of a ``target`` board carries (None: none).

    A board is the spikefab RTL, so this is what ``spikefab.rtl.params`` builds for the target
    (plain Python); a target no RTL core implements (a board model of loihi1) has none.
    """
    from spikefab.errors import TargetError
    from spikefab.rtl.params import mesh_params
    try:
        return mesh_params(target).learning
    except TargetError:
        return None


def learning_engine(image: Image, target: Target) -> EngineCaps | None:
    """The learning engine a plastic image needs on a board of ``target`` (None: static image).

    A board is the spikefab RTL, so its engine is the one the RTL builds for the target
    (``spikefab.rtl.params``, plain Python): a target without one, or an image that needs more
    of it than it holds, is refused with ``ImageError`` naming need and have -- never uploaded
    and silently not learning.
    """
    if not any(core.plastic for core in image.cores):
        return None
    from spikefab.rtl.params import check_rtl_image, mesh_params
    params = mesh_params(target)
    check_rtl_image(image, target, params)          # refuses plastic cores without an engine
    return params.learning


def learning_tables(image: Image, phys: list[int], caps: EngineCaps,
                    n_cores: int) -> list[TableUpload]:
    """The engine tables of a board with learning engines (core tables 9..15, engine words of
    :func:`spikefab.arch.learning.hostio.learning_loads`): every one of the ``n_cores`` fabric
    cores' engine switched off, then each plastic core's engine loaded -- so an engine an
    earlier image loaded neither learns nor takes a phase.  Preceded by every plastic core's
    synapse table (the engine writes learned weights back into it): what a run of a plastic
    image starts from again."""
    from spikefab.arch.learning.hostio import learning_loads
    out = [TableUpload(phys[i], CoreTable.SYNAPSES, core.synapses, f"core {i} synapses")
           for i, core in enumerate(image.cores) if core.plastic]
    out += [TableUpload(core, table, entries, what, first)
            for core, table, entries, what, first in learning_loads(image, phys, caps, n_cores)]
    return out
