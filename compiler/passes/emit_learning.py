"""Emit the learning tables of plastic cores and the manifest's map of plastic projections.

Called by :func:`~spikefab.compiler.passes.emit.emit` once the synapse memory is laid out: per
core, the plastic projections whose synapses it holds become its learning profiles (in
projection order), each synapse entry gets its profile (or static), traces start at 0, and the
hardware generator's five stream states are seeded from the compile seed, the core and the
projection.  The manifest records, per plastic projection, where each of its synapses lives
(core, entry, pre, post) so that the runtime can read learned weights back as a matrix.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spikefab.arch.image import (LEARN_PROFILE_DTYPE, LEARN_PRODUCT_DTYPE, LEARN_REWARD,
                                 LEARN_RNG_DTYPE, LEARN_STATIC, LEARN_SYNAPSE_DTYPE,
                                 LEARN_X_DTYPE, LEARN_Y_DTYPE)
from spikefab.arch.learning.random import seed_states
from spikefab.arch.learning.tables import profile_tables
from spikefab.errors import ModelError

__all__ = ["learning_tables"]


def learning_tables(net, part, seed: int) -> tuple[list[dict[str, np.ndarray]], dict[str, Any]]:
    """(per core: its learning tables, or {} if static; the manifest's ``learning`` entry)."""
    syn, nc = part.syn, part.n_cores
    if not syn.learning:
        return [{} for _ in range(nc)], {}
    gens = {rule.generator for _, rule in syn.learning}
    if len(gens) > 1:
        raise ModelError(f"plastic projections must share one random generator, not "
                         f"{sorted(gens)}")
    profs = [rule.profile(where=f"projection {name!r}") for name, rule in syn.learning]
    seg = syn.indptr[part.bounds]
    order = part.order
    plastic = syn.plastic[order]
    n_ax = np.bincount(part.pair_core, minlength=nc)
    projs = {p.name: p for p in net.projections}
    pop_index = {n: i for i, n in enumerate(syn.pop_names)}
    entries: dict[int, list[np.ndarray]] = {j: [] for j in range(len(syn.learning))}
    out = []
    for k in range(nc):
        pl = plastic[seg[k]:seg[k + 1]]
        owner = np.where(pl <= -2, -2 - pl, pl)          # reward synapses -> their projection
        used = np.unique(owner[pl != -1])
        if not len(used):
            out.append({})
            continue
        local = np.full(len(syn.learning), LEARN_STATIC, np.int64)
        local[used] = np.arange(len(used))
        rows, prods = [], []
        for li, j in enumerate(used.tolist()):
            name, rule = syn.learning[j]
            r, p = profile_tables(profs[j], li, int(seed if rule.rng_seed is None
                                                    else rule.rng_seed), f"projection {name!r}")
            rows.append(r)
            prods.append(p)
        ls = np.zeros(len(pl), LEARN_SYNAPSE_DTYPE)
        ls["profile"] = np.where(pl >= 0, local[np.maximum(owner, 0)],
                                 np.where(pl <= -2, LEARN_REWARD + local[np.maximum(owner, 0)],
                                          LEARN_STATIC))
        rng = np.zeros(len(used), LEARN_RNG_DTYPE)
        for li, j in enumerate(used.tolist()):
            rng[li]["state"] = seed_states(int(seed), k, int(j))
        n_neurons = int(part.bounds[k + 1] - part.bounds[k])
        out.append({"learn_profiles": np.concatenate(rows).astype(LEARN_PROFILE_DTYPE),
                    "learn_products": np.concatenate(prods).astype(LEARN_PRODUCT_DTYPE),
                    "learn_synapses": ls,
                    "learn_x": np.zeros(len(used) * int(n_ax[k]), LEARN_X_DTYPE),
                    "learn_y": np.zeros(len(used) * n_neurons, LEARN_Y_DTYPE),
                    "learn_rng": rng})
        # where each plastic synapse of this core lives
        pos = np.flatnonzero(pl >= 0)
        gi = order[seg[k] + pos]
        for j in used.tolist():
            sel = pl[pos] == j
            p = projs[syn.learning[j][0]]
            src = syn.src[gi[sel]].astype(np.int64)
            if p.source in syn.input_base:
                pre = src - syn.input_base[p.source]
            else:
                pre = src - syn.n_channels - syn.pop_offset[pop_index[p.source]]
            post = syn.post[gi[sel]].astype(np.int64) - syn.pop_offset[pop_index[p.target]]
            entries[j].append(np.stack([np.full(len(pre), k), pos[sel], pre, post], 1))
    manifest = {"generator": gens.pop(), "projections": {}}
    for j, (name, rule) in enumerate(syn.learning):
        p = projs[name]
        e = np.concatenate(entries[j]) if entries[j] else np.zeros((0, 4), np.int64)
        manifest["projections"][name] = {
            "source": p.source, "target": p.target, "rule": rule.name,
            "shape": [net.size_of(p.target), net.size_of(p.source)],
            "synapses": e.tolist()}
    return out, manifest
