"""What a host does with a :class:`Mesh` through its control interface, simulator-independent.

The same sequence drives the fabric under the Amaranth simulator, under cocotb (Icarus or
Verilator) and, through the UART protocol, on a board:

1. ``clear`` (accumulators, logs, counters, round-robin pointers), then write every table of the
   image through the memory port (entries in the image's byte layout, :func:`image_writes`);
2. per step with input spikes: expand the spiking channels through the image's host routes
   (:func:`host_packets`), write them to ``host_queue`` and run one step; steps without input
   run back to back in one ``start``;
3. read ``out_log``, ``cycle_log``, ``counters`` and every core's ``state`` back and build a
   :class:`~spikefab.arch.result.Result` (:func:`build_result`).

:func:`run_program` is written against a tiny async :class:`Port` protocol so that each simulator
only has to provide "write entry", "read entry", "pulse clear", "run N steps".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol

import numpy as np

from spikefab.arch.host import (host_packets, input_channels, out_log_entries, output_width,
                                run_chunks, split_outputs)
from spikefab.arch.image import CORE_TABLES, STATE_DTYPE, Image
from spikefab.arch.result import Result, normalize_inputs
from spikefab.errors import InputError
from spikefab.rtl.params import (CORE_TABLE_IDS, COUNTERS, FABRIC_CORE, FABRIC_TABLE_IDS,
                                   MeshParams)

__all__ = ["Port", "Job", "image_writes", "host_packets", "input_matrix", "run_program",
           "build_result", "RawRun", "jobs_from", "entry_int"]


class Port(Protocol):
    """The control interface of a simulated Mesh, as async operations."""

    async def write(self, core: int, table: int, index: int, data: int) -> None: ...
    async def read(self, core: int, table: int, index: int) -> int: ...
    async def clear(self) -> None: ...
    async def run(self, steps: int) -> None: ...


@dataclass
class Job:
    """One run: an image, its channel-level input spikes and a step count."""

    image: Image
    channels: np.ndarray          #: (steps, n_channels) uint8 host input spikes
    steps: int


@dataclass
class RawRun:
    """What the fabric reports for one job, before it is turned into a Result."""

    out_log: list[tuple[int, int]]       #: (step, channel) in arrival order
    cycles: list[int]
    states: list[np.ndarray]             #: per image core, STATE_DTYPE
    counters: dict[str, int]


def entry_int(entry: np.ndarray | np.void) -> int:
    """An entry's bytes as one little-endian integer (byte 0 in bits 7:0)."""
    return int.from_bytes(np.asarray(entry).tobytes(), "little")


def image_writes(image: Image, params: MeshParams) -> list[tuple[int, int, int, int]]:
    """Memory-port writes ``(core, table, index, data)`` that load an image into the fabric."""
    writes = []
    used = set()
    for c in image.cores:
        core = params.core_index(c.x, c.y, c.slot)
        used.add(core)
        for name in CORE_TABLES:
            arr = getattr(c, name)
            tid = CORE_TABLE_IDS[name]
            for k in range(len(arr)):
                writes.append((core, tid, k, entry_int(arr[k])))
        writes.append((core, CORE_TABLE_IDS["config"], 0, c.n_neurons))
    for core in range(params.n_cores):
        if core not in used:
            writes.append((core, CORE_TABLE_IDS["config"], 0, 0))
    return writes


def input_matrix(image: Image, inputs: Mapping[str, Any] | None, steps: int) -> np.ndarray:
    """Named inputs -> ``(steps, n_channels)`` host channel spikes."""
    return input_channels(image, normalize_inputs(image, inputs, steps), steps)


async def _drain_logs(port: Port, params: MeshParams, step0: int, steps: int,
                      raw: RawRun) -> None:
    """Read out_log and the cycle_log entries of steps ``step0 .. step0+steps-1``, reset out_log."""
    fab = FABRIC_CORE
    n_out = await port.read(fab, FABRIC_TABLE_IDS["out_log_len"], 0)
    words = [await port.read(fab, FABRIC_TABLE_IDS["out_log"], k)
             for k in range(min(n_out, params.out_log_depth))]
    raw.out_log += zip(*(a.tolist() for a in out_log_entries(words, step0, steps, 1 << 16)))
    if n_out:
        await port.write(fab, FABRIC_TABLE_IDS["out_log_len"], 0, 0)
    for s in range(step0, step0 + steps):
        raw.cycles.append(await port.read(fab, FABRIC_TABLE_IDS["cycle_log"],
                                          s % params.cycle_log_depth))


async def run_program(port: Port, params: MeshParams, job: Job) -> RawRun:
    """Load ``job.image``, run ``job.steps`` steps with its inputs, read everything back."""
    image = job.image
    fab = FABRIC_CORE
    await port.clear()
    for core, table, index, data in image_writes(image, params):
        await port.write(core, table, index, data)
    raw = RawRun([], [], [], {})
    # chunks never outrun the logs: at most cycle_log_depth steps, and out_log is drained after
    # every chunk (a chunk can produce at most out_log_depth spikes: checked below)
    has_input = job.channels.any(axis=1)
    for chunk in run_chunks(has_input, params.cycle_log_depth, read_every_run=True):
        pkts = host_packets(image, job.channels[chunk.first])
        if len(pkts) > params.host_queue_depth:
            raise InputError(f"step {chunk.first}: the input spikes expand to {len(pkts)} host "
                             f"packets, the RTL host queue holds {params.host_queue_depth}",
                             where="inputs")
        for k, entry in enumerate(pkts):
            await port.write(fab, FABRIC_TABLE_IDS["host_queue"], k, entry_int(entry))
        await port.write(fab, FABRIC_TABLE_IDS["host_queue_len"], 0, len(pkts))
        await port.run(chunk.steps)
        await _drain_logs(port, params, chunk.first, chunk.steps, raw)
    for c in image.cores:
        core = params.core_index(c.x, c.y, c.slot)
        words = [await port.read(core, CORE_TABLE_IDS["state"], k) for k in range(c.n_neurons)]
        nbytes = STATE_DTYPE.itemsize
        buf = b"".join(w.to_bytes(16, "little")[:nbytes] for w in words)
        raw.states.append(np.frombuffer(buf, STATE_DTYPE).copy())
    for k, name in enumerate(COUNTERS):
        raw.counters[name] = await port.read(fab, FABRIC_TABLE_IDS["counters"], k)
    if raw.counters["overflow"] & 1:
        raise InputError(f"more than {params.out_log_depth} output spikes in one run chunk: the "
                         f"RTL out_log overflowed", where="outputs")
    return raw


def build_result(image: Image, steps: int, raw: RawRun, backend: str,
                 clock_mhz: float) -> Result:
    """The :class:`Result` of a job from what the fabric reported."""
    n_out = output_width(image)
    rows = np.zeros((steps, n_out), np.uint8)
    for step, ch in raw.out_log:
        if step < steps and ch < n_out:
            rows[step, ch] = 1
    spikes = split_outputs(image, rows)
    cycles = np.asarray(raw.cycles, np.int64)
    counters = {"synops": raw.counters["synops"], "spikes": raw.counters["spikes"],
                "packets": raw.counters["packets"], "hops": raw.counters["hops"],
                "out_packets": len(raw.out_log)}
    return Result(spikes=spikes, final_state=raw.states, counters=counters,
                  cycles_per_step=cycles, latency_us=float(cycles.sum()) / clock_mhz,
                  backend=backend)


def jobs_from(image: Image, inputs: Mapping[str, Any] | None, steps: int) -> Job:
    return Job(image=image, channels=input_matrix(image, inputs, steps), steps=steps)

