"""The image file: exact round trips, and every damaged file refused with an ImageError."""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spikefab
from spikefab.arch.image import FORMAT_VERSION, MAGIC, Image, load_image
from spikefab.arch.reference import run_reference
from spikefab.arch.target import load_target
from spikefab.arch.validate import check_fits, check_image
from spikefab.errors import ImageError, SpikefabError

from .helpers import dense_image, images_equal, random_image


def encode(sections: list[tuple[str, bytes]], *, version: int = FORMAT_VERSION,
           flags: int = 0) -> bytes:
    """The file layout of ``docs/image-format.md``, written independently of ``Image.to_bytes``."""
    head = MAGIC + struct.pack("<HHI", version, flags, len(sections))
    out = head + struct.pack("<I", zlib.crc32(head))
    for name, payload in sections:
        raw = name.encode()
        out += struct.pack("<H", len(raw)) + raw
        out += struct.pack("<QI", len(payload), zlib.crc32(payload)) + payload
    return out


# ------------------------------------------------------------------ round trip
@settings(max_examples=100, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2 ** 32 - 1))
def test_round_trip_is_exact(seed):
    image = random_image(np.random.default_rng(seed))
    data = image.to_bytes()
    back = Image.from_bytes(data)
    assert images_equal(image, back)
    assert back.to_bytes() == data
    assert back.crc32() == image.crc32() == zlib.crc32(data)
    assert encode(image.sections()) == data      # the documented layout, byte for byte


def test_save_and_load_file(tmp_path):
    image = random_image(np.random.default_rng(3))
    path = image.save(tmp_path / "net.sfi")
    back = load_image(path, expect_target="loihi1")
    assert images_equal(image, back)
    assert images_equal(image, spikefab.load_image(str(path)))   # the public name
    assert path.read_bytes()[:8] == MAGIC


def test_crc32_is_stable_and_sensitive():
    a = dense_image([[100, -50], [60, 60]], du=1024, dv=512, vth=100)
    b = dense_image([[100, -50], [60, 60]], du=1024, dv=512, vth=100)
    assert a.crc32() == b.crc32() == a.crc32()
    b.cores[0].synapses["weight"][0] += 2
    assert a.crc32() != b.crc32()
    c = dense_image([[100, -50], [60, 60]], du=1024, dv=512, vth=101)
    assert c.crc32() != a.crc32()


def test_sections_are_named_and_ordered():
    image = random_image(np.random.default_rng(5), max_cores=2)
    names = [n for n, _ in image.sections()]
    assert names[:3] == ["manifest", "host/route_ptr", "host/routes"]
    assert names[3:11] == [f"core/0/{t}" for t in ("acc_exps", "profiles", "neurons", "state",
                                                   "axons", "synapses", "route_ptr", "routes")]
    manifest = json.loads(image.sections()[0][1])
    assert manifest["target"] == "loihi1"
    assert manifest["cores"] == [list(c.address) for c in image.cores]


