"""The image fuzzer: CRC-valid, field-aware mutations of ``.sfi`` images, run on every engine.

A damaged file is easy to refuse (its CRCs fail).  The hard cases are files whose CRCs are valid
and whose *contents* are wrong, so this fuzzer mutates images the way a hostile or buggy tool
would and re-encodes them with correct CRCs:

* **field edits** — one value of one table set to an edge of its dtype or of its register
  range (:mod:`spikefab.arch.fields`), just outside it, or random;
* **table resizes** — a table truncated, emptied, or grown with copies of its rows;
* **manifest edits** — a size, channel base or slice set to 0, 2**26, 2**32 - 1, -1, a string,
  or another input's channels;
* **section swaps** — two sections' payloads exchanged (same or different tables).

Each mutated file is loaded; an accepted image runs on the ``arch`` reference and both emulator
engines.  The contract (issue #15): every file is either refused with a
:class:`~spikefab.errors.SpikefabError` or runs to identical spikes and final states on all
three, in bounded time and memory.  ``python -m spikefab.fuzz --count N`` prints the counts and
can write them into ``docs/reliability.md`` (``--report``).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import struct
import sys
import time
import traceback
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spikefab.arch.fields import fields_of, fold_into_range
from spikefab.arch.image import (AXON_DTYPE, FORMAT_VERSION, MAGIC, NEURON_DTYPE, PROFILE_DTYPE,
                                   ROUTE_DTYPE, ROUTE_PTR_DTYPE, STATE_DTYPE, SYNAPSE_DTYPE,
                                   CoreImage, Image)
from spikefab.arch.target import Target, load_target
from spikefab.errors import SpikefabError
from spikefab.fuzz_learning import (TABLES as _LEARN_TABLES, edit_learning_field,
                                    edit_learning_manifest, seed_plastic_image)

__all__ = ["FuzzStats", "seed_image", "mutate", "encode", "check_one", "fuzz", "main"]

STEPS = 8
SLOW_S = 10.0
BIG_BYTES = 2 << 30
KINDS = ("field", "resize", "manifest", "swap")


# ---------------------------------------------------------------------------- seed images
def seed_image(rng: np.random.Generator, target: Target) -> Image:
    """A small valid image for ``target``: 1-4 cores, delays, classes, host and output routes."""
    topo, lim = target.topology, target.core
    sites = [(c, x, y, s) for c in range(topo.chiplets) for x in range(topo.mesh_x)
             for y in range(topo.mesh_y) for s in range(topo.cores_per_router)]
    n_cores = int(rng.integers(1, min(4, len(sites)) + 1))
    addrs = [sites[int(i)] for i in rng.choice(len(sites), n_cores, replace=False)]
    sizes = [int(rng.integers(1, 9)) for _ in addrs]
    n_axons = [int(rng.integers(1, 6)) for _ in addrs]
    n_in, n_out = int(rng.integers(1, 5)), int(rng.integers(1, 5))

    def routes(n_src: int) -> tuple[np.ndarray, np.ndarray]:
        counts = rng.integers(0, 3, n_src)
        ptr = np.zeros(n_src, ROUTE_PTR_DTYPE)
        ptr["count"] = counts
        ptr["start"] = np.concatenate([[0], np.cumsum(counts)[:-1]])
        r = np.zeros(int(counts.sum()), ROUTE_DTYPE)
        for k in range(len(r)):
            if rng.random() < 0.3:
                r[k] = (1, 0, 0, 0, 0, int(rng.integers(n_out)))
            else:
                ci = int(rng.integers(n_cores))
                ch, x, y, s = addrs[ci]
                r[k] = (0, s, ch, x, y, int(rng.integers(n_axons[ci])))
        return ptr, r

    cores = []
    for ci, (ch, x, y, s) in enumerate(addrs):
        n = sizes[ci]
        n_cls = int(rng.integers(1, lim.acc_classes + 1))
        n_prof = int(rng.integers(1, min(3, lim.profiles) + 1))
        prof = np.zeros(n_prof, PROFILE_DTYPE)
        prof["du"] = rng.choice([0, 410, 2048, 4095], n_prof)
        prof["dv"] = rng.choice([0, 163, 1024], n_prof)
        prof["vth"] = rng.integers(1, 80, n_prof)
        prof["reset_mode"] = rng.integers(0, 2, n_prof)
        prof["refractory"] = np.minimum(rng.choice([0, 2], n_prof), lim.max_refractory)
        prof["theta_inc"] = rng.choice([0, 64], n_prof) * lim.adaptive_threshold
        prof["theta_decay"] = rng.choice([0, 100], n_prof)
        neu = np.zeros(n, NEURON_DTYPE)
        neu["profile"] = rng.integers(0, n_prof, n)
        neu["bias_mant"] = rng.integers(-100, 400, n)
        neu["bias_exp"] = rng.integers(0, 4, n)
        counts = rng.integers(0, 5, n_axons[ci])
        ax = np.zeros(n_axons[ci], AXON_DTYPE)
        ax["count"] = counts
        ax["start"] = np.concatenate([[0], np.cumsum(counts)[:-1]])
        syn = np.zeros(int(counts.sum()), SYNAPSE_DTYPE)
        syn["neuron"] = rng.integers(0, n, len(syn))
        syn["weight"] = rng.integers(-256, 256, len(syn))
        syn["delay"] = rng.integers(0, min(lim.max_delay, 3) + 1, len(syn))
        syn["acc_class"] = rng.integers(0, n_cls, len(syn))
        ptr, r = routes(n)
        cores.append(CoreImage(chiplet=ch, x=x, y=y, slot=s,
                               acc_exps=rng.integers(-3, 3, n_cls).astype(np.int8),
                               profiles=prof, neurons=neu, state=np.zeros(n, STATE_DTYPE),
                               axons=ax, synapses=syn, route_ptr=ptr, routes=r))
    hptr, hroutes = routes(n_in)
    pops = {f"p{ci}": {"size": n, "slices": [{"core": ci, "offset": 0, "count": n, "start": 0}]}
            for ci, n in enumerate(sizes)}
    manifest = {"inputs": {"x": {"size": n_in, "channel_base": 0}},
                "outputs": {"y": {"size": n_out, "channel_base": 0}}, "populations": pops}
    return Image(target=target.name, cores=cores, host_route_ptr=hptr, host_routes=hroutes,
                 manifest=manifest)


# ---------------------------------------------------------------------------- encoding
def encode(sections: list[tuple[str, bytes]]) -> bytes:
    """An ``.sfi`` file of these sections with every CRC correct (docs/image-format.md)."""
    head = MAGIC + struct.pack("<HHI", FORMAT_VERSION, 0, len(sections))
    parts = [head, struct.pack("<I", zlib.crc32(head))]
    for name, payload in sections:
        nb = name.encode()
        parts += [struct.pack("<H", len(nb)) + nb,
                  struct.pack("<QI", len(payload), zlib.crc32(payload)), payload]
    return b"".join(parts)


_TABLE_OF = {"profiles": PROFILE_DTYPE, "neurons": NEURON_DTYPE, "state": STATE_DTYPE,
             "axons": AXON_DTYPE, "synapses": SYNAPSE_DTYPE, "route_ptr": ROUTE_PTR_DTYPE,
             "routes": ROUTE_DTYPE, "acc_exps": np.dtype("i1"), **_LEARN_TABLES}
_EDGES = (0, 1, -1, 2, 3, 7, 8, 15, 16, 63, 64, 255, 256, 4095, 4096, 65535, 65536,
          (1 << 17) - 1, 1 << 17, (1 << 23) - 1, 1 << 23, 1 << 24, (1 << 31) - 1, 1 << 31,
          (1 << 32) - 1, 1 << 26)
_MANIFEST_VALUES = (0, 1, 2, 3, 7, 1 << 16, 1 << 26, (1 << 32) - 1, 1 << 32, -1, "2", None, 1.5)


def _table_name(section: str) -> str:
    return "routes" if section == "host/routes" else (
        "route_ptr" if section == "host/route_ptr" else section.rsplit("/", 1)[-1])


def _edit_field(arr: np.ndarray, table: str, rng: np.random.Generator) -> np.ndarray:
    arr = arr.copy()
    if not len(arr):
        return arr
    names = arr.dtype.names or (None,)
    name = names[int(rng.integers(len(names)))]
    col = arr if name is None else arr[name]
    info = np.iinfo(col.dtype)
    f = next((x for x in fields_of(table) if x.name == name), None)
    cands = list(_EDGES) + [info.min, info.max]
    if f is not None:
        cands += [f.lo, f.hi, f.lo - 1, f.hi + 1]
    r = rng.random()
    if r < 0.4:          # a legal-looking value: the run must then agree on every engine
        v = int(rng.integers(f.lo, f.hi, endpoint=True)) if f is not None else int(
            rng.integers(0, 9))
    elif r < 0.85:
        v = int(cands[int(rng.integers(len(cands)))])
    else:
        v = int(rng.integers(info.min, info.max, endpoint=True))
    v = min(max(v, int(info.min)), int(info.max))
    i = int(rng.integers(len(arr)))
    if name is None:
        arr[i] = v
    else:
        arr[name][i] = v
    return arr


def _resize(arr: np.ndarray, table: str, rng: np.random.Generator) -> np.ndarray:
    r = rng.random()
    if r < 0.3 or not len(arr):
        extra = int(rng.integers(1, 9))
        raw = rng.integers(0, 256, extra * arr.dtype.itemsize, dtype=np.uint8).tobytes()
        new = np.frombuffer(raw, dtype=arr.dtype)
        if table in ("profiles", "neurons", "state", "synapses"):
            new = fold_into_range(table, new)
        return np.concatenate([arr, new])
    if r < 0.5:
        return arr[:0]
    if r < 0.8:
        return arr[:int(rng.integers(len(arr)))]
    return np.resize(arr, len(arr) * int(rng.integers(2, 5)))


def _edit_manifest(manifest: dict, rng: np.random.Generator) -> dict:
    m = json.loads(json.dumps(manifest))
    slots = []
    for key in ("inputs", "outputs"):
        for name, spec in m.get(key, {}).items():
            slots += [(spec, "size"), (spec, "channel_base")]
    for pop in m.get("populations", {}).values():
        slots.append((pop, "size"))
        for s in pop.get("slices", []):
            slots += [(s, k) for k in ("core", "offset", "count", "start")]
    r = rng.random()
    if r < 0.1 and m.get("inputs"):               # a second input on the first one's channels
        first = next(iter(m["inputs"].values()))
        m["inputs"]["x2"] = dict(first)
    elif r < 0.15:
        m["target"] = str(rng.choice(["loihi1", "darwin3", "nope", ""]))
    elif r < 0.2:
        m["cores"] = m.get("cores", [])[:-1]
    elif slots:
        spec, key = slots[int(rng.integers(len(slots)))]
        spec[key] = _MANIFEST_VALUES[int(rng.integers(len(_MANIFEST_VALUES)))]
    return m


def mutate(image: Image, rng: np.random.Generator) -> tuple[str, bytes]:
    """One CRC-valid mutation of ``image``: ``(kind, file bytes)``."""
    sections = image.sections()
    kind = KINDS[int(rng.integers(len(KINDS)))]
    if kind == "manifest":
        m = json.loads(sections[0][1])
        plastic = "learning" in m and rng.random() < 0.5      # plastic images: learning object
        m = edit_learning_manifest(m, rng) if plastic else _edit_manifest(m, rng)
        sections[0] = ("manifest", json.dumps(m).encode())
        return kind, encode(sections)
    if kind == "swap":
        i, j = (int(v) for v in rng.choice(np.arange(1, len(sections)), 2, replace=True))
        (a, pa), (b, pb) = sections[i], sections[j]
        sections[i], sections[j] = (a, pb), (b, pa)
        return kind, encode(sections)
    learn = [j for j, (n, _) in enumerate(sections) if "/learn_" in n]
    k = int(rng.integers(1, len(sections)))
    if learn and rng.random() < 0.6:              # plastic images: mostly their learning tables
        k = learn[int(rng.integers(len(learn)))]
    name, payload = sections[k]
    table = _table_name(name)
    dtype = _TABLE_OF[table]
    arr = np.frombuffer(payload, dtype=dtype)
    if kind == "field":
        arr = (edit_learning_field if table in _LEARN_TABLES else _edit_field)(arr, table, rng)
    else:
        arr = _resize(arr, table, rng)
    sections[k] = (name, arr.tobytes())
    return kind, encode(sections)


# ---------------------------------------------------------------------------- one case
@dataclass
class FuzzStats:
    """Counts of one fuzz run (what docs/reliability.md reports)."""

    images: int = 0
    refused_on_load: int = 0
    refused_on_run: int = 0
    accepted: int = 0
    tracebacks: int = 0
    slow: int = 0
    big: int = 0
    divergent: int = 0
    plastic: int = 0                #: images mutated from a plastic seed (learning sections)
    by_kind: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})
    examples: list[str] = field(default_factory=list)
    max_seconds: float = 0.0
    seconds: float = 0.0

    def note(self, what: str) -> None:
        if len(self.examples) < 20:
            self.examples.append(what)


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def check_one(data: bytes, rng: np.random.Generator, stats: FuzzStats, label: str) -> None:
    """Load, run and compare one file; update ``stats``."""
    from spikefab.arch.reference import run_reference
    from spikefab.emulator import simulate
    stats.images += 1
    t0 = time.perf_counter()
    try:
        image = Image.from_bytes(data, where=label)
    except SpikefabError:
        stats.refused_on_load += 1
        return
    except Exception:  # noqa: BLE001 - what the fuzzer is looking for
        stats.tracebacks += 1
        stats.note(f"{label} load: {traceback.format_exc().splitlines()[-1]}")
        return
    try:
        inputs = {n: (rng.random((STEPS, int(s["size"]))) < 0.4).astype(np.uint8)
                  for n, s in image.inputs.items()}
        fun = simulate(image, inputs, STEPS, "functional")
        cyc = simulate(image, inputs, STEPS, "cycle")
        ref = run_reference(image, inputs, STEPS)
    except SpikefabError:
        stats.refused_on_run += 1
        return
    except Exception:  # noqa: BLE001
        stats.tracebacks += 1
        stats.note(f"{label} run: {traceback.format_exc().splitlines()[-1]}")
        return
    finally:
        dt = time.perf_counter() - t0
        stats.max_seconds = max(stats.max_seconds, dt)
        if dt > SLOW_S:
            stats.slow += 1
            stats.note(f"{label}: {dt:.1f} s")
    stats.accepted += 1
    if not (fun.same_behaviour(ref) and cyc.same_behaviour(ref)):
        stats.divergent += 1
        stats.note(f"{label}: emulator differs from the reference")


def fuzz(count: int, seed: int = 0, *, targets=("loihi1", "darwin3", "ice40-up5k"),
         progress: bool = False, plastic: int = 8,
         plastic_targets=("loihi1", "ecp5-85k")) -> FuzzStats:
    """Mutate ``count`` images (seeds drawn from ``targets``, plus ``plastic`` compiled plastic
    images for ``plastic_targets``) and check each one."""
    rng = np.random.default_rng(seed)
    tg = [load_target(t) for t in targets]
    seeds = [seed_image(rng, tg[k % len(tg)]) for k in range(24)]
    seeds += [seed_plastic_image(rng, plastic_targets[k % len(plastic_targets)])
              for k in range(plastic)]
    check_one(seeds[0].to_bytes(), rng, FuzzStats(), "warm-up")   # JIT compile, not timed
    stats = FuzzStats()
    start = time.perf_counter()
    for k in range(count):
        base = seeds[int(rng.integers(len(seeds)))]
        kind, data = mutate(base, rng)
        if rng.random() < 0.25:                    # stack a second mutation now and then
            try:
                kind2, data = mutate(Image.from_bytes(data), rng)
            except SpikefabError:
                pass
        stats.by_kind[kind] += 1
        stats.plastic += any(c.plastic for c in base.cores)
        check_one(data, rng, stats, f"image {k} ({kind})")
        if _rss() > BIG_BYTES and stats.big == 0:
            stats.big += 1
            stats.note(f"image {k} ({kind}): process memory {_rss() / 2**30:.1f} GiB")
        if progress and (k + 1) % 500 == 0:
            print(f"{k + 1}/{count}: {stats.tracebacks} tracebacks, {stats.divergent} divergent",
                  file=sys.stderr, flush=True)
    stats.seconds = time.perf_counter() - start
    return stats


# ---------------------------------------------------------------------------- report
BEGIN, END = "<!-- fuzz:begin -->", "<!-- fuzz:end -->"


def render(stats: FuzzStats, count: int, seed: int, plastic: int = 8) -> str:
    """The measured block of docs/reliability.md."""
    rows = [("images mutated (CRC-valid)", stats.images),
            ("of which from plastic seeds (learning sections)", stats.plastic),
            ("refused on load (ImageError)", stats.refused_on_load),
            ("refused at run (typed error)", stats.refused_on_run),
            ("accepted and run on reference + functional + cycle", stats.accepted),
            ("**tracebacks**", stats.tracebacks),
            (f"**runs over {SLOW_S:g} s**", stats.slow),
            ("**runs over 2 GiB (process peak RSS)**", stats.big),
            ("**accepted but emulator != reference**", stats.divergent)]
    opt = "" if plastic == 8 else f" --plastic {plastic}"
    lines = [BEGIN, "", f"`python -m spikefab.fuzz --count {count} --seed {seed}{opt}` "
             f"({stats.seconds:.0f} s, slowest image {stats.max_seconds:.2f} s, peak RSS "
             f"{_rss() / 2**20:.0f} MiB):", "", "| | count |", "|---|---:|"]
    lines += [f"| {k} | {v:,} |" for k, v in rows]
    lines += ["", "Mutations: " + ", ".join(f"{k} {v:,}" for k, v in stats.by_kind.items()) + "."]
    if stats.examples:
        lines += ["", "Findings:", ""] + [f"- {e}" for e in stats.examples]
    lines += ["", END]
    return "\n".join(lines)


def write_report(path: Path, block: str) -> None:
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text,
                      flags=re.S)
    else:
        text = text + ("\n" if text else "") + block + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m spikefab.fuzz", description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--report", type=Path, help="write the counts into this markdown file")
    p.add_argument("--plastic", type=int, default=8,
                   help="compiled plastic seed images (learning tables) next to the 24 static")
    args = p.parse_args(argv)
    stats = fuzz(args.count, args.seed, progress=True, plastic=args.plastic)
    block = render(stats, args.count, args.seed, args.plastic)
    print(block)
    if args.report:
        write_report(args.report, block)
    bad = stats.tracebacks + stats.slow + stats.big + stats.divergent
    return 1 if bad else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
