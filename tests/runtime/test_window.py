"""Windowed writes (``Link.execute_window``): frames in flight, selective retransmit, no loss.

The board model answers frames in order as it receives them, like the RTL ``HostInterface``
with its RX FIFO; the ``faulty://`` shim flips, drops and duplicates bytes in both directions.
Every test reads every uploaded byte back (stop-and-wait reads) and compares.
"""

from __future__ import annotations

import pytest

from spikefab.arch.image import Image
from spikefab.arch.protocol import Op, WriteMem
from spikefab.errors import LinkError
from spikefab.runtime import open_device

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
    (4, "flip=0.015&dir=rx"),                     # answers lost: requests executed twice
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
