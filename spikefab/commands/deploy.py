"""``spikefab deploy IMAGE --port P [--baud B] --input in.npz --steps N [-o out.npz]``.

Uploads an image to a board over the host protocol (a USB UART, or the virtual board's
``/dev/pts/N``), checks that the board's image CRC register holds the image's CRC, runs, reads
everything back and prints a summary: upload time and throughput against the line rate, run
time, output spikes, counters.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from spikefab.errors import InputError, LinkError
from spikefab.commands._runio import load_inputs
from spikefab.commands._args import steps_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deploy", help="upload an image to a board over a serial port and run it")
    p.add_argument("image", help="compiled image (.sfi)")
    p.add_argument("--port", required=True,
                   help="serial port (/dev/ttyUSB1, /dev/pts/N) or a pyserial URL (socket://h:p)")
    p.add_argument("--baud", type=int, default=115200, help="line rate (default 115200)")
    p.add_argument("--input", help="input spikes (.npz, one (steps, n) array per input name)")
    p.add_argument("--steps", type=steps_arg, required=True, help="time steps to run")
    p.add_argument("--timeout", type=float, default=2.0,
                   help="seconds one command may take, resends included (default 2)")
    p.add_argument("--reload", action="store_true",
                   help="upload even if the board's image CRC says it already holds the image")
    p.add_argument("-o", "--out", help="write output spikes (.npz)")
    p.set_defaults(func=run)



def port_uri(port: str) -> str:
    """A device path becomes ``serial://PATH``; URLs (``socket://...``) pass unchanged."""
    return port if "://" in port else f"serial://{port}"


def run(args: argparse.Namespace) -> int:
    from spikefab.commands._args import check_output_file
    check_output_file(args.out, ".npz")
    from spikefab.arch.image import load_image
    from spikefab.runtime import open_device

    image = load_image(args.image)
    inputs = load_inputs(args.input)
    if args.steps < 0:
        raise InputError(f"--steps must be a non-negative integer, not {args.steps}")
    t0 = time.perf_counter()
    with open_device(port_uri(args.port), baud=args.baud, timeout=args.timeout,
                     reset=args.reload) as dev:
        print(f"board on {args.port}: {dev.board.n_cores} cores, host queue "
              f"{dev.board.host_queue_depth}, out_log {dev.board.out_log_depth}, cycle_log "
              f"{dev.board.cycle_log_depth} (opened in {time.perf_counter() - t0:.2f} s)")
        if not args.reload and dev.attach(image):
            print("upload skipped: the board already holds this image")
        else:
            dev.load(image)
            print(f"upload: {dev.upload.summary()}")
        crc = dev.image_crc()
        if crc != image.crc32():
            raise LinkError(f"board image CRC must be {image.crc32():#010x} (the image's), not "
                            f"{crc:#010x}: the upload did not complete")
        print(f"image CRC {crc:#010x} confirmed by the board")
        result = dev.run(inputs, args.steps)
        s = dev.link.stats
        print(f"run: {args.steps} steps in {dev.run_seconds:.2f} s")
        for name, spikes in result.spikes.items():
            print(f"  output {name}: {int(spikes.sum()):,} spikes over {spikes.shape[1]} "
                  f"neurons")
        print("  counters: " + ", ".join(f"{k} {v:,}" for k, v in result.counters.items()))
        if result.cycles_per_step is not None and args.steps:
            print(f"  cycles per step: mean {result.cycles_per_step.mean():.1f}, max "
                  f"{int(result.cycles_per_step.max())}; latency {result.latency_us:.1f} us")
        print(f"link: {s.commands:,} commands, {s.resends:,} resends, {s.naks:,} NAKs, "
              f"{s.bad_frames:,} damaged frames")
    if args.out:
        result.save_npz(Path(args.out))
        print(f"wrote {args.out}")
    return 0
