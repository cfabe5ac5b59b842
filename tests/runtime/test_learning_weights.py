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


# --------------------------------------------------------------------------- serial://
from spikefab.arch.learning.hostio import learning_loads  # noqa: E402
from spikefab.arch.memory_map import CoreTable  # noqa: E402
from spikefab.errors import ImageError  # noqa: E402
from spikefab.runtime.hostplan import core_map, learning_engine  # noqa: E402

from .boardmodel import CORE_NAMES, BoardModel  # noqa: E402


def test_serial_upload_carries_the_learning_engine_and_reads_weights_back():
    """On a board whose RTL has the engine (ecp5-85k) the upload writes the engine's words to
    core tables 9..15, and read_weights / weight snapshots cross the link.  The Python board
    model does not learn, so the run has no input spikes: emu:// gives the image's weights
    too (the learned-weight identity is the virtual-board test)."""
    image = sf.compile(small_stdp_net(), "ecp5-85k")
    with BoardModel("ecp5-85k") as board:
        with open_device(f"serial://{board.path}?weight_every=2", progress=False) as dev:
            dev.load(image)
            caps = learning_engine(image, dev.target)
            phys = core_map(image, dev.target, dev.board.n_cores)
            loads = learning_loads(image, phys, caps, board.n_cores)
            for core, table, entries, _, first in loads[board.n_cores:]:     # the plastic core
                stored = board.tables[core][CORE_NAMES[table]]
                size = entries.dtype.itemsize          # 16 (engine words), 1 (reward marks)
                assert stored[size * first:size * (first + len(entries))] == entries.tobytes()
            assert loads[-1][1] == CoreTable.LEARN_REWARD and set(loads[-1][2]) == {255}
            for core in range(board.n_cores):
                cfg = board.tables[core]["learn_config"]
                assert (core in phys) == (cfg != bytes(16))      # every other engine is off
            res = dev.run(None, 5)
            got = dev.read_weights()
            static = sf.Network()
            static.input("x", 1)
            static.population("p", 1)
            static.connect("x", "p", [[100]])
            static.output("y", "p")
            dev.load(sf.compile(static, "ecp5-85k"))         # the next image is static:
            assert all(board.tables[c]["learn_config"] == bytes(16)    # every engine off
                       for c in range(board.n_cores))
        with open_device("emu://?weight_every=2") as emu:
            emu.load(image)
            ref = emu.run(None, 5)
    assert set(got) == {"x->p"}
    np.testing.assert_array_equal(got["x->p"], emu.read_weights()["x->p"])
    np.testing.assert_array_equal(res.weights["x->p"], ref.weights["x->p"])
    assert res.weight_snapshots["x->p"].shape == (2, 3, 4)
    np.testing.assert_array_equal(res.weight_snapshots["x->p"], ref.weight_snapshots["x->p"])
    runs = [r for r in board.requests if r.op == 5]
    assert len(runs) >= 3                          # RUN 2, RUN 2, RUN 1: stopped at each snapshot


def test_serial_refuses_a_plastic_image_without_a_learning_engine():
    image = sf.compile(small_stdp_net(), "ecp5-85k")
    image.target = "ice40-up5k"                 # as if compiled for a board without an engine
    with BoardModel("ice40-up5k") as board, open_device(f"serial://{board.path}",
                                                        progress=False) as dev:
        with pytest.raises(ImageError, match=r"core/0 needs 1 learning profiles, target "
                                             r"ice40-up5k has 0"):
            dev.load(image)
        assert dev.image is None
    with pytest.raises(Exception, match="weight_every must be a positive number"):
        open_device("serial:///dev/null?weight_every=-2")


def test_static_bitstream_refuses_a_plastic_image_before_uploading():
    """A board whose INFO lacks LEARNING (the ULX3S static bitstream of ecp5-85k) refuses a
    plastic image with need vs have and writes nothing; a static image runs there as before."""
    image = sf.compile(small_stdp_net(), "ecp5-85k")
    static = sf.Network()
    static.input("x", 1)
    static.population("p", 1)
    static.connect("x", "p", [[100]])
    static.output("y", "p")
    with BoardModel("ecp5-85k", learning=False) as board, \
            open_device(f"serial://{board.path}", progress=False) as dev:
        assert not dev.board.learning
        before = len(board.requests)
        with pytest.raises(ImageError) as err:
            dev.load(image)
        msg = str(err.value)
        assert "'x->p'" in msg and "core/0" in msg and board.path in msg
        n_plastic = len(image.cores[0].learn_synapses)
        assert f"needs a learning engine with {n_plastic} plastic synapses" in msg
        assert "has none" in msg and "static build" in msg
        assert err.value.where == "core/0/learn_profiles"
        assert [r.op for r in board.requests[before:]] == [1] * (len(board.requests) - before)
        assert dev.image is None
        dev.load(sf.compile(static, "ecp5-85k"))         # no engine tables written
        res = dev.run({"x": np.ones((3, 1), np.uint8)}, 3)
        assert res.spikes["y"].sum() > 0
        assert all(board.tables[c]["learn_config"] == b"" for c in board.tables)
    with BoardModel("ecp5-85k") as board, open_device(f"serial://{board.path}",
                                                      progress=False) as dev:
        assert dev.board.learning                          # the engine build says so
