"""A noisy or cut link: no silent corruption, no lost or duplicated spikes, LinkError on a cut.

The ``faulty://`` shim damages bytes in both directions between pyserial and the pty of the board
model.  CI runs a few hundred commands; ``benchmarks/runtime_faults.py`` runs the full 1,000.
"""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.protocol import FABRIC_CORE, FabricTable, WriteMem
from spikefab.arch.reference import run_reference
from spikefab.errors import LinkError
from spikefab.runtime import open_device

from .boardmodel import BoardModel
from .images import random_image, random_inputs


def _faulty(board: BoardModel, query: str, **kw):
    return open_device(f"faulty://{board.path}?{query}", baud=1_000_000, progress=False,
                       timeout=kw.pop("timeout", 5.0), resend_after=0.03, **kw)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_one_percent_flipped_bytes_give_exact_results(small_board: BoardModel, seed: int) -> None:
    image = random_image(20 + seed)
    steps = 25
    inputs = random_inputs(image, steps, seed)
    ref = run_reference(image, inputs, steps)
    with _faulty(small_board, f"flip=0.01&seed={seed}") as dev:
        dev.load(image)
        got = dev.run(inputs, steps)
        # every uploaded byte verified by reading it back over the same noisy link (state has
        # run on; the final state is checked against the golden model below)
        for i, core in enumerate(image.cores):
            for k, (name, arr) in enumerate(core.tables().items()):
                if name != "state":
                    assert dev.read_table(i, k, 0, len(arr), arr.dtype.itemsize) == arr.tobytes()
        stats, faults = dev.link.stats, dev.port.faults
    assert got.same_behaviour(ref)
    assert np.array_equal(got.spikes["y"], ref.spikes["y"])
    assert got.counters["steps"] == steps                  # no RUN lost or repeated
    assert faults["flip"] > 20 and stats.resends > 10      # the link really was noisy
    assert stats.commands > 3 * steps                      # many commands crossed the noisy link


@pytest.mark.slow
def test_drops_duplicates_and_delays(small_board: BoardModel) -> None:
    image = random_image(30)
    steps = 20
    inputs = random_inputs(image, steps, 30)
    query = "drop=0.003&dup=0.003&flip=0.003&delay=0.05&delay_s=0.002&seed=4"
    with _faulty(small_board, query) as dev:
        dev.load(image)
        got = dev.run(inputs, steps)
        faults = dev.port.faults
    assert got.same_behaviour(run_reference(image, inputs, steps))
    assert got.counters["steps"] == steps
    assert faults["drop"] > 0 and faults["dup"] > 0 and faults["delay"] > 0


def test_repeated_writes_and_reads_are_verified(board: BoardModel) -> None:
    """Many small commands with random payloads over a 1 % noisy link: each one read back."""
    rng = np.random.default_rng(5)
    with _faulty(board, "flip=0.01&seed=9") as dev:
        for k in range(60):
            data = rng.integers(0, 256, 4 * int(rng.integers(1, 40)), dtype=np.uint8).tobytes()
            dev.link.execute(WriteMem(FABRIC_CORE, FabricTable.OUT_LOG, k, 4, data))
            assert dev.read_table(FABRIC_CORE, FabricTable.OUT_LOG, k, len(data) // 4, 4) == data
        assert dev.link.stats.commands >= 120 and dev.link.stats.resends > 0


def test_cut_link_mid_run_raises_and_next_open_recovers(board: BoardModel) -> None:
    image = random_image(40, neurons=(40, 60))
    steps = 40
    inputs = random_inputs(image, steps, 40)
    with _faulty(board, "cut_after=13000", timeout=0.6) as dev:    # upload ~9.6 kB, run ~8 kB
        dev.load(image)
        with pytest.raises(LinkError) as err:
            dev.run(inputs, steps)
    msg = str(err.value)
    assert msg.startswith("run: ") and "no valid answer within 0.6 s" in msg
    assert "step" in msg or "reading" in msg or "restoring" in msg
    with open_device(f"serial://{board.path}", progress=False) as dev:   # recovers with RESET
        assert dev.image_crc() == 0
        dev.load(image)
        assert dev.run(inputs, steps).same_behaviour(run_reference(image, inputs, steps))


def test_silent_port_gives_link_error_naming_the_command() -> None:
    import os
    import tty
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        with pytest.raises(LinkError, match=r"opening serial:///dev/pts/\d+: INFO \(seq 0\) got "
                                            r"no valid answer within 0.3 s"):
            open_device(f"serial://{os.ttyname(slave)}", timeout=0.3)
    finally:
        os.close(slave)
        os.close(master)
