"""Partition: cut the populations of an :class:`HwNetwork` into core-sized slices.

Every neuron gets a global id (populations in declaration order, one after the other) and every
spike source a *source key* (host input channel ``c`` -> ``c``, neuron ``g`` -> ``n_channels + g``).
A core holds one contiguous range of global ids, so a core may hold the tail of one population and
the head of the next (small populations share a core).  The ranges are chosen greedily, largest
first, under every per-core limit of the target:

* neurons, synapse entries, neuron profiles (distinct parameter sets: a population with
  per-neuron decays or thresholds brings one per distinct set, and a core may hold several);
* input axons: one per (source, core) pair, whose run holds all synapses from that source;
* accumulator classes: projections with the same non-negative weight exponent share a class
  (a left shift distributes over the sum), each projection with a negative exponent needs its own
  (Lava floors each projection's sum);
* route entries: one per (source neuron, destination core) pair, plus one host entry for output
  neurons.  They depend on how the *destinations* are cut, so ranges whose route tables overflow
  are split again until nothing changes;
* per neuron (cannot be fixed by cutting): largest delay, and the accumulator bound
  ``sum |w| * 2**max(exp, 0) < 2**(accumulator_bits - 1)`` over its fan-in, which proves that no
  accumulator or shifted input can overflow whatever the order of arrival.

Anything impossible raises :class:`~spikefab.errors.ResourceError` with the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikefab.arch.target import Target
from spikefab.compiler.hwnet import HwNetwork
from spikefab.compiler.passes.kernels import (axon_runs, count_distinct, fanin_bound,
                                                 grow_range, segment_argsort, segment_classes)
from spikefab.errors import ResourceError

__all__ = ["Synapses", "Partition", "gather_synapses", "partition"]

# class ids 0..7: weight exponents 0..7 (shared); 8 + k: projection k (negative exponent)
_N_POS_EXP = 8


@dataclass
class Synapses:
    """All synapses of a network as flat arrays, sorted by target neuron (global id).

    ``indptr[g] .. indptr[g+1]`` are the synapses of neuron ``g``.  ``cls`` is the global
    accumulator-class id of each synapse, ``class_exp[cls]`` its weight exponent.
    """

    n_channels: int
    input_base: dict[str, int]
    pop_names: list[str]
    pop_offset: np.ndarray      # (n_pops + 1,) first global id of each population
    neuron_profile: np.ndarray  # (n_neurons,) index of each neuron's profile in ``profiles``
    profiles: list[tuple[int, ...]]
    src: np.ndarray             # int32 source key
    post: np.ndarray            # int32 global neuron id (ascending)
    weight: np.ndarray          # int16
    delay: np.ndarray           # uint8
    cls: np.ndarray             # int16
    class_exp: np.ndarray       # int8
    indptr: np.ndarray          # int64 (n_neurons + 1,)
    #: on-chip learning: index into ``learning`` of each synapse's plastic projection, -1 static,
    #: ``-2 - j`` a reward synapse of plastic projection ``j``; None when every synapse is static
    plastic: np.ndarray = None  # type: ignore[assignment]
    learning: list = None       # type: ignore[assignment]  # [(projection name, LearningRule)]

    @property
    def n_neurons(self) -> int:
        return int(self.pop_offset[-1])

    @property
    def n_sources(self) -> int:
        return self.n_channels + self.n_neurons

    def pop_of(self, gid: np.ndarray | int) -> np.ndarray:
        """Population index of global neuron ids."""
        return np.searchsorted(self.pop_offset, gid, side="right") - 1


@dataclass
class Partition:
    """Core ranges over global neuron ids plus the axon table they imply.

    Core ``k`` holds neurons ``bounds[k] .. bounds[k+1]-1``.  ``order`` sorts the synapses by
    (core, source key) stably; axon ``pair`` covers sorted synapses ``pair_start ..
    pair_start + pair_count`` and connects source ``pair_src`` to core ``pair_core``; pairs are
    sorted by (core, source), so a core's axon ids are the ranks of its pairs.
    """

    target: Target
    syn: Synapses
    bounds: np.ndarray
    order: np.ndarray
    pair_core: np.ndarray
    pair_src: np.ndarray
    pair_start: np.ndarray
    pair_count: np.ndarray
    is_output: np.ndarray       # bool per global neuron id
    output_channel: np.ndarray  # int64 per global neuron id (-1 if not an output)
    output_base: dict[str, int]

    @property
    def n_cores(self) -> int:
        return len(self.bounds) - 1

    def core_of(self, gid: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.bounds, gid, side="right") - 1

    def route_counts(self) -> np.ndarray:
        """Route entries per source key (destination cores, plus the host entry of outputs)."""
        n = np.bincount(self.pair_src, minlength=self.syn.n_sources)
        n[self.syn.n_channels:] += self.is_output
        return n

    def core_usage(self) -> dict[str, np.ndarray]:
        """Per-core use of every limited table (what the report shows)."""
        b, syn = self.bounds, self.syn
        nc = self.n_cores
        routes = np.add.reduceat(self.route_counts()[syn.n_channels:], b[:-1]) if nc else \
            np.zeros(0, np.int64)
        classes = segment_classes(syn.cls, syn.indptr[b], len(syn.class_exp)).sum(axis=1)
        profiles = np.zeros(nc, np.int64)
        if syn.n_neurons:
            pk = np.unique(self.core_of(np.arange(syn.n_neurons)) * (len(syn.profiles) + 1)
                           + syn.neuron_profile)
            profiles = np.bincount(pk // (len(syn.profiles) + 1), minlength=nc)
        return {"neurons": np.diff(b), "synapses": np.diff(syn.indptr[b]),
                "input_axons": np.bincount(self.pair_core, minlength=nc),
                "route_entries": routes, "profiles": profiles, "acc_classes": classes}


def gather_synapses(net: HwNetwork) -> Synapses:
    """Flatten every projection of ``net`` into one synapse list sorted by target neuron."""
    net.validate()
    input_base, base = {}, 0
    for name, size in net.inputs.items():
        input_base[name] = base
        base += size
    n_channels = base
    names = list(net.populations)
    offset = np.zeros(len(names) + 1, np.int64)
    offset[1:] = np.cumsum([net.populations[n].size for n in names])
    pop_index = {n: i for i, n in enumerate(names)}
    # profiles: distinct parameter sets, in population order (a population with per-neuron
    # decays or thresholds contributes one profile per distinct set, see LoihiLIF.profiles)
    profiles: list[tuple[int, ...]] = []
    known: dict[tuple[int, ...], int] = {}
    neuron_profile = np.zeros(int(offset[-1]), np.int64)
    for i, n in enumerate(names):
        pop = net.populations[n]
        keys, index = pop.neuron.profiles(pop.size)
        ids = np.array([known.setdefault(k, len(known)) for k in keys], np.int64)
        profiles.extend(k for k in keys if known[k] >= len(profiles))
        neuron_profile[offset[i]:offset[i + 1]] = ids[index]
    n_syn = net.n_synapses
    if n_channels + int(offset[-1]) >= 2**31 or n_syn >= 2**31:
        raise ResourceError(f"network must have fewer than 2**31 neurons and synapses, not "
                            f"{n_channels + int(offset[-1])} sources and {n_syn} synapses")
    src = np.empty(n_syn, np.int32)
    post = np.empty(n_syn, np.int32)
    weight = np.empty(n_syn, np.int16)
    delay = np.empty(n_syn, np.uint8)
    cls = np.empty(n_syn, np.int16)
    learning = [(p.name, p.learning) for p in net.projections if p.learning is not None]
    # static networks (most synapses of a wafer) need no per-synapse plasticity column
    plastic = np.full(n_syn, -1, np.int16) if learning or any(
        p.reward_for is not None for p in net.projections) else None
    class_exp = list(range(_N_POS_EXP))
    k = 0
    for j, p in enumerate(net.projections):
        m = p.n_synapses
        sl = slice(k, k + m)
        if plastic is not None and p.learning is not None:
            plastic[sl] = [name for name, _ in learning].index(p.name)
        elif plastic is not None and p.reward_for is not None:   # reward synapses of plastic
            # projection j: -2 - j
            plastic[sl] = -2 - [name for name, _ in learning].index(p.reward_for)
        if p.source in input_base:
            src[sl] = p.pre + input_base[p.source]
        else:
            src[sl] = p.pre + (n_channels + offset[pop_index[p.source]])
        post[sl] = p.post + offset[pop_index[p.target]]
        weight[sl] = p.weight
        delay[sl] = p.delay
        e = int(p.weight_exp)
        if e >= 0:
            cls[sl] = e
        else:
            cls[sl] = len(class_exp)
            class_exp.append(e)
        k += m
    if n_syn and not np.all(post[1:] >= post[:-1]):
        perm = np.argsort(post, kind="stable")
        src, post, weight, delay, cls = src[perm], post[perm], weight[perm], delay[perm], cls[perm]
        plastic = plastic[perm] if plastic is not None else None
        del perm
    indptr = np.zeros(int(offset[-1]) + 1, np.int64)
    np.cumsum(np.bincount(post, minlength=int(offset[-1])), out=indptr[1:])
    return Synapses(n_channels=n_channels, input_base=input_base, pop_names=names,
                    pop_offset=offset, neuron_profile=neuron_profile, profiles=profiles, src=src,
                    post=post, weight=weight, delay=delay, cls=cls,
                    class_exp=np.array(class_exp, np.int8), indptr=indptr, plastic=plastic,
                    learning=learning)


def _check_neurons(syn: Synapses, target: Target) -> None:
    """Per-neuron limits that no cut can fix: extensions, delay and the accumulator-width proof."""
    lim = target.core
    for pi, key in enumerate(syn.profiles):
        # profile key: (du, dv, vth, reset_mode, refractory, theta_decay, theta_inc)
        refractory, theta_inc = key[4], key[6]
        if refractory > lim.max_refractory or (theta_inc and not lim.adaptive_threshold):
            i = int(syn.pop_of(int(np.argmax(syn.neuron_profile == pi))))
        if refractory > lim.max_refractory:
            raise ResourceError(f"population {syn.pop_names[i]!r}: refractory period "
                                f"{refractory} must be at most {lim.max_refractory}, the longest "
                                f"target {target.name} supports (core.max_refractory)")
        if theta_inc and not lim.adaptive_threshold:
            raise ResourceError(f"population {syn.pop_names[i]!r}: adaptive threshold "
                                f"(theta_inc {theta_inc}) must be off, target {target.name} has "
                                f"no adaptive-threshold extension (core.adaptive_threshold = 0)")
    if len(syn.delay) and int(syn.delay.max()) > lim.max_delay:
        g = int(syn.post[np.argmax(syn.delay)])
        raise ResourceError(f"population {syn.pop_names[int(syn.pop_of(g))]!r}: synaptic delay "
                            f"{int(syn.delay.max())} must be at most {lim.max_delay}, the largest "
                            f"delay target {target.name} allows")
    scale = np.ldexp(1.0, np.maximum(syn.class_exp.astype(np.int64), 0))
    # a plastic weight may reach -256 whatever it starts at: bound it by that
    w = syn.weight if syn.plastic is None or not np.any(syn.plastic >= 0) else \
        np.where(syn.plastic >= 0, np.int16(-256), syn.weight)
    bound = fanin_bound(syn.post, w, syn.cls, scale, syn.n_neurons)
    limit = float(2 ** (lim.accumulator_bits - 1) - 1)
    if len(bound) and bound.max() > limit:
        g = int(np.argmax(bound))
        raise ResourceError(
            f"population {syn.pop_names[int(syn.pop_of(g))]!r}: neuron "
            f"{g - int(syn.pop_offset[syn.pop_of(g)])} can receive a summed input of "
            f"{int(bound[g])} (sum of |weight| * 2**weight_exp over its fan-in), target "
            f"{target.name}'s {lim.accumulator_bits}-bit accumulators hold at most {int(limit)}")


class _Cutter:
    """Greedy choice of core ranges under the incoming-side limits."""

    def __init__(self, syn: Synapses, target: Target) -> None:
        self.syn, self.target, self.lim = syn, target, target.core
        self.marks = np.zeros(max(syn.n_sources + len(syn.class_exp), len(syn.profiles)) + 1,
                              np.int64)
        self.profile_id = syn.neuron_profile.astype(syn.src.dtype)
        self.stamp = 0
        # grow_range's table: sources, then accumulator classes, then profiles
        self.grow_marks = np.zeros(syn.n_sources + len(syn.class_exp) + len(syn.profiles) + 1,
                                   np.int64)
        self.grow_stamp = 0

    def _distinct(self, values: np.ndarray, a: int, b: int) -> int:
        self.stamp += 1
        return int(count_distinct(values, a, b, self.marks, self.stamp))

    def usage(self, s: int, e: int) -> dict[str, int]:
        syn = self.syn
        a, b = int(syn.indptr[s]), int(syn.indptr[e])
        return {"neurons": e - s, "synapses": b - a,
                "input_axons": self._distinct(syn.src, a, b),
                "acc_classes": self._distinct(syn.cls, a, b),
                "profiles": self._distinct(self.profile_id, s, e)}

    def cut(self, s: int, stop: int, routes: tuple[np.ndarray, int] | None = None) -> int:
        """Largest ``e`` in ``(s, stop]`` such that neurons ``s .. e-1`` fit one core.

        ``routes = (prefix sums of estimated route entries per neuron, budget)`` adds the
        route-table estimate as one more limit (never below one neuron: it is an estimate).
        """
        syn, lim = self.syn, self.lim
        e_max = min(stop, s + lim.neurons,
                    int(np.searchsorted(syn.indptr, syn.indptr[s] + lim.synapses, "right")) - 1)
        if routes is not None:
            csum, budget = routes
            e_max = min(e_max, max(s + 1, int(np.searchsorted(csum, csum[s] + budget,
                                                              "right")) - 1))
        self.grow_stamp += 1
        e = int(grow_range(syn.src, syn.cls, self.profile_id, syn.indptr, s, e_max,
                           syn.n_sources, len(syn.class_exp), lim.input_axons, lim.acc_classes,
                           lim.profiles, self.grow_marks, self.grow_stamp))
        if e == s:
            self.fail(s)
        return e

    def fail(self, g: int) -> None:
        syn, lim, name = self.syn, self.lim, self.target.name
        pop = syn.pop_names[int(syn.pop_of(g))]
        use = self.usage(g, g + 1)
        words = {"synapses": ("fan-in", "synapse entries"),
                 "input_axons": ("inputs from", "distinct sources (input axons)"),
                 "acc_classes": ("inputs in", "weight-exponent classes (accumulators)"),
                 "profiles": ("needs", "neuron profiles"), "neurons": ("needs", "neuron slots")}
        for key, value in use.items():
            if value > getattr(lim, key):
                verb, unit = words[key]
                raise ResourceError(f"population {pop!r}: one neuron has {verb} {value} {unit}, "
                                    f"target {name} allows {getattr(lim, key)} per core")
        raise ResourceError(f"population {pop!r}: neuron {g} does not fit one core of {name}")


def _axon_pairs(syn: Synapses, bounds: np.ndarray, old: "Partition | None" = None):
    """Sort synapses by (core, source) and find the (core, source) runs = input axons.

    With ``old`` (a partition whose ``bounds`` are a subset of these), cores that kept their
    range keep their sorted segment and pairs; only split cores are recomputed.
    """
    nc = len(bounds) - 1
    lo, hi = syn.indptr[bounds[:-1]], syn.indptr[bounds[1:]]
    if old is None:
        order = np.empty(len(syn.src), np.int32 if len(syn.src) < 2**31 else np.int64)
        redo = np.arange(nc, dtype=np.int64)
    else:
        order = old.order
        o_lo, o_hi = old.bounds[:-1], old.bounds[1:]
        new_id = np.searchsorted(bounds, o_lo)          # new core starting where the old did
        kept_old = bounds[new_id + 1] == o_hi           # ... and ending there too: unchanged
        redo = np.setdiff1d(np.arange(nc, dtype=np.int64), new_id[kept_old])
    segment_argsort(syn.src, lo[redo], hi[redo], order)
    core, src, start, count = axon_runs(syn.src, order, lo[redo], hi[redo],
                                        redo.astype(np.int32))
    if old is not None:
        keep = kept_old[old.pair_core]
        core = np.concatenate([new_id[old.pair_core[keep]].astype(np.int32), core])
        src = np.concatenate([old.pair_src[keep], src])
        start = np.concatenate([old.pair_start[keep], start])
        count = np.concatenate([old.pair_count[keep], count])
        perm = np.argsort(start, kind="stable")     # (core, source) order = sorted position
        core, src, start, count = core[perm], src[perm], start[perm], count[perm]
    return order, core, src, start, count


def partition(net: HwNetwork, target: Target, *, syn: Synapses | None = None) -> Partition:
    """Cut ``net`` into core ranges for ``target``; raise :class:`ResourceError` if impossible."""
    for p in net.projections:          # before gather_synapses stores delays in 8 bits
        if p.delay.size and int(p.delay.max()) > target.core.max_delay:
            raise ResourceError(f"projection {p.name!r} into population {p.target!r}: synaptic "
                                f"delay {int(p.delay.max())} must be at most "
                                f"{target.core.max_delay}, the largest delay target "
                                f"{target.name} allows")
    total = sum(int(p.size) for p in net.populations.values())
    capacity = target.topology.cores * target.core.neurons
    if total > capacity:              # before any per-neuron array: no cut can hold them
        raise ResourceError(f"network needs {-(-total // target.core.neurons)} cores or more "
                            f"for {total:,} neurons, target {target.name} has "
                            f"{target.topology.cores:,} cores of {target.core.neurons:,} neuron "
                            f"slots ({capacity:,} neurons in all)")
    syn = syn if syn is not None else gather_synapses(net)
    _check_neurons(syn, target)
    if syn.learning and target.learning.profiles == 0:
        name, rule = syn.learning[0]
        why = target.sources.get("learning", "")
        raise ResourceError(f"projection {name!r} is plastic (rule {rule.name!r}): it needs a "
                            f"learning engine, target {target.name} has none (learning.profiles "
                            f"= 0{': ' + why if why else ''})")
    outputs = _output_channels(net, syn)
    part = _cut_for_routes(syn, target, outputs)
    if part.n_cores > target.topology.cores:
        _too_many_cores(part)
    if syn.learning:
        _check_learning(part)
    return part


def _output_channels(net: HwNetwork, syn: Synapses):
    """``(is_output, output_channel, output_base)``: which neurons report to the host, on
    which channel, and each output's first channel."""
    is_output = np.zeros(syn.n_neurons, bool)
    output_channel = -np.ones(syn.n_neurons, np.int64)
    output_base, base = {}, 0
    for out, pop in net.outputs.items():
        i = syn.pop_names.index(pop)
        a, b = int(syn.pop_offset[i]), int(syn.pop_offset[i + 1])
        if is_output[a]:
            raise ResourceError(f"output {out!r}: population {pop!r} is already an output; one "
                                f"route entry per neuron reports it once")
        is_output[a:b] = True
        output_channel[a:b] = np.arange(base, base + b - a)
        output_base[out] = base
        base += b - a
    return is_output, output_channel, output_base


