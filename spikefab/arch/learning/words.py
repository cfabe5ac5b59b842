"""Engine-native words of the learning engine's memories and registers, and its load sequence.

The RTL engine (:mod:`spikefab.rtl.learning.engine`) is built for capacities (:class:`EngineCaps`: slots, profiles,
plastic synapses, products per core), not for one image; an image's learning state reaches it
as writes ``(table, index, word)`` through its memory port, the same way the cores' other
tables arrive.  :func:`load_writes` makes that sequence from an
:class:`~spikefab.arch.learning.layout.EngineLayout`; the ``pack_*`` functions are the one
definition of every word's bit layout, used by the engine for memory initialisation and by
hosts and tests to pack and unpack.  The contract owns them (not the RTL) because a host
packs them without Amaranth; on the fabric's memory port table ``i`` below is core table
:data:`spikefab.arch.memory_map.CoreTable.LEARN_SYNAPSES` ``+ i`` and every word travels as
one 16-byte little-endian entry (each fits 128 bits).

Tables (engine ``mem_table``):

=====  ===========  ==============================================================================
id     name         word (LSB first)
=====  ===========  ==============================================================================
0      synapses     pre axon (ab bits) | post neuron (nb) | w (10, signed) | d (10) | t (10, signed)
                    | entry (eb bits, only when ``caps.entries``: the synapse's entry in the
                    core's synapse table, where a core writes the learned weight back)
1      pre traces   x1 (7) | x2 (7) | tx (6); index ``profile * caps.axons + axon``
2      post traces  y1 (7) | y2 (7) | y3 (7) | ty (6); index ``profile * caps.neurons + neuron``
3      generator    one xorshift64 state (64); index ``profile * 5 + stream``
4      products     target (2) | dependency (2) | mantissa (4) | exp (4) | var x4 (4 each, 15 unused)
                    | const x4 (16 each) | sgn x4 (1 each)
5      profiles     index ``profile * 6``: t_epoch (6) | sign mode (2) | reward (1) | targets (3) |
                    decimate on (1) | decimate mask (16) | synapse start (16) | count (16) |
                    product start (16) | count (16);  ``profile * 6 + 1 + i``: trace i's
                    active (1) | significand (53) | shift 54 (1) | impulse int (7) | frac (9)
6      config       index 0: axons (16) | neurons (16) | profiles (8) of the core
=====  ===========  ==============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from spikefab.arch.image import LEARN_STATIC
from spikefab.arch.memory_map import CoreTable

__all__ = ["EngineCaps", "TABLES", "VAR_NONE", "PRODUCT_BITS", "PROFILE_WORDS",
           "MAX_CORE_PRODUCTS", "bits",
           "pack_synapse", "unpack_synapse", "pack_x", "unpack_x", "pack_y", "unpack_y",
           "pack_product", "profile_words", "load_writes", "core_table"]

TABLES = {"synapses": 0, "x": 1, "y": 2, "rng": 3, "products": 4, "profiles": 5, "config": 6}
VAR_NONE = 15
PRODUCT_BITS = 2 + 2 + 4 + 4 + 16 + 64 + 4
PROFILE_WORDS = 6
#: rule products one core's engine can address: a profile word's product start and count are
#: 16-bit fields, so a core's product memory holds at most 2^16 - 1 rows for all its profiles
MAX_CORE_PRODUCTS = (1 << 16) - 1


def bits(n: int) -> int:
    return max(1, (max(n, 1) - 1).bit_length())


@dataclass(frozen=True)
class EngineCaps:
    """What one core's engine is built to hold."""

    axons: int
    neurons: int
    profiles: int
    synapses: int
    products: int
    #: entries of the core's synapse table (0: the engine stands alone, its synapse words carry
    #: no entry index and it writes no weight back)
    entries: int = 0

    @property
    def eb(self) -> int:
        """Bits of a synapse word's core entry index (0 without ``entries``)."""
        return bits(self.entries) if self.entries else 0

    @property
    def ab(self) -> int:
        return bits(self.axons)

    @property
    def nb(self) -> int:
        return bits(self.neurons)


def pack_synapse(caps: EngineCaps, pre, post, w, d, t, entry: int = 0) -> int:
    o = caps.ab + caps.nb
    return (int(pre) | (int(post) << caps.ab) | ((int(w) & 1023) << o)
            | ((int(d) & 1023) << (o + 10)) | ((int(t) & 1023) << (o + 20))
            | ((int(entry) << (o + 30)) if caps.eb else 0))


def _s10(v: int) -> int:
    return v - 1024 if v & 512 else v


