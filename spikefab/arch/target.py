"""Target profiles: every limit, width, timing figure and energy cost of a chip, with sources.

A :class:`Target` is loaded from a TOML profile shipped in ``spikefab/arch/profiles``.  It is
the only place hardware numbers live: the compiler checks its limits, the cycle engine and the RTL
take their timing from it, the energy model takes its table from it.  All targets share one neuron
arithmetic (Loihi's widths, see :mod:`spikefab.arch.neuron`); they differ in capacity, topology,
timing and energy.

Every figure carries a source: a ``[sources]`` table maps either a whole section (``timing``) or a
single key (``energy.synop_pj``) to the publication or decision it comes from.  A profile with an
unknown or missing key, a key without a source, or an impossible value is refused with a
:class:`~spikefab.errors.TargetError` naming the file and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from spikefab.arch.errors import TargetError
from spikefab.arch.mesh import ROUTINGS

__all__ = ["Target", "Topology", "CoreLimits", "Timing", "Energy", "Learning", "load_target",
           "target_names"]

PROFILE_PACKAGE = "spikefab.arch.profiles"


@dataclass(frozen=True)
class Topology:
    """Chiplet grid and core mesh.

    Cores sit at routers; a router serves ``cores_per_router`` cores (Loihi: 4 cores per tile).
    Routers of all chiplets form one global 2D mesh of
    ``(chiplets_x * mesh_x) x (chiplets_y * mesh_y)`` routers whose links that cross a chiplet edge
    are the (slower) inter-chiplet links.  ``routing`` names the routing algorithm
    (:data:`spikefab.arch.mesh.ROUTINGS`; optional, XY by default).
    """

    chiplets_x: int
    chiplets_y: int
    mesh_x: int
    mesh_y: int
    cores_per_router: int
    routing: str = "xy"

    @property
    def chiplets(self) -> int:
        return self.chiplets_x * self.chiplets_y

    @property
    def routers_per_chiplet(self) -> int:
        return self.mesh_x * self.mesh_y

    @property
    def cores_per_chiplet(self) -> int:
        return self.routers_per_chiplet * self.cores_per_router

    @property
    def cores(self) -> int:
        return self.chiplets * self.cores_per_chiplet

    @property
    def global_x(self) -> int:
        return self.chiplets_x * self.mesh_x

    @property
    def global_y(self) -> int:
        return self.chiplets_y * self.mesh_y


@dataclass(frozen=True)
class CoreLimits:
    """Per-core memory capacities the compiler must respect."""

    neurons: int           #: neuron (compartment) slots
    synapses: int          #: synapse memory entries (one per (axon, target neuron) pair)
    input_axons: int       #: axon-table entries (distinct (source neuron, this core) pairs + host channels)
    route_entries: int     #: output route-table entries (one per (spiking neuron, destination core))
    profiles: int          #: shared neuron profiles (du, dv, vth, reset, refractory, adaptation)
    acc_classes: int       #: dendritic accumulators per neuron (one per weight-exponent class)
    max_delay: int         #: largest synaptic delay in time steps (ring buffer has max_delay+2 slots)
    accumulator_bits: int  #: signed width of a dendritic accumulator; the compiler proves no overflow
    #: longest refractory period in steps (0: the cores have no refractory counter); optional
    #: in a profile, default: Loihi's 8-bit counter
    max_refractory: int = 255
    #: 1 if the cores have the adaptive-threshold extension (theta), else 0; optional, default 1
    adaptive_threshold: int = 1


@dataclass(frozen=True)
class Timing:
    """Cycle costs of the microarchitecture (docs/microarchitecture.md)."""

    clock_mhz: float
    neuron_cycles: int            #: cycles of the update engine per neuron
    synapse_cycles: int           #: cycles of the synapse engine per synapse entry
    packet_cycles: int            #: cycles of the synapse engine to accept a packet (axon lookup)
    fifo_depth: int               #: router input FIFO depth in packets (also core injection/ejection)
    link_latency: int             #: cycles from grant to arrival on an on-chiplet link
    chiplet_link_latency: int     #: cycles from grant to arrival on an inter-chiplet link
    chiplet_link_cycles: int      #: cycles an inter-chiplet link is busy per packet (serialization)
    barrier_cycles: int           #: chiplet-level time-step barrier
    wafer_barrier_cycles: int     #: extra wafer-level barrier when more than one chiplet is used


@dataclass(frozen=True)
class Energy:
    """Energy table (picojoules per event, milliwatts static)."""

    synop_pj: float
    neuron_active_pj: float
    neuron_inactive_pj: float
    spike_pj: float
    hop_ew_pj: float
    hop_ns_pj: float
    chiplet_hop_pj: float
    static_mw: float


@dataclass(frozen=True)
class Learning:
    """The learning engine of a core (:mod:`spikefab.arch.learning`); all 0: no learning engine.

    Optional section: a profile without ``[learning]`` has no on-chip learning.
    """

    profiles: int = 0             #: learning profiles per core (rules with their trace parameters)
    plastic_synapses: int = 0     #: synapse entries per core that may be plastic (tags memory)
    trace_entries: int = 0        #: trace words per core: profiles x (input axons + neurons)
    update_cycles: int = 1        #: learning-engine cycles per plastic synapse at an epoch end
    trace_cycles: int = 1         #: cycles per trace word decayed at an epoch end
    update_pj: float = 0.0        #: energy per plastic synapse update
    products: int = 0             #: rule products per core (0: no limit of their own)
    #: how the engines charge the epoch phase: ``per_update`` (``update_cycles`` per plastic
    #: synapse + ``trace_cycles`` per trace word and epoch step) or ``rtl_engine`` (the spikefab
    #: RTL engine's cycles: spike records per axon hit and spike, then
    #: :func:`spikefab.arch.learning.layout.epoch_cycles`; docs/microarchitecture.md 14.1)
    cycle_model: str = "per_update"


@dataclass(frozen=True)
class Target:
    """A chip the compiler can map onto and the backends can run."""

    name: str
    description: str
    topology: Topology
    core: CoreLimits
    timing: Timing
    energy: Energy
    sources: dict[str, str] = field(compare=False)
    path: str = field(default="", compare=False)
    learning: Learning = field(default_factory=Learning)

    # Neuron arithmetic widths are shared by every target (Loihi's); kept here so that nothing
    # else hard-codes them.
    state_bits: int = 24
    decay_bits: int = 12
    threshold_bits: int = 17
    weight_bits: int = 9        # 8-bit magnitude + sign (mixed-sign range -256..255)
    weight_exp_min: int = -8
    weight_exp_max: int = 7
    bias_mant_bits: int = 13
    bias_exp_bits: int = 3
    delay_bits: int = 6

    @property
    def total_neurons(self) -> int:
        return self.topology.cores * self.core.neurons

    @property
    def total_synapses(self) -> int:
        return self.topology.cores * self.core.synapses

    def source_of(self, section: str, key: str) -> str:
        """Where a figure comes from (key-level source, else the section's)."""
        return self.sources.get(f"{section}.{key}", self.sources.get(section, ""))

    def rows(self) -> list[tuple[str, str, Any, str]]:
        """(section, key, value, source) for every figure, for tables and docs."""
        out = []
        for section in ("topology", "core", "timing", "energy", "learning"):
            obj = getattr(self, section)
            for f in fields(obj):
                out.append((section, f.name, getattr(obj, f.name), self.source_of(section, f.name)))
        return out


_SECTIONS: dict[str, type] = {"topology": Topology, "core": CoreLimits, "timing": Timing, "energy": Energy,
                              "learning": Learning}
_OPTIONAL_SECTIONS = {"learning"}

# (section, key) -> (minimum, maximum) for integers; floats only need >= 0 (or > 0 for clock).
#: (section, key) -> allowed values of the text figures
_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {("topology", "routing"): tuple(ROUTINGS),
                                                    ("learning", "cycle_model"): (
                                                        "per_update", "rtl_engine")}
_CHOICE_DEFAULT_SOURCE = "spikefab default (docs/microarchitecture.md section 3)"

_RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("topology", "chiplets_x"): (1, 64), ("topology", "chiplets_y"): (1, 64),
    ("topology", "mesh_x"): (1, 256), ("topology", "mesh_y"): (1, 256),
    ("topology", "cores_per_router"): (1, 8),
    ("core", "neurons"): (1, 65536), ("core", "synapses"): (1, 1 << 24),
    ("core", "input_axons"): (1, 1 << 20), ("core", "route_entries"): (1, 1 << 20),
    ("core", "profiles"): (1, 256), ("core", "acc_classes"): (1, 16), ("core", "max_delay"): (0, 63),
    ("core", "accumulator_bits"): (18, 32),
    ("core", "max_refractory"): (0, 255), ("core", "adaptive_threshold"): (0, 1),
    ("timing", "clock_mhz"): (1e-3, 1e4), ("timing", "neuron_cycles"): (1, 64),
    ("timing", "synapse_cycles"): (1, 64), ("timing", "packet_cycles"): (1, 64),
    ("timing", "fifo_depth"): (1, 1024), ("timing", "link_latency"): (1, 64),
    ("timing", "chiplet_link_latency"): (1, 4096), ("timing", "chiplet_link_cycles"): (1, 256),
    ("timing", "barrier_cycles"): (0, 1 << 20), ("timing", "wafer_barrier_cycles"): (0, 1 << 24),
    ("learning", "profiles"): (0, 255), ("learning", "plastic_synapses"): (0, 1 << 24),
    ("learning", "trace_entries"): (0, 1 << 24), ("learning", "update_cycles"): (1, 64),
    ("learning", "trace_cycles"): (1, 64),
    ("learning", "products"): (0, 1 << 16),
}


