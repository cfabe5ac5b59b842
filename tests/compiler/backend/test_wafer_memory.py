"""The wafer-scale memory work of the back end keeps every compiled byte (issue #4).

Each lean path is checked against a second, plain way of computing the same thing on a
mid-size layered network (several cores and chiplets, two outputs): the route table written
field by field against one built by sorting every entry with NumPy; the one-scan core cut
against the largest range the per-range usage allows; chunked image checks against one check
over the whole image; the int32 projection fields against the values they were given.
"""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch import validate
from spikefab.arch.image import ROUTE_DTYPE, Image
from spikefab.compiler.driver import compile_result
from spikefab.compiler.hwnet import HwNetwork, Projection
from spikefab.compiler.passes.kernels import segment_argsort
from spikefab.compiler.passes.partition import _Cutter, gather_synapses
from spikefab.compiler.passes.place import Sites
from spikefab.compiler.synthetic import layered_network
from spikefab.errors import ImageError, ModelError, ResourceError

from .helpers import make_target


def layered(layers: int = 3, width: int = 3000, fan_in: int = 8, n_in: int = 200,
            seed: int = 0) -> HwNetwork:
    """The benchmark's random layered network, small, with a second output on the first layer."""
    net = layered_network(layers, width, fan_in, n_in, seed)
    net.outputs["z"] = "l0"
    return net


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """Small cores on 2 x 2 chiplets, so the network spreads over several chiplets."""
    target = make_target(tmp_path_factory.mktemp("target"), name="chiplets", cx=2, cy=2, mx=4,
                         my=4, cpr=2, neurons=256, synapses=2048, axons=1024, routes=2048,
                         profiles=4, classes=4, max_delay=7, acc_bits=24)
    return compile_result(layered(), target, progress=False)


def _routes_by_sorting(res) -> np.ndarray:
    """Every route entry (pairs, then output entries), stably sorted by source key."""
    part, syn = res.partition, res.partition.syn
    sites = Sites.of(part.target)
    site = res.placement.site[part.pair_core]
    out_g = np.flatnonzero(part.is_output)
    key = np.concatenate([part.pair_src, syn.n_channels + out_g]).astype(np.int64)
    r = np.zeros(len(key), ROUTE_DTYPE)
    n = len(part.pair_src)
    r["host"][n:] = 1
    for name, values in (("slot", sites.slot), ("chiplet", sites.chiplet), ("x", sites.x),
                         ("y", sites.y)):
        r[name][:n] = values[site]
    r["axon"][:n] = res.routing.axon
    r["axon"][n:] = part.output_channel[out_g]
    return r[np.argsort(key, kind="stable")]


def test_route_table_equals_one_built_by_sorting(compiled) -> None:
    image = compiled.image
    assert len({c.chiplet for c in image.cores}) >= 2 and len(image.cores) >= 8
    got = np.concatenate([image.host_routes] + [c.routes for c in image.cores])
    want = _routes_by_sorting(compiled)
    assert got.tobytes() == want.tobytes()
    assert int(got["host"].sum()) == 6000                  # both outputs report every neuron


@pytest.mark.parametrize("limits", [
    dict(neurons=256, synapses=4096, axons=4096),         # neuron slots bind
    dict(neurons=4096, synapses=1000, axons=4096),        # synapse entries bind
    dict(neurons=4096, synapses=8192, axons=300),         # input axons bind
    dict(neurons=4096, synapses=8192, axons=4096, classes=1),   # accumulator classes bind
])
def test_one_scan_cut_is_the_largest_range_that_fits(tmp_path, limits) -> None:
    net = layered(layers=3, width=500, fan_in=12)
    syn = gather_synapses(net)
    target = make_target(tmp_path, **{"routes": 1 << 16, "classes": 4, "max_delay": 7,
                                      "acc_bits": 24, **limits})
    cutter = _Cutter(syn, target)
    lim = target.core
    ends = []
    for s in np.random.default_rng(1).integers(0, syn.n_neurons - 1, 10).tolist():
        try:
            e = cutter.cut(s, syn.n_neurons)
        except ResourceError:            # one neuron alone is too big (one class per core)
            assert limits.get("classes") == 1
            continue
        fits = [all(v <= getattr(lim, k) for k, v in cutter.usage(s, x).items())
                for x in range(s + 1, syn.n_neurons + 1)]
        assert all(fits[:e - s]) and not any(fits[e - s:])       # the largest, usage only grows
        ends.append(e)
    assert ends and min(ends) < syn.n_neurons                   # a limit cut somewhere


def _mutated(image: Image, core: int, table: str, name: str, value: int) -> Image:
    img = Image.from_bytes(image.to_bytes())
    getattr(img.cores[core], table)[name][0] = value
    return img