def unpack_synapse(caps: EngineCaps, word: int) -> tuple[int, int, int]:
    """(w, d, t) of a synapse word."""
    o = caps.ab + caps.nb
    return _s10((word >> o) & 1023), _s10((word >> (o + 10)) & 1023), \
        _s10((word >> (o + 20)) & 1023)


def pack_x(row) -> int:
    return int(row["x1"]) | (int(row["x2"]) << 7) | (int(row["tx"]) << 14)


def unpack_x(word: int) -> tuple[int, int, int]:
    return word & 127, (word >> 7) & 127, (word >> 14) & 63


def pack_y(row) -> int:
    return (int(row["y1"]) | (int(row["y2"]) << 7) | (int(row["y3"]) << 14)
            | (int(row["ty"]) << 21))


def unpack_y(word: int) -> tuple[int, int, int, int]:
    return word & 127, (word >> 7) & 127, (word >> 14) & 127, (word >> 21) & 63


class _Packer:
    def __init__(self) -> None:
        self.word, self.pos = 0, 0

    def put(self, v: int, n: int) -> "_Packer":
        self.word |= (int(v) & ((1 << n) - 1)) << self.pos
        self.pos += n
        return self


def pack_product(row) -> int:
    pk = _Packer().put(row["target"], 2).put(row["dependency"], 2).put(row["s_mantissa"], 4) \
        .put(row["s_exp"], 4)
    for k in range(4):
        pk.put(VAR_NONE if row["var"][k] == LEARN_STATIC else row["var"][k], 4)
    for k in range(4):
        pk.put(row["const"][k], 16)
    for k in range(4):
        pk.put(row["sgn"][k], 1)
    return pk.word


def profile_words(lay, p: int) -> list[int]:
    """The six profile-register words of profile ``p`` of a layout."""
    dec = lay.decimate[p]
    first = _Packer().put(lay.t_epoch[p], 6).put(lay.sign_mode[p], 2).put(lay.reward[p], 1) \
        .put(lay.targets[p], 3).put(dec >= 0, 1).put((1 << max(dec, 0)) - 1, 16) \
        .put(lay.syn_range[p][0], 16).put(lay.syn_range[p][1], 16) \
        .put(lay.prod_range[p][0], 16).put(lay.prod_range[p][1], 16).word
    out = [first]
    for i in range(5):
        out.append(_Packer().put(lay.active[p][i], 1).put(lay.sig[p][i], 53)
                   .put(lay.sh54[p][i], 1).put(lay.imp_int[p][i], 7)
                   .put(lay.imp_frac[p][i], 9).word)
    return out


def load_writes(lay, caps: EngineCaps) -> list[tuple[int, int, int]]:
    """Every ``(table, index, word)`` write that loads ``lay`` into an engine built for ``caps``."""
    need = {"axons": lay.n_axons, "neurons": lay.n_neurons, "profiles": lay.n_profiles,
            "synapses": len(lay.pre), "products": len(lay.products)}
    if caps.entries:
        need["entries"] = int(lay.syn_index.max()) + 1 if len(lay.syn_index) else 0
    for k, n in need.items():
        if n > getattr(caps, k):
            raise ValueError(f"learning engine holds {getattr(caps, k)} {k}, layout needs {n}")
    out = [(TABLES["config"], 0, lay.n_axons | (lay.n_neurons << 16) | (lay.n_profiles << 32))]
    out += [(TABLES["synapses"], j, pack_synapse(caps, *v))
            for j, v in enumerate(zip(lay.pre, lay.post, lay.w, lay.d, lay.t, lay.syn_index))]
    for p in range(lay.n_profiles):
        out += [(TABLES["x"], p * caps.axons + a, pack_x(lay.x[p * lay.n_axons + a]))
                for a in range(lay.n_axons)]
        out += [(TABLES["y"], p * caps.neurons + n, pack_y(lay.y[p * lay.n_neurons + n]))
                for n in range(lay.n_neurons)]
        out += [(TABLES["rng"], p * 5 + s, lay.rng[p][s]) for s in range(5)]
        out += [(TABLES["profiles"], p * PROFILE_WORDS + k, w)
                for k, w in enumerate(profile_words(lay, p))]
    out += [(TABLES["products"], q, pack_product(r)) for q, r in enumerate(lay.products)]
    return out


def core_table(name: str) -> int:
    """The fabric memory-port table id of engine table ``name`` (a key of :data:`TABLES`)."""
    return int(CoreTable.LEARN_SYNAPSES) + TABLES[name]
