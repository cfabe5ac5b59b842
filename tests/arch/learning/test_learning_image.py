"""Plastic projections through builder, compiler and image, run by the golden model.

The compiled image's reference run must equal the dense reference of the same network (which
``test_learning_lava.py`` proves equal to Lava) after every epoch: this ties the image path —
learning tables, axon pre-slots, manifest read-back — to the oracle without running Lava again.
"""

from __future__ import annotations

import numpy as np
import pytest

import spikefab as sf
from plastic_nets import build, random_net, run_reference as run_dense, small_stdp_net
from spikefab.arch.image import Image
from spikefab.arch.learning import STDP
from spikefab.arch.reference import run_reference
from spikefab.errors import ModelError, ResourceError


@pytest.mark.parametrize("seed", range(100, 120))
def test_image_reference_equals_dense_reference(seed):
    net = random_net(seed)
    image = Image.from_bytes(sf.compile(build(net), "loihi1").to_bytes())
    res = run_reference(image, {"x": np.array(net["input"], np.uint8)}, net["steps"],
                        weight_every=net["chunk"])
    dense = run_dense(net)
    np.testing.assert_array_equal(res.spikes["y"].T, dense["spikes"])
    for k in net["proj"]:
        theirs = np.array([s[f"{k}.weights"] for s in dense["snapshots"]])
        np.testing.assert_array_equal(res.weight_snapshots[k], theirs)
        np.testing.assert_array_equal(res.weights[k], theirs[-1])


def test_hardware_generator_learns_deterministically():
    image = sf.compile(small_stdp_net(), "loihi1")
    assert image.manifest["learning"]["generator"] == "hardware"
    spikes = (np.random.default_rng(1).random((40, 4)) < 0.4).astype(np.uint8)
    a = run_reference(image, {"x": spikes}, 40)
    b = run_reference(Image.from_bytes(image.to_bytes()), {"x": spikes}, 40)
    assert a.same_behaviour(b)
    assert not np.array_equal(a.weights["x->p"], np.full((3, 4), 60))   # it learned
    assert a.counters["learning_updates"] == 20 * 12


def test_static_images_have_no_learning_sections():
    b = sf.Network()
    b.input("x", 2)
    b.population("p", 2)
    b.connect("x", "p", np.eye(2, dtype=int) * 100)
    image = sf.compile(b, "loihi1")
    assert not any("learn" in name for name, _ in image.sections())
    assert "learning" not in image.manifest


@pytest.mark.parametrize("target", ["darwin3", "ice40-up5k"])
def test_targets_without_learning_engine_refuse(target):
    with pytest.raises(ResourceError, match=f"projection 'x->p' is plastic .* target {target} "
                                            "has none"):
        sf.compile(small_stdp_net(), target)


def test_learning_profiles_per_core_are_limited():
    b = sf.Network()
    b.input("x", 1)
    b.population("p", 1)
    for k in range(17):
        b.connect("x", "p", [[2]], learning=STDP(1, -1, 4 + k, 4))
    with pytest.raises(ResourceError, match="core 0 needs 17 learning profiles, target loihi1 "
                                            "has 16 per core"):
        sf.compile(b, "loihi1")


def test_bad_rule_refused_at_connect():
    b = sf.Network()
    b.input("x", 1)
    b.population("p", 1)
    with pytest.raises(ModelError, match="projection 'x->p'.*needs a dependency"):
        b.connect("x", "p", [[2]], learning=sf_rule("x1 * y1"))


def sf_rule(dw: str):
    from spikefab.arch.learning import LearningRule
    return LearningRule(dw=dw)


def test_check_fits_counts_learning_memories():
    import dataclasses as dc

    from spikefab.arch.target import Learning, load_target
    from spikefab.arch.validate import check_fits
    from spikefab.errors import ImageError
    image = sf.compile(small_stdp_net(), "loihi1")
    check_fits(image, load_target("loihi1"))
    small = dc.replace(load_target("loihi1"), learning=Learning(profiles=16, plastic_synapses=4,
                                                                trace_entries=100))
    with pytest.raises(ImageError, match="core/0 needs 12 learning plastic synapses, target "
                                         "loihi1 has 4"):
        check_fits(image, small)


def test_result_npz_carries_learned_weights(tmp_path):
    image = sf.compile(small_stdp_net(), "loihi1")
    res = run_reference(image, {"x": np.ones((6, 4), np.uint8)}, 6)
    res.save_npz(tmp_path / "out.npz")
    with np.load(tmp_path / "out.npz") as z:
        np.testing.assert_array_equal(z["weights:x->p"], res.weights["x->p"])
