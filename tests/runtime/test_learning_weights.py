"""Learned weights read back through the Device API (``emu://``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import spikefab as sf
from spikefab.arch.reference import run_reference
from spikefab.errors import InputError
from spikefab.runtime import open_device

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "arch" / "learning"))
from plastic_nets import small_stdp_net  # noqa: E402


def test_emu_read_weights_and_snapshots():
    image = sf.compile(small_stdp_net(), "loihi1")
    spikes = (np.random.default_rng(5).random((30, 4)) < 0.4).astype(np.uint8)
    ref = run_reference(image, {"x": spikes}, 30, weight_every=10)
    with open_device("emu://?weight_every=10") as dev:
        dev.load(image)
        res = dev.run({"x": spikes}, 30)
        learned = dev.read_weights()
    assert set(learned) == {"x->p"}
    np.testing.assert_array_equal(learned["x->p"], ref.weights["x->p"])
    assert res.weight_snapshots["x->p"].shape == (3, 3, 4)
    np.testing.assert_array_equal(res.weight_snapshots["x->p"], ref.weight_snapshots["x->p"])
    assert not np.array_equal(learned["x->p"], np.full((3, 4), 60))


def test_static_images_read_no_weights():
    b = sf.Network()
    b.input("x", 1)
    b.population("p", 1)
    b.connect("x", "p", [[100]])
    with open_device("emu://") as dev:
        dev.load(sf.compile(b, "loihi1"))
        dev.run(None, 3)
        assert dev.read_weights() == {}


def test_bad_weight_every():
    with pytest.raises(InputError, match="weight_every must be a non-negative integer"):
        open_device("emu://?weight_every=x")
