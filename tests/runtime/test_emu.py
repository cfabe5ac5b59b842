"""emu:// gives what the emulator gives, and the same Result as a board over the serial link."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.reference import run_reference
from spikefab.errors import InputError
from spikefab.runtime import open_device

from .boardmodel import BoardModel
from .images import random_image, random_inputs


@pytest.mark.parametrize("mode", ["functional", "cycle"])
def test_emu_device_matches_golden_model(mode: str) -> None:
    image = random_image(50)
    inputs = random_inputs(image, 20, 50)
    with open_device(f"emu://?mode={mode}") as dev:
        dev.load(image)
        got = dev.run(inputs, 20)
        assert dev.read_counters()["synops"] == got.counters["synops"]
    assert got.same_behaviour(run_reference(image, inputs, 20))
    if mode == "cycle":
        assert got.cycles_per_step is not None and len(got.cycles_per_step) == 20


def test_emu_and_serial_give_identical_results() -> None:
    image = random_image(51)
    inputs = random_inputs(image, 24, 51)
    with open_device("emu://") as emu:
        emu.load(image)
        a = emu.run(inputs, 24)
    with BoardModel() as board, open_device(f"serial://{board.path}", progress=False) as dev:
        dev.load(image)
        b = dev.run(inputs, 24)
    assert a.same_behaviour(b)
    assert all(np.array_equal(a.spikes[k], b.spikes[k]) for k in a.spikes)
    assert a.counters["synops"] == b.counters["synops"]


def test_emu_errors() -> None:
    with pytest.raises(InputError, match="mode must be one of"):
        open_device("emu://?mode=fast")
    with open_device("emu://") as dev:
        with pytest.raises(InputError, match="must have an image loaded"):
            dev.run({}, 1)
        dev.load(random_image(52))
        dev.reset()
        with pytest.raises(InputError, match="must have an image loaded"):
            dev.run({}, 1)