def _cut_for_routes(syn: Synapses, target: Target, outputs) -> Partition:
    """Greedy cuts, then cut again until every core's route table fits."""
    lim = target.core
    cutter = _Cutter(syn, target)

    def greedy(routes: tuple[np.ndarray, int] | None) -> np.ndarray:
        cuts, s, n = [0], 0, syn.n_neurons
        while s < n:
            s = cutter.cut(s, n, routes)
            cuts.append(s)
        return np.array(cuts, np.int64)

    bounds = greedy(None)
    part = Partition(target, syn, bounds, *_axon_pairs(syn, bounds), *outputs)
    per_neuron = part.route_counts()[syn.n_channels:]
    csum = np.concatenate([[0], np.cumsum(per_neuron)])
    if len(bounds) > 1 and np.diff(csum[bounds]).max() > lim.route_entries:
        # route tables overflow: cut again with the route entries these cuts imply as an extra
        # limit (cutting finer adds a few destinations, hence the 8 % headroom)
        bounds = greedy((csum, max(1, int(lim.route_entries * 0.92))))
        part = None
    for _ in range(64):
        if part is None or len(part.bounds) != len(bounds):
            part = Partition(target, syn, bounds, *_axon_pairs(syn, bounds, part), *outputs)
        per_neuron = part.route_counts()[syn.n_channels:]
        if len(per_neuron) and per_neuron.max() > lim.route_entries:
            g = int(np.argmax(per_neuron))
            raise ResourceError(
                f"population {syn.pop_names[int(syn.pop_of(g))]!r}: one neuron sends to "
                f"{int(per_neuron[g])} destinations (cores + host), target {target.name} allows "
                f"{lim.route_entries} route entries per core")
        csum = np.concatenate([[0], np.cumsum(per_neuron)])
        over = np.flatnonzero(np.diff(csum[bounds]) > lim.route_entries)
        if not len(over):
            return part
        bounds = _split_over(bounds, csum, over, lim.route_entries)
    # pragma: no cover - each round only splits, so this needs > 64 rounds of growth
    raise ResourceError(f"route tables do not converge on target {target.name}")


