"""AER packets: widths from the target, exact pack/unpack, out-of-range fields refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spikefab.arch.aer import PacketFormat, packet_format
from spikefab.arch.image import ROUTE_DTYPE
from spikefab.arch.target import load_target, target_names

FIELDS = ("host", "chiplet", "x", "y", "slot", "axon")


def needed_bits(n: int) -> int:
    """Smallest b >= 1 with 2**b >= n (computed differently from aer._bits)."""
    b = 1
    while (1 << b) < n:
        b += 1
    return b


@pytest.mark.parametrize("name", target_names())
def test_widths_derive_from_the_target(name):
    t = load_target(name)
    f = packet_format(t)
    assert f.chiplet_bits == needed_bits(t.topology.chiplets)
    assert f.x_bits == needed_bits(t.topology.mesh_x)
    assert f.y_bits == needed_bits(t.topology.mesh_y)
    assert f.slot_bits == needed_bits(t.topology.cores_per_router)
    assert f.axon_bits == max(needed_bits(t.core.input_axons), 16)
    assert f.width == 1 + f.chiplet_bits + f.x_bits + f.y_bits + f.slot_bits + f.axon_bits
    assert f.width <= 64   # fits the uint64 of pack_routes
    # the largest address of the target fits, one past it does not
    top = dict(host=1, chiplet=t.topology.chiplets - 1, x=t.topology.mesh_x - 1,
               y=t.topology.mesh_y - 1, slot=t.topology.cores_per_router - 1,
               axon=t.core.input_axons - 1)
    assert f.unpack(f.pack(**top)) == top


def test_darwin3_and_wafer_widths():
    d3, wafer = packet_format(load_target("darwin3")), packet_format(load_target("darwinwafer"))
    assert (d3.x_bits, d3.y_bits, d3.chiplet_bits) == (5, 5, 1)
    assert (wafer.x_bits, wafer.y_bits, wafer.chiplet_bits) == (5, 5, 6)
    assert wafer.width == d3.width + 5


packet_formats = st.builds(PacketFormat, *(st.integers(1, 12) for _ in range(4)),
                           st.integers(1, 20))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(fmt=packet_formats, data=st.data())
def test_pack_unpack_round_trip(fmt, data):
    widths = dict(fmt._layout())
    values = {k: data.draw(st.integers(0, (1 << widths[k]) - 1), label=k) for k in FIELDS}
    word = fmt.pack(**values)
    assert 0 <= word < (1 << fmt.width)
    assert fmt.unpack(word) == values
    # most significant field first: host is the top bit
    assert word >> (fmt.width - 1) == values["host"]
    assert word & ((1 << fmt.axon_bits) - 1) == values["axon"]


@settings(max_examples=100, deadline=None, derandomize=True)
@given(fmt=packet_formats, field=st.sampled_from(FIELDS), over=st.integers(0, 1000))
def test_out_of_range_field_raises(fmt, field, over):
    bits = dict(fmt._layout())[field]
    with pytest.raises(ValueError, match=f"AER field {field} must fit {bits} bits"):
        fmt.pack(**{field: (1 << bits) + over})
    with pytest.raises(ValueError, match=f"AER field {field}"):
        fmt.pack(**{field: -1 - over})


def test_pack_routes_equals_pack():
    fmt = packet_format(load_target("loihi1"))
    rng = np.random.default_rng(11)
    routes = np.zeros(50, ROUTE_DTYPE)
    for name in FIELDS:
        bits = dict(fmt._layout())[name]
        routes[name] = rng.integers(0, 1 << min(bits, 8), 50)
    words = fmt.pack_routes(routes)
    assert words.dtype == np.uint64
    for r, w in zip(routes, words):
        assert int(w) == fmt.pack(**{k: int(r[k]) for k in FIELDS})
