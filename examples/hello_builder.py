"""The smallest spikefab program: a hand-written fixed-point network, compiled and run.

Two host input channels drive four Loihi LIF neurons through an excitatory/inhibitory weight
matrix; the four neurons are the output.  The builder takes hardware numbers directly (Lava's
meanings: 8-bit weights, 12-bit decays, threshold compared as ``vth << 6``), so what you write is
exactly what the chip stores.

The file is also a builder script for the command line, which calls :func:`build`::

    spikefab compile examples/hello_builder.py --target ice40-up5k -o hello.sfi

Run as a script it compiles, writes ``in.npz`` (the input pattern) and prints the output
spikes: ``python examples/hello_builder.py --out build/hello``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import numpy as np


def build():
    """``x`` (2 channels) -> ``lif`` (4 neurons) -> output ``y``."""
    import spikefab as sf

    net = sf.Network()
    net.input("x", 2)
    # current decays by half each step, voltage by 1/16; threshold 100 << 6
    net.population("lif", 4, sf.LoihiLIF(du=2048, dv=256, vth=100))
    net.connect("x", "lif", weights=np.array([[120, 0], [0, 120], [80, 80], [120, -120]]))
    net.output("y", "lif")
    return net


def input_pattern(steps: int = 20) -> np.ndarray:
    """Channel 0 spikes every other step in the first half, channel 1 every step in the second."""
    x = np.zeros((steps, 2), np.uint8)
    x[: steps // 2: 2, 0] = 1
    x[steps // 2:, 1] = 1
    return x


def main(argv: Sequence[str] | None = None) -> dict:
    import spikefab as sf

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", default="darwin3")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--out", type=Path, default=Path("build/hello"))
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    image = sf.compile(build(), target=args.target, progress=False)
    image.save(args.out / "hello.sfi")
    x = input_pattern(args.steps)
    np.savez(args.out / "in.npz", x=x)
    result = sf.run(image, {"x": x}, args.steps, mode="cycle")
    y = result.spikes["y"]
    print(f"hello on {args.target}: {len(image.cores)} core(s); output spikes (step: neurons)")
    for t in range(args.steps):
        print(f"  {t:3d}: {''.join('|' if s else '.' for s in x[t])}  ->  "
              f"{''.join('|' if s else '.' for s in y[t])}")
    print(f"{int(result.cycles_per_step.sum()):,} cycles, {result.latency_us:.2f} µs, "
          f"{result.energy_pj / 1e3:.2f} nJ; image and input in {args.out}/")
    return {"spikes": y, "cycles": int(result.cycles_per_step.sum()), "image": args.out / "hello.sfi"}


if __name__ == "__main__":
    main()
