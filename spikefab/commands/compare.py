"""``spikefab compare SCRIPT --target T``: a PyNN script in float and on the chip, side by side.

PyCARL-style (:mod:`spikefab.pynn.compare`): the script (written for ``spikefab.pynn``) runs
with ``setup(mode="float")`` and again on the target's emulator (``--mode cycle`` by default) or
a device; the table gives rates, CV of ISIs and spike-time differences per population, then the
modelled latency and energy per step.  ``--args 'A B'`` are the script's own arguments.
"""

from __future__ import annotations

import argparse
import shlex

from spikefab.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="a PyNN script in float vs on a target (PyCARL-style)")
    p.add_argument("model", help="PyNN script using spikefab.pynn (import spikefab.pynn as sim)")
    p.add_argument("--target", default="loihi1", help="target name or profile (default loihi1)")
    p.add_argument("--mode", default="cycle", choices=["functional", "cycle"],
                   help="emulator engine of the hardware run (default cycle)")
    p.add_argument("--device", help="run the hardware side on a device URI instead")
    p.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    p.add_argument("--args", default="", metavar="'A B ...'",
                   help="command-line arguments for the script, as one quoted string")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from spikefab.api import compare
    try:
        extra = shlex.split(args.args)
    except ValueError as exc:              # an unclosed quote
        raise InputError(f"--args {args.args!r} must be a shell-quoted argument list ({exc})",
                         where="--args") from None
    report = compare(args.model, target=args.target, mode=args.mode, args=extra,
                     device=args.device)
    print(report.format())
    if args.json:
        report.to_json(args.json)
    return 0
