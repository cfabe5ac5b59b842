"""Hostile learning sections are refused on load with an ImageError naming the table (audit).

Each case is one value a CRC-valid file could hold that no learning engine can: before these
checks the reference engine raised IndexError on a spike time past the epoch, a NaN decay or a
shift past 63 bits made the emulator and the reference disagree, a manifest ``learning`` that was
not an object was an AttributeError, and learning tables on a core without learning profiles
were dropped silently (the emulator then reported no learned weights, the reference did).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import spikefab as sf
from plastic_nets import small_stdp_net
from spikefab.arch.image import Image
from spikefab.arch.learning import LearningRule
from spikefab.errors import ImageError, ModelError


@pytest.fixture(scope="module")
def plastic():
    image = sf.compile(small_stdp_net(), "loihi1")
    Image.from_bytes(image.to_bytes())                       # the original loads
    return image


def _set(table: str, name: str, value, index=0):
    def edit(core, image):
        col = getattr(core, table)[name]
        col[index] = value
    return edit


CASES = {
    "tx past the epoch": ("learn_x", _set("learn_x", "tx", 3)),
    "ty far past the epoch": ("learn_y", _set("learn_y", "ty", 250)),
    "trace over 7 bits": ("learn_x", _set("learn_x", "x1", 200)),
    "NaN decay": ("learn_profiles", _set("learn_profiles", "decay", np.nan, (0, 0))),
    "decay not exp(-1/tau)": ("learn_profiles", _set("learn_profiles", "decay", 0.5, (0, 0))),
    "sign mode 0": ("learn_profiles", _set("learn_profiles", "sign_mode", 0)),
    "decimate 20": ("learn_profiles", _set("learn_profiles", "decimate", 20)),
    "impulse fraction 257": ("learn_profiles",
                             _set("learn_profiles", "impulse_frac", 257, (0, 0))),
    "flags 255": ("learn_profiles", _set("learn_profiles", "flags", 255)),
    "scaling exponent 64": ("learn_products", _set("learn_products", "s_exp", 64)),
    "mantissa 8": ("learn_products", _set("learn_products", "s_mantissa", 8)),
    "factor after an unused slot": ("learn_products",      # the kernel read slot 0 (x0)
                                    _set("learn_products", "var", [255, 3, 255, 255])),
    "sgn 2": ("learn_products", _set("learn_products", "sgn", 2, (0, 0))),
    "tag beyond Lava's range": ("learn_synapses", _set("learn_synapses", "tag_t", 300)),
    "plastic synapse in no axon's run": (      # packed as pre = -1 for the RTL/serial upload
        "learn_synapses", lambda core, image: core.axons["count"].__setitem__(
            len(core.axons) - 1, int(core.axons["count"][-1]) - 1)),
    "manifest learning not an object": (
        "manifest", lambda core, image: image.manifest.__setitem__("learning", [])),
    "unknown generator": (
        "manifest", lambda core, image: image.manifest["learning"].__setitem__("generator", "x")),
    "read-back shape over the image": (
        "manifest", lambda core, image: next(iter(
            image.manifest["learning"]["projections"].values())).__setitem__(
            "shape", [1 << 30, 1 << 30])),
    "read-back synapse outside the core": (
        "manifest", lambda core, image: next(iter(
            image.manifest["learning"]["projections"].values()))["synapses"].__setitem__(
            0, [0, 999, 0, 0])),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_learning_value_is_refused_on_load(plastic, case):
    table, edit = CASES[case]
    image = copy.deepcopy(plastic)
    edit(image.cores[0], image)
    with pytest.raises(ImageError) as err:
        Image.from_bytes(image.to_bytes(), where="hostile.sfi")
    assert "hostile.sfi" in str(err.value) and (table in str(err.value) or table == "manifest")
    assert table in err.value.where or err.value.where == "manifest"


def test_learning_sections_without_profiles_are_refused(plastic):
    """A file whose core lost its learn_profiles section but kept the other learning tables."""
    from spikefab.fuzz import encode
    sections = [(n, p) for n, p in plastic.sections() if n != "core/0/learn_profiles"]
    with pytest.raises(ImageError, match="without learning profiles") as err:
        Image.from_bytes(encode(sections))
    assert err.value.where == "core/0/learn_products"


def test_static_core_learning_manifest_needs_plastic_core(plastic):
    """A read-back entry naming a core without learning profiles is refused, not read as 0."""
    image = copy.deepcopy(plastic)
    for name in ("learn_profiles", "learn_products", "learn_synapses", "learn_x", "learn_y",
                 "learn_rng"):
        setattr(image.cores[0], name, getattr(image.cores[0], name)[:0])
    with pytest.raises(ImageError, match="without learning profiles"):
        Image.from_bytes(image.to_bytes())


@pytest.mark.parametrize("kw, match", [
    ({"dw": "x0 * (x1 + 40000)"}, "bracket constant"),
    ({"dw": "x0 * sgn(w - 70000)"}, "bracket constant"),
    ({"dw": "x0 * x1", "rng_seed": -1}, "rng_seed"),
    ({"dw": "x0 * x1", "rng_seed": 1 << 40}, "rng_seed"),
])
def test_rule_values_the_image_cannot_hold_are_model_errors(kw, match):
    """Were OverflowError tracebacks from NumPy when the compiler wrote the learning tables."""
    b = sf.Network()
    b.input("x", 3)
    b.population("p", 2, sf.LoihiLIF(vth=40))
    with pytest.raises(ModelError, match=match):
        b.connect("x", "p", np.full((2, 3), 60), learning=LearningRule(**kw))


def test_learning_streams_and_snapshots_count_in_run_memory(plastic, monkeypatch):
    """A plastic run draws six random values per profile and step up front and keeps a weight
    snapshot every N steps; the memory check counted neither (3 M steps with weight_every=1
    peaked at 857 MiB under a 200 MiB budget the check said was met)."""
    from spikefab.arch.validate import check_run_memory, learning_run_bytes
    from spikefab.emulator import simulate
    from spikefab.errors import ResourceError
    steps, budget = 3_000_000, 200 << 20
    streams = learning_run_bytes(plastic, steps)
    assert streams == 48 * steps * len(plastic.cores[0].learn_profiles)
    assert learning_run_bytes(plastic, steps, 1) > streams
    assert check_run_memory(plastic, steps, available=budget) >= streams
    with pytest.raises(ResourceError, match="learning streams"):
        check_run_memory(plastic, steps, available=budget, weight_every=1)
    monkeypatch.setenv("SPIKEFAB_MAX_RUN_BYTES", str(budget))
    with pytest.raises(ResourceError):           # refused before anything is allocated
        simulate(plastic, {"x": np.zeros((steps, 4), np.uint8)}, steps, weight_every=1)
