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


class _FakeFabric:
    """A port that records the program's operations; every step's output channel 1 spikes."""

    def __init__(self, n_channels: int) -> None:
        self.ops, self.step, self.log, self.n_channels = [], 0, [], n_channels

    def clear(self, *, what):
        self.ops.append(("clear",))

    def write(self, core, table, index, entries, *, what):
        self.ops.append(("write", core, int(table), index, len(entries)))
        if (core, table) == (host.FABRIC_CORE, host.FabricTable.OUT_LOG_LEN):
            self.log = []

    def inject(self, entries, *, what):
        self.ops.append(("inject", len(entries)))

    def run(self, steps, *, what):
        self.ops.append(("run", steps))
        for _ in range(steps):
            self.log.append((self.step & 0xFFFF) << 16 | 1)
            self.step += 1

    def read(self, core, table, index, count, dtype, *, what):
        self.ops.append(("read", core, int(table), index, count))
        if core != host.FABRIC_CORE:
            return np.zeros(count, dtype)
        values = {host.FabricTable.OUT_LOG_LEN: [len(self.log)], host.FabricTable.OUT_LOG: self.log,
                  host.FabricTable.CYCLE_LOG: [100 + k for k in range(index, index + count)],
                  host.FabricTable.COUNTERS: [self.step, 0, 0, 0, 0, 0]}[table]
        return np.asarray(values[:count], dtype)


def test_the_program_over_a_port() -> None:
    image = _image()
    steps = 6
    chans = np.zeros((steps, len(image.host_route_ptr)), np.uint8)
    chans[[0, 4], 0] = 1
    port = _FakeFabric(host.output_width(image))
    logs = host.FabricLogs(host_queue_depth=8, out_log_depth=64, cycle_log_depth=4)
    rec = host.drive(host.run_program(image, chans, logs, [7], [(7, 3, image.cores[0].state,
                                                                "core 0 state")], 4), port)
    assert rec.out[:, 1].all() and rec.out.sum() == steps and rec.out_packets == steps
    assert rec.counters["steps"] == steps
    # cycle log is a ring of 4: steps 4 and 5 sit at entries 0 and 1
    assert rec.cycles.tolist() == [100, 101, 102, 103, 100, 101]
    kinds = [op[0] for op in port.ops]
    assert kinds[:2] == ["clear", "write"] and kinds.count("inject") == 2
    assert [op[1] for op in port.ops if op[0] == "run"] == [4, 2]
    assert port.ops[-1] == ("read", 7, int(host.CoreTable.STATE), 0, image.cores[0].n_neurons)


def test_the_program_refuses_more_packets_than_the_host_queue_holds() -> None:
    image = _image()
    chans = np.ones((2, len(image.host_route_ptr)), np.uint8)
    logs = host.FabricLogs(host_queue_depth=0, out_log_depth=64, cycle_log_depth=4)
    with pytest.raises(ResourceError, match="step 0: the input spikes need"):
        host.drive(host.run_program(image, chans, logs, [0], [], 4), _FakeFabric(3))
