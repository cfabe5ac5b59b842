"""``spikefab deploy`` against a board on a pty: upload, CRC check, run, read back, summary."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.reference import run_reference
from spikefab.cli import main

from .boardmodel import BoardModel
from .images import random_image, random_inputs


def test_deploy_runs_and_writes_outputs(tmp_path, board: BoardModel, capsys) -> None:
    image = random_image(60)
    inputs = random_inputs(image, 15, 60)
    image.save(tmp_path / "net.sfi")
    np.savez(tmp_path / "in.npz", **inputs)
    rc = main(["deploy", str(tmp_path / "net.sfi"), "--port", board.path, "--baud", "1000000",
               "--input", str(tmp_path / "in.npz"), "--steps", "15", "-o",
               str(tmp_path / "out.npz")])
    out = capsys.readouterr().out
    assert rc == 0
    assert f"image CRC {image.crc32():#010x} confirmed by the board" in out
    assert "% of the 1,000,000-baud line" in out and "run: 15 steps" in out
    ref = run_reference(image, inputs, 15)
    with np.load(tmp_path / "out.npz") as got:
        assert np.array_equal(got["y"], ref.spikes["y"])
    assert f"output y: {int(ref.spikes['y'].sum()):,} spikes" in out
    # a second deploy finds the image on the board (CRC register) and does not upload again
    args = ["deploy", str(tmp_path / "net.sfi"), "--port", board.path, "--input",
            str(tmp_path / "in.npz"), "--steps", "15", "-o", str(tmp_path / "again.npz")]
    assert main(args) == 0
    assert "upload skipped" in capsys.readouterr().out
    with np.load(tmp_path / "again.npz") as got:
        assert np.array_equal(got["y"], ref.spikes["y"])
    assert main(args + ["--reload"]) == 0
    assert "upload skipped" not in capsys.readouterr().out


@pytest.mark.parametrize("args, msg", [
    (["--port", "/nonexistent/tty"], "cannot open port"),
    (["--port", "PTY", "--input", "missing.npz"], "does not exist"),
    (["--port", "PTY", "--steps", "-1"], "steps must be a non-negative integer"),
])
def test_deploy_errors_are_one_line(tmp_path, board: BoardModel, capsys, args, msg) -> None:
    random_image(61).save(tmp_path / "net.sfi")
    args = [a.replace("PTY", board.path) for a in args]
    steps = [] if "--steps" in args else ["--steps", "3"]
    rc = main(["deploy", str(tmp_path / "net.sfi"), *steps, *args])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and msg in err
