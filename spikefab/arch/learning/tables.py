"""Learning profiles <-> image tables, and the learning engine of one core over its tables.

:func:`profile_tables` writes a :class:`~spikefab.arch.learning.profile.LearningProfile` as one
``learn_profiles`` row plus its ``learn_products`` rows; :func:`profile_from_tables` reads it
back.  :class:`CoreLearner` is the reference learning engine of one core: it builds one
:class:`~spikefab.arch.learning.engine.PlasticGroup` per learning profile from the core's
tables (pre slot = the synapse's input axon, post slot = its neuron), runs the three phases of a
step, and writes weights, tags and traces back into table form.
"""

from __future__ import annotations

import numpy as np

from spikefab.arch.image import (LEARN_PRODUCT_DTYPE, LEARN_PROFILE_DTYPE, LEARN_REWARD,
                                 LEARN_STATIC, LEARN_VARS, LEARN_X_DTYPE, LEARN_Y_DTYPE,
                                 CoreImage)
from spikefab.arch.learning.engine import (PlasticGroup, is_epoch_end, learn, record_post,
                                           record_pre, record_reward)
from spikefab.arch.learning.profile import LearningProfile
from spikefab.arch.learning.random import LearningRandom
from spikefab.arch.learning.rule import Factor, Product, ProductSeries
from spikefab.arch.errors import ImageError, ModelError

__all__ = ["MAX_FACTORS", "profile_tables", "profile_from_tables", "CoreLearner",
           "check_learning_tables", "check_learning_fits", "check_learning_manifest",
           "synapse_axons"]

MAX_FACTORS = 4
_TARGETS = ("dw", "dd", "dt")
_DEPS = ("x0", "y0", "u")


def profile_tables(prof: LearningProfile, index: int, rng_seed: int,
                   where: str = "learning rule") -> tuple[np.ndarray, np.ndarray]:
    """(one LEARN_PROFILE row, its LEARN_PRODUCT rows) of profile number ``index``."""
    row = np.zeros(1, LEARN_PROFILE_DTYPE)
    row["t_epoch"] = prof.t_epoch
    row["decimate"] = -1 if prof.decimate_exponent is None else prof.decimate_exponent
    row["sign_mode"] = prof.sign_mode
    row["impulse_int"] = prof.impulse_int
    row["impulse_frac"] = prof.impulse_frac
    row["tau"] = prof.tau
    row["decay"] = prof.decay
    row["rng_seed"] = rng_seed
    row["flags"] = int(prof.reward)
    prods = [(s.target, p) for s in prof.series for p in s.products]
    out = np.zeros(len(prods), LEARN_PRODUCT_DTYPE)
    for j, (target, p) in enumerate(prods):
        if len(p.factors) > MAX_FACTORS:
            raise ModelError(f"{where}: a product may have at most {MAX_FACTORS} factors (the "
                             f"learning engine's product width), not {len(p.factors)}",
                             where=where)
        out[j]["profile"] = index
        out[j]["target"] = _TARGETS.index(target)
        out[j]["dependency"] = _DEPS.index(p.dependency)
        out[j]["s_mantissa"] = p.s_mantissa
        out[j]["s_exp"] = p.s_exp
        out[j]["var"] = LEARN_STATIC
        for k, f in enumerate(p.factors):
            out[j]["var"][k] = LEARN_VARS.index(f.var)
            out[j]["const"][k] = f.const
            out[j]["sgn"][k] = int(f.is_sgn)
    return row, out


def profile_from_tables(row: np.void, products: np.ndarray, index: int) -> LearningProfile:
    """The profile ``index`` of a core, read back from its tables."""
    series = []
    mine = products[products["profile"] == index]
    for ti, target in enumerate(_TARGETS):
        rows = mine[mine["target"] == ti]
        if not len(rows):
            continue
        prods = []
        for r in rows:
            factors = tuple(Factor(LEARN_VARS[int(r["var"][k])], int(r["const"][k]),
                                   bool(r["sgn"][k]))
                            for k in range(MAX_FACTORS) if r["var"][k] != LEARN_STATIC)
            prods.append(Product(_DEPS[int(r["dependency"])], int(r["s_mantissa"]),
                                 int(r["s_exp"]), factors))
        dec = int(row["decimate"])
        series.append(ProductSeries(target, tuple(prods), None if dec < 0 else dec))
    dec = int(row["decimate"])
    return LearningProfile(series=tuple(series), decimate_exponent=None if dec < 0 else dec,
                           impulse_int=tuple(int(v) for v in row["impulse_int"]),
                           impulse_frac=tuple(int(v) for v in row["impulse_frac"]),
                           tau=tuple(int(v) for v in row["tau"]),
                           decay=tuple(float(v) for v in row["decay"]),
                           t_epoch=int(row["t_epoch"]), sign_mode=int(row["sign_mode"]),
                           reward=bool(int(row["flags"]) & 1))


