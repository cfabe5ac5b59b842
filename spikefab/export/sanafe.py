"""SANA-FE export: a compiled image as SANA-FE architecture and network YAML, with our placement.

SANA-FE (PyPI ``sanafe``; reference notes ``sanafe-peer.md``) estimates energy and latency of a
network that is *already mapped* to cores, with a Loihi model calibrated against silicon; it has
no mapper and no NIR importer.  This module gives it both from an :class:`~spikefab.arch.Image`:

* ``arch.yaml`` -- the target as a SANA-FE mesh: one tile per router (SANA-FE numbers tiles
  column-major, ``x = id // height``), ``cores_per_router`` cores each, per-event energies and
  latencies from the target profile (``[energy]``, ``[timing]`` at the target clock);
* ``snn.yaml`` -- one neuron group per population (``leaky_integrate_fire``) and per host input
  (``input`` soma), every synapse as an edge, and a mapping of every neuron to the core our
  placer chose.

Arithmetic: SANA-FE computes ``u = input_decay u + sum(w)``, ``v = leak_decay v + bias + u``,
fires when ``v > threshold`` and resets to 0, in doubles.  Our neuron (``spikefab.arch.neuron``)
is the same with ``input_decay = (4095 - du)/4096``, ``leak_decay = (4096 - dv)/4096``,
``threshold = vth`` and potentials in units of 64 (weights ``w << weight_exp``, bias
``(bias_mant << bias_exp) / 64``) -- except that the chip truncates each decay to an integer.
So the two agree exactly when no decay truncates (``dv = 0`` and ``du = 4095``: integrate and
fire without current memory) and approximately otherwise; :attr:`SanafeNetwork.notes` says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spikefab.arch.image import Image
from spikefab.arch.target import Target, load_target

__all__ = ["SanafeNetwork", "sanafe_network", "sanafe_core_index", "write_arch_yaml",
           "write_network_yaml", "export_sanafe", "populate"]


@dataclass
class SanafeNetwork:
    """Groups, edges and mapping of one image in SANA-FE's terms (all arrays by global neuron).

    ``groups`` maps a group name to ``(kind, first, size)`` where kind is ``"lif"`` or
    ``"input"`` and ``first`` the first global index; per neuron: ``threshold``, ``leak_decay``,
    ``input_decay``, ``bias`` and ``core`` (``tile.core``); edges ``src``, ``dst``, ``weight``,
    ``delay`` over global indices.
    """

    groups: dict[str, tuple[str, int, int]]
    threshold: np.ndarray
    leak_decay: np.ndarray
    input_decay: np.ndarray
    bias: np.ndarray
    tile: np.ndarray
    core: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    delay: np.ndarray
    notes: list[str] = field(default_factory=list)

    def address(self, i: int) -> str:
        """``group.index`` of global neuron ``i``."""
        for name, (_, first, size) in self.groups.items():
            if first <= i < first + size:
                return f"{name}.{i - first}"
        raise IndexError(i)


def _tile_of(chiplet: int, x: int, y: int, target: Target) -> int:
    topo = target.topology
    cx, cy = chiplet % topo.chiplets_x, chiplet // topo.chiplets_x
    gx, gy = cx * topo.mesh_x + x, cy * topo.mesh_y + y
    return gx * (topo.mesh_y * topo.chiplets_y) + gy


def sanafe_core_index(image: Image, population: str, target: Target | None = None) -> np.ndarray:
    """SANA-FE core (index into ``arch.cores()``) of every neuron of ``population``."""
    target = target or load_target(image.target)
    spec = image.populations[population]
    core = np.zeros(int(spec["size"]), np.int64)
    per = target.topology.cores_per_router
    for sl in spec["slices"]:
        c = image.cores[int(sl["core"])]
        s, n = int(sl["start"]), int(sl["count"])
        core[s:s + n] = _tile_of(c.chiplet, c.x, c.y, target) * per + c.slot
    return core


def sanafe_network(image: Image, target: Target | None = None) -> SanafeNetwork:
    """Decode ``image`` (neurons, fan-out synapses, placement) into SANA-FE terms."""
    from spikefab.emulator.flat import flatten
    target = target or load_target(image.target)
    flat = flatten(image, target)
    n, C = flat.n, flat.n_classes
    du, dv, vth = flat.params[0], flat.params[1], flat.params[2]
    notes = []
    if np.any(dv != 0) or np.any(du != 4095):
        notes.append("decays: SANA-FE decays in doubles, the chip truncates each decay to an "
                     "integer; spike counts agree only approximately (exactly for dv = 0, "
                     "du = 4095)")
    if np.any(flat.params[4] != 0) or np.any(flat.params[6] != 0):
        notes.append("refractory periods and adaptive thresholds have no SANA-FE equivalent "
                     "here and are not exported")
    # which core (and so which tile/slot) holds each global neuron
    core_of = np.searchsorted(flat.noff, np.arange(n), side="right") - 1
    per = target.topology.cores_per_router
    tiles = np.array([_tile_of(c.chiplet, c.x, c.y, target) for c in image.cores], np.int64)
    slots = np.array([c.slot for c in image.cores], np.int64)
    # synapses: fan-out of every neuron, then of every host channel
    src, dst, w, d = [], [], [], []
    fo_start, fo_off, fo_w = flat.fan_out()
    counts = np.diff(fo_start)
    off = fo_off.astype(np.int64)
    pre = np.repeat(np.arange(n), counts)
    src.append(pre)
    dst.append(off % n)
    cls = (off // n) % C
    d.append(off // (n * C))
    w.append(fo_w.astype(float) * 2.0 ** flat.nexp[cls * n + off % n])
    n_in = flat.n_in
    for ch in range(n_in):
        for r in range(int(flat.hr_start[ch]), int(flat.hr_start[ch] + flat.hr_count[ch])):
            axon = int(flat.routes[r, 1])
            a0, ac = int(flat.ax_start[axon]), int(flat.ax_count[axon])
            o = flat.syn_off[a0:a0 + ac].astype(np.int64)
            src.append(np.full(ac, n + ch))
            dst.append(o % n)
            d.append(o // (n * C))
            w.append(flat.syn_w[a0:a0 + ac].astype(float) * 2.0 ** flat.nexp[((o // n) % C) * n
                                                                           + o % n])
    if np.any(flat.nexp < 0):
        notes.append("negative weight exponents: the chip floor-shifts each accumulated sum, "
                     "SANA-FE sums the scaled weights in doubles")
    groups: dict[str, tuple[str, int, int]] = {}
    order = np.zeros(n, np.int64)
    first = 0
    for name, spec in image.populations.items():
        size = int(spec["size"])
        for sl in spec["slices"]:
            c, s, cnt = int(sl["core"]), int(sl["start"]), int(sl["count"])
            lo = flat.noff[c] + int(sl["offset"])
            order[first + s:first + s + cnt] = np.arange(lo, lo + cnt)
        groups[name] = ("lif", first, size)
        first += size
    # renumber global neurons so that each group is contiguous (SANA-FE addresses group.index)
    new_of = np.empty(n, np.int64)
    new_of[order] = np.arange(n)
    for name, spec in image.inputs.items():
        groups[name] = ("input", n + int(spec["channel_base"]), int(spec["size"]))
    remap = np.concatenate([new_of, np.arange(n, n + n_in)])
    src_all = remap[np.concatenate(src)]
    dst_all = new_of[np.concatenate(dst)]

    def by_new(a, fill):
        out = np.full(n + n_in, fill, float)
        out[new_of] = a
        return out
    ex_tile = np.zeros(n + n_in, np.int64)
    ex_core = np.zeros(n + n_in, np.int64)
    ex_tile[new_of] = tiles[core_of]
    ex_core[new_of] = slots[core_of]
    return SanafeNetwork(
        groups=groups, threshold=by_new(vth.astype(float), 0.0),
        leak_decay=by_new((4096 - dv) / 4096.0, 1.0),
        input_decay=by_new((4095 - du) / 4096.0, 0.0),
        bias=by_new(flat.params[7] / 64.0, 0.0), tile=ex_tile, core=ex_core,
        src=src_all, dst=dst_all, weight=np.concatenate(w), delay=np.concatenate(d),
        notes=notes)


def write_arch_yaml(target: Target, path: str | Path) -> Path:
    """The target as a SANA-FE architecture (tiles = routers; energies and latencies cited)."""
    lines = _tile_lines(target) + _core_lines(target)
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def _tile_lines(target: Target) -> list[str]:
    """The architecture header and one tile (router) with its hop energies and latencies."""
    topo, tm, en = target.topology, target.timing, target.energy
    width, height = topo.mesh_x * topo.chiplets_x, topo.mesh_y * topo.chiplets_y
    cyc = 1e-6 / tm.clock_mhz                         # seconds per cycle
    pj = 1e-12
    lines = [
        f"# SANA-FE architecture of spikefab target {target.name}, written by spikefab export.",
        "# Energies and latencies come from the target profile (its [sources] cite each figure):",
        "# neuron update = energy.neuron_inactive_pj (+ neuron_active_pj - inactive when it",
        "# changes), synaptic op = energy.synop_pj, hop = energy.hop_*_pj, cycles at timing.clock_mhz.",
        "architecture:",
        f"  name: spikefab_{target.name.replace('-', '_')}",
        "  attributes:",
        "    topology: mesh",
        f"    width: {width}",
        f"    height: {height}",
        f"    link_buffer_size: {tm.fifo_depth}",
        "    sync_model: fixed",
        f"    latency_sync: {tm.barrier_cycles * cyc:.6e}",
        "  tile:",
        f"    - name: tile[0..{width * height - 1}]",
        "      attributes:",
    ]
    for side, e in (("north", en.hop_ns_pj), ("south", en.hop_ns_pj), ("east", en.hop_ew_pj),
                    ("west", en.hop_ew_pj)):
        lines += [f"        energy_{side}_hop: {e * pj:.6e}",
                  f"        latency_{side}_hop: {tm.link_latency * cyc:.6e}"]
    return lines


def _core_lines(target: Target) -> list[str]:
    """The tile's cores: axon in, LIF and input somas, accumulator, synapse, axon out."""
    topo, tm, en = target.topology, target.timing, target.energy
    cyc = 1e-6 / tm.clock_mhz                         # seconds per cycle
    pj = 1e-12
    return [
        "      core:",
        f"        - name: core[0..{topo.cores_per_router - 1}]",
        "          attributes:",
        "            buffer_position: soma",
        "            buffer_inside_unit: false",
        f"            max_neurons_supported: {target.core.neurons}",
        "          axon_in:",
        "            - name: axon_in",
        "              attributes:",
        "                energy_message_in: 0.0",
        f"                latency_message_in: {tm.packet_cycles * cyc:.6e}",
        "          soma:",
        "            - name: lif",
        "              attributes:",
        "                model: leaky_integrate_fire",
        f"                energy_access_neuron: {en.neuron_inactive_pj * pj:.6e}",
        f"                latency_access_neuron: {tm.neuron_cycles * cyc:.6e}",
        f"                energy_update_neuron: "
        f"{(en.neuron_active_pj - en.neuron_inactive_pj) * pj:.6e}",
        "                latency_update_neuron: 0.0",
        f"                energy_spike_out: {en.spike_pj * pj:.6e}",
        "                latency_spike_out: 0.0",
        "            - name: input",
        "              attributes:",
        "                model: input",
        "                energy_access_neuron: 0.0",
        "                latency_access_neuron: 0.0",
        "                energy_update_neuron: 0.0",
        "                latency_update_neuron: 0.0",
        "                energy_spike_out: 0.0",
        "                latency_spike_out: 0.0",
        "          dendrite:",
        "            - name: accumulator",
        "              attributes:",
        "                model: accumulator",
        "                energy_update: 0.0",
        "                latency_update: 0.0",
        "          synapse:",
        "            - name: synapse",
        "              attributes:",
        "                model: current_based",
        f"                energy_process_spike: {en.synop_pj * pj:.6e}",
        f"                latency_process_spike: {tm.synapse_cycles * cyc:.6e}",
        "          axon_out:",
        "            - name: axon_out",
        "              attributes:",
        "                energy_message_out: 0.0",
        "                latency_message_out: 0.0",
    ]


