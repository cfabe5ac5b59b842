"""Fault tolerance of the host link: 1,000+ commands at 1 % corrupted bytes, then a cut cable.

The link runs through ``faulty://`` (seeded byte flips in both directions).  Rounds of upload,
run and read-back repeat until at least ``--commands`` commands have completed; every round's
spikes and final states are compared with the emulator and every uploaded table is read back and
compared byte for byte.  Counted: silent corruptions (any mismatch), lost spikes (in the emulator
but not from the board), extra spikes (duplicates or inventions), wrong step counts.  Then the
link is cut mid-run (``cut_after``) and the time to the ``LinkError`` is measured against the
configured timeout, and a fresh ``open_device`` must recover the board.

    .venv/bin/python benchmarks/runtime_faults.py [--board virtual|model] [--commands 1000]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from runtime_common import board, network_image


def _args() -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--board", choices=["virtual", "model"], default="virtual")
    ap.add_argument("--commands", type=int, default=1000)
    ap.add_argument("--flip", type=float, default=0.01)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--window", type=int, default=8, help="WRITE_MEM frames in flight")
    ap.add_argument("--resend-after", type=float, default=0.2,
                    help="seconds before a frame is sent again (the virtual board is slow)")
    return ap.parse_args()


def _noisy_rounds(args, pty: str, image, rng, out: dict) -> None:
    """Upload, run and read back over the corrupting link until ``args.commands`` commands have
    completed; count every mismatch with the emulator into ``out``."""
    from spikefab.emulator import simulate
    from spikefab.runtime import open_device

    uri = f"faulty://{pty}?flip={args.flip}&seed={args.seed}"
    t0 = time.perf_counter()
    with open_device(uri, baud=1_000_000, progress=False, timeout=10.0,
                     resend_after=args.resend_after, window=args.window) as dev:
        while dev.link.stats.commands < args.commands:
            inputs = {"x": (rng.random((args.steps, 24)) < 0.3).astype(np.uint8)}
            ref = simulate(image, inputs, args.steps)
            dev.load(image)
            got = dev.run(inputs, args.steps)
            out["rounds"] += 1
            a, b = ref.spikes["out"].astype(bool), got.spikes["out"].astype(bool)
            out["spikes_checked"] += int(a.sum())
            out["lost_spikes"] += int((a & ~b).sum())
            out["extra_spikes"] += int((b & ~a).sum())
            out["spike_mismatch_rounds"] += int(not got.same_behaviour(ref))
            out["wrong_step_counts"] += int(got.counters["steps"] != args.steps)
            _read_back(dev, image, out)
        s, f = dev.link.stats, dev.port.faults
        out.update(commands=s.commands, resends=s.resends, naks=s.naks, timeouts=s.timeouts,
                   bad_frames=s.bad_frames, bytes_flipped=f["flip"],
                   bytes_on_wire=s.bytes_out + s.bytes_in,
                   seconds=round(time.perf_counter() - t0, 1))


def _read_back(dev, image, out: dict) -> None:
    """Every uploaded table but the state, read back and compared byte for byte."""
    for i, core in enumerate(image.cores):
        phys = dev._phys[i]
        for k, (name, arr) in enumerate(core.tables().items()):
            if name == "state" or not len(arr):
                continue
            back = dev.read_table(phys, k, 0, len(arr), arr.dtype.itemsize)
            out["bytes_checked"] += len(back)
            out["corrupt_payloads"] += int(back != arr.tobytes())


def _cut_cable(pty: str, image, rng, out: dict) -> None:
    """Pull the cable mid-run (some 8 kB after the upload's bytes) and time the ``LinkError``
    from the last answer the host got."""
    from spikefab.errors import LinkError
    from spikefab.runtime import open_device

    with open_device(f"serial://{pty}", progress=False) as dev:
        dev.load(image)
        cut = dev.upload.wire_bytes + 8000
    timeout = 1.0
    with open_device(f"faulty://{pty}?cut_after={cut}", baud=1_000_000, progress=False,
                     timeout=timeout) as dev:
        dev.load(image)
        inputs = {"x": (rng.random((400, 24)) < 0.3).astype(np.uint8)}
        t = time.perf_counter()
        last = t
        try:
            orig = dev.link.execute

            def timed(cmd, **kw):
                nonlocal last
                r = orig(cmd, **kw)
                last = time.perf_counter()
                return r
            dev.link.execute = timed
            orig_answer = dev.link._window_answer

            def timed_answer(*a):          # windowed writes (state restores) answer here
                nonlocal last
                n = orig_answer(*a)
                if n:
                    last = time.perf_counter()
                return n
            dev.link._window_answer = timed_answer
            dev.run(inputs, 400)
            out["cut_error"] = None
        except LinkError as exc:
            out["cut_error"] = str(exc)
            out["cut_seconds_after_last_answer"] = round(time.perf_counter() - last, 3)
            out["configured_timeout"] = timeout


def main() -> None:
    args = _args()
    from spikefab.emulator import simulate
    from spikefab.runtime import open_device

    image = network_image(seed=args.seed, hidden=60, n_in=24, n_out=12, density=0.3)
    rng = np.random.default_rng(args.seed)
    out = {"board": args.board, "flip": args.flip, "window": args.window, "rounds": 0, "corrupt_payloads": 0,
           "spike_mismatch_rounds": 0, "lost_spikes": 0, "extra_spikes": 0, "spikes_checked": 0,
           "bytes_checked": 0, "wrong_step_counts": 0}
    with board(args.board) as pty:
        _noisy_rounds(args, pty, image, rng, out)
        _cut_cable(pty, image, rng, out)
        with open_device(f"serial://{pty}", progress=False) as dev:
            dev.load(image)
            inputs = {"x": (rng.random((args.steps, 24)) < 0.3).astype(np.uint8)}
            out["recovered"] = dev.run(inputs, args.steps).same_behaviour(
                simulate(image, inputs, args.steps))
    print(json.dumps(out), flush=True)

if __name__ == "__main__":
    main()
