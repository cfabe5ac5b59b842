"""``spikefab deploy`` to a board needs only pyserial: it works with the ``rtl`` extra missing."""

from __future__ import annotations

import sys

import numpy as np

from spikefab.arch.reference import run_reference
from spikefab.cli import main
from spikefab.extras import EXTRAS

from .boardmodel import BoardModel
from .images import random_image, random_inputs


def test_deploy_without_the_rtl_extra(tmp_path, board: BoardModel, capsys, monkeypatch) -> None:
    for name in EXTRAS["rtl"]:
        monkeypatch.setitem(sys.modules, name, None)     # importing any of them now fails
    image = random_image(61)
    inputs = random_inputs(image, 10, 61)
    image.save(tmp_path / "net.sfi")
    np.savez(tmp_path / "in.npz", **inputs)
    rc = main(["deploy", str(tmp_path / "net.sfi"), "--port", board.path, "--input",
               str(tmp_path / "in.npz"), "--steps", "10", "-o", str(tmp_path / "out.npz")])
    assert rc == 0, capsys.readouterr().err
    with np.load(tmp_path / "out.npz") as got:
        assert np.array_equal(got["y"], run_reference(image, inputs, 10).spikes["y"])
