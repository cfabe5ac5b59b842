"""Shared by the runtime benchmarks: the board to measure on and the network to upload."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from pathlib import Path
from typing import Iterator

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def network_image(seed: int = 0, hidden: int = 300, n_in: int = 64, n_out: int = 32,
                  density: float = 0.25, target: str = "ice40-up5k"):
    """A compiled random 2-layer network for ``target`` (sparse Dense weights)."""
    import spikefab as sf
    rng = np.random.default_rng(seed)
    net = sf.Network()
    x = net.input("x", n_in)
    h = net.population("h", hidden, sf.LoihiLIF(du=400, dv=300, vth=60))
    y = net.population("y", n_out, sf.LoihiLIF(du=400, dv=300, vth=60))
    w1 = rng.integers(-60, 120, (hidden, n_in)) * (rng.random((hidden, n_in)) < density)
    w2 = rng.integers(-60, 120, (n_out, hidden)) * (rng.random((n_out, hidden)) < density / 2)
    net.connect(x, h, weights=w1, delay=1)
    net.connect(h, y, weights=w2)
    net.output("out", y)
    return sf.compile(net, target=target, progress=False)


@contextlib.contextmanager
def board(kind: str, target: str = "ice40-up5k") -> Iterator[str]:
    """Yield the pty path of a board: ``virtual`` (Verilator SoC) or ``model``.

    ``model`` is the Python test double of ``tests/runtime/boardmodel.py``: only for checking a
    benchmark script itself; the recorded numbers come from the virtual board.
    """
    if kind == "virtual":
        from spikefab.rtl.virtual_board import VirtualBoard
        with VirtualBoard(target) as vb:
            yield vb.pty
        return
    path = ROOT / "tests" / "runtime" / "boardmodel.py"
    spec = importlib.util.spec_from_file_location("sf_boardmodel", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["sf_boardmodel"] = module
    spec.loader.exec_module(module)
    with module.BoardModel(target) as b:
        yield b.path
