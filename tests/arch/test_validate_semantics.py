"""Semantic image validation (#15): an image holds only what the hardware registers can hold.

Each rule of :func:`spikefab.arch.validate.check_semantics` is shown refusing a CRC-valid image
(through the file reader, on save, and on the emulator), and the field table is shown to be the
source of the ranges.
"""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.fields import FIELDS, field, fold_into_range
from spikefab.arch.image import CORE_TABLES, PROFILE_DTYPE, Image
from spikefab.arch.reference import run_reference
from spikefab.arch.validate import check_image, check_run_memory, fanout, run_bytes
from spikefab.errors import ImageError, ResourceError

from .helpers import dense_image


def reload(image: Image) -> Image:
    return Image.from_bytes(image.to_bytes())


def test_field_table_covers_every_value_field_with_its_dtype():
    for f in FIELDS:
        table = "routes" if f.table == "host_routes" else f.table
        dtype = CORE_TABLES[table]
        kind = dtype if dtype.names is None else dtype.fields[f.name][0]
        info = np.iinfo(kind)
        assert info.min <= f.lo <= f.hi <= info.max, f.key   # the dtype holds the register
    assert (field("profiles", "vth").lo, field("profiles", "vth").hi) == (0, 131071)
    assert field("state", "v").hi == (1 << 23) - 1 and field("state", "u").hi == 1 << 23


@pytest.mark.parametrize("table, name, value", [
    ("acc_exps", None, 64), ("acc_exps", None, -17), ("profiles", "du", 4096),
    ("profiles", "vth", 131072), ("profiles", "reset_mode", 2),
    ("profiles", "theta_inc", 1 << 23), ("neurons", "bias_exp", 16),
    ("neurons", "bias_mant", 4096), ("state", "u", 1 << 24), ("state", "v", -(1 << 23)),
    ("synapses", "weight", 300),
])
def test_out_of_range_fields_are_refused(table, name, value):
    image = dense_image([[100, 50], [20, 60]])
    arr = getattr(image.cores[0], table)
    if name is None:
        arr[0] = value
    else:
        arr[name][0] = value
    with pytest.raises(ImageError, match=rf"{name or 'exp'} must be in \[-?\d+, \d+\]"):
        reload(image)
    with pytest.raises(ImageError):
        image.save("/nonexistent/never-written.sfi")       # refused before the write


def test_fold_into_range_makes_random_rows_legal():
    rng = np.random.default_rng(0)
    raw = np.frombuffer(rng.integers(0, 256, 50 * PROFILE_DTYPE.itemsize, np.uint8).tobytes(),
                        PROFILE_DTYPE)
    folded = fold_into_range("profiles", raw)
    for f in FIELDS:
        if f.table == "profiles":
            assert folded[f.name].min() >= f.lo and folded[f.name].max() <= f.hi


def test_inputs_on_the_same_channels_are_refused():
    image = dense_image([[100, 50], [20, 60]])
    image.manifest["inputs"]["x2"] = {"size": 2, "channel_base": 0}
    with pytest.raises(ImageError, match="inputs 'in' .* and 'x2' .* overlap"):
        reload(image)


def test_population_size_must_be_backed_by_neurons():
    image = dense_image([[100, 50], [20, 60]])
    image.manifest["populations"]["lif"]["size"] = 1 << 30
    with pytest.raises(ImageError, match="size 1073741824, its slices hold 2 neurons"):
        reload(image)


def test_output_size_must_be_backed_by_tables():
    image = dense_image([[100, 50], [20, 60]])
    image.manifest["outputs"]["out"]["size"] = 1 << 26
    with pytest.raises(ImageError, match="outputs span 67108864 channels"):
        reload(image)


@pytest.mark.parametrize("table", ["axons", "route_ptr"])
def test_overlapping_runs_are_refused(table):
    image = dense_image([[100, 50], [20, 60]])
    ptr = getattr(image.cores[0], table)
    ptr[1] = (int(ptr[0]["start"]), int(ptr[0]["count"]))     # entry 1 reuses entry 0's run
    with pytest.raises(ImageError, match=f"core/0/{table} entry 1 overlaps"):
        reload(image)


