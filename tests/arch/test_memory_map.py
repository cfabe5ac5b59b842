"""The memory map agrees with the image format it addresses."""

from __future__ import annotations

import pytest

from spikefab.arch import memory_map as mm
from spikefab.arch.image import CORE_TABLES, ROUTE_DTYPE
from spikefab.arch.learning.words import PRODUCT_BITS, TABLES, core_table


def test_core_table_ids_are_the_image_tables_in_order_then_config_then_learning() -> None:
    learn = [f"learn_{name}" for name in TABLES]
    assert list(mm.CORE_TABLE_IDS) == [*CORE_TABLES, "config", *learn, "learn_reward"]
    assert list(mm.CORE_TABLE_IDS.values()) == list(range(len(CORE_TABLES) + 2 + len(TABLES)))
    assert mm.entry_size(0, mm.CoreTable.LEARN_REWARD) == 1       # a u8 mark per synapse entry
    for name, k in TABLES.items():
        assert core_table(name) == mm.CORE_TABLE_IDS[f"learn_{name}"]
        assert mm.entry_size(0, core_table(name)) == mm.MAX_ENTRY_BYTES
    assert PRODUCT_BITS <= 8 * mm.MAX_ENTRY_BYTES
    for name, dtype in CORE_TABLES.items():
        assert mm.entry_size(0, mm.CORE_TABLE_IDS[name]) == dtype.itemsize <= mm.MAX_ENTRY_BYTES
    assert mm.entry_size(3, mm.CoreTable.CONFIG) == mm.CONFIG_ENTRY_BYTES


def test_fabric_tables_and_counters() -> None:
    assert mm.entry_size(mm.FABRIC_CORE, mm.FabricTable.HOST_QUEUE) == ROUTE_DTYPE.itemsize
    assert mm.COUNTERS == ("steps", "spikes", "synops", "packets", "hops", "overflow")
    assert mm.FABRIC_TABLE_IDS["counters"] == mm.FabricTable.COUNTERS == 5
    with pytest.raises(ValueError, match="fabric table must be 0..5, not 6"):
        mm.entry_size(mm.FABRIC_CORE, 6)
    with pytest.raises(ValueError, match="core table must be 0..16, not 17"):
        mm.entry_size(0, 17)