def synapse_axons(core: CoreImage) -> np.ndarray:
    """Input axon of every synapse entry (synapses are stored in axon runs)."""
    ax = np.full(len(core.synapses), -1, np.int64)
    for a, (s, c) in enumerate(zip(core.axons["start"], core.axons["count"])):
        ax[int(s):int(s) + int(c)] = a
    return ax


def check_learning_tables(core: CoreImage, i: int, where: str) -> None:
    """Sizes and indices of a plastic core's learning tables (ImageError naming the table)."""
    if not core.plastic:
        extra = [t for t in ("learn_products", "learn_synapses", "learn_x", "learn_y",
                             "learn_rng") if len(getattr(core, t))]
        if extra:       # would be dropped silently: the core runs without its learning engine
            raise ImageError(f"{where}: core/{i}/{extra[0]} has {len(getattr(core, extra[0]))} "
                             f"entries on a core without learning profiles (learn_profiles "
                             f"empty or missing)", where=f"core/{i}/{extra[0]}")
        return
    n_p = len(core.learn_profiles)
    need = {"learn_synapses": len(core.synapses), "learn_x": n_p * len(core.axons),
            "learn_y": n_p * core.n_neurons, "learn_rng": n_p}
    for table, n in need.items():
        if len(getattr(core, table)) != n:
            raise ImageError(f"{where}: core/{i}/{table} must have {n} entries, not "
                             f"{len(getattr(core, table))}", where=f"core/{i}/{table}")
    prof = core.learn_synapses["profile"].astype(np.int64)
    n_s = len(core.synapses)            # a plastic synapse must be in an axon's run: the engine
    start = np.minimum(core.axons["start"].astype(np.int64), n_s)    # keys its pre trace by it
    end = np.minimum(start + core.axons["count"].astype(np.int64), n_s)
    edge = np.zeros(n_s + 1, np.int64)
    np.add.at(edge, start, 1)
    np.add.at(edge, end, -1)
    orphan = (np.cumsum(edge)[:n_s] == 0) & (prof != LEARN_STATIC)
    if np.any(orphan):
        raise ImageError(f"{where}: core/{i}/learn_synapses entry {int(np.flatnonzero(orphan)[0])}"
                         f" is plastic but its synapse is in no input axon's run (the engine "
                         f"needs its pre-synaptic axon)", where=f"core/{i}/learn_synapses")
    ok = (prof < n_p) | ((prof >= LEARN_REWARD) & (prof < LEARN_REWARD + n_p)) \
        | (prof == LEARN_STATIC)
    if not np.all(ok):
        raise ImageError(f"{where}: core/{i}/learn_synapses names a learning profile beyond its "
                         f"{n_p}", where=f"core/{i}/learn_synapses")
    p = core.learn_products
    bad = (p["profile"] >= n_p) | (p["target"] > 2) | (p["dependency"] > 2) \
        | np.any((p["var"] >= len(LEARN_VARS)) & (p["var"] != LEARN_STATIC), axis=1)
    if np.any(bad) or np.any((core.learn_profiles["t_epoch"] < 1)
                             | (core.learn_profiles["t_epoch"] > 63)):
        raise ImageError(f"{where}: core/{i}/learn_products or learn_profiles holds a value the "
                         f"learning engine cannot (profile, target, dependency, variable or "
                         f"t_epoch out of range)", where=f"core/{i}/learn_products")
    _check_learning_values(core, i, where)


#: Value ranges of the learning tables' fields (the engine's register widths, profile.py, and
#: the rule language: uK with one digit K, mantissa -8..7, exponent + 7 in 0..15).
_LEARN_RANGES = {
    "learn_profiles": (("decimate", -1, 9), ("sign_mode", 1, 3), ("impulse_int", 0, 127),
                       ("impulse_frac", 0, 256), ("flags", 0, 1)),
    "learn_products": (("s_mantissa", -8, 7), ("s_exp", 0, 15), ("sgn", 0, 1)),
    "learn_synapses": (("tag_t", -257, 255),),
    "learn_x": (("x1", 0, 127), ("x2", 0, 127)),
    "learn_y": (("y1", 0, 127), ("y2", 0, 127), ("y3", 0, 127)),
}


