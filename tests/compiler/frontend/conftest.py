"""Shared fixtures of the front-end tests: the NIR paper graphs in ../shared/fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
PAPER = SHARED / "fixtures" / "nir-paper"
NIR_FILES = sorted(PAPER.glob("*.nir"))


def reset_of(path: Path) -> str:
    """The Braille 'subtract' net was trained with reset by subtraction (fixtures README)."""
    return "subtract" if "subtract" in path.name else "zero"


@pytest.fixture(params=NIR_FILES, ids=[p.stem for p in NIR_FILES])
def nir_file(request) -> Path:
    return request.param