@pytest.mark.parametrize("table, name, value", [
    ("synapses", "delay", 200), ("routes", "host", 2), ("neurons", "bias_exp", 16),
])
def test_chunked_image_checks_report_what_one_whole_check_reports(compiled, monkeypatch, table,
                                                                  name, value) -> None:
    image = compiled.image
    k = len(image.cores) - 2              # a late core: in a later chunk when chunks are small
    bad = _mutated(image, k, table, name, value)
    messages = []
    for chunk in (1 << 40, 7):           # one chunk for the whole image, then a chunk per core
        monkeypatch.setattr(validate, "_FIELD_CHUNK", chunk)
        validate.check_image(image)      # the untouched image passes either way
        with pytest.raises(ImageError) as err:
            validate.check_semantics(bad)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and f"core/{k}" in messages[0]


def test_chunked_run_check_finds_the_same_overlap(compiled, monkeypatch) -> None:
    image = compiled.image
    k = len(image.cores) - 1
    bad = Image.from_bytes(image.to_bytes())
    axons = bad.cores[k].axons
    axons["start"][2] = axons["start"][1]             # two axons share a run of synapses
    messages = []
    for chunk in (1 << 40, 5):
        monkeypatch.setattr(validate, "_FIELD_CHUNK", chunk)
        with pytest.raises(ImageError, match="overlaps the run of another entry") as err:
            validate.check_semantics(bad)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and f"core/{k}/axons entry 2" in messages[0]


def test_projection_fields_are_int32_and_checked_before_narrowing() -> None:
    pre = np.arange(4, dtype=np.int32)
    p = Projection("p", "x", "a", pre=pre, post=[0, 1, 2, 3], weight=[-256, 0, 1, 255],
                   delay=2)
    assert p.pre is pre                                 # int32 input is kept, not copied
    assert {a.dtype for a in (p.pre, p.post, p.weight, p.delay)} == {np.dtype(np.int32)}
    assert p.delay.tolist() == [2, 2, 2, 2]
    with pytest.raises(ModelError, match=r"source indices must be in \[0, 2147483647\], not "
                                         r"\[0, 4294967296\]"):
        Projection("p", "x", "a", pre=[0, 2**32], post=[0, 0], weight=[1, 1], delay=0)
    with pytest.raises(ModelError, match=r"weights must be in \[-256, 255\], not \[1, 65537\]"):
        Projection("p", "x", "a", pre=[0, 1], post=[0, 0], weight=[1, 65537], delay=0)
    with pytest.raises(ModelError, match=r"delays must be in \[0, 2147483647\], not \[-1, -1\]"):
        Projection("p", "x", "a", pre=[0], post=[0], weight=[1], delay=-1)


def test_segment_radix_sort_equals_a_stable_argsort() -> None:
    rng = np.random.default_rng(3)
    keys = np.concatenate([rng.integers(0, 3, 500), rng.integers(0, 2**31 - 1, 3000),
                           rng.integers(10**6, 10**6 + 5000, 4000), np.full(7, 42),
                           rng.integers(0, 2**20, 1)]).astype(np.int32)
    lo = np.array([0, 500, 500, 3500, 7500, 7507], np.int64)
    hi = np.array([500, 500, 3500, 7500, 7507, 7508], np.int64)
    out = np.full(len(keys), -1, np.int64)
    segment_argsort(keys, lo[1:], hi[1:], out)          # segment 0 is left alone
    assert (out[:500] == -1).all()
    for a, b in zip(lo[1:], hi[1:]):
        assert np.array_equal(out[a:b], a + np.argsort(keys[a:b], kind="stable"))


def test_route_checks_by_table_and_by_binary_search_agree(compiled, monkeypatch) -> None:
    image = compiled.image
    k = max(i for i, c in enumerate(image.cores) if (c.routes["host"] == 0).any())
    bad = Image.from_bytes(image.to_bytes())
    r = bad.cores[k].routes
    j = int(np.flatnonzero(r["host"] == 0)[0])
    r["x"][j] = 3000                                     # a router no core sits at
    results = []
    for dense in (1 << 22, 0):                          # dense table, then sorted keys
        monkeypatch.setattr(validate._CoreIndex, "_DENSE_MAX", dense)
        results.append(validate.fanout(image))
        with pytest.raises(ImageError, match="which is not in the image") as err:
            validate.check_image(bad)
        results.append(str(err.value))
    assert results[0] == results[2] == sum(int(c.synapses.size) for c in image.cores)
    assert results[1] == results[3] and f"core/{k}/routes" in results[1]
