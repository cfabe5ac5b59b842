"""Examples are scripts, not a package: load them by path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


def load_example(name: str):
    path = ROOT / "examples" / f"{name}.py"
    mod_name = f"spikeforge_example_{name}"
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    spec = importlib.util.spec_from_file_location(mod_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    spec.loader.exec_module(module)
    return module


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
