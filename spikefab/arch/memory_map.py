"""The memory map: table and counter ids, entry sizes — how a host addresses a fabric.

The fabric's memory port (``docs/microarchitecture.md`` section 11) and the host protocol's
memory commands address a table entry as ``(core, table, index)``: ``core`` is a physical core
(or :data:`FABRIC_CORE` for the fabric-level tables), ``table`` one of :class:`CoreTable` /
:class:`FabricTable`, and entries travel in the image's byte layout (the NumPy dtypes of
:mod:`spikefab.arch.image`).  The RTL (``spikefab.rtl.params``), the protocol
(:mod:`spikefab.arch.protocol`) and the serial runtime all take their ids from here.
"""

from __future__ import annotations

from enum import IntEnum

from spikefab.arch.image import CORE_TABLES, ROUTE_DTYPE

__all__ = ["FABRIC_CORE", "MAX_ENTRY_BYTES", "CoreTable", "FabricTable", "Counter",
           "CORE_TABLE_IDS", "FABRIC_TABLE_IDS", "COUNTERS", "CONFIG_ENTRY_BYTES", "entry_size",
           "core_address"]

#: ``core`` value that addresses the fabric-level tables.
FABRIC_CORE = 255
#: Widest table entry the memory port carries (128-bit ``mem_wdata``).
MAX_ENTRY_BYTES = 16
#: Bytes of the core ``config`` table's one entry (number of neurons of the core, u16).
CONFIG_ENTRY_BYTES = 2


class CoreTable(IntEnum):
    """Table ids of a core (``core`` < 255): ``CORE_TABLES`` order, then config."""

    ACC_EXPS = 0
    PROFILES = 1
    NEURONS = 2
    STATE = 3
    AXONS = 4
    SYNAPSES = 5
    ROUTE_PTR = 6
    ROUTES = 7
    CONFIG = 8     #: entry 0: number of neurons of the core, u16
    #: The learning engine's tables (:data:`spikefab.arch.learning.words.TABLES` order, each
    #: entry one engine-native word in 16 little-endian bytes); present only where the target
    #: has a ``[learning]`` engine.
    LEARN_SYNAPSES = 9
    LEARN_X = 10
    LEARN_Y = 11
    LEARN_RNG = 12
    LEARN_PRODUCTS = 13
    LEARN_PROFILES = 14
    LEARN_CONFIG = 15
    #: The reward-synapse marks (R-STDP): one u8 per entry of the core's synapse table,
    #: ``LEARN_REWARD + p`` (:data:`spikefab.arch.image.LEARN_REWARD`) where the entry is a reward
    #: synapse of reward profile ``p``, ``LEARN_STATIC`` (255) elsewhere
    #: (:func:`spikefab.arch.learning.layout.reward_marks`); only with a ``[learning]`` engine.
    LEARN_REWARD = 16


class FabricTable(IntEnum):
    """Table ids of the fabric (``core`` = 255), microarchitecture section 11."""

    HOST_QUEUE = 0
    HOST_QUEUE_LEN = 1
    OUT_LOG = 2
    OUT_LOG_LEN = 3
    CYCLE_LOG = 4
    COUNTERS = 5


class Counter(IntEnum):
    """Entries of the fabric ``counters`` table (u32 each)."""

    STEPS = 0
    SPIKES = 1
    SYNOPS = 2
    PACKETS = 3
    HOPS = 4
    OVERFLOW = 5


#: name -> id of the core tables (the image's ``CORE_TABLES`` names, then ``config``)
CORE_TABLE_IDS = {t.name.lower(): int(t) for t in CoreTable}
#: name -> id of the fabric tables
FABRIC_TABLE_IDS = {t.name.lower(): int(t) for t in FabricTable}
#: counter names in id order
COUNTERS = tuple(c.name.lower() for c in Counter)

_CORE_SIZES = ([CORE_TABLES[name].itemsize for name in CORE_TABLES] + [CONFIG_ENTRY_BYTES]
               + [MAX_ENTRY_BYTES] * (CoreTable.LEARN_CONFIG - CoreTable.LEARN_SYNAPSES + 1)
               + [1])                                               # LEARN_REWARD: one u8
_FABRIC_SIZES = {FabricTable.HOST_QUEUE: ROUTE_DTYPE.itemsize, FabricTable.HOST_QUEUE_LEN: 2,
                 FabricTable.OUT_LOG: 4, FabricTable.OUT_LOG_LEN: 4, FabricTable.CYCLE_LOG: 4,
                 FabricTable.COUNTERS: 4}


def entry_size(core: int, table: int) -> int:
    """Bytes per entry of a table (the image dtype's itemsize); ``ValueError`` if unknown."""
    if core == FABRIC_CORE:
        if table not in _FABRIC_SIZES:
            raise ValueError(f"fabric table must be 0..{len(_FABRIC_SIZES) - 1}, not {table}")
        return _FABRIC_SIZES[FabricTable(table)]
    if not 0 <= table < len(_CORE_SIZES):
        raise ValueError(f"core table must be 0..{len(_CORE_SIZES) - 1}, not {table}")
    return _CORE_SIZES[table]


def core_address(x: int, y: int, slot: int, mesh_x: int, cores_per_router: int) -> int:
    """The ``core`` number of core ``slot`` at router ``(x, y)`` of one chiplet's fabric:
    routers row-major, the cores of a router consecutive."""
    return (y * mesh_x + x) * cores_per_router + slot
