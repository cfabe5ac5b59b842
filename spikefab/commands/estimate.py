"""``spikefab estimate IMAGE --input in.npz --steps N``: latency and energy table.

Runs the cycle engine and prints cycles per step (min / median / max), microseconds per step at
the target clock, energy per step and per inference (the whole run), effective pJ per synaptic
operation, the energy breakdown and the five busiest links.  With ``--model M --also T1,T2`` the
model the image was compiled from is recompiled (same manifest options: dt, integrator, reset,
placer, seed) for the other targets and a one-line comparison per target follows.
"""

from __future__ import annotations

import argparse

import numpy as np

from spikefab.arch.target import load_target
from spikefab.commands._runio import add_common, load_inputs, read_image
from spikefab.emulator import simulate
from spikefab.errors import InputError, SpikefabError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("estimate", help="cycle-accurate latency and energy estimate of an image")
    add_common(p)
    p.add_argument("--model", help="the model the image was compiled from (for --also)")
    p.add_argument("--also", metavar="T1,T2", help="also estimate on these targets, recompiling "
                   "--model with the image's compile options")
    p.set_defaults(func=main)


def format_estimate(result, target, steps: int) -> str:
    cps = np.asarray(result.cycles_per_step, np.int64)
    c = result.counters
    e = result.energy_pj or 0.0
    dyn = e - result.energy_breakdown.get("static", 0.0)
    rows = [
        ("target", f"{target.name} ({target.timing.clock_mhz:g} MHz)"),
        ("cycles/step min / median / max", f"{cps.min()} / {np.median(cps):g} / {cps.max()}"),
        ("us/step (mean)", f"{result.latency_us / steps:.4f}"),
        ("latency per inference", f"{result.latency_us:.3f} us"),
        ("energy per step (mean)", f"{e / steps:,.1f} pJ"),
        ("energy per inference", f"{e:,.1f} pJ"),
        ("synaptic ops", f"{c['synops']:,}"),
        ("effective pJ/SOP", f"{e / c['synops']:.2f}" if c["synops"] else "n/a (no synaptic ops)"),
        ("dynamic energy per inference", f"{dyn:,.1f} pJ (static excluded)"),
        ("dynamic pJ/SOP", f"{dyn / c['synops']:.2f}" if c["synops"] else "n/a"),
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


def summary_row(name: str, result, steps: int) -> str:
    cps = np.asarray(result.cycles_per_step)
    e = result.energy_pj or 0.0
    dyn = e - result.energy_breakdown.get("static", 0.0)
    sop = result.counters["synops"]
    return (f"{name:<14} {np.median(cps):>12g} {result.latency_us / steps:>10.4f} "
            f"{e:>16,.1f} {dyn:>16,.1f} {(e / sop if sop else float('nan')):>10.2f}")


def compare_targets(args: argparse.Namespace, image, inputs) -> list[str]:
    """Recompile ``args.model`` for each ``--also`` target and estimate it (one row each)."""
    if not args.model:
        raise InputError("--also needs --model (the model the image was compiled from)")
    from spikefab.commands.compile import read_model
    from spikefab.compiler import compile as compile_model
    opts = {k: v for k, v in image.manifest.get("options", {}).items()
            if k in ("dt", "integrator", "reset", "placer", "seed")}
    model = read_model(args.model)
    lines = [f"{'target':<14} {'cycles/step':>12} {'us/step':>10} {'pJ/inference':>16} "
             f"{'dynamic pJ':>16} {'pJ/SOP':>10}"]
    for name in [t.strip() for t in args.also.split(",") if t.strip()]:
        try:
            other = compile_model(model, target=name, progress=False, **opts)
            res = simulate(other, inputs, args.steps, mode="cycle")
        except SpikefabError as exc:
            lines.append(f"{name:<14} not available: {exc}")
            continue
        lines.append(summary_row(name, res, args.steps))
    return lines


def main(args: argparse.Namespace) -> int:
    if args.steps < 1:
        raise InputError(f"--steps must be at least 1 for an estimate, not {args.steps}")
    image = read_image(args.image)
    target = load_target(image.target)
    inputs = load_inputs(args.input)
    result = simulate(image, inputs, args.steps, mode="cycle")
    print(format_estimate(result, target, args.steps))
    if args.also:
        lines = compare_targets(args, image, inputs)
        print("other targets (recompiled from --model, cycle engine, same inputs):")
        print("\n".join([lines[0], summary_row(image.target, result, args.steps)] + lines[1:]))
    return 0
