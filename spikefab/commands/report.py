"""``spikefab report IMAGE --input in.npz --steps N -o DIR``: plots and report.json of one run."""

from __future__ import annotations

import argparse
from pathlib import Path

from spikefab.commands._runio import load_inputs
from spikefab.commands._args import steps_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="run an image once and write plots (raster, placement, "
                                      "NoC traffic, cycles, energy) and report.json")
    p.add_argument("image", help="compiled image (.sfi)")
    p.add_argument("--input", help="input spikes (.npz, one (steps, n) array per input name)")
    p.add_argument("--steps", type=steps_arg, required=True, help="time steps to run")
    p.add_argument("--mode", choices=["cycle", "functional"], default="cycle",
                   help="engine (default cycle: the only one with a cycles-per-step histogram)")
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.set_defaults(func=run)



def run(args: argparse.Namespace) -> int:
    from spikefab.arch.image import load_image
    from spikefab.commands._args import check_output_dir
    from spikefab.report import generate

    check_output_dir(args.out)
    image = load_image(args.image)
    report = generate(image, load_inputs(args.input), args.steps, args.out, mode=args.mode)
    out = Path(args.out)
    print(f"report of {args.image} on {report['target']} ({args.mode}, {args.steps} steps): "
          f"{out / 'report.json'}")
    for name in report["files"].values():
        print(f"  {out / name}")
    return 0