def test_memory_a_run_needs_is_refused_before_allocating():
    image = dense_image([[100, 50], [20, 60]])
    need = run_bytes(image, 10 ** 9)
    assert need > 10 ** 9 * 4                                # inputs + outputs per step
    with pytest.raises(ResourceError, match=r"needs \d+ MiB .* 1 MiB are available"):
        check_run_memory(image, 10 ** 9, available=1 << 20)
    assert check_run_memory(image, 10, available=1 << 30) == run_bytes(image, 10)


def test_reference_refuses_a_run_beyond_the_memory_budget(monkeypatch):
    """The golden model checks the memory a run needs as the emulator does (typed, up front)."""
    image = dense_image([[100, 50], [20, 60]])
    inputs = {"in": np.ones((10, 2), np.uint8)}
    monkeypatch.setenv("SPIKEFAB_MAX_RUN_BYTES", str(run_bytes(image, 10) - 1))
    with pytest.raises(ResourceError, match=r"a run of 10 steps needs .* MiB are available"):
        run_reference(image, inputs, 10)
    monkeypatch.setenv("SPIKEFAB_MAX_RUN_BYTES", str(run_bytes(image, 10)))
    assert run_reference(image, inputs, 10).counters["synops"] == 10 * 4


def test_fanout_counts_synaptic_operations_of_a_full_step():
    image = dense_image([[100, 50], [20, 0]])
    assert fanout(image) == 3                                # host channel 0: 2, channel 1: 1


def test_emulator_refuses_a_run_beyond_the_memory_budget(monkeypatch):
    from spikefab.emulator import simulate
    image = dense_image([[100, 50], [20, 60]])
    monkeypatch.setenv("SPIKEFAB_MAX_RUN_BYTES", str(1 << 20))
    with pytest.raises(ResourceError, match="MiB are available"):
        simulate(image, None, 10 ** 6)


def test_delays_with_negative_exponent_floor_per_source_step():
    """Lava DelayDense: inputs of different (source step, delay) pairs are floored apart.

    Input 0 spikes in step 0 with delay 1 (weight 3), input 1 in step 1 with delay 0 (weight 3):
    both arrive in step 2.  With weight_exp -1 Lava gives floor(3/2) + floor(3/2) = 2, not
    floor(6/2) = 3; the current is then 2 << 6 = 128.
    """
    image = dense_image([[3, 3]], delays=np.array([[1, 0]]), weight_exp=-1, du=4095,
                        vth=100000, lava_weights=False)
    check_image(image)
    spikes = np.zeros((3, 2), np.uint8)
    spikes[0, 0] = spikes[1, 1] = 1
    res = run_reference(image, {"in": spikes}, 3, probes=["lif.u"])
    assert res.traces["lif.u"][2, 0] == 2 << 6


def test_fan_out_beyond_the_targets_step_bound_is_refused():
    """Many route entries reusing one big axon run: table-legal, but a step would read the
    synapse memory many times over (the 'fan-out amplification' image of #15)."""
    from spikefab.arch.image import ROUTE_DTYPE, ROUTE_PTR_DTYPE
    from spikefab.arch.target import load_target
    from spikefab.arch.validate import check_fits
    target = load_target("loihi1")
    image = dense_image(np.full((200, 1), 10))               # axon 0 -> 200 synapses
    reps = target.core.synapses // 200 + 2
    image.host_routes = np.array([(0, 0, 0, 0, 0, 0)] * reps, ROUTE_DTYPE)
    image.host_route_ptr = np.array([(0, reps)], ROUTE_PTR_DTYPE)
    assert fanout(image) == reps * 200 > target.core.synapses
    with pytest.raises(ImageError, match=f"{reps * 200} synaptic operations; target loihi1 "
                                         f"bounds a step to {target.core.synapses}"):
        check_fits(image, target)
