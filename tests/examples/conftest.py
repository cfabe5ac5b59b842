"""Examples are scripts, not a package: load them by path."""

from __future__ import annotations

from pathlib import Path

import pytest

from spikefab.demo import load_example  # the shipped loader, one copy

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def digits():
    return load_example("digits")


@pytest.fixture(scope="session")
def nir_paper():
    return load_example("nir_paper")


@pytest.fixture(scope="session")
def wafer_scale():
    return load_example("wafer_scale")


@pytest.fixture(scope="session")
def hello_builder():
    return load_example("hello_builder")
