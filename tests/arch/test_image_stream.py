"""Streamed image writing (scale-out): section by section, the same bytes as ``to_bytes``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emulator"))
sys.path.insert(0, str(Path(__file__).resolve().parent / "learning"))
from emu_images import random_image  # noqa: E402
from plastic_nets import small_stdp_net  # noqa: E402
import spikefab as sf  # noqa: E402
from spikefab.arch.image import ImageWriter, load_image, write_image  # noqa: E402
from spikefab.arch.target import load_target  # noqa: E402
from spikefab.errors import ImageError  # noqa: E402


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_streamed_image_equals_the_in_memory_bytes(tmp_path, seed):
    image = random_image(np.random.default_rng(seed), load_target("darwinwafer"), max_cores=6)
    path = write_image(tmp_path / "net.sfi", image)
    assert path.read_bytes() == image.to_bytes()
    assert image.save(tmp_path / "saved.sfi").read_bytes() == image.to_bytes()


def test_plastic_cores_stream_their_learning_sections(tmp_path):
    image = sf.compile(small_stdp_net(), "loihi1")
    assert any(c.plastic for c in image.cores)
    assert image.save(tmp_path / "stdp.sfi").read_bytes() == image.to_bytes()
    assert load_image(tmp_path / "stdp.sfi").to_bytes() == image.to_bytes()


def test_cores_handed_over_one_at_a_time(tmp_path):
    """A producer may give the writer one core (chiplet) at a time and drop it afterwards."""
    image = random_image(np.random.default_rng(7), load_target("darwinwafer"), max_cores=5)
    with ImageWriter(tmp_path / "w.sfi", image.target, image.manifest,
                     [c.address for c in image.cores], image.host_route_ptr,
                     image.host_routes) as w:
        for core in image.cores:
            w.add_core(core)
    assert (tmp_path / "w.sfi").read_bytes() == image.to_bytes()


def test_writer_refuses_cores_out_of_order_and_missing_cores(tmp_path):
    image = random_image(np.random.default_rng(3), load_target("darwinwafer"), max_cores=6)
    while len(image.cores) < 2:
        image = random_image(np.random.default_rng(len(image.cores) + 11),
                             load_target("darwinwafer"), max_cores=6)
    addresses = [c.address for c in image.cores]
    w = ImageWriter(tmp_path / "x.sfi", image.target, image.manifest, addresses,
                    image.host_route_ptr, image.host_routes)
    with pytest.raises(ImageError, match="core 0 given at"):
        w.add_core(image.cores[1])
    w.add_core(image.cores[0])
    with pytest.raises(ImageError, match=f"1 of {len(addresses)} cores written"):
        w.close()
