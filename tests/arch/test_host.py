"""The host program's schedule (spikefab.arch.host.run_chunks) and channel mapping."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch import host
from spikefab.errors import ResourceError

from .helpers import dense_image


def _image():
    """Host -> 3 neurons -> host (every neuron has one output route)."""
    return dense_image(np.eye(3, dtype=int) * 50)


def _schedule(has_input, limit, **kw):
    return [(c.first, c.steps, c.read_from) for c in host.run_chunks(has_input, limit, **kw)]


def test_runs_start_at_inputs_and_logs_are_read_before_they_wrap() -> None:
    inp = [True, False, False, True, False, False, False, False, False, False]
    # a run at 0 and at 3; the one at 3 stops when 4 steps are pending since the last read
    assert _schedule(inp, 4) == [(0, 3, None), (3, 1, 0), (4, 4, 4), (8, 2, 8)]
    assert _schedule(inp, 4, read_every_run=True) == [(0, 3, 0), (3, 4, 3), (7, 3, 7)]
    assert _schedule([False] * 5, 100) == [(0, 5, 0)]
    assert _schedule([], 3) == []


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_every_step_is_run_once_and_read_once(limit) -> None:
    rng = np.random.default_rng(limit)
    inp = rng.random(40) < 0.2
    for every in (False, True):
        chunks = list(host.run_chunks(inp, limit, read_every_run=every))
        assert [c.first for c in chunks] == sorted({c.first for c in chunks})
        assert sum(c.steps for c in chunks) == 40 and chunks[-1].end == 40
        assert all(not inp[t] for c in chunks for t in range(c.first + 1, c.end))
        reads = [(c.read_from, c.end) for c in chunks if c.read_from is not None]
        assert [a for a, _ in reads] == [0] + [b for _, b in reads[:-1]]
        assert all(b - a <= limit for a, b in reads)


def test_channels_and_outputs_map_by_the_manifest() -> None:
    image = _image()
    steps = 3
    ins = {name: np.ones((steps, int(s["size"])), np.uint8) for name, s in image.inputs.items()}
    mat = host.input_channels(image, ins, steps)
    assert mat.shape == (steps, len(image.host_route_ptr)) and mat.all()
    width = host.output_width(image)
    rows = np.arange(steps * width).reshape(steps, width) % 2
    out = host.split_outputs(image, rows.astype(np.uint8))
    for name, s in image.outputs.items():
        b = int(s["channel_base"])
        assert np.array_equal(out[name], rows[:, b:b + int(s["size"])])


def test_max_chunk_refuses_a_step_that_overflows_the_out_log() -> None:
    image = _image()
    most = host.max_outputs_per_step(image)
    assert most > 0
    assert host.max_chunk(image, 256, 1024) == min(256, 1024 // most)
    with pytest.raises(ResourceError, match=f"one step can send {most} output packets"):
        host.max_chunk(image, 256, most - 1)
