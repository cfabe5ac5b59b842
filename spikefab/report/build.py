"""Run an image once with every population probed, then write the plots and ``report.json``.

``spikefab report IMAGE --input in.npz --steps N -o DIR`` is :func:`generate`.  The run is the
cycle-accurate engine by default, because cycles per step, latency and energy come from it; the
functional engine gives spikes, traffic and energy too, only no cycle histogram.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from spikefab.arch import mesh
from spikefab.arch.image import Image
from spikefab.arch.result import Result, normalize_inputs
from spikefab.arch.target import Target, load_target
from spikefab.report import plots
from spikefab.report.traffic import link_traffic

__all__ = ["generate", "write_report", "spike_probes"]

Runner = Callable[..., Result]


def spike_probes(image: Image) -> list[str]:
    """The probes a report needs: the spikes of every population."""
    return [f"{pop}.s" for pop in image.populations]


def generate(image: Image, inputs: Mapping[str, Any] | None, steps: int, out_dir: str | Path, *,
             mode: str = "cycle", runner: Runner | None = None) -> dict:
    """Run ``image`` on ``inputs`` for ``steps`` steps and write the report into ``out_dir``.

    ``runner(image, inputs, steps, probes=..., mode=...)`` defaults to :func:`spikefab.api.run`
    (the emulator);
    tests pass :func:`spikefab.arch.reference.run_reference` (which takes no ``mode``).
    Returns the ``report.json`` content.
    """
    ins = normalize_inputs(image, inputs, steps)
    probes = spike_probes(image)
    if runner is None:
        from spikefab.api import run as runner
        result = runner(image, ins, steps, mode=mode, probes=probes)
    else:
        result = runner(image, ins, steps, probes=probes)
    return write_report(image, result, ins, steps, out_dir)


def write_report(image: Image, result: Result, inputs: Mapping[str, np.ndarray], steps: int,
                 out_dir: str | Path, *, target: Target | None = None) -> dict:
    """Write the PNGs and ``report.json`` for a finished run whose traces hold ``pop.s`` probes."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = target or load_target(image.target)
    files: dict[str, str] = {}
    pop_spikes = {pop: np.asarray(result.traces[f"{pop}.s"]) for pop in image.populations
                  if f"{pop}.s" in result.traces}

    if pop_spikes:
        files["raster"] = plots.plot_raster(
            pop_spikes, out / "raster.png",
            title=f"Spikes per population on {target.name} ({result.backend or 'run'}, "
                  f"{steps} steps)").name
    files["placement"] = plots.plot_placement(image, target, out / "placement.png").name
    traffic = link_traffic(image, target, inputs, result.traces)
    topo = target.topology
    cores_xy = np.array([mesh.global_xy(c.chiplet, c.x, c.y, topo.chiplets_x, topo.mesh_x,
                                        topo.mesh_y) for c in image.cores],
                        np.int64).reshape(-1, 2)
    files["link_traffic"] = plots.plot_link_traffic(traffic, target, out / "link_traffic.png",
                                                    steps=steps, cores_xy=cores_xy).name
    used = sorted({c.chiplet for c in image.cores})
    if len(used) > 1:
        files["chiplet_traffic"] = plots.plot_chiplet_traffic(
            traffic, used, target, out / "chiplet_traffic.png", steps=steps).name
    if result.cycles_per_step is not None and len(result.cycles_per_step):
        files["cycles"] = plots.plot_cycles(result.cycles_per_step, out / "cycles.png",
                                            target=target).name
    if result.energy_breakdown:
        files["energy"] = plots.plot_energy(result.energy_breakdown, out / "energy.png",
                                            target=target, steps=steps).name

    report = _summary(image, target, result, pop_spikes, traffic, steps)
    report["files"] = files
    (out / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return report


def _summary(image, target, result, pop_spikes, traffic, steps) -> dict:
    cps = result.cycles_per_step
    chiplets = sorted({c.chiplet for c in image.cores})
    busiest = traffic.busiest()
    per = max(steps, 1)
    summary: dict[str, Any] = {
        "target": target.name,
        "backend": result.backend,
        "steps": int(steps),
        "cores": len(image.cores),
        "chiplets": len(chiplets),
        "neurons": int(sum(int(p["size"]) for p in image.populations.values())),
        "synapses": int(sum(len(c.synapses) for c in image.cores)),
        "populations": {
            pop: {"size": int(spec["size"]),
                  "cores": sorted({int(s["core"]) for s in spec["slices"]}),
                  **({"spikes": int(pop_spikes[pop].astype(bool).sum()),
                      "rate_per_step": float(pop_spikes[pop].astype(bool).mean())}
                     if pop in pop_spikes else {})}
            for pop, spec in image.populations.items()},
        "outputs": {k: int(np.asarray(v).astype(bool).sum()) for k, v in result.spikes.items()},
        "counters": {k: _plain(v) for k, v in result.counters.items()},
        "noc": {
            "packets": traffic.packets,
            "hops": traffic.hops,
            "inter_chiplet_hops": traffic.chiplet_hops,
            "host_in_packets": traffic.host_in,
            "host_out_packets": traffic.host_out,
            "busiest_link": {**busiest, "packets_per_step": busiest["packets"] / per},
        },
        "latency_us": result.latency_us,
        "energy_pj": result.energy_pj,
        "energy_breakdown_pj": {k: float(v) for k, v in result.energy_breakdown.items()},
    }
    if len(chiplets) > 1:
        m = traffic.chiplet_packets[np.ix_(chiplets, chiplets)]
        summary["chiplet_traffic"] = {
            "chiplets": chiplets,
            "packets_matrix": m.tolist(),
            "between_chiplets": int(m.sum() - np.trace(m)),
            "within_chiplets": int(np.trace(m)),
            "top_pairs": traffic.top_chiplet_pairs(),
        }
    if cps is not None and len(cps):
        c = np.asarray(cps, np.int64)
        summary["cycles"] = {"total": int(c.sum()), "mean_per_step": float(c.mean()),
                             "max_per_step": int(c.max()), "min_per_step": int(c.min())}
        total_cycles = int(c.sum())
        # an on-chip link carries one packet per cycle: the busiest link's share of the run
        summary["noc"]["busiest_link"]["utilization"] = busiest["packets"] / max(total_cycles, 1)
    return summary


def _plain(value: Any) -> Any:
    """JSON-friendly form of a counter (NumPy scalars and small arrays)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 4096 else {"shape": list(value.shape),
                                                          "sum": float(value.sum())}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if len(value) > 64:          # e.g. the cycle engine's per-link table: keep the busiest
            return [_plain(v) for v in value[:64]] + [f"... {len(value) - 64} more"]
        return [_plain(v) for v in value]
    return value
