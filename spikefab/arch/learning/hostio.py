"""Loading a core's learning engine and reading what it learned, over the fabric's memory port.

Every backend with an RTL learning engine (the simulated mesh, a board over the serial link)
moves the engine's state as engine-native words (:mod:`.words`), one word per 16-byte entry of
core tables ``LEARN_SYNAPSES .. LEARN_CONFIG``, and the core's reward-synapse marks (table
``LEARN_REWARD``, one byte per synapse entry, :func:`~.layout.reward_marks`).  Both functions speak the host program's port
operations (:class:`spikefab.arch.hostop.Op`), so they run on any port the host program drives:

* :func:`learning_loads` — the table writes that load every plastic core's engine (appended to
  an image's loads; the fabric's ``clear`` has restarted the engines' epochs);
* :func:`read_learned` — a generator of reads returning :class:`Learned`: each plastic
  projection's weight matrix (from the cores' synapse tables, where the engine writes learned
  weights back), and per plastic core the reference's table form of its tags, traces and
  generator states (:meth:`~.layout.EngineLayout.to_tables`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from spikefab.arch.hostop import Op
from spikefab.arch.image import SYNAPSE_DTYPE, Image
from spikefab.arch.learning.layout import engine_layout, reward_marks
from spikefab.arch.learning.readout import projection_weights
from spikefab.arch.learning.words import (TABLES, EngineCaps, core_table, load_writes,
                                          unpack_synapse, unpack_x, unpack_y)
from spikefab.arch.memory_map import CoreTable

__all__ = ["WORD_DTYPE", "Learned", "learning_loads", "read_learned", "read_core_weights",
           "words_to_entries"]

#: one engine word as a memory-port entry: 16 little-endian bytes
WORD_DTYPE = np.dtype((np.void, 16))


def words_to_entries(words: Sequence[int]) -> np.ndarray:
    """Engine words -> 16-byte little-endian entries."""
    raw = b"".join(int(w).to_bytes(16, "little") for w in words)
    return np.frombuffer(raw, WORD_DTYPE).copy()


def _ints(entries) -> list[int]:
    return [int.from_bytes(bytes(np.asarray(e).tobytes()), "little") for e in entries]


def learning_loads(image: Image, cores: Sequence[int], caps: EngineCaps, n_fabric_cores: int = 0
                   ) -> list[tuple[int, int, np.ndarray, str, int]]:
    """``(core, table, entries, what, index)`` writes loading every plastic core's engine
    (runs of consecutive indices of :func:`~.words.load_writes`); every other core of the
    image and of the fabric (``0 .. n_fabric_cores - 1``) gets an engine with no profiles, so
    an engine loaded by an earlier image neither learns nor takes a learning phase."""
    out = []
    off = words_to_entries([0])
    for core in sorted(set(range(n_fabric_cores)) | set(cores)):
        out.append((core, core_table("config"), off, f"fabric core {core} learning off", 0))
    for i, core in enumerate(image.cores):
        if not core.plastic:
            continue
        writes = load_writes(engine_layout(core), caps)
        k = 0
        while k < len(writes):
            table, start, _ = writes[k]
            end = k
            while (end + 1 < len(writes) and writes[end + 1][0] == table
                   and writes[end + 1][1] == writes[end][1] + 1):
                end += 1
            name = next(n for n, t in TABLES.items() if t == table)
            out.append((cores[i], core_table(name),
                        words_to_entries([w for _, _, w in writes[k:end + 1]]),
                        f"core {i} learning {name}", start))
            k = end + 1
        out.append((cores[i], int(CoreTable.LEARN_REWARD), reward_marks(core),
                    f"core {i} learning reward marks", 0))
    return out


@dataclass
class Learned:
    """What a run learned: plastic projection -> weights, and per plastic image core the
    learning tables (``learn_synapses``, ``learn_x``, ``learn_y``, ``learn_rng``, ``weights``)."""

    weights: dict[str, np.ndarray] = field(default_factory=dict)
    cores: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)


def read_core_weights(image: Image, cores: Sequence[int], what: str):
    """Every image core's synapse weights now, plastic cores read from the fabric: a generator
    of host-program reads; returns one int64 array per image core (the learned read-back and
    the weight snapshots taken while running both use it)."""
    core_w = []
    for i, core in enumerate(image.cores):
        w = core.synapses["weight"]
        if core.plastic:
            syn = yield Op("read", (cores[i], CoreTable.SYNAPSES, 0, len(core.synapses),
                                    SYNAPSE_DTYPE), f"{what}: core {i} learned weights")
            w = np.asarray(syn, SYNAPSE_DTYPE)["weight"]
        core_w.append(np.asarray(w, np.int64))
    return core_w


def read_learned(image: Image, cores: Sequence[int], caps: EngineCaps | None):
    """Read learned weights (and, given the engine's ``caps``, tags, traces and generator
    states) back: a generator of host-program :class:`~spikefab.arch.hostop.Op` reads; returns
    :class:`Learned`.  ``cores``: the fabric core number of every image core."""
    out = Learned()
    core_w = yield from read_core_weights(image, cores, "read-back")
    for i, core in enumerate(image.cores):
        if not core.plastic or caps is None:
            continue
        lay = engine_layout(core)

        def words(name, index, count):
            got = yield Op("read", (cores[i], core_table(name), index, count, WORD_DTYPE),
                           f"read-back: core {i} learning {name}")
            return _ints(got)
        sw = yield from words("synapses", 0, len(lay.pre))
        wdt = np.array([unpack_synapse(caps, v) for v in sw], np.int64).reshape(-1, 3)
        x, y, rng = [], [], []
        for p in range(lay.n_profiles):
            x += [unpack_x(v) for v in (yield from words("x", p * caps.axons, lay.n_axons))]
            y += [unpack_y(v) for v in (yield from words("y", p * caps.neurons, lay.n_neurons))]
            rng.append((yield from words("rng", p * 5, 5)))
        tabs = lay.to_tables(core, wdt[:, 0], wdt[:, 1], wdt[:, 2], x, y, rng)
        tabs["engine_weights"] = tabs["weights"]      # the engine's copy (must agree)
        tabs["weights"] = core_w[i]
        out.cores[i] = tabs
    out.weights = projection_weights(image, core_w)
    return out
