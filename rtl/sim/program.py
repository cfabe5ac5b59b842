"""What a host does with a :class:`Mesh` through its control interface, simulator-independent.

The same sequence drives the fabric under the Amaranth simulator, under cocotb (Icarus or
Verilator) and, through the UART protocol, on a board:

1. ``clear`` (accumulators, logs, counters, round-robin pointers), then write every table of the
   image through the memory port (entries in the image's byte layout, :func:`image_loads`);
2. per step with input spikes: expand the spiking channels through the image's host routes
   (:func:`host_packets`), write them to ``host_queue`` and run one step; steps without input
   run back to back in one ``start``;
3. read ``out_log``, ``cycle_log``, ``counters`` and every core's ``state`` back and build a
   :class:`~spikefab.arch.result.Result` (:func:`build_result`).

That sequence is :func:`spikefab.arch.host.run_program`, the one host program of every backend;
:func:`run_program` here drives it over a tiny async :class:`Port` protocol (:class:`EntryPort`)
so that each simulator only has to provide "write entry", "read entry", "pulse clear",
"run N steps".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol

import numpy as np

from spikefab.arch.host import (FabricLogs, RunRecord, drive_async, host_packets, input_channels,
                                split_outputs)
from spikefab.arch.host import run_program as host_program
from spikefab.arch.image import CORE_TABLES, Image
from spikefab.arch.learning.hostio import learning_loads
from spikefab.arch.learning.readout import recorded_snapshots
from spikefab.arch.result import Result, normalize_inputs
from spikefab.rtl.params import CORE_TABLE_IDS, FABRIC_CORE, FABRIC_TABLE_IDS, MeshParams

__all__ = ["Port", "Job", "image_writes", "image_loads", "host_packets", "input_matrix",
           "run_program", "build_result", "EntryPort", "jobs_from", "entry_int"]


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
    weight_every: int = 0         #: snapshot the plastic weights every N steps (0: never)


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


class EntryPort:
    """A simulator :class:`Port` (one entry per access) as the host program's port
    (:class:`spikefab.arch.hostop.Op` methods, coroutines)."""

    def __init__(self, port: Port) -> None:
        self.port = port

    async def clear(self, *, what: str) -> None:
        await self.port.clear()

    async def write(self, core: int, table: int, index: int, entries: np.ndarray, *,
                    what: str) -> None:
        for k, entry in enumerate(np.asarray(entries)):
            await self.port.write(core, table, index + k, entry_int(entry))

    async def read(self, core: int, table: int, index: int, count: int, dtype: Any, *,
                   what: str) -> np.ndarray:
        dtype = np.dtype(dtype)
        words = [await self.port.read(core, table, index + k) for k in range(count)]
        raw = b"".join(w.to_bytes(16, "little")[:dtype.itemsize] for w in words)
        return np.frombuffer(raw, dtype)

    async def inject(self, entries: np.ndarray, *, what: str) -> None:
        await self.write(FABRIC_CORE, FABRIC_TABLE_IDS["host_queue"], 0, entries, what=what)
        await self.port.write(FABRIC_CORE, FABRIC_TABLE_IDS["host_queue_len"], 0, len(entries))

    async def run(self, steps: int, *, what: str) -> None:
        await self.port.run(steps)


def image_loads(image: Image, params: MeshParams) -> list[tuple]:
    """The tables that load an image: every core table, then ``config`` of every fabric core
    (0 neurons for the cores the image does not use), then the learning engines' tables of
    plastic cores (:func:`~spikefab.arch.learning.hostio.learning_loads`)."""
    loads, used = [], {}
    for i, c in enumerate(image.cores):
        core = params.core_index(c.x, c.y, c.slot)
        used[core] = c.n_neurons
        loads += [(core, CORE_TABLE_IDS[name], getattr(c, name), f"core {i} {name}")
                  for name in CORE_TABLES if len(getattr(c, name))]
    loads += [(core, CORE_TABLE_IDS["config"], np.array([used.get(core, 0)], "<u2"),
               f"fabric core {core} config") for core in range(params.n_cores)]
    if params.learning is not None:
        cores = [params.core_index(c.x, c.y, c.slot) for c in image.cores]
        loads += learning_loads(image, cores, params.learning, params.n_cores)
    return loads


async def run_program(port: Port, params: MeshParams, job: Job) -> RunRecord:
    """Load ``job.image``, run ``job.steps`` steps with its inputs, read everything back: the
    host program of :mod:`spikefab.arch.host`, logs read after every run (cheap here)."""
    image = job.image
    cores = [params.core_index(c.x, c.y, c.slot) for c in image.cores]
    logs = FabricLogs(params.host_queue_depth, params.out_log_depth, params.cycle_log_depth)
    program = host_program(image, job.channels[:job.steps], logs, cores,
                           image_loads(image, params), params.cycle_log_depth,
                           read_every_run=True, learning=params.learning,
                           weight_every=job.weight_every)
    return await drive_async(program, EntryPort(port))


def build_result(image: Image, steps: int, raw: RunRecord, backend: str,
                 clock_mhz: float, weight_every: int = 0) -> Result:
    """The :class:`Result` of a job from what the fabric reported (``weight_every``: the job's
    snapshot period, whose snapshots the run record holds)."""
    counters = {"synops": raw.counters["synops"], "spikes": raw.counters["spikes"],
                "packets": raw.counters["packets"], "hops": raw.counters["hops"],
                "out_packets": raw.out_packets}
    cycles = np.asarray(raw.cycles, np.int64)
    learned = raw.learned
    return Result(spikes=split_outputs(image, raw.out), final_state=raw.states,
                  counters=counters, cycles_per_step=cycles,
                  latency_us=float(cycles.sum()) / clock_mhz, backend=backend,
                  weights=dict(learned.weights) if learned is not None else {},
                  weight_snapshots=recorded_snapshots(image, weight_every,
                                                      raw.weight_snapshots))


def jobs_from(image: Image, inputs: Mapping[str, Any] | None, steps: int,
              weight_every: int = 0) -> Job:
    return Job(image=image, channels=input_matrix(image, inputs, steps), steps=steps,
               weight_every=weight_every)

