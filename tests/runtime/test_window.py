"""Windowed writes and reads (``Link.execute_window``): frames in flight, selective retransmit,
reads halved after a lost answer, no loss.

The board model answers frames in order as it receives them, like the RTL ``HostInterface``
with its RX FIFO; the ``faulty://`` shim flips, drops and duplicates bytes in both directions.
Every test reads every uploaded byte back and compares.
"""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.image import Image
from spikefab.arch.protocol import FABRIC_CORE, MAX_PAYLOAD, FabricTable, Op, WriteMem
from spikefab.errors import LinkError
from spikefab.runtime import open_device
from spikefab.runtime.hostplan import TableUpload
from spikefab.runtime.link import READ_FLOOR

from .boardmodel import BoardModel
from .images import random_image


def _open(board: BoardModel, query: str = "", **kw):
    uri = f"faulty://{board.path}?{query}" if query else f"serial://{board.path}"
    return open_device(uri, baud=1_000_000, progress=False, timeout=kw.pop("timeout", 10.0),
                       resend_after=kw.pop("resend_after", 0.03), **kw)


def _read_back(dev, image: Image) -> None:
    for i, core in enumerate(image.cores):
        for k, arr in enumerate(core.tables().values()):
            assert dev.read_table(i, k, 0, len(arr), arr.dtype.itemsize) == arr.tobytes()
    assert dev.image_crc() == image.crc32()


def test_clean_link_keeps_the_window_full(board: BoardModel) -> None:
    image = random_image(50, neurons=(30, 60))
    with _open(board, window=6, resend_after=2.0) as dev:      # no resends on a loaded machine
        dev.load(image)
        stats = dev.link.stats
        assert stats.max_in_flight == 6
        assert stats.bad_frames == 0 and stats.splits == 0
        _read_back(dev, image)
    writes = [r for r in board.requests if r.op == Op.WRITE_MEM]
    assert len({r.seq for r in writes}) > 12                                  # many frames


@pytest.mark.parametrize("seed, query", [
    (1, "flip=0.01"),
    (2, "drop=0.005&dup=0.003&flip=0.005"),
    (3, "drop=0.01&dir=tx"),                      # requests lost: later answers overtake them
    (4, "flip=0.04&dir=rx"),                      # answers lost: requests executed twice
])
def test_window_survives_damaged_bytes(board: BoardModel, seed: int, query: str) -> None:
    image = random_image(60 + seed, neurons=(20, 50))
    with _open(board, f"{query}&seed={seed}", window=8) as dev:
        dev.load(image)
        stats, faults = dev.link.stats, dev.port.faults
        assert stats.resends > 0 and sum(faults.values()) > 5        # it really was damaged
        assert stats.max_in_flight > 1
        _read_back(dev, image)


def test_window_one_is_stop_and_wait(board: BoardModel) -> None:
    image = random_image(70)
    with _open(board, "flip=0.005&seed=7", window=1) as dev:
        dev.load(image)
        assert dev.link.stats.max_in_flight == 1
        _read_back(dev, image)


def test_window_gives_up_naming_the_frame(board: BoardModel) -> None:
    image = random_image(80, neurons=(30, 60))
    with _open(board, "cut_after=3000", timeout=0.4, window=4) as dev:
        with pytest.raises(LinkError, match=r"upload: core \d+ \w+\[\d+\.\.\d+\) .*WRITE_MEM "
                                            r"\(seq \d+\) got no valid answer within 0.4 s"):
            dev.load(image)


def test_window_refusal_is_a_link_error(board: BoardModel) -> None:
    with _open(board) as dev:
        bad = iter([WriteMem(0, 0, 10_000, 4, bytes(4))])
        with pytest.raises(LinkError, match="board refused WRITE_MEM with BAD_ARG"):
            dev.link.execute_window(lambda: next(bad, None), window=4)
        with pytest.raises(LinkError, match=r"window must be in \[1, 64\], not 0"):
            dev.link.execute_window(lambda: None, window=0)
    with pytest.raises(LinkError, match=r"window must be in \[1, 64\], not 65"):
        _open(board, window=65)


def test_large_frames_are_split_when_the_line_turns_out_noisy(board: BoardModel) -> None:
    """The window's first frames are sized for a clean line; at 2 % flipped bytes a 260-byte
    frame almost never crosses intact, so a resend splits it into budget-sized writes."""
    image = random_image(90, neurons=(40, 60))
    with _open(board, "flip=0.02&seed=5", window=8, timeout=10.0) as dev:
        dev.load(image)
        assert dev.link.stats.splits > 0
        assert dev.link.budget < 255
        _read_back(dev, image)


def _fill_out_log(dev, seed: int) -> bytes:
    """Random bytes in the model's 96-entry out_log (4-byte entries), written in a window."""
    entries = np.random.default_rng(seed).integers(0, 2**32, 96, dtype="<u4")
    dev._write_tables([TableUpload(FABRIC_CORE, FabricTable.OUT_LOG, entries, "out_log")], "fill")
    return entries.tobytes()


@pytest.mark.parametrize("seed, query", [(11, "flip=0.04"), (12, "flip=0.04&dir=rx")])
def test_reads_halve_on_a_noisy_line_and_stay_exact(board: BoardModel, seed: int,
                                                    query: str) -> None:
    """At 4 % flipped bytes a 250-byte answer arrives intact once in 30,000 tries: a read whose
    answer is lost is asked again in halves, and every byte that comes back is right."""
    with _open(board, f"{query}&seed={seed}", window=8) as dev:
        data = _fill_out_log(dev, seed)
        for _ in range(4):
            assert dev.read_table(FABRIC_CORE, FabricTable.OUT_LOG, 0, 96, 4) == data
        stats = dev.link.stats
        assert stats.read_splits > 0 and dev.link.read_budget < MAX_PAYLOAD
        assert dev.port.faults["flip"] > 20


def test_reads_grow_back_on_a_clean_line(board: BoardModel) -> None:
    with _open(board) as dev:
        data = _fill_out_log(dev, 3)
        dev.link.read_budget = READ_FLOOR                  # as after a burst of noise
        for _ in range(6):                                 # +16 B per budget-sized answer
            assert dev.read_table(FABRIC_CORE, FabricTable.OUT_LOG, 0, 96, 4) == data
        assert dev.link.read_budget == MAX_PAYLOAD
        before = sum(1 for r in board.requests if r.op == Op.READ_MEM)
        assert dev.read_table(FABRIC_CORE, FabricTable.OUT_LOG, 0, 96, 4) == data
        assert sum(1 for r in board.requests if r.op == Op.READ_MEM) - before == 2   # 252 + 132 B
        assert dev.link.stats.read_splits == 0


def test_cut_link_during_a_read_gives_up_naming_it(board: BoardModel) -> None:
    with _open(board, "cut_after=600", timeout=0.4) as dev:
        _fill_out_log(dev, 4)
        dev.link.context = "reading out_log"
        with pytest.raises(LinkError, match=r"reading out_log: READ_MEM \(seq \d+\) got no "
                                            r"valid answer within 0.4 s"):
            for _ in range(10):
                dev.read_table(FABRIC_CORE, FabricTable.OUT_LOG, 0, 96, 4)
