"""Pure host-side planning: core addressing, upload tables, and (spikefab.arch.host, the host
program every backend shares) input packets and out_log decoding."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch import host
from spikefab.arch.protocol import FABRIC_CORE, CoreTable, max_entries
from spikefab.arch.target import load_target
from spikefab.errors import LinkError, ResourceError
from spikefab.runtime import hostplan as hp
from .images import random_image


def test_physical_core_follows_the_memory_port_formula() -> None:
    image = random_image(1, target="loihi1")
    target = load_target("loihi1")
    topo = target.topology
    for core in image.cores:
        p = hp.physical_core(target, core)
        assert p == (core.y * topo.mesh_x + core.x) * topo.cores_per_router + core.slot
    assert hp.core_map(image, target, topo.cores) == [0, 1, 2, 3]


def test_core_map_refuses_cores_the_board_lacks() -> None:
    image = random_image(1, target="loihi1")
    with pytest.raises(ResourceError, match="needs fabric core index 2, the board has 2 cores"):
        hp.core_map(image, load_target("loihi1"), 2)


def test_upload_tables_cover_every_byte_and_every_config() -> None:
    image = random_image(2)
    tables = hp.upload_tables(image, [0, 1], 2)
    table_bytes = sum(a.nbytes for c in image.cores for a in c.tables().values())
    configs = [t for t in tables if t.table == CoreTable.CONFIG]
    assert sum(t.nbytes for t in tables) == table_bytes + 2 * len(configs)
    # every board core gets its neuron count; board cores the image leaves unused get 0
    assert [int(t.array[0]) for t in configs] == ([c.n_neurons for c in image.cores]
                                                  + [0] * (2 - len(image.cores)))


@pytest.mark.parametrize("budget", [1, 24, 100, 255])
def test_table_commands_respect_the_budget_and_reassemble(budget: int) -> None:
    image = random_image(3)
    up = hp.TableUpload(1, CoreTable.SYNAPSES, image.cores[0].synapses, "core 0 synapses")
    k, got = 0, b""
    while k < len(up.array):
        cmd = up.command(k, budget)
        assert cmd.index == k and cmd.core == 1 and cmd.table == CoreTable.SYNAPSES
        assert len(cmd.data) <= max(budget, up.array.dtype.itemsize)
        assert cmd.count <= max_entries(6, write=True)
        got += cmd.data
        k += cmd.count
    assert got == up.array.tobytes()


def test_step_packets_are_channels_ascending_then_route_order() -> None:
    image = random_image(4)
    row = np.zeros(len(image.host_route_ptr), np.uint8)
    row[[4, 1]] = 1
    got = host.host_packets(image, row)
    expect = np.concatenate([image.host_routes[int(p["start"]):int(p["start"] + p["count"])]
                             for p in image.host_route_ptr[[1, 4]]])
    assert np.array_equal(got, expect)
    assert len(host.host_packets(image, np.zeros_like(row))) == 0


def test_decode_out_log_resolves_16_bit_steps_across_wrap() -> None:
    out = np.zeros((70000, 3), np.uint8)
    first = 65530
    words = np.array([(65531 << 16) | 2, (3 << 16) | 0], np.uint32)   # steps 65531 and 65539
    assert host.decode_out_log(words, first, 20, 3, out) == 2
    assert out[65531, 2] == 1 and out[65539, 0] == 1 and out.sum() == 2


@pytest.mark.parametrize("word, msg", [((40 << 16) | 1, "at step 40"), ((5 << 16) | 9, "channel 9")])
def test_decode_out_log_refuses_words_outside_the_chunk(word: int, msg: str) -> None:
    out = np.zeros((100, 3), np.uint8)
    with pytest.raises(LinkError, match=msg):
        host.decode_out_log(np.array([word], np.uint32), 0, 10, 3, out)


def test_max_outputs_per_step_counts_host_routes() -> None:
    image = random_image(5)
    assert host.max_outputs_per_step(image) == sum(int(c.routes["host"].sum()) for c in image.cores)
    assert FABRIC_CORE == 255
