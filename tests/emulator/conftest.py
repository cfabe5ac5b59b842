"""Fixtures of the emulator tests (the generators live in emu_images.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emu_images import TINY_WAFER
from spikefab.arch.target import load_target


@pytest.fixture(scope="session")
def tiny_wafer(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("targets") / "tinywafer.toml"
    path.write_text(TINY_WAFER)
    load_target(str(path))
    return path
