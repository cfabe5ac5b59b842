"""Latency vs offered load of the cycle engine's fabric on an 8x8 mesh, next to BookSim2.

Uniform random traffic (self included, as BookSim), darwin3 timing (1-cycle links, 4-packet
input FIFOs, single-flit packets), ``noc_traffic`` from ``spikefab.emulator``.  Writes a table
(markdown, stdout) and ``docs/noc-latency-8x8.png``.  BookSim2 numbers: reference notes
``noc-rtl-fpga-anchors.md`` section 1.1 (4 VCs x 8 flits, 4-stage iq router, measured here).

Usage: ``python benchmarks/emulator_noc_curve.py [--quick] [--png PATH]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spikefab.emulator import noc_traffic

#: (offered, avg latency, accepted) of BookSim2 on this machine (anchors section 1.1)
BOOKSIM_8x8 = [(0.01, 33.33, 0.0100), (0.10, 33.88, 0.1003), (0.20, 35.12, 0.2004),
               (0.30, 38.05, 0.3000), (0.35, 41.74, 0.3499), (0.40, 54.70, 0.3999),
               (0.42, 496.4, 0.4177)]
RATES = [0.005, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.32, 0.34, 0.35, 0.36, 0.38, 0.4, 0.45,
         0.5]


def sweep(cycles: int, rates=RATES, seed: int = 1) -> list[dict]:
    noc_traffic((4, 4), "uniform", 0.1, 100, seed=0)          # JIT warm-up (cache load)
    rows = []
    for rate in rates:
        r = noc_traffic((8, 8), "uniform", rate, cycles, seed=seed)
        rows.append({"offered": rate, "accepted": r.accepted, "avg_latency": r.avg_latency,
                     "avg_hops": r.avg_hops, "delivered": r.delivered, "measured": r.measured,
                     "cycles": r.cycles, "cycles_per_s": r.cycles_per_second})
    return rows


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    ax.plot([r["offered"] for r in rows], [r["avg_latency"] for r in rows], "o-",
            label="spikefab fabric (XY, 1 FIFO/input, 1-cycle router)")
    ax.plot([b[0] for b in BOOKSIM_8x8], [b[1] for b in BOOKSIM_8x8], "s--",
            label="BookSim2 (XY, 4 VCs x 8, 4-stage router)")
    ax.axvline(0.5, color="grey", lw=0.8, ls=":")
    ax.text(0.495, 3, "XY bound 4/k = 0.5", rotation=90, ha="right", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_xlabel("offered load (packets/node/cycle)")
    ax.set_ylabel("average packet latency (cycles)")
    ax.set_title("8x8 mesh, uniform random traffic")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 rates, 1,000 cycles (smoke test)")
    ap.add_argument("--png", default=str(Path(__file__).resolve().parents[1] / "docs"
                                          / "noc-latency-8x8.png"))
    args = ap.parse_args(argv)
    rows = sweep(1000, [0.02, 0.2, 0.5]) if args.quick else sweep(20000)
    print("| offered | accepted | avg latency | avg hops | sim cycles/s |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['offered']:.3f} | {r['accepted']:.4f} | {r['avg_latency']:.2f} | "
              f"{r['avg_hops']:.3f} | {r['cycles_per_s']:.3g} |")
    plot(rows, Path(args.png))
    return rows


if __name__ == "__main__":
    main()
