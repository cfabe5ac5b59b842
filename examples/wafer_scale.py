"""A million neurons on DarwinWafer: build, compile, estimate a window of steps, show chiplet traffic.

The network is synthetic and built with the Python builder's sparse projections
(:meth:`spikefab.Network.connect_sparse`; a dense ``(out, in)`` matrix of a million neurons
would need terabytes): ``layers`` equal populations in a feed-forward chain, each neuron with
``fan_in`` random excitatory synapses from the layer before, plus a small read-out population
reported to the host.  Host input drives the first layer with random spikes (fixed seed).

The compile uses the ``sequential`` placer by default (the annealer's cost grows with the
number of cores); the cycle-accurate engine runs ``--steps`` time steps (a window: a
steady state is reached after ``layers`` steps) and the script prints the cost per step and the
packets that crossed between chiplets, and writes the usual report (placement of every chiplet,
NoC heat map with chiplet edges, chiplet-to-chiplet traffic).

Run ``python examples/wafer_scale.py --help``; ``--neurons 20000`` is a quick look.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Sequence

import numpy as np


def build(neurons: int = 1_048_576, layers: int = 4, fan_in: int = 12, inputs: int = 1024,
          readout: int = 256, seed: int = 0):
    """The synthetic network: ``layers`` populations of ``neurons // layers`` LIF neurons."""
    import spikefab as sf

    rng = np.random.default_rng(seed)
    net = sf.Network()
    prev = net.input("x", inputs)
    size = neurons // layers
    # du = 4095: no current memory; dv = 1024: v keeps 3/4 per step; threshold 200 << 6 means
    # about four coincident excitatory inputs of weight ~65 make a spike.  With 30 % inhibitory
    # synapses and 10 % input rate the activity falls from ~8 % of layer 0 per step to ~0.1 %
    # of layer 3: a wave that reaches every layer without saturating the fabric.
    neuron = sf.LoihiLIF(du=4095, dv=1024, vth=200)
    for layer in range(layers):
        name = net.population(f"l{layer}", size, neuron)
        _random_projection(net, rng, prev, name, net.size_of(prev), size, fan_in)
        prev = name
    net.population("readout", readout, neuron)
    _random_projection(net, rng, prev, "readout", size, readout, fan_in)
    net.output("y", "readout")
    return net


def _random_projection(net, rng, source: str, target: str, n_pre: int, n_post: int,
                       fan_in: int) -> None:
    pre = rng.integers(0, n_pre, n_post * fan_in)
    post = np.repeat(np.arange(n_post), fan_in)
    weights = rng.integers(40, 90, n_post * fan_in)
    weights = np.where(rng.random(n_post * fan_in) < 0.3, -weights, weights)
    net.connect_sparse(source, target, pre, post, weights)


def input_spikes(steps: int, inputs: int, rate: float, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed + 1).random((steps, inputs)) < rate).astype(np.uint8)


def chiplet_table(report: dict) -> str:
    """A few lines summarising where the packets went."""
    noc = report["noc"]
    lines = [f"packets {noc['packets']:,}, router hops {noc['hops']:,}, inter-chiplet hops "
             f"{noc['inter_chiplet_hops']:,} "
             f"({100 * noc['inter_chiplet_hops'] / max(noc['hops'], 1):.1f} % of hops)"]
    pairs = report.get("chiplet_traffic", {}).get("top_pairs", [])
    for p in pairs[:5]:
        lines.append(f"  chiplet {p['from']:>2} -> {p['to']:>2}: {p['packets']:,} packets")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--neurons", type=int, default=1_048_576, help="neurons in the layers")
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--fan-in", type=int, default=12, help="synapses per neuron (default 12: "
                   "enough axons per core that a million neurons need two chiplets)")
    p.add_argument("--inputs", type=int, default=1024, help="host input channels")
    p.add_argument("--rate", type=float, default=0.1, help="input spike probability per step")
    p.add_argument("--steps", type=int, default=8, help="window of time steps to estimate")
    p.add_argument("--placer", choices=["sequential", "anneal"], default="sequential")
    p.add_argument("--target", default="darwinwafer")
    p.add_argument("--out", type=Path, default=Path("build/wafer"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def main(argv: Sequence[str] | None = None) -> dict:
    import spikefab as sf
    from spikefab.report import generate

    args = build_parser().parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    net = build(args.neurons, args.layers, args.fan_in, args.inputs, seed=args.seed)
    t1 = time.perf_counter()
    print(f"built {net.n_neurons:,} neurons, {net.n_synapses:,} synapses in {t1 - t0:.1f} s")
    image = sf.compile(net, target=args.target, placer=args.placer, seed=args.seed,
                       progress=not args.quiet)
    t2 = time.perf_counter()
    chiplets = len({c.chiplet for c in image.cores})
    print(f"compiled for {args.target}: {len(image.cores):,} cores on {chiplets} chiplets "
        f"in {t2 - t1:.1f} s")
    x = input_spikes(args.steps, args.inputs, args.rate, args.seed)
    report = generate(image, {"x": x}, args.steps, args.out / "report", mode="cycle")
    t3 = time.perf_counter()
    cyc = report.get("cycles", {})
    summary = {
        "neurons": net.n_neurons, "synapses": net.n_synapses, "cores": len(image.cores),
        "chiplets": chiplets, "steps": args.steps,
        "cycles_per_step": cyc.get("mean_per_step"),
        "latency_us_per_step": (report["latency_us"] or 0) / max(args.steps, 1),
        "energy_uj_per_step": (report["energy_pj"] or 0) / max(args.steps, 1) / 1e6,
        "spikes": sum(p.get("spikes", 0) for p in report["populations"].values()),
        "noc": report["noc"], "seconds": {"build": t1 - t0, "compile": t2 - t1,
                                          "estimate": t3 - t2},
        "report": str(args.out / "report"),
    }
    print(f"cycle engine, {args.steps} steps: {summary['cycles_per_step']:,.0f} cycles/step, "
        f"{summary['latency_us_per_step']:,.1f} µs/step, "
        f"{summary['energy_uj_per_step']:,.2f} µJ/step, {summary['spikes']:,} spikes "
        f"({t3 - t2:.1f} s)")
    print(chiplet_table(report))
    print(f"report: {summary['report']}")
    (args.out / "wafer.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


if __name__ == "__main__":
    main()