def _check_learning_values(core: CoreImage, i: int, where: str) -> None:
    """Every learning value within its register, decays equal to ``exp(-1/tau)`` and spike
    times within their profile's epoch: the engine indexes a trace's epoch history by ``tx`` /
    ``ty`` and multiplies by the stored decay, so out-of-range values would make backends read
    past their histories or disagree (NaN, shifts past 63 bits)."""
    from spikefab.arch.learning.profile import decay_factor
    for table, checks in _LEARN_RANGES.items():
        arr = getattr(core, table)
        for name, lo, hi in checks:
            vals = arr[name].astype(np.int64)
            bad = (vals < lo) | (vals > hi)
            if np.any(bad):
                raise ImageError(f"{where}: core/{i}/{table} {name} must be in [{lo}, {hi}], not "
                                 f"{int(vals[bad].flat[0])}", where=f"core/{i}/{table}")
    for p, row in enumerate(core.learn_profiles):
        want = [decay_factor(int(t)) for t in row["tau"]]
        got = [float(v) for v in row["decay"]]
        if not all(np.float64(a).tobytes() == np.float64(b).tobytes() for a, b in zip(got, want)):
            raise ImageError(f"{where}: core/{i}/learn_profiles row {p} decay must be exp(-1/tau) "
                             f"of its tau {[int(t) for t in row['tau']]} ({want}), not {got}",
                             where=f"core/{i}/learn_profiles")
    used = core.learn_products["var"] != LEARN_STATIC
    hole = np.any(~used[:, :-1] & used[:, 1:], axis=1) | np.any(
        ~used & ((core.learn_products["const"] != 0) | (core.learn_products["sgn"] != 0)), axis=1)
    if np.any(hole):    # backends read the first n factors: the compiler packs them from slot 0
        raise ImageError(f"{where}: core/{i}/learn_products row {int(np.flatnonzero(hole)[0])} "
                         f"must hold its factors in slots 0.. with unused slots (var "
                         f"{LEARN_STATIC}) after them and zero, not "
                         f"{core.learn_products['var'][hole][0].tolist()}",
                         where=f"core/{i}/learn_products")
    t_epoch = core.learn_profiles["t_epoch"].astype(np.int64)
    for table, col, n in (("learn_x", "tx", len(core.axons)), ("learn_y", "ty", core.n_neurons)):
        times = getattr(core, table)[col].astype(np.int64)
        limit = np.repeat(t_epoch, n)
        bad = times > limit
        if np.any(bad):
            j = int(np.flatnonzero(bad)[0])
            raise ImageError(f"{where}: core/{i}/{table} entry {j} {col} must be at most its "
                             f"profile's t_epoch {int(limit[j])} (a spike time within the "
                             f"epoch), not {int(times[j])}", where=f"core/{i}/{table}")


def check_learning_manifest(image, where: str) -> None:
    """The manifest's ``learning`` object: the generator, and each plastic projection's shape
    and ``[core, entry, pre, post]`` synapses within the image's tables (the weight read-back
    indexes with them and allocates ``shape``; both bounded by the image's own tables)."""
    if "learning" not in image.manifest:
        return
    m = image.manifest["learning"]

    def bad(what: str) -> ImageError:
        return ImageError(f"{where}: manifest learning {what}", where="manifest")
    if not isinstance(m, dict):
        raise bad(f"must be an object, not {m!r:.60}")
    if m.get("generator", "hardware") not in ("hardware", "lava"):
        raise bad(f"generator must be 'hardware' or 'lava', not {m.get('generator')!r:.60}")
    projs = m.get("projections", {})
    if not isinstance(projs, dict):
        raise bad(f"projections must be an object, not {projs!r:.60}")
    cores = image.cores
    span = sum(c.n_neurons for c in cores) + len(image.host_route_ptr)   # neurons + channels
    n_syn = np.array([len(c.synapses) for c in cores] + [0], np.int64)
    plastic = np.array([c.plastic for c in cores] + [False], bool)
    for name, spec in projs.items():
        shape = spec.get("shape") if isinstance(spec, dict) else None
        if not (isinstance(shape, list) and len(shape) == 2 and all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= span
                for v in shape)):
            raise bad(f"projection {name!r:.60} needs 'shape' [n_post, n_pre], each 0..{span} "
                      f"(the image's neurons and input channels), not {shape!r:.60}")
        try:
            e = np.asarray(spec.get("synapses", []), np.int64).reshape(-1, 4)
        except (TypeError, ValueError, OverflowError):
            raise bad(f"projection {name!r:.60} 'synapses' must be a list of [core, entry, pre, "
                      f"post] integers") from None
        ok = (e[:, 0] >= 0) & (e[:, 0] < len(cores)) & (e[:, 1] >= 0) & (e[:, 2] >= 0) \
            & (e[:, 2] < shape[1]) & (e[:, 3] >= 0) & (e[:, 3] < shape[0])
        ok &= e[:, 1] < n_syn[np.where(ok, e[:, 0], len(cores))]
        ok &= plastic[np.where(ok, e[:, 0], len(cores))]       # a learning core's synapse
        if not ok.all():
            j = int(np.flatnonzero(~ok)[0])
            raise bad(f"projection {name!r:.60} synapse {j} {e[j].tolist()} is outside the "
                      f"image's {len(cores)} cores, their synapse tables or shape {shape}, or "
                      f"on a core without learning profiles")


