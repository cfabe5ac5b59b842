"""Read-back throughput of the host link on a paced line, clean and with flipped bytes.

Uploads the 300-neuron network of ``runtime_upload.py`` over a clean paced link, then reopens
the link through ``faulty://PTY?pace=BAUD&flip=F`` (bytes flipped in both directions) without a
reset and reads every table of the image back ``--repeat`` times, comparing each byte.  Fraction
of line = payload bytes/s over ``baud / 10``.  A read whose answer is lost or damaged is asked
again in halves (``Link.execute_window``), so a noisy line settles on answers short enough to
get through instead of re-asking for 250-byte answers that almost never arrive intact.

    .venv/bin/python benchmarks/runtime_read.py [--board model|virtual] [--flips 0,0.01,0.04]

Prints one JSON line per flip rate.
"""

from __future__ import annotations

import argparse
import json
import time

from runtime_common import board, network_image


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--board", choices=["model", "virtual"], default="model")
    ap.add_argument("--flips", default="0,0.01,0.04", help="comma-separated flip rates")
    ap.add_argument("--baud", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    return ap.parse_args()


def main() -> None:
    args = _args()
    from spikefab.runtime import open_device

    image = network_image()
    tables = [(i, k, arr) for i, core in enumerate(image.cores)
              for k, arr in enumerate(core.tables().values()) if len(arr)]
    payload = sum(arr.nbytes for *_, arr in tables)
    with board(args.board) as pty:
        with open_device(f"serial://{pty}", baud=args.baud, progress=False) as dev:
            dev.load(image)
            phys = dev._phys
        for flip in [float(f) for f in args.flips.split(",")]:
            uri = f"faulty://{pty}?pace={args.baud}&flip={flip}&seed={args.seed}"
            with open_device(uri, baud=args.baud, progress=False, timeout=10.0,
                             resend_after=0.05, reset=False) as dev:
                t0 = time.perf_counter()
                wrong = 0
                for _ in range(args.repeat):
                    for i, k, arr in tables:
                        back = dev.read_table(phys[i], k, 0, len(arr), arr.dtype.itemsize)
                        wrong += back != arr.tobytes()
                seconds = time.perf_counter() - t0
                stats = dev.link.stats
                flips = dev.port.faults["flip"]
            rate = payload * args.repeat / seconds
            print(json.dumps({
                "board": args.board, "flip": flip, "baud": args.baud,
                "payload_bytes": payload * args.repeat, "seconds": round(seconds, 3),
                "payload_Bps": round(rate), "fraction_of_line": round(rate / (args.baud / 10), 3),
                "read_mems": stats.commands, "resends": stats.resends,
                "read_splits": stats.read_splits, "bytes_flipped": flips,
                "wrong_tables": int(wrong)}), flush=True)


if __name__ == "__main__":
    main()