def target_names() -> list[str]:
    """Names of the profiles shipped with spikefab, sorted."""
    folder = resources.files(PROFILE_PACKAGE)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_target(name_or_path: str | Path | Target) -> Target:
    """Load a target by shipped name (``"darwin3"``) or from a TOML file path."""
    if isinstance(name_or_path, Target):
        return name_or_path
    text_path = str(name_or_path)
    if text_path.endswith(".toml") or "/" in text_path:
        path = Path(text_path)
        if not path.is_file():
            raise TargetError(f"target profile file {text_path!r} does not exist")
        raw = path.read_bytes()
        where = str(path)
    else:
        resource = resources.files(PROFILE_PACKAGE) / f"{text_path}.toml"
        if not resource.is_file():
            raise TargetError(
                f"target must be one of {', '.join(target_names())}, not {text_path!r}")
        raw = resource.read_bytes()
        where = f"profiles/{text_path}.toml"
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TargetError(f"{where}: not a valid TOML profile ({exc})", where=where) from None
    return _target_from_dict(data, where)


def _target_from_dict(data: dict[str, Any], where: str) -> Target:
    known = {"name", "description", "sources", *_SECTIONS}
    for key in data:
        if key not in known:
            raise TargetError(f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(known))})",
                              where=where)
    for key in ("name", "description", "sources", *_SECTIONS):
        if key not in data and key not in _OPTIONAL_SECTIONS:
            raise TargetError(f"{where}: missing key {key!r}", where=where)
    sources = data["sources"]
    if not isinstance(sources, dict) or not all(isinstance(v, str) and v for v in sources.values()):
        raise TargetError(f"{where}: [sources] must map keys to non-empty strings", where=where)
    sources = dict(sources)
    figures = {f"{section}.{f.name}" for section, cls in _SECTIONS.items() for f in fields(cls)}
    for key in sources:
        if key not in _SECTIONS and key not in figures:
            raise TargetError(f"{where}: unknown key 'sources.{key}' (a source must name a "
                              f"section or a figure such as 'energy.synop_pj')", where=where)
    parts: dict[str, Any] = {}
    for section, cls in _SECTIONS.items():
        if section in _OPTIONAL_SECTIONS and section not in data:
            continue
        table = data[section]
        if not isinstance(table, dict):
            raise TargetError(f"{where}: [{section}] must be a table", where=where)
        names = {f.name: f for f in fields(cls)}
        for key in table:
            if key not in names:
                raise TargetError(f"{where}: unknown key '{section}.{key}'", where=where)
        values = {}
        for key, f in names.items():
            if key not in table and (section, key) in _CHOICES:
                values[key] = f.default          # a design choice the profile leaves default
                sources.setdefault(f"{section}.{key}", _CHOICE_DEFAULT_SOURCE)
                continue
            if key not in table and f.default is not MISSING:
                values[key] = f.default          # an optional figure: the neuron model's own
                continue
            if key not in table:
                raise TargetError(f"{where}: missing key '{section}.{key}'", where=where)
            value = table[key]
            if (section, key) in _CHOICES:
                values[key] = _choice(value, _CHOICES[section, key], f"{section}.{key}", where,
                                      sources)
                continue
            want_float = f.type in ("float", float)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    not want_float and not isinstance(value, int)):
                kind = "a number" if want_float else "an integer"
                raise TargetError(f"{where}: '{section}.{key}' must be {kind}, not {value!r}",
                                  where=where)
            lo, hi = _RANGES.get((section, key), (0, float("inf")))
            if not lo <= value <= hi:
                raise TargetError(
                    f"{where}: '{section}.{key}' must be in [{lo}, {hi}], not {value!r}", where=where)
            if f"{section}.{key}" not in sources and section not in sources:
                raise TargetError(f"{where}: '{section}.{key}' has no source in [sources]",
                                  where=where)
            values[key] = float(value) if want_float else int(value)
        parts[section] = cls(**values)
    return Target(name=str(data["name"]), description=str(data["description"]),
                  sources=dict(sources), path=where, **parts)


def _choice(value: Any, choices: tuple[str, ...], key: str, where: str,
            sources: dict[str, str]) -> str:
    """A text figure: one of ``choices``, with a source like every figure."""
    if not isinstance(value, str) or value not in choices:
        raise TargetError(f"{where}: '{key}' must be one of {', '.join(choices)}, not {value!r}",
                          where=where)
    if key not in sources and key.split(".")[0] not in sources:
        raise TargetError(f"{where}: '{key}' has no source in [sources]", where=where)
    return value
