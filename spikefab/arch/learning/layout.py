"""What the RTL learning engine holds for one core, computed from the core's image tables.

Part of the contract (no Amaranth): the hosts load an engine from it, the cycle engine charges
its :func:`epoch_cycles`, and the RTL (:mod:`spikefab.rtl.learning.engine`) is measured against it.

The image keeps the learning state in the contract's form (``learn_*`` tables, per synapse entry
and per (profile, slot)); the engine wants the plastic synapses grouped by learning profile and
each profile's products and synapses as (start, count) ranges, so that an epoch walks only its
own entries.  :func:`engine_layout` makes that regrouping (data, not logic), and
:meth:`EngineLayout.to_tables` puts engine contents back into table form so a backend can read
weights, tags and traces the way the reference writes them.

Cycle cost of the epoch phase of profile ``p`` (measured from :mod:`spikefab.rtl.learning.engine`):
:func:`epoch_cycles`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spikefab.arch.image import (LEARN_REWARD, LEARN_STATIC, LEARN_X_DTYPE, LEARN_Y_DTYPE,
                                 CoreImage)
from spikefab.arch.learning.tables import synapse_axons
from spikefab.arch.learning.words import EngineCaps

__all__ = ["EngineLayout", "engine_layout", "epoch_cycles", "phase_cycles", "reward_profile",
           "reward_marks", "reward_synapses", "REWARD_CYCLES", "SYNAPSE_FIXED_CYCLES",
           "SLOT_FIXED_CYCLES", "REPLAY_CYCLES_PER_TRACE", "PRODUCT_CYCLES", "decay_operands"]

#: Engine FSM cycles (see :mod:`spikefab.rtl.learning.engine`): read the synapse, read its slots, latch, write back
SYNAPSE_FIXED_CYCLES = 4
#: per product: read the product row, then the product unit's cycles
#: cycles one product takes in the RTL's ``ProductUnit`` (four factor slots + the scale cycle)
PRODUCT_CYCLES = 5
PRODUCT_ROW_CYCLES = 1 + PRODUCT_CYCLES
#: per slot: read, latch, write back
SLOT_FIXED_CYCLES = 3
#: one trace step per cycle (one shared :class:`~spikefab.rtl.learning.datapath.TraceStep`)
REPLAY_CYCLES_PER_TRACE = 1
#: the epoch phase's own start (advance the synapse stream, compute ``u``)
EPOCH_START_CYCLES = 1
#: per reward record: the ``reward`` strobe, then read and write the post slot's y2
REWARD_CYCLES = 3


def epoch_cycles(n_synapses: int, n_products: int, n_axons: int, n_neurons: int,
                 t_epoch: int) -> int:
    """Cycles of one profile's epoch phase in :class:`~.engine.LearningEngine`.

    Every plastic synapse replays its pre and post traces over the epoch (5 traces, one step a
    cycle) and evaluates every product of its rule; then every pre slot (2 traces) and post
    slot (3 traces) replays once more to write its end-of-epoch value.
    """
    per_syn = SYNAPSE_FIXED_CYCLES + 5 * t_epoch * REPLAY_CYCLES_PER_TRACE \
        + n_products * PRODUCT_ROW_CYCLES
    return (EPOCH_START_CYCLES + n_synapses * per_syn
            + n_axons * (SLOT_FIXED_CYCLES + 2 * t_epoch * REPLAY_CYCLES_PER_TRACE)
            + n_neurons * (SLOT_FIXED_CYCLES + 3 * t_epoch * REPLAY_CYCLES_PER_TRACE))


def phase_cycles(hits: int, spikes: int, n_profiles: int, ending_epochs: list[int] | None,
                 rewards: int = 0) -> int:
    """Cycles of a core's learning phase in the RTL (``spikefab.rtl.learning.core_learning``).

    ``hits`` distinct input axons that received a packet in the step, ``spikes`` neurons that
    spiked, ``rewards`` reward synapses (of reward profiles, :func:`reward_marks`) whose axon
    is among the hits, ``ending_epochs`` per profile the :func:`epoch_cycles` of its epoch
    phase if its epoch ends in this step, else None (``None`` or no ending profile: no epoch
    phase).  A core without learning profiles has no phase (0 cycles).
    """
    if n_profiles == 0:
        return 0
    end = 1
    if ending_epochs is not None and any(e is not None for e in ending_epochs):
        end += sum(1 if e is None else e for e in ending_epochs)
    return 2 + (hits + spikes) * (1 + 2 * n_profiles) + rewards * REWARD_CYCLES + end


@dataclass
class EngineLayout:
    """Contents of one core's learning engine (all plain Python ints / int64 arrays)."""

    n_axons: int
    n_neurons: int
    n_profiles: int
    # plastic synapses grouped by profile
    syn_index: np.ndarray        #: entry in the core's synapse table
    pre: np.ndarray
    post: np.ndarray
    w: np.ndarray
    d: np.ndarray
    t: np.ndarray
    syn_range: list[tuple[int, int]]     #: per profile (start, count) into the arrays above
    products: np.ndarray                 #: the core's learn_products, grouped by profile
    prod_range: list[tuple[int, int]]
    targets: list[int]                   #: per profile: bit 0 dw, 1 dd, 2 dt present
    t_epoch: list[int]
    decimate: list[int]                  #: -1 none
    sign_mode: list[int]
    reward: list[bool]
    active: list[list[int]]              #: per profile, per trace: tau != 0
    sig: list[list[int]]
    sh54: list[list[int]]
    imp_int: list[list[int]]
    imp_frac: list[list[int]]
    rng: list[list[int]]                 #: per profile: five xorshift64 states
    x: np.ndarray                        #: learn_x (profile * n_axons + axon)
    y: np.ndarray                        #: learn_y (profile * n_neurons + neuron)

    def caps(self) -> "EngineCaps":
        """The smallest engine that holds this layout."""
        return EngineCaps(axons=max(1, self.n_axons), neurons=max(1, self.n_neurons),
                          profiles=max(1, self.n_profiles), synapses=max(1, len(self.pre)),
                          products=max(1, len(self.products)))

    def epoch_cycles(self, p: int) -> int:
        return epoch_cycles(self.syn_range[p][1], self.prod_range[p][1], self.n_axons,
                            self.n_neurons, self.t_epoch[p])

    def to_tables(self, core: CoreImage, w, d, t, x, y, rng) -> dict[str, np.ndarray]:
        """Engine contents (arrays in the engine's order) as the reference's ``tables()`` form.

        Returns ``weights`` (the core's whole weight column) and the four state tables.
        """
        weights = core.synapses["weight"].astype(np.int64).copy()
        weights[self.syn_index] = w
        syn = core.learn_synapses.copy()
        syn["tag_d"][self.syn_index] = d
        syn["tag_t"][self.syn_index] = t
        lx = np.zeros(len(x), LEARN_X_DTYPE)
        for k, name in enumerate(("x1", "x2", "tx")):
            lx[name] = [row[k] for row in x]
        ly = np.zeros(len(y), LEARN_Y_DTYPE)
        for k, name in enumerate(("y1", "y2", "y3", "ty")):
            ly[name] = [row[k] for row in y]
        lrng = core.learn_rng.copy()
        for p, states in enumerate(rng):
            lrng[p]["state"] = states
        return {"weights": weights, "learn_synapses": syn, "learn_x": lx, "learn_y": ly,
                "learn_rng": lrng}


