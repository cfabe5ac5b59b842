"""Fixtures of the runtime tests: a Python board model on a real pty (see boardmodel.py)."""

from __future__ import annotations

import pytest

from .boardmodel import BoardModel


@pytest.fixture
def board():
    with BoardModel() as b:
        yield b


@pytest.fixture
def small_board():
    """Tiny logs, so a run needs several read-out chunks and the cycle log wraps."""
    with BoardModel(out_log_depth=40, cycle_log_depth=8, host_queue_depth=64) as b:
        yield b
