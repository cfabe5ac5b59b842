"""``spikefab export sanafe IMAGE -o DIR``: the compiled network for another tool.

``sanafe`` writes ``DIR/arch.yaml`` (the target as a SANA-FE architecture, energies and latencies
from its profile) and ``DIR/snn.yaml`` (groups, synapses and our placement), ready for
``sanafe.load_arch`` / ``sanafe.load_net`` (:mod:`spikefab.export.sanafe`).
"""

from __future__ import annotations

import argparse

from spikefab.commands._args import check_output_dir
from spikefab.commands._runio import read_image


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a compiled image in another tool's format")
    formats = p.add_subparsers(dest="format", metavar="FORMAT", required=True)
    s = formats.add_parser("sanafe", help="SANA-FE architecture + network YAML with our placement")
    s.add_argument("image", help="compiled image (.sfi)")
    s.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    s.set_defaults(func=main_sanafe)


def main_sanafe(args: argparse.Namespace) -> int:
    from spikefab.export.sanafe import export_sanafe
    check_output_dir(args.output)
    out = export_sanafe(read_image(args.image), args.output)
    print(f"wrote {out['arch']} and {out['network']}: {out['neurons']} neurons, "
          f"{out['synapses']} synapses")
    for note in out["notes"]:
        print(f"note: {note}")
    return 0