def engine_layout(core: CoreImage) -> EngineLayout:
    """The learning engine's contents for a plastic core."""
    n_p = len(core.learn_profiles)
    prof = core.learn_synapses["profile"].astype(np.int64)
    axon = synapse_axons(core)
    idx, syn_range = [], []
    for p in range(n_p):
        mine = np.flatnonzero(prof == p)
        syn_range.append((sum(len(i) for i in idx), len(mine)))
        idx.append(mine)
    syn_index = np.concatenate(idx) if idx else np.zeros(0, np.int64)
    pr = core.learn_products
    order = np.argsort(pr["profile"], kind="stable")
    products = pr[order]
    prod_range, targets = [], []
    for p in range(n_p):
        mine = np.flatnonzero(products["profile"] == p)
        prod_range.append((int(mine[0]) if len(mine) else 0, len(mine)))
        targets.append(int(sum(1 << int(tg) for tg in set(products["target"][mine].tolist()))))
    rows = core.learn_profiles
    ops = [[decay_operands(float(f)) for f in r["decay"]] for r in rows]
    return EngineLayout(
        n_axons=len(core.axons), n_neurons=int(core.n_neurons), n_profiles=n_p,
        syn_index=syn_index, pre=axon[syn_index], post=core.synapses["neuron"][syn_index].astype(np.int64),
        w=core.synapses["weight"][syn_index].astype(np.int64),
        d=core.learn_synapses["tag_d"][syn_index].astype(np.int64),
        t=core.learn_synapses["tag_t"][syn_index].astype(np.int64),
        syn_range=syn_range, products=products, prod_range=prod_range, targets=targets,
        t_epoch=[int(r["t_epoch"]) for r in rows], decimate=[int(r["decimate"]) for r in rows],
        sign_mode=[int(r["sign_mode"]) for r in rows],
        reward=[bool(int(r["flags"]) & 1) for r in rows],
        active=[[int(v != 0) for v in r["tau"]] for r in rows],
        sig=[[s for s, _ in o] for o in ops], sh54=[[int(sh == 54) for _, sh in o] for o in ops],
        imp_int=[[int(v) for v in r["impulse_int"]] for r in rows],
        imp_frac=[[int(v) for v in r["impulse_frac"]] for r in rows],
        rng=[[int(s) for s in r["state"]] for r in core.learn_rng],
        x=core.learn_x.copy(), y=core.learn_y.copy())


