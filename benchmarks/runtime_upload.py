"""Upload throughput to the virtual board at 115,200 and 1,000,000 baud, as a fraction of the line.

A pseudo-terminal has no baud rate, so the link runs through the ``faulty://`` shim with only
``pace=BAUD`` set: bytes cross no faster than an 8N1 UART at that rate (10 bits per byte, each
direction).  The fraction is payload bytes per second (the image's table bytes) over the line's
``baud / 10`` bytes per second: what is lost is framing (COBS, header, CRC, write arguments), the
answers and, with a window of 1 (stop and wait, the protocol before round 3), the board's
turnaround on every frame.  ``--windows 1,8`` measures stop-and-wait and an 8-frame window in the
same run (before / after).  ``unpaced`` measures the bridge itself.

    .venv/bin/python benchmarks/runtime_upload.py [--board virtual|model] [--repeat 2] [--windows 1,8]

Prints one JSON line per window and baud rate.
"""

from __future__ import annotations

import argparse
import json

from runtime_common import board, network_image


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--board", choices=["virtual", "model"], default="virtual")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--windows", default="1,8",
                    help="comma-separated frames in flight (1 = stop and wait)")
    args = ap.parse_args()
    windows = [int(w) for w in args.windows.split(",")]
    from spikefab.runtime import open_device

    image = network_image()
    with board(args.board) as pty:
        for window, (label, baud, uri) in [(w, link) for w in windows for link in [("115200", 115_200, f"faulty://{pty}?pace=115200"),
                                 ("1000000", 1_000_000, f"faulty://{pty}?pace=1000000"),
                                 ("unpaced", 1_000_000, f"serial://{pty}")]]:
            best = None
            with open_device(uri, baud=baud, progress=False, timeout=10.0,
                             resend_after=0.5, window=window) as dev:
                for _ in range(args.repeat):
                    dev.load(image)
                    if best is None or dev.upload.seconds < best.seconds:
                        best = dev.upload
                    assert dev.image_crc() == image.crc32()
            print(json.dumps({
                "board": args.board, "window": window, "link": label, "baud": baud,
                "payload_bytes": best.payload_bytes, "wire_bytes": best.wire_bytes,
                "seconds": round(best.seconds, 3), "payload_Bps": round(best.bytes_per_s),
                "line_Bps": round(best.line_bytes_per_s),
                "fraction_of_line": round(best.line_fraction, 3)}), flush=True)


if __name__ == "__main__":
    main()
