"""The host side of a run, once for every backend: channels in, packets, chunks, outputs out.

A run's inputs are named spike arrays; the chip sees *host channels*: input ``name`` occupies
channels ``channel_base .. channel_base + size - 1`` of the image manifest, and a spiking channel
injects its host route entries as packets (in route order, channels ascending).  Output spikes
come back as host packets whose axon is an *output channel*, mapped to output names the same
way.  A board or a simulated fabric runs steps in *chunks*: one ``RUN`` covers a step with input
and the input-free steps after it, and the logs (``out_log``, ``cycle_log``) are read before
they can wrap.  The reference, the emulator, the RTL simulation and the serial runtime all use
these functions; only the I/O (a NumPy array, a simulator port, UART frames) differs.

:func:`run_program` is the whole run on a fabric — clear, load, inject, run in chunks, read the
logs, counters and final states — written once as a generator of port operations (:class:`Op`),
so that the same program drives a simulator port (coroutines, :func:`drive_async`) and a serial
link (plain calls, :func:`drive`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping, Sequence

import numpy as np

from spikefab.arch.errors import LinkError, ResourceError
from spikefab.arch.image import ROUTE_DTYPE, STATE_DTYPE, Image
from spikefab.arch.hostop import Op
from spikefab.arch.learning.hostio import read_core_weights, read_learned
from spikefab.arch.memory_map import COUNTERS, FABRIC_CORE, CoreTable, FabricTable

__all__ = ["input_channels", "host_packets", "output_width", "split_outputs",
           "max_outputs_per_step", "out_log_entries", "decode_out_log", "Chunk", "run_chunks",
           "max_chunk", "FabricLogs", "RunRecord", "run_program", "drive", "drive_async"]


def input_channels(image: Image, inputs: Mapping[str, np.ndarray], steps: int) -> np.ndarray:
    """``(steps, channels)`` uint8 host-channel spikes from inputs already checked by
    :func:`spikefab.arch.result.normalize_inputs` (name -> ``(steps, size)``)."""
    mat = np.zeros((steps, len(image.host_route_ptr)), np.uint8)
    for name, spec in image.inputs.items():
        b = int(spec["channel_base"])
        mat[:, b:b + int(spec["size"])] = inputs[name]
    return mat


def host_packets(image: Image, row: np.ndarray) -> np.ndarray:
    """The host packets of one step: spiking channels ascending, each channel's routes in order."""
    parts = []
    for ch in np.flatnonzero(row):
        p = image.host_route_ptr[ch]
        parts.append(image.host_routes[int(p["start"]):int(p["start"]) + int(p["count"])])
    return np.concatenate(parts) if parts else np.zeros(0, ROUTE_DTYPE)


def output_width(image: Image) -> int:
    """Number of output channels (the highest ``channel_base + size`` of the outputs)."""
    return max((int(s["channel_base"]) + int(s["size"]) for s in image.outputs.values()),
               default=0)


