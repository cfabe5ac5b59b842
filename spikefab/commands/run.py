"""``spikefab run IMAGE --input in.npz --steps N [--mode cycle] [--probe pop.v] [-o out.npz]``.

Runs an image on the emulator (or a device with ``--device URI``), prints a one-screen summary
(spikes per output, cycles, latency, energy) and optionally writes ``out.npz``
(:meth:`~spikefab.arch.Result.save_npz`: each output's spikes under its name (a voltage readout's
float values, in the graph's units, instead), ``cycles_per_step``
in cycle mode, ``trace:pop.var`` per probe).
"""

from __future__ import annotations

import argparse

import numpy as np

from spikefab.api import run as run_image
from spikefab.commands._args import check_output_file, seconds_arg
from spikefab.commands._runio import add_common, load_inputs, read_image


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run an image on the emulator (or a device) and save spikes")
    add_common(p)
    p.add_argument("--mode", choices=["functional", "cycle"], default="functional",
                   help="emulator engine (default functional)")
    p.add_argument("--probe", action="append", default=[], metavar="POP.VAR",
                   help="record a variable (u, v, theta, ref, s) each step; repeatable")
    p.add_argument("--device", metavar="URI", help="run on a device (emu://, rtlsim://, serial://)")
    p.add_argument("-o", "--output", metavar="NPZ", help="write spikes (and traces) to this file")
    p.add_argument("--link-timeout", type=seconds_arg, default=None, metavar="S",
                   help="under mpirun: seconds a rank waits for the others before it reports "
                        "them lost (default 60)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    check_output_file(args.output, ".npz")
    from spikefab.emulator.distributed import launched_by_mpi
    if args.device is None and launched_by_mpi():
        from spikefab.commands.run_mpi import main_mpi
        return main_mpi(args, report)
    image = read_image(args.image)
    result = run_image(image, load_inputs(args.input), args.steps, mode=args.mode,
                       probes=args.probe, device=args.device)
    return report(args, result)


def report(args: argparse.Namespace, result) -> int:
    """Print the one-screen summary and write ``-o out.npz`` (rank 0 only under MPI)."""
    print(f"{args.image}: {args.steps} steps on {result.backend or args.device}")
    for name, s in result.spikes.items():
        if name in result.values:
            v = result.values[name]
            last = v[-1] if len(v) else np.zeros(v.shape[1])
            print(f"  output {name!r}: voltage readout of {v.shape[1]} channels; last step "
                  f"min {last.min():.4g} max {last.max():.4g} (channel {int(np.argmax(last))}), "
                  f"mean over steps max {v.mean(axis=0).max() if len(v) else 0:.4g}")
        else:
            print(f"  output {name!r}: {int(s.sum())} spikes from {s.shape[1]} channels")
    c = result.counters
    if "synops" in c:
        print(f"  synaptic ops {int(c['synops']):,}, neuron spikes {int(c.get('spikes', 0)):,}")
    if result.cycles_per_step is not None and len(result.cycles_per_step):
        cps = np.asarray(result.cycles_per_step)
        print(f"  cycles/step min {cps.min()} median {np.median(cps):g} max {cps.max()}")
    if result.latency_us is not None:
        print(f"  latency {result.latency_us:.3f} us, energy {result.energy_pj or 0:.1f} pJ")
    if args.output:
        result.save_npz(args.output)
        print(f"  wrote {args.output}")
    return 0
