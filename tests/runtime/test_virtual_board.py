"""End to end through pyserial to the virtual board: the Verilator-built SoC behind a pty (rtl).

No mock of the serial layer and no Python device: the bytes go through the same UART,
``HostInterface`` and fabric RTL the bitstream is built from.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from spikefab.arch.reference import run_reference
from spikefab.cli import main
from spikefab.runtime import open_device

from .images import random_image, random_inputs

pytestmark = [pytest.mark.rtl, pytest.mark.slow]


@pytest.fixture(scope="module")
def vboard():
    from spikefab.rtl.sim.driver import simulator_problem
    problem = simulator_problem("verilator")
    if problem:
        pytest.skip(problem)
    from spikefab.rtl.virtual_board import VirtualBoard
    with VirtualBoard("ice40-up5k") as board:
        yield board


@pytest.mark.parametrize("seed", [0, 3])
def test_same_result_as_emulator_cycle_engine(vboard, seed: int) -> None:
    image = random_image(seed)
    steps = 24
    inputs = random_inputs(image, steps, seed)
    with open_device("emu://?mode=cycle") as emu:
        emu.load(image)
        want = emu.run(inputs, steps)
    with open_device(f"serial://{vboard.pty}?baud=1000000", progress=False, timeout=5) as dev:
        dev.load(image)
        assert dev.image_crc() == image.crc32()
        got = dev.run(inputs, steps)
    assert want.spikes["y"].sum() > 0
    assert got.same_behaviour(want)
    assert got.same_behaviour(run_reference(image, inputs, steps))
    assert np.array_equal(got.cycles_per_step, want.cycles_per_step)     # invariant 2
    assert got.counters["synops"] == want.counters["synops"]
    assert got.counters["steps"] == steps


def test_noisy_link_to_the_rtl(vboard) -> None:
    image = random_image(4)
    steps = 16
    inputs = random_inputs(image, steps, 4)
    with open_device(f"faulty://{vboard.pty}?flip=0.01&seed=11", baud=1_000_000,
                     progress=False, timeout=10, resend_after=0.1) as dev:
        dev.load(image)
        got = dev.run(inputs, steps)
        for i, core in enumerate(image.cores):
            for k, (name, arr) in enumerate(core.tables().items()):
                if name != "state" and len(arr):
                    assert dev.read_table(i, k, 0, len(arr), arr.dtype.itemsize) == arr.tobytes()
        assert dev.port.faults["flip"] > 5 and dev.link.stats.resends > 0
        assert dev.link.stats.commands > 3 * steps     # (INFO polls vary with simulation speed)
    assert got.same_behaviour(run_reference(image, inputs, steps))
    assert got.counters["steps"] == steps


def test_deploy_cli_to_the_virtual_board(vboard, tmp_path, capsys) -> None:
    image = random_image(5)
    inputs = random_inputs(image, 12, 5)
    image.save(tmp_path / "net.sfi")
    np.savez(tmp_path / "in.npz", **inputs)
    rc = main(["deploy", str(tmp_path / "net.sfi"), "--port", vboard.pty, "--baud", "1000000",
               "--reload", "--input", str(tmp_path / "in.npz"), "--steps", "12", "-o",
               str(tmp_path / "out.npz")])
    out = capsys.readouterr().out
    assert rc == 0 and "confirmed by the board" in out and "cycles per step" in out
    with np.load(tmp_path / "out.npz") as got:
        assert np.array_equal(got["y"], run_reference(image, inputs, 12).spikes["y"])
        assert len(got["cycles_per_step"]) == 12


def test_board_command_prints_the_pty_and_stops_on_interrupt(vboard, tmp_path) -> None:
    image = random_image(6)
    image.save(tmp_path / "net.sfi")
    env = dict(os.environ)
    proc = subprocess.Popen([sys.executable, "-m", "spikefab.cli", "board", "--pty", "--image",
                             str(tmp_path / "net.sfi")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            # a shell's background job starts with SIGINT ignored, and Python then
                            # keeps it ignored: give the board the default, as a terminal would
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = proc.stdout.readline()
        assert "/dev/pts/" in line
        pty = line.split()[-1]
        assert "loaded" in proc.stdout.readline()
        with open_device(f"serial://{pty}", progress=False, reset=False, timeout=5) as dev:
            assert dev.attach(image)                 # the image is on the board already
            inputs = random_inputs(image, 8, 6)
            assert dev.run(inputs, 8).same_behaviour(run_reference(image, inputs, 8))
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=90)     # generous: CI machines can be loaded
    assert proc.returncode == 0, err
    assert "virtual board stopped" in out
