"""The host side over a real pty against the Python board model: same Result as the golden model."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.protocol import FABRIC_CORE, CoreTable, Op
from spikefab.arch.reference import run_reference
from spikefab.errors import InputError, LinkError, ResourceError
from spikefab.runtime import open_device

from .boardmodel import BoardModel
from .images import random_image, random_inputs


def _open(board: BoardModel, **kw):
    return open_device(f"serial://{board.path}?baud=1000000", progress=False, **kw)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_images_match_the_golden_model(small_board: BoardModel, seed: int) -> None:
    image = random_image(seed)
    steps = 30
    inputs = random_inputs(image, steps, seed)
    ref = run_reference(image, inputs, steps)
    with _open(small_board) as dev:
        dev.load(image)
        got = dev.run(inputs, steps)
    assert ref.spikes["y"].sum() > 0
    assert got.same_behaviour(ref)
    assert got.counters["steps"] == steps
    assert got.counters["synops"] == ref.counters["synops"]
    assert got.counters["spikes"] == ref.counters["spikes"]
    # the board model logs 1000 + step: the cycle ring buffer (depth 8) was read back in order
    assert np.array_equal(got.cycles_per_step, 1000 + np.arange(steps))
    assert got.backend == "serial"


def test_multi_router_target_and_second_run_start_fresh() -> None:
    image = random_image(7, target="loihi1")
    inputs = random_inputs(image, 12, 7)
    ref = run_reference(image, inputs, 12)
    with BoardModel("loihi1") as board, _open(board) as dev:
        dev.load(image)
        first = dev.run(inputs, 12)
        second = dev.run(inputs, 12)
        assert dev.read_counters()["steps"] == 12
    assert first.same_behaviour(ref) and second.same_behaviour(ref)


def test_upload_bytes_land_exactly_and_crc_register_is_set(board: BoardModel) -> None:
    image = random_image(8)
    with _open(board) as dev:
        assert dev.image_crc() == 0
        dev.load(image)
        assert dev.image_crc() == image.crc32()
        for i, core in enumerate(image.cores):
            for k, (name, arr) in enumerate(core.tables().items()):
                got = dev.read_table(i, k, 0, len(arr), arr.dtype.itemsize)
                assert got == arr.tobytes(), name
            cfg = dev.read_table(i, CoreTable.CONFIG, 0, 1, 2)
            assert int.from_bytes(cfg, "little") == core.n_neurons
        assert dev.upload.payload_bytes == sum(a.nbytes for c in image.cores
                                               for a in c.tables().values()) + 2 * board.n_cores
        assert dev.upload.wire_bytes > dev.upload.payload_bytes
        assert 0 < dev.upload.line_fraction
        dev.reset()
        assert dev.image_crc() == 0
        with pytest.raises(InputError, match="must have an image loaded"):
            dev.run({}, 3)


def test_repeated_run_frame_does_not_run_twice(board: BoardModel) -> None:
    image = random_image(9)
    with _open(board) as dev:
        dev.load(image)
        from spikefab.arch.protocol import Run
        req = Run(3).request(dev.link.seq)
        dev.link.port.write(req.encode() + req.encode())      # the link duplicated the frame
        dev.link.port.flush()
        dev.link.seq = (dev.link.seq + 1) & 0xFF
        dev._wait_idle("test")
        assert board.runs_started == 1
        assert dev.read_counters()["steps"] == 3
        runs = [r for r in board.requests if r.op == Op.RUN]
        assert len(runs) == 2 and runs[0] == runs[1]


def test_busy_board_is_polled_until_done() -> None:
    image = random_image(10)
    inputs = random_inputs(image, 6, 10, rate=0.0)
    with BoardModel(step_seconds=0.01) as board, _open(board) as dev:
        dev.load(image)
        got = dev.run(inputs, 6)
        busy_answers = dev.link.stats.busy
    assert got.same_behaviour(run_reference(image, inputs, 6))
    infos = [r for r in board.requests if r.op == Op.INFO]
    assert len(infos) > 3 and busy_answers == 0       # polled with INFO, not retried blindly


def test_inputs_and_resources_are_checked(small_board: BoardModel) -> None:
    image = random_image(11, neurons=(12, 14))           # >= 4 output channels
    with _open(small_board) as dev:
        with pytest.raises(InputError, match="must have an image loaded"):
            dev.run({}, 2)
        dev.load(image)
        with pytest.raises(InputError, match="not in the image"):
            dev.run({"nope": np.zeros((2, 1))}, 2)
    with BoardModel(host_queue_depth=1) as tiny, _open(tiny) as dev:
        dev.load(image)
        with pytest.raises(ResourceError, match="host queue holds 1"):
            dev.run({"x": np.ones((2, 6), np.uint8)}, 2)
    with BoardModel(out_log_depth=1) as tiny, _open(tiny) as dev:
        dev.load(image)
        with pytest.raises(ResourceError, match="out_log holds 1"):
            dev.run({}, 2)


def test_image_needing_more_cores_than_the_board_is_refused() -> None:
    image = random_image(12, target="loihi1")
    with BoardModel("ice40-up5k") as board, _open(board) as dev:
        with pytest.raises(ResourceError, match=f"the board has {board.n_cores} cores"):
            dev.load(image)


def test_fabric_tables_are_addressed_with_core_255(board: BoardModel) -> None:
    with _open(board) as dev:
        raw = dev.read_table(FABRIC_CORE, 5, 0, 6, 4)
        assert raw == bytes(24)
        with pytest.raises(LinkError, match="refused READ_MEM with BAD_ARG"):
            dev.read_table(FABRIC_CORE, 5, 0, 6, 2)


def test_spikefab_run_with_a_device_uri(board: BoardModel) -> None:
    import spikefab
    image = random_image(13)
    inputs = random_inputs(image, 10, 13)
    got = spikefab.run(image, inputs, 10, device=f"serial://{board.path}?progress=0")
    assert got.backend == "serial"
    assert got.same_behaviour(run_reference(image, inputs, 10))
