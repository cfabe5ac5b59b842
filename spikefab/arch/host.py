"""The host side of a run, once for every backend: channels in, packets, chunks, outputs out.

A run's inputs are named spike arrays; the chip sees *host channels*: input ``name`` occupies
channels ``channel_base .. channel_base + size - 1`` of the image manifest, and a spiking channel
injects its host route entries as packets (in route order, channels ascending).  Output spikes
come back as host packets whose axon is an *output channel*, mapped to output names the same
way.  A board or a simulated fabric runs steps in *chunks*: one ``RUN`` covers a step with input
and the input-free steps after it, and the logs (``out_log``, ``cycle_log``) are read before
they can wrap.  The reference, the emulator, the RTL simulation and the serial runtime all use
these functions; only the I/O (a NumPy array, a simulator port, UART frames) differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

import numpy as np

from spikefab.arch.errors import LinkError, ResourceError
from spikefab.arch.image import ROUTE_DTYPE, Image

__all__ = ["input_channels", "host_packets", "output_width", "split_outputs",
           "max_outputs_per_step", "out_log_entries", "decode_out_log", "Chunk", "run_chunks",
           "max_chunk"]


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
