"""NoC traffic mode: synthetic traffic through the same router kernel as the cycle engine.

Used to validate the fabric against interconnection-network theory and BookSim2
(docs/noc-validation.md): zero-load latency must equal section 10 of docs/microarchitecture.md,
and the latency-vs-offered-load curve of uniform random traffic on an 8x8 mesh must saturate near
the XY-mesh bound ``4 / k`` packets/node/cycle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from spikefab.arch.mesh import hop_counts
from spikefab.arch.target import load_target
from spikefab.emulator.noc import kernels as K
from spikefab.emulator.noc.fabric import new_fabric
from spikefab.errors import InputError

__all__ = ["TrafficResult", "noc_traffic", "PATTERNS"]

PATTERNS = ("uniform", "transpose", "hotspot")


@dataclass
class TrafficResult:
    """Outcome of one :func:`noc_traffic` run (latencies in cycles, rates in packets/node/cycle)."""

    pattern: str
    offered: float
    accepted: float            #: packets delivered per node per cycle in the measurement window
    avg_latency: float         #: mean creation-to-arrival latency of the measured packets
    measured: int              #: packets created in [warmup, cycles)
    delivered: int             #: of which arrived before the run ended
    avg_hops: float            #: mean router-to-router hops of the measured packets
    cycles: int                #: cycles simulated (including drain)
    wall_s: float              #: wall-clock seconds of the kernel call
    latencies: np.ndarray      #: per measured, delivered packet
    hops: np.ndarray           #: per measured, delivered packet (router-to-router)
    chiplet_hops: np.ndarray   #: of which inter-chiplet, per measured, delivered packet

    @property
    def cycles_per_second(self) -> float:
        return self.cycles / self.wall_s if self.wall_s > 0 else float("inf")


def noc_traffic(mesh: tuple[int, int] = (8, 8), pattern: str = "uniform", rate: float = 0.1,
                cycles: int = 10000, seed: int = 0, *, warmup: int | None = None,
                drain: int | None = None, chiplets: tuple[int, int] = (1, 1),
                target: str = "darwin3", hot_fraction: float = 0.2) -> TrafficResult:
    """Run synthetic traffic on a ``mesh`` (routers per chiplet) x ``chiplets`` mesh.

    Timing (FIFO depth, link latencies, inter-chiplet serialisation) comes from ``target``.  One
    end point per router is a Bernoulli source of ``rate`` packets/cycle and a sink of one packet
    per cycle.  Packets created in [``warmup`` (default cycles // 4), ``cycles``) are measured;
    the run continues up to ``drain`` (default ``cycles``) extra cycles until they all arrive.
    """
    if pattern not in PATTERNS:
        raise InputError(f"pattern must be one of {', '.join(PATTERNS)}, not {pattern!r}")
    if not 0 < rate <= 1:
        raise InputError(f"rate must be in (0, 1] packets/node/cycle, not {rate!r}")
    mx, my = (int(v) for v in mesh)
    cx, cy = (int(v) for v in chiplets)
    if min(mx, my, cx, cy) < 1 or cycles < 1:
        raise InputError(f"mesh, chiplets and cycles must be positive, not {mesh}, {chiplets}, "
                         f"{cycles}")
    if pattern == "transpose" and mx * cx != my * cy:
        raise InputError(f"transpose traffic needs a square mesh, not {mx * cx}x{my * cy}")
    warmup = cycles // 4 if warmup is None else int(warmup)
    drain = cycles if drain is None else int(drain)
    t = load_target(target)
    tm = t.timing
    gx, gy = mx * cx, my * cy
    R = gx * gy
    fab = new_fabric(gx, gy, mx, my, 1, tm.fifo_depth, tm.link_latency, tm.chiplet_link_latency,
                     tm.chiplet_link_cycles, np.stack([np.arange(R), np.zeros(R, np.int64)], 1),
                     routing=t.topology.routing)
    total = rate * R * (cycles + drain)
    pool = int(total + 10 * np.sqrt(total) + 64)
    t0 = time.perf_counter()
    pk, ran = K.run_traffic(fab.args(), PATTERNS.index(pattern), float(rate), float(hot_fraction),
                            int(cycles), int(drain), int(warmup), int(seed), pool)
    wall = time.perf_counter() - t0
    win = (pk[4] >= warmup) & (pk[4] < cycles)
    got = win & (pk[5] >= 0)
    lat = (pk[5] - pk[4])[got]
    src = pk[3][got]
    ew, ns, ch = hop_counts(src % gx, src // gx, pk[0][got], pk[1][got], mx, my)
    hops = ew + ns + ch
    arrived_in_window = int(np.sum((pk[5] >= warmup) & (pk[5] < cycles)))
    span = max(cycles - warmup, 1)
    return TrafficResult(pattern=pattern, offered=float(rate),
                         accepted=arrived_in_window / (R * span),
                         avg_latency=float(lat.mean()) if len(lat) else float("nan"),
                         measured=int(win.sum()), delivered=int(got.sum()),
                         avg_hops=float(hops.mean()) if len(hops) else float("nan"),
                         cycles=int(ran), wall_s=wall, latencies=lat, hops=hops,
                         chiplet_hops=ch)