def _split_over(bounds: np.ndarray, csum: np.ndarray, over: np.ndarray,
                route_entries: int) -> np.ndarray:
    """``bounds`` with the cores in ``over`` cut into equal shares of their route entries.

    Split with some headroom: splitting these cores also splits their destinations' sources'
    runs, which adds route entries elsewhere; headroom makes one round usually do.
    """
    room = max(1, int(route_entries * 0.9))
    extra = []
    for k in over:
        s, e = int(bounds[k]), int(bounds[k + 1])
        m = -(-int(csum[e] - csum[s]) // room)
        goals = csum[s] + (csum[e] - csum[s]) * np.arange(1, m, dtype=np.int64) // m
        cuts_k = np.searchsorted(csum, goals, "right") - 1
        extra.extend(int(c) for c in cuts_k if s < c < e)
    return np.unique(np.concatenate([bounds, np.array(extra, np.int64)]))


def _too_many_cores(part: Partition) -> None:
    """Raise the error naming the table that forced the core count (cores at their limit),
    not only totals."""
    syn, target, lim = part.syn, part.target, part.target.core
    use = part.core_usage()
    units = {"neurons": "neuron slots", "synapses": "synapse entries",
             "input_axons": "input axons", "route_entries": "route entries",
             "profiles": "neuron profiles", "acc_classes": "accumulator classes"}
    full = {k: int(np.count_nonzero(use[k] >= getattr(lim, k))) for k in units}
    key = max(units, key=lambda k: (full[k], int(use[k].sum()) / getattr(lim, k)))
    raise ResourceError(
        f"network needs {part.n_cores} cores for {syn.n_neurons} neurons and "
        f"{len(syn.src)} synapse entries, target {target.name} has {target.topology.cores} "
        f"cores: {units[key]} limit the cores ({full[key]} cores use all "
        f"{getattr(lim, key)} {units[key]} a core holds; {int(use[key].sum())} in all)"
        + (f"; layers with per-neuron time constants or thresholds bring one profile per "
           f"distinct quantized set: share time constants between neurons to need fewer"
           if len(syn.profiles) > lim.profiles else ""))


def learning_usage(part: Partition) -> dict[str, np.ndarray]:
    """Per core: learning profiles, plastic synapses and trace words it needs."""
    syn, nc = part.syn, part.n_cores
    seg = syn.indptr[part.bounds]
    n_ax = np.bincount(part.pair_core, minlength=nc)
    out = {"profiles": np.zeros(nc, np.int64), "plastic_synapses": np.zeros(nc, np.int64),
           "trace_entries": np.zeros(nc, np.int64), "products": np.zeros(nc, np.int64)}
    n_prod = np.array([rule_products(rule, name) for name, rule in syn.learning], np.int64)
    for k in range(nc):
        pl = syn.plastic[seg[k]:seg[k + 1]]
        used = _core_profiles(part, k)
        n_p = len(used)
        out["profiles"][k] = n_p
        out["products"][k] = int(n_prod[used].sum()) if n_p else 0
        out["plastic_synapses"][k] = int(np.count_nonzero(pl >= 0)) if n_p else 0
        out["trace_entries"][k] = n_p * (int(n_ax[k]) + int(part.bounds[k + 1] - part.bounds[k]))
    return out


def _core_profiles(part: Partition, k: int) -> np.ndarray:
    """Indices into ``syn.learning`` of the plastic projections core ``k`` holds synapses of
    (reward synapses count for their projection)."""
    seg = part.syn.indptr[part.bounds]
    pl = part.syn.plastic[seg[k]:seg[k + 1]]
    return np.unique(np.where(pl <= -2, -2 - pl, pl)[pl != -1])


def rule_products(rule, name: str) -> int:
    """Products of a plastic projection's rule (``dw``, ``dd`` and ``dt`` together): the rows
    of the core's product memory its learning profile needs."""
    return sum(len(s.products) for s in rule.profile(where=f"projection {name!r}").series)


def _check_learning(part: Partition) -> None:
    """Learning memories per core (need vs. have), after the cut; ``learning.products`` 0 is
    no limit of the target's own."""
    target = part.target
    for key, need in learning_usage(part).items():
        have = getattr(target.learning, key)
        if key == "products" and have == 0:
            continue
        if key == "products" and len(need) and need.max() > have:
            k = int(np.argmax(need))
            name, rule = max((part.syn.learning[j] for j in _core_profiles(part, k).tolist()),
                             key=lambda nr: rule_products(nr[1], nr[0]))
            raise ResourceError(f"core {k} needs {int(need[k])} learning rule products "
                                f"(projection {name!r}, rule {rule.name!r}: "
                                f"{rule_products(rule, name)} products), target {target.name} "
                                f"has {have} per core (learning.products)", where=f"projection "
                                f"{name!r}")
        if len(need) and need.max() > have:
            k = int(np.argmax(need))
            raise ResourceError(f"core {k} needs {int(need[k])} learning {key.replace('_', ' ')}, "
                                f"target {target.name} has {have} per core (learning.{key})")