def _num(x: float) -> str:
    return repr(float(x))


def write_network_yaml(net: SanafeNetwork, path: str | Path) -> Path:
    """The network in SANA-FE's YAML (groups with per-neuron bias, edges, mappings)."""
    out = ["network:", "  name: spikefab", "  groups:"]
    for name, (kind, first, size) in net.groups.items():
        out.append(f"    - name: {name}")
        out.append("      attributes:")
        if kind == "lif":
            out += [f"        threshold: {_num(net.threshold[first])}",
                    "        reset: 0.0",
                    f"        leak_decay: {_num(net.leak_decay[first])}",
                    f"        input_decay: {_num(net.input_decay[first])}",
                    "        force_update: true"]
        else:
            out.append("        soma_hw_name: input")
        out.append("      neurons:")
        rows = []
        for i in range(size):
            g = first + i
            attrs = {}
            if kind == "lif":
                for key, arr in (("bias", net.bias), ("threshold", net.threshold),
                                 ("leak_decay", net.leak_decay),
                                 ("input_decay", net.input_decay)):
                    if arr[g] != (arr[first] if key != "bias" else 0.0):
                        attrs[key] = arr[g]
            body = ", ".join(f"{k}: {_num(v)}" for k, v in attrs.items())
            rows.append(f"        - {i}: {{{body}}}")
        out += rows
    out.append("  edges:")
    for s, t, w, d in zip(net.src, net.dst, net.weight, net.delay):
        extra = f", delay: {int(d)}" if d else ""
        out.append(f"    - {net.address(int(s))} -> {net.address(int(t))}: "
                   f"{{weight: {_num(w)}{extra}}}")
    out.append("mappings:")
    for name, (kind, first, size) in net.groups.items():
        for i in range(size):
            g = first + i
            out.append(f"  - {name}.{i}: {{core: {int(net.tile[g])}.{int(net.core[g])}}}")
    path = Path(path)
    path.write_text("\n".join(out) + "\n")
    return path


