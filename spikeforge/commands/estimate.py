"""``spikeforge estimate IMAGE --input in.npz --steps N``: latency and energy table.

Runs the cycle engine and prints cycles per step (min / median / max), microseconds per step at
the target clock, energy per step and per inference (the whole run), effective pJ per synaptic
operation, the energy breakdown and the five busiest links.
"""

from __future__ import annotations

import argparse

import numpy as np

from spikeforge.arch.target import load_target
from spikeforge.commands._runio import add_common, load_inputs, read_image
from spikeforge.emulator import simulate
from spikeforge.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("estimate", help="cycle-accurate latency and energy estimate of an image")
    add_common(p)
    p.set_defaults(func=main)


def format_estimate(result, target, steps: int) -> str:
    cps = np.asarray(result.cycles_per_step, np.int64)
    c = result.counters
    e = result.energy_pj or 0.0
    rows = [
        ("target", f"{target.name} ({target.timing.clock_mhz:g} MHz)"),
        ("cycles/step min / median / max", f"{cps.min()} / {np.median(cps):g} / {cps.max()}"),
        ("us/step (mean)", f"{result.latency_us / steps:.4f}"),
        ("latency per inference", f"{result.latency_us:.3f} us"),
        ("energy per step (mean)", f"{e / steps:,.1f} pJ"),
        ("energy per inference", f"{e:,.1f} pJ"),
        ("synaptic ops", f"{c['synops']:,}"),
        ("effective pJ/SOP", f"{e / c['synops']:.2f}" if c["synops"] else "n/a (no synaptic ops)"),
        ("neuron spikes / packets", f"{c['spikes']:,} / {c['packets']:,}"),
        ("hops E-W / N-S / inter-chiplet", f"{c['hops_ew']:,} / {c['hops_ns']:,} / "
                                           f"{c['chiplet_hops']:,}"),
        ("max FIFO occupancy", f"{c['max_fifo']} of {target.timing.fifo_depth}"),
    ]
    w = max(len(k) for k, _ in rows)
    lines = [f"{k:<{w}}  {v}" for k, v in rows]
    lines.append("energy breakdown (pJ):")
    for k, v in result.energy_breakdown.items():
        lines.append(f"  {k:<{w - 2}}  {v:,.1f}")
    lines.append("busiest links (router x, y, output port: packets):")
    for gx, gy, port, n in c["links"][:5] or []:
        lines.append(f"  ({gx}, {gy}) {port:<3} {n:,}")
    if not c["links"]:
        lines.append("  none (no router-to-router traffic)")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    if args.steps < 1:
        raise InputError(f"--steps must be at least 1 for an estimate, not {args.steps}")
    image = read_image(args.image)
    target = load_target(image.target)
    result = simulate(image, load_inputs(args.input), args.steps, mode="cycle")
    print(format_estimate(result, target, args.steps))
    return 0