def reward_profile(core: CoreImage, synapse: int) -> int | None:
    """Learning profile whose reward trace synapse entry ``synapse`` feeds, or None."""
    p = int(core.learn_synapses["profile"][synapse])
    return p - LEARN_REWARD if LEARN_REWARD <= p < LEARN_STATIC else None


def reward_marks(core: CoreImage) -> np.ndarray:
    """The core's ``LEARN_REWARD`` table (:class:`~spikefab.arch.memory_map.CoreTable`): per
    synapse entry its ``learn_synapses.profile`` where that is ``LEARN_REWARD + p`` of a
    profile ``p`` whose y2 is a reward trace, else ``LEARN_STATIC`` (u8).

    A reward synapse of a profile without a reward trace does nothing in the contract
    (:func:`~spikefab.arch.learning.engine.record_reward`), so it carries no mark.
    """
    prof = core.learn_synapses["profile"].astype(np.int64)
    rewarding = np.flatnonzero(core.learn_profiles["flags"].astype(np.int64) & 1)
    mark = np.isin(prof, LEARN_REWARD + rewarding)
    return np.where(mark, prof, LEARN_STATIC).astype(np.uint8)


def reward_synapses(core: CoreImage) -> int:
    """Marked reward synapses of a core (the RTL records at most this many per step)."""
    return int(np.count_nonzero(reward_marks(core) != LEARN_STATIC)) if core.plastic else 0


def decay_operands(factor: float) -> tuple[int, int]:
    """``(significand, shift)`` with ``factor == significand * 2^-shift`` exactly.

    The factor is ``exp(-1/tau)`` (in ``[e^-1, 1)``) or 0.0; the significand has 53 bits and the
    shift is 53 or 54.  For 0.0 (tau = 0) the unit is not active and the operands are unused.
    """
    if factor == 0.0:
        return 0, 53
    m, e = math.frexp(factor)
    sig = int(m * (1 << 53))
    shift = 53 - e
    if not (1 << 52) <= sig < (1 << 53) or shift not in (53, 54):
        raise ValueError(f"decay factor {factor!r} outside [0.25, 1)")
    return sig, shift
