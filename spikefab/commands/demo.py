"""``spikefab demo``: train, convert, compile and run the digits network; print one table."""

from __future__ import annotations

import argparse

from spikefab.demo import run_demo


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the digits demo end to end: train, convert to a spiking "
                                    "network, compile for darwin3 and ice40-up5k, run, report")
    p.add_argument("-o", "--out", default="build/demo",
                   help="folder for the model, images and report (default build/demo)")
    p.add_argument("--quick", action="store_true",
                   help="a smaller run (90 test images, 5 on the cycle engine, none on the RTL) "
                        "for a first look")
    p.add_argument("--rtl-samples", type=int, default=1,
                   help="test images also run on the RTL simulation, where the target has one "
                        "(default 1; each takes about half a minute on Icarus)")
    p.add_argument("--targets", default=None,
                   help="comma-separated targets (default darwin3,ice40-up5k)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    argv = ["--out", args.out, "--rtl-samples", str(0 if args.quick else args.rtl_samples)]
    if args.quick:
        argv += ["--test-samples", "90", "--cycle-samples", "5"]
    if args.targets is not None:
        argv += ["--targets", args.targets]
    if args.quiet:
        argv.append("--quiet")
    run_demo(argv)
    return 0
