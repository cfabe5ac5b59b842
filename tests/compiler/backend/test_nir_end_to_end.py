"""NIR fixtures through the whole compiler: front end + back end, checked against the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from spikefab.arch.target import load_target
from spikefab.arch.validate import check_fits
from spikefab.compiler import compile

from .helpers import assert_same

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "nir-paper"
NIR_FILES = sorted(FIXTURES.glob("*.nir")) if FIXTURES.is_dir() else []

pytestmark = pytest.mark.skipif(not NIR_FILES, reason="shared NIR fixtures not found")


def _front_end():
    passes = pytest.importorskip("spikefab.compiler.passes")
    if not hasattr(passes, "lower_to_hardware"):
        pytest.skip("front end not installed")
    from spikefab.compiler import load_model
    return load_model, passes.lower_to_hardware


@pytest.mark.parametrize("path", NIR_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("target", ["loihi1", "darwin3"])
def test_fixture_compiles_and_fits(path, target):
    _front_end()
    report: dict = {}
    image = compile(path, target, dt=1e-4, report=report)
    check_fits(image, load_target(target))
    assert image.manifest["options"]["dt"] == 1e-4
    assert report["quantization"] is not None
    assert report["placement"]["chosen"]["cost"] <= report["placement"]["sequential"]["cost"]


@pytest.mark.parametrize("name", ["two_lif_neurons.nir", "lif_norse.nir",
                                  "braille_noDelay_bias_zero.nir"])
def test_small_fixture_image_equals_its_network(name):
    load_model, lower_to_hardware = _front_end()
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"{name} not in fixtures")
    net = lower_to_hardware(load_model(path), dt=1e-4)
    image = compile(net, "loihi1")
    assert_same(image, net, steps=20)