def export_sanafe(image: Image, out_dir: str | Path,
                  target: Target | None = None) -> dict[str, object]:
    """Write ``arch.yaml`` and ``snn.yaml`` for ``image`` into ``out_dir``; paths and notes."""
    target = target or load_target(image.target)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    net = sanafe_network(image, target)
    arch = write_arch_yaml(target, out / "arch.yaml")
    snn = write_network_yaml(net, out / "snn.yaml")
    return {"arch": arch, "network": snn, "neurons": int(len(net.threshold)),
            "synapses": int(len(net.src)), "notes": net.notes}


def populate(sanafe, arch, arrays) -> object:
    """A SANA-FE ``Network`` of one LIF group from flat arrays, mapped to ``arrays["core"]``.

    Used by ``benchmarks/peer_sanafe.py`` (in the benchmark venv): ``arrays`` holds ``src``,
    ``dst``, ``weight``, ``bias`` (per neuron), ``threshold``, ``leak`` and ``core`` (index into
    ``arch.cores()``, see :func:`sanafe_core_index`).
    """
    n = len(arrays["bias"])
    net = sanafe.Network()
    pop = net.create_neuron_group("pop", n, {"threshold": float(arrays["threshold"]),
                                             "reset": 0.0, "leak_decay": float(arrays["leak"]),
                                             "force_update": True})
    for i in range(n):
        pop[i].set_attributes(model_attributes={"bias": float(arrays["bias"][i])})
    pairs = list(zip(np.asarray(arrays["src"]).tolist(), np.asarray(arrays["dst"]).tolist()))
    pop.connect_neurons_sparse(pop, {"weight": np.asarray(arrays["weight"], float).tolist()},
                               pairs)
    cores = arch.cores()
    for i in range(n):
        pop[i].map_to_core(cores[int(arrays["core"][i])])
    return net
