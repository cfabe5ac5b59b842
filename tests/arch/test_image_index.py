"""Partial image reads (scale-out): a reader seeks to the sections it needs, each CRC-checked."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emulator"))
from emu_images import random_image  # noqa: E402
from spikefab.arch.image import CORE_TABLES, index_image  # noqa: E402
from spikefab.arch.target import load_target  # noqa: E402
from spikefab.errors import ImageError  # noqa: E402


@pytest.fixture
def saved(tmp_path):
    image = random_image(np.random.default_rng(5), load_target("darwinwafer"), max_cores=6)
    return image, image.save(tmp_path / "net.sfi")


def test_index_reads_only_the_requested_cores_identically(saved):
    image, path = saved
    idx = index_image(path)
    assert idx.target == image.target
    assert idx.addresses == [c.address for c in image.cores]
    assert idx.manifest["populations"] == image.manifest["populations"]
    pick = list(range(0, len(image.cores), 2))
    got = idx.read_cores(pick)
    assert sorted(got) == pick
    for i in pick:
        for name in CORE_TABLES:
            np.testing.assert_array_equal(getattr(got[i], name), getattr(image.cores[i], name))
        assert idx.size(i, "synapses") == len(image.cores[i].synapses)
    ptr, routes = idx.read_host()
    np.testing.assert_array_equal(routes, image.host_routes)


def test_a_corrupted_section_fails_only_the_reader_that_reads_it(saved):
    image, path = saved
    idx = index_image(path)
    off, nbytes, _ = idx.sections["core/0/state"]
    assert nbytes > 0
    data = bytearray(path.read_bytes())
    data[off] ^= 0xFF
    path.write_bytes(bytes(data))
    idx = index_image(path)
    if len(image.cores) > 1:
        idx.read_cores([len(image.cores) - 1])          # other cores still read fine
    with pytest.raises(ImageError, match=r"CRC mismatch in section 'core/0/state'"):
        idx.read_cores([0])


def test_truncated_file_is_an_image_error(saved, tmp_path):
    _, path = saved
    cut = tmp_path / "cut.sfi"
    cut.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(ImageError, match="truncated in section"):
        index_image(cut)


def test_duplicate_section_is_refused_as_by_load_image(saved, tmp_path):
    from spikefab.fuzz import encode
    image, _ = saved
    sections = image.sections()
    path = tmp_path / "dup.sfi"
    path.write_bytes(encode(sections + [sections[-1]]))
    with pytest.raises(ImageError, match="duplicate section"):
        index_image(path)


def test_trailing_bytes_are_refused_as_by_load_image(saved, tmp_path):
    _, path = saved
    longer = tmp_path / "long.sfi"
    longer.write_bytes(path.read_bytes() + b"\0\0\0")
    with pytest.raises(ImageError, match="3 trailing bytes"):
        index_image(longer)