def check_learning_fits(core: CoreImage, target, i: int) -> None:
    """A plastic core's learning profiles, plastic synapses and trace words vs. the target."""
    if not core.plastic:
        return
    n_p = len(core.learn_profiles)
    need = {"profiles": n_p,
            "plastic_synapses": int(np.count_nonzero(
                core.learn_synapses["profile"].astype(np.int64) < n_p)),
            "trace_entries": len(core.learn_x) + len(core.learn_y)}
    for key, n in need.items():
        have = getattr(target.learning, key)
        if n > have:
            raise ImageError(f"core/{i} needs {n} learning {key.replace('_', ' ')}, target "
                             f"{target.name} has {have} (learning.{key})",
                             where=f"core/{i}/learn_profiles")


class CoreLearner:
    """Reference learning engine of one core; ``weights`` is the core's live weight array."""

    def __init__(self, core: CoreImage, weights: np.ndarray, generator: str) -> None:
        self.core, self.weights = core, weights
        n_ax, n_n = len(core.axons), core.n_neurons
        axon = synapse_axons(core)
        self.profiles, self.groups, self.rnds, self.index = [], [], [], []
        for p, row in enumerate(core.learn_profiles):
            prof = profile_from_tables(row, core.learn_products, p)
            idx = np.flatnonzero(core.learn_synapses["profile"] == p)
            lx = core.learn_x[p * n_ax:(p + 1) * n_ax]
            ly = core.learn_y[p * n_n:(p + 1) * n_n]
            g = PlasticGroup(axon[idx], core.synapses["neuron"][idx], weights[idx],
                             core.learn_synapses["tag_d"][idx], core.learn_synapses["tag_t"][idx],
                             np.stack([lx["x1"], lx["x2"]]), np.stack([ly["y1"], ly["y2"],
                                                                      ly["y3"]]),
                             lx["tx"].astype(np.int64), ly["ty"].astype(np.int64))
            ridx = np.flatnonzero(core.learn_synapses["profile"] == LEARN_REWARD + p)
            g.reward_pre = axon[ridx]
            g.reward_post = core.synapses["neuron"][ridx].astype(np.int64)
            rnd = LearningRandom.lava(int(row["rng_seed"])) if generator == "lava" else \
                LearningRandom.hardware([int(s) for s in core.learn_rng[p]["state"]])
            self.profiles.append(prof)
            self.groups.append(g)
            self.rnds.append(rnd)
            self.index.append(idx)

    def step(self, axon_spikes: np.ndarray, neuron_spikes: np.ndarray, time_step: int) -> int:
        """Run step ``time_step`` (1-based) of every profile; returns synapse updates made."""
        updates = 0
        for prof, g, rnd, idx in zip(self.profiles, self.groups, self.rnds, self.index):
            record_pre(g, prof, axon_spikes, time_step)
            rnd.advance_traces()
            record_post(g, prof, neuron_spikes, time_step, rnd)
            record_reward(g, prof, axon_spikes)
            rnd.advance_traces()
            if is_epoch_end(time_step, prof.t_epoch):
                learn(g, prof, time_step, rnd)
                self.weights[idx] = g.w
                updates += len(idx)
        return updates

    def tables(self) -> dict[str, np.ndarray]:
        """The core's learning state in table form (weights are in ``self.weights``)."""
        core = self.core
        syn = core.learn_synapses.copy()
        lx = np.zeros(len(core.learn_x), LEARN_X_DTYPE)
        ly = np.zeros(len(core.learn_y), LEARN_Y_DTYPE)
        n_ax, n_n = len(core.axons), core.n_neurons
        for p, (g, idx) in enumerate(zip(self.groups, self.index)):
            syn["tag_d"][idx] = g.d
            syn["tag_t"][idx] = g.t
            sl = lx[p * n_ax:(p + 1) * n_ax]
            sl["x1"], sl["x2"], sl["tx"] = g.x[0], g.x[1], g.tx
            sl = ly[p * n_n:(p + 1) * n_n]
            sl["y1"], sl["y2"], sl["y3"], sl["ty"] = g.y[0], g.y[1], g.y[2], g.ty
        rng = core.learn_rng.copy()
        for p, rnd in enumerate(self.rnds):
            if rnd.generator == "hardware":
                rng[p]["state"] = rnd.states
        return {"learn_synapses": syn, "learn_x": lx, "learn_y": ly, "learn_rng": rng}