def split_outputs(image: Image, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Output channel spikes ``(steps, output_width)`` -> output name -> ``(steps, size)``."""
    return {name: rows[:, int(s["channel_base"]):int(s["channel_base"]) + int(s["size"])].copy()
            for name, s in image.outputs.items()}


def max_outputs_per_step(image: Image) -> int:
    """Most packets that can reach the host in one step: every host route of every neuron."""
    return int(sum(int(np.count_nonzero(c.routes["host"])) for c in image.cores))


def out_log_entries(words: np.ndarray, first_step: int, n_steps: int,
                    n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, channels)`` of ``out_log`` words ``step[15:0] << 16 | channel`` of a chunk.

    The chunk covers steps ``first_step .. first_step + n_steps - 1`` (``n_steps <= 65536``),
    which resolves the 16-bit step.  A word outside the chunk or the channel range means host
    and fabric disagree: :class:`LinkError`.
    """
    words = np.asarray(words, np.uint32).astype(np.int64)
    step16 = words >> 16
    chan = words & 0xFFFF
    step = first_step + ((step16 - first_step) & 0xFFFF)
    bad = (step >= first_step + n_steps) | (chan >= n_channels)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise LinkError(f"board reported an output spike on channel {int(chan[j])} at step "
                        f"{int(step[j])}; the chunk read covers steps {first_step}.."
                        f"{first_step + n_steps - 1} and {n_channels} channels")
    return step, chan


def decode_out_log(words: np.ndarray, first_step: int, n_steps: int, n_channels: int,
                   out: np.ndarray) -> int:
    """Mark ``out[step, channel] = 1`` for each ``out_log`` word of a chunk; return the count."""
    step, chan = out_log_entries(words, first_step, n_steps, n_channels)
    out[step, chan] = 1
    return len(step)


@dataclass(frozen=True)
class Chunk:
    """One ``RUN`` of the run loop, and whether the logs are read after it."""

    first: int                   #: first step of the run (its input is injected before it)
    steps: int                   #: steps the run covers: ``first`` and input-free steps after it
    read_from: int | None        #: read the logs of steps ``read_from .. first + steps - 1``
                                 #: after this run; None: not yet

    @property
    def end(self) -> int:
        return self.first + self.steps


def run_chunks(has_input: Sequence[bool], limit: int, *,
               read_every_run: bool = False) -> Iterator[Chunk]:
    """The run loop's schedule over ``len(has_input)`` steps.

    A run starts at step 0 and at every step with input; it extends over the input-free steps
    after it while the logs still have room for the steps since they were last read (at most
    ``limit``).  The logs are read when ``limit`` steps are pending, at the end, or after every
    run (``read_every_run``, cheap in a simulator).
    """
    steps = len(has_input)
    t = base = 0
    while t < steps:
        n = 1
        while t + n < steps and t + n - base < limit and not has_input[t + n]:
            n += 1
        end = t + n
        read = read_every_run or end - base == limit or end == steps
        yield Chunk(t, n, base if read else None)
        t = end
        if read:
            base = end


def max_chunk(image: Image, cycle_log_depth: int, out_log_depth: int) -> int:
    """Most steps between two log read-outs such that neither log can wrap or saturate
    (a ``cycle_log_depth`` of 0: the fabric keeps no cycle log)."""
    most = max_outputs_per_step(image)
    chunk = 65535
    if cycle_log_depth:
        chunk = min(chunk, cycle_log_depth)
    if most:
        chunk = min(chunk, out_log_depth // most)
    if chunk < 1:
        raise ResourceError(f"one step can send {most} output packets, the board's out_log "
                            f"holds {out_log_depth}")
    return chunk


# ------------------------------------------------------------------ the run, over a port
@dataclass(frozen=True)
class FabricLogs:
    """The depths of the fabric's host-facing buffers (0 cycle log: the fabric keeps none)."""

    host_queue_depth: int
    out_log_depth: int
    cycle_log_depth: int


@dataclass
class RunRecord:
    """What the host program read back from one run."""

    out: np.ndarray              #: (steps, output_width) uint8 output-channel spikes
    cycles: np.ndarray           #: (steps,) int64 cycles per step (zeros without a cycle log)
    states: list[np.ndarray]     #: final state of every image core (STATE_DTYPE)
    counters: dict[str, int]     #: the fabric counters by name
    out_packets: int             #: out_log words read (output packets that reached the host)
    #: on-chip learning read back (``run_program(..., learning=caps)`` on a plastic image)
    learned: object = None
    #: ``(steps done, every image core's synapse weights)`` at each weight snapshot
    #: (``run_program(..., weight_every=N)`` on a plastic image; empty otherwise)
    weight_snapshots: list = field(default_factory=list)


def run_program(image: Image, channels: np.ndarray, logs: FabricLogs, cores: Sequence[int],
                loads: Sequence[tuple], chunk: int, *,
                read_every_run: bool = False, learning=None, weight_every: int = 0):
    """The host program of one run, as a generator of :class:`Op` (drive it with :func:`drive`
    or :func:`drive_async`); returns the :class:`RunRecord`.

    ``channels`` are the ``(steps, channels)`` input spikes, ``cores`` the fabric core number
    of every image core, ``loads`` the tables ``(core, table, entries, what)`` written after
    the clear (a whole image, or only the initial states of one already uploaded; a fifth
    element, when present, is the first index written).  ``learning``: the fabric's learning
    engine (:class:`~spikefab.arch.learning.words.EngineCaps`); on a plastic image the learned
    weights, tags and traces are read back into ``RunRecord.learned``
    (:func:`spikefab.arch.learning.hostio.read_learned`), and with ``weight_every=N`` every RUN
    stops at each N-th step to read the plastic weights (``RunRecord.weight_snapshots``; the
    fabric runs on from where it stopped: RUN a, RUN b = RUN a + b).
    """
    steps = len(channels)
    packets = [host_packets(image, row) for row in channels]
    for t, pk in enumerate(packets):
        if len(pk) > logs.host_queue_depth:
            raise ResourceError(f"step {t}: the input spikes need {len(pk)} host packets, the "
                                f"board's host queue holds {logs.host_queue_depth}")
    rec = RunRecord(np.zeros((steps, output_width(image)), np.uint8), np.zeros(steps, np.int64),
                    [], {}, 0)
    yield Op("clear", (), "run: clear")
    for core, table, entries, what, *first in loads:
        yield Op("write", (core, table, first[0] if first else 0, entries),
                 f"run: writing {what}")
    for run in run_chunks([len(p) > 0 for p in packets], chunk, read_every_run=read_every_run):
        where = f"run: step {run.first} of {steps}"
        if len(packets[run.first]):
            yield Op("inject", (packets[run.first],), f"{where}: inject "
                                                      f"{len(packets[run.first])} packets")
        yield from _run_with_snapshots(image, cores, run, weight_every if learning is not None
                                       and any(c.plastic for c in image.cores) else 0, rec, where)
        if run.read_from is not None:
            yield from _read_logs(logs, run.read_from, run.end - run.read_from, rec,
                                  f"run: reading steps {run.read_from}..{run.end - 1} of {steps}")
    what = "run: reading counters and final state"
    counts = yield Op("read", (FABRIC_CORE, FabricTable.COUNTERS, 0, len(COUNTERS), "<u4"), what)
    rec.counters = {name: int(v) for name, v in zip(COUNTERS, counts)}
    if rec.counters["steps"] != steps:
        raise LinkError(f"board ran {rec.counters['steps']} steps, the host asked for {steps}: "
                        f"a RUN was lost or repeated")
    if rec.counters["overflow"] & 1:
        raise LinkError(f"more than {logs.out_log_depth} output spikes in one run chunk: the "
                        f"out_log overflowed")
    for i, core in enumerate(image.cores):
        state = yield Op("read", (cores[i], CoreTable.STATE, 0, core.n_neurons, STATE_DTYPE),
                         what)
        rec.states.append(np.asarray(state, STATE_DTYPE).copy())
    if learning is not None and any(c.plastic for c in image.cores):
        rec.learned = yield from read_learned(image, cores, learning)
    return rec


def _run_with_snapshots(image: Image, cores: Sequence[int], run: Chunk, every: int,
                        rec: RunRecord, where: str):
    """RUN one chunk's steps; with ``every``, as RUNs that stop at every ``every``-th step
    and read the plastic weights there."""
    done, left = run.first, run.steps
    while left > 0:
        n = min(left, every - done % every) if every else left
        yield Op("run", (n,), f"{where}: RUN {n} steps")
        done, left = done + n, left - n
        if every and done % every == 0:
            rec.weight_snapshots.append(
                (done, (yield from read_core_weights(image, cores,
                                                     f"weight snapshot at step {done}"))))


def _read_logs(logs: FabricLogs, first: int, n: int, rec: RunRecord, what: str):
    """Read the out_log (then empty it) and the cycle_log entries of steps ``first ..``."""
    (length,) = yield Op("read", (FABRIC_CORE, FabricTable.OUT_LOG_LEN, 0, 1, "<u4"), what)
    if length > logs.out_log_depth:
        raise LinkError(f"{what}: out_log_len must be at most {logs.out_log_depth}, not {length}")
    words = yield Op("read", (FABRIC_CORE, FabricTable.OUT_LOG, 0, int(length), "<u4"), what)
    rec.out_packets += decode_out_log(words, first, n, rec.out.shape[1], rec.out)
    depth = logs.cycle_log_depth
    if depth:
        start = first % depth
        head = min(n, depth - start)
        got = yield Op("read", (FABRIC_CORE, FabricTable.CYCLE_LOG, start, head, "<u4"), what)
        parts = [np.asarray(got)]
        if n > head:
            parts.append((yield Op("read", (FABRIC_CORE, FabricTable.CYCLE_LOG, 0, n - head,
                                            "<u4"), what)))
        rec.cycles[first:first + n] = np.concatenate(parts)
    yield Op("write", (FABRIC_CORE, FabricTable.OUT_LOG_LEN, 0, np.zeros(1, "<u4")), what)


def drive(program, port):
    """Run a host program on a port whose methods are plain calls; return its result."""
    reply = None
    while True:
        try:
            op = program.send(reply)
        except StopIteration as stop:
            return stop.value
        reply = getattr(port, op.method)(*op.args, what=op.what)


async def drive_async(program, port):
    """Run a host program on a port whose methods are coroutines; return its result."""
    reply = None
    while True:
        try:
            op = program.send(reply)
        except StopIteration as stop:
            return stop.value
        reply = await getattr(port, op.method)(*op.args, what=op.what)
