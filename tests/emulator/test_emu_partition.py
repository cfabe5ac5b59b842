"""How the distributed emulator splits an image over ranks (no MPI needed)."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.target import load_target
from spikefab.emulator.distributed import partition


def _grid_cores(target, per_chiplet: int):
    topo = target.topology
    rows = []
    for ch in range(topo.chiplets):
        for k in range(per_chiplet):
            rows.append((ch, k % topo.mesh_x, k // topo.mesh_x, 0))
    return rows


@pytest.mark.parametrize("ranks", [1, 2, 3, 4, 8])
def test_chiplets_are_split_into_contiguous_balanced_blocks(ranks):
    target = load_target("darwinwafer")
    cores = _grid_cores(target, 2)
    n = len(cores)
    part = partition(cores, [100] * n, [1000] * n, [10] * n, target, ranks)
    assert part.unit == "chiplet"
    chiplet_owner = part.core_owner[::2]
    assert np.all(np.diff(chiplet_owner) >= 0)              # contiguous blocks, in order
    assert sorted(set(chiplet_owner.tolist())) == list(range(ranks))
    counts = np.bincount(chiplet_owner, minlength=ranks)
    assert counts.max() - counts.min() <= 1                  # equal work -> equal shares
    assert part.router_owner[0] == 0                         # rank 0 holds the host port
    expect = target.timing.chiplet_link_latency if ranks > 1 else 1 << 40
    assert part.lookahead_cycles == expect
    for r in range(ranks):                                   # local axon numbering per rank
        mine = part.local_cores(r)
        assert part.axon_base[mine].tolist() == [10 * k for k in range(len(mine))]


def test_one_chiplet_target_is_split_by_routers_with_on_chip_lookahead():
    target = load_target("darwin3")
    cores = [(0, x, y, 0) for y in range(3) for x in range(4)]
    part = partition(cores, [10] * 12, [0] * 12, [1] * 12, target, 3)
    assert part.unit == "router"
    assert sorted(set(part.core_owner.tolist())) == [0, 1, 2]
    assert part.lookahead_cycles == target.timing.link_latency
    assert len(part.router_owner) == target.topology.global_x * target.topology.global_y