# ------------------------------------------------------------------ damaged files
def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One random damage: overwrite 1-3 bytes, truncate, insert or delete bytes."""
    kind = int(rng.integers(0, 4))
    if kind == 0:
        b = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            i = int(rng.integers(0, len(b)))
            b[i] = (b[i] + int(rng.integers(1, 256))) % 256     # always a different value
        return bytes(b)
    if kind == 1:
        return data[:int(rng.integers(0, len(data)))]
    i = int(rng.integers(0, len(data) + 1))
    if kind == 2:
        return data[:i] + rng.integers(0, 256, int(rng.integers(1, 9)), np.uint8).tobytes() + \
            data[i:]
    return data[:i] + data[i + int(rng.integers(1, 9)):]


def test_ten_thousand_mutations_raise_only_image_error():
    rng = np.random.default_rng(20241124)
    images = [random_image(np.random.default_rng(s), max_cores=2).to_bytes() for s in range(8)]
    wheres = set()
    for k in range(10_000):
        data = images[k % len(images)]
        bad = mutate(data, rng)
        while bad == data:                  # e.g. a zero inserted into a run of zeros
            bad = mutate(data, rng)
        with pytest.raises(ImageError) as info:
            Image.from_bytes(bad, where="fuzz.sfi")
        assert str(info.value).startswith("fuzz.sfi")
        wheres.add(info.value.where.split("/")[0].split(" ")[0].strip("'"))
    # the errors name sections and parts of the file, not one generic place
    assert {"header", "manifest", "host", "core"} <= wheres


def test_valid_crc_with_garbage_contents_never_crashes():
    """Corrupt a section's *contents* and fix its CRC: the reader's checks must still hold.

    Anything the reader accepts must run on the golden model without an exception other than a
    SpikefabError (backends index memories with these values).
    """
    rng = np.random.default_rng(7)
    junk = [None, -1, 0, 3, 2 ** 40, "x", [], {}, [1], {"a": 1}, 1.5, True]
    refused = accepted = 0
    for _ in range(1500):
        image = random_image(rng)
        sections = image.sections()
        k = int(rng.integers(0, len(sections)))
        name, payload = sections[k]
        if name == "manifest":
            m = json.loads(payload)
            path, node = [], m
            while isinstance(node, (dict, list)) and node and rng.random() < 0.75:
                key = (list(node)[int(rng.integers(0, len(node)))] if isinstance(node, dict)
                       else int(rng.integers(0, len(node))))
                path.append(key)
                node = node[key]
            if not path:
                continue
            parent = m
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = junk[int(rng.integers(0, len(junk)))]
            payload = json.dumps(m).encode()
        elif payload:
            b = bytearray(payload)
            for _ in range(int(rng.integers(1, 4))):
                b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
            payload = bytes(b)
        sections[k] = (name, payload)
        try:
            back = Image.from_bytes(encode(sections))
        except ImageError:
            refused += 1
            continue
        accepted += 1
        probes = [f"{p}.v" for p in back.populations][:1]
        try:
            run_reference(back, None, 3, probes=probes)
        except SpikefabError:
            pass
    assert refused > 100 and accepted > 100


def test_wrong_magic():
    data = bytearray(random_image(np.random.default_rng(1)).to_bytes())
    data[:8] = b"NOTANIMG"
    with pytest.raises(ImageError, match="bad magic") as info:
        Image.from_bytes(bytes(data))
    assert info.value.where == "header"


@pytest.mark.parametrize("version", [0, FORMAT_VERSION + 1, 0xFFFF])
def test_wrong_version(version):
    data = encode(random_image(np.random.default_rng(1)).sections(), version=version)
    with pytest.raises(ImageError, match=f"version must be {FORMAT_VERSION}, not {version}"):
        Image.from_bytes(data)


def test_nonzero_flags():
    data = encode(random_image(np.random.default_rng(1)).sections(), flags=1)
    with pytest.raises(ImageError, match="flags must be 0, not 1"):
        Image.from_bytes(data)


def test_wrong_target(tmp_path):
    path = random_image(np.random.default_rng(2), target="darwin3").save(tmp_path / "a.sfi")
    assert load_image(path, expect_target="darwin3").target == "darwin3"
    with pytest.raises(ImageError, match="for target 'darwin3', expected 'loihi1'") as info:
        load_image(path, expect_target="loihi1")
    assert info.value.where == "manifest"


def test_missing_file_and_bad_section_sets(tmp_path):
    with pytest.raises(ImageError, match="cannot be read"):
        load_image(tmp_path / "nope.sfi")
    sections = random_image(np.random.default_rng(4)).sections()
    with pytest.raises(ImageError, match="missing section 'core/0/synapses'"):
        Image.from_bytes(encode([s for s in sections if s[0] != "core/0/synapses"]))
    with pytest.raises(ImageError, match="duplicate section"):
        Image.from_bytes(encode(sections + [sections[-1]]))
    with pytest.raises(ImageError, match="unexpected section 'extra'"):
        Image.from_bytes(encode(sections + [("extra", b"")]))
    with pytest.raises(ImageError, match="not a multiple"):
        Image.from_bytes(encode([(n, p + b"\0" if n == "host/routes" else p)
                                 for n, p in sections]))
    with pytest.raises(ImageError, match="trailing bytes"):
        Image.from_bytes(encode(sections) + b"\0")


def test_crc_error_names_the_section():
    image = dense_image([[100, -50], [60, 60]])
    data = bytearray(image.to_bytes())
    payload = image.cores[0].synapses.tobytes()
    i = bytes(data).index(payload)
    data[i] ^= 0x01
    with pytest.raises(ImageError, match="CRC mismatch in section 'core/0/synapses'") as info:
        Image.from_bytes(bytes(data))
    assert info.value.where == "core/0/synapses"


# ------------------------------------------------------------------ check_image
def _break(what: str):
    def edit(image: Image) -> None:
        c = image.cores[0]
        if what == "synapse neuron":
            c.synapses["neuron"][0] = c.n_neurons
        elif what == "synapse acc_class":
            c.synapses["acc_class"][0] = len(c.acc_exps)
        elif what == "axon run":
            c.axons["count"][-1] += 1
        elif what == "route_ptr run":
            c.route_ptr["start"][0] = len(c.routes)
        elif what == "route to missing core":
            c.routes["host"][0], c.routes["chiplet"][0] = 0, 9
        elif what == "route to missing axon":
            c.routes["host"][0], c.routes["axon"][0] = 0, len(c.axons)
        elif what == "route to missing output":
            c.routes["host"][0], c.routes["axon"][0] = 1, 99
        elif what == "host route_ptr run":
            image.host_route_ptr["count"][0] = 99
        elif what == "too few host channels":
            image.manifest["inputs"]["in"]["size"] = len(image.host_route_ptr) + 1
        elif what == "profile index":
            c.neurons["profile"][0] = len(c.profiles)
        elif what == "state length":
            c.state = c.state[:-1]
        elif what == "population slice":
            image.manifest["populations"]["lif"]["slices"][0]["count"] += 1
        elif what == "population size":
            image.manifest["populations"]["lif"]["size"] = -1
        elif what == "duplicate address":
            image.cores.append(image.cores[0])
    return edit


BREAKS = {"synapse neuron": "core/0/synapses", "synapse acc_class": "core/0/synapses",
          "axon run": "core/0/axons", "route_ptr run": "core/0/route_ptr",
          "route to missing core": "core/0/routes", "route to missing axon": "core/0/routes",
          "route to missing output": "core/0/routes", "host route_ptr run": "host/route_ptr",
          "too few host channels": "host/route_ptr", "profile index": "core/0/neurons",
          "state length": "core/0", "population slice": "manifest",
          "population size": "manifest", "duplicate address": "core/1"}


@pytest.mark.parametrize("what", sorted(BREAKS))
def test_check_image_rejects_out_of_range_pointers(what):
    image = dense_image([[100, -50, 3], [60, 60, 0]], du=1, dv=2, vth=3)
    check_image(image)
    _break(what)(image)
    with pytest.raises(ImageError) as info:
        check_image(image, where="mem")
    assert info.value.where == BREAKS[what]
    assert str(info.value).startswith("mem: ")
    with pytest.raises(ImageError):           # the reader refuses the same file
        Image.from_bytes(image.to_bytes())


# ------------------------------------------------------------------ check_fits
def test_check_fits_accepts_a_small_image_everywhere_it_may():
    check_fits(dense_image([[1, 2]], target="loihi1"), load_target("loihi1"))
    check_fits(dense_image([[1, 2]], target="ice40-up5k"), load_target("ice40-up5k"))


def test_check_fits_rejects_another_target():
    with pytest.raises(ImageError, match="image is for target 'loihi1', not 'darwin3'"):
        check_fits(dense_image([[1]], target="loihi1"), load_target("darwin3"))


@pytest.mark.parametrize("table,limit", [("neurons", "neurons"), ("synapses", "synapses"),
                                         ("axons", "input_axons"), ("profiles", "profiles"),
                                         ("acc_exps", "acc_classes"),
                                         ("routes", "route_entries")])
def test_check_fits_rejects_over_capacity_tables(table, limit):
    target = load_target("ice40-up5k")
    allowed = getattr(target.core, limit)
    image = dense_image([[1]], target=target.name)
    core = image.cores[0]
    arr = getattr(core, table)
    setattr(core, table, np.resize(arr, allowed + 1))
    with pytest.raises(ImageError, match=f"core/0/{table} has {allowed + 1} entries, target "
                                         f"ice40-up5k allows {allowed}") as info:
        check_fits(image, target)
    assert info.value.where == f"core/0/{table}"


def test_check_fits_rejects_cores_outside_the_mesh_and_long_delays():
    target = load_target("ice40-up5k")
    image = dense_image([[1]], target=target.name)
    image.cores[0].x = target.topology.mesh_x
    with pytest.raises(ImageError, match="outside target ice40-up5k"):
        check_fits(image, target)
    image = dense_image([[1]], target=target.name,
                        delays=np.array([[target.core.max_delay + 1]]))
    with pytest.raises(ImageError, match=f"allows {target.core.max_delay}"):
        check_fits(image, target)
