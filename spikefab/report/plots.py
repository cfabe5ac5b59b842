"""The report's figures, one function per PNG, drawn headless with matplotlib's Agg backend.

Each function takes plain data (an image, a result, link counts) and returns the saved path; none
runs a simulation.  Figures are sized to be read at 100 % zoom: titles say what and for which
target, axes carry units, colour bars carry their quantity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from spikefab.arch.image import Image
from spikefab.arch.target import Target
from spikefab.report.traffic import LinkTraffic

__all__ = ["plot_raster", "plot_placement", "plot_link_traffic", "plot_chiplet_traffic", "plot_cycles",
           "plot_energy", "population_colours"]

_MAX_RASTER_NEURONS = 400     # neurons drawn per population (evenly sampled above this)


def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def population_colours(names: list[str]) -> dict[str, tuple]:
    """One distinct colour per population, stable for a given order of names."""
    plt = _pyplot()
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    return {name: cmap(i % cmap.N) for i, name in enumerate(names)}


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def plot_raster(spikes: Mapping[str, np.ndarray], path: Path, *, title: str) -> Path:
    """Spike raster, one panel per population (``name -> (steps, n)``).

    Up to ``_MAX_RASTER_NEURONS`` neurons every spike is a tick; a larger population is drawn as
    a density: its neurons are grouped into ``_MAX_RASTER_NEURONS`` equal bins and each
    (step, bin) cell is shaded by the fraction of the bin's neurons that spiked, so a million
    neurons stay readable and no spike is dropped from the picture.
    """
    plt = _pyplot()
    from matplotlib.colors import LinearSegmentedColormap

    names = list(spikes)
    colours = population_colours(names)
    ratios = [float(np.clip(np.asarray(spikes[n]).shape[1] / 40, 1.0, 4.0)) for n in names]
    fig, axes = plt.subplots(len(names), 1, sharex=True, squeeze=False,
                             figsize=(9, min(14.0, 1.4 + 1.1 * sum(ratios))),
                             gridspec_kw={"height_ratios": ratios}, layout="constrained")
    for ax, name in zip(axes[:, 0], names):
        s = np.asarray(spikes[name]).astype(bool)
        steps, n = s.shape
        if n <= _MAX_RASTER_NEURONS:
            t, i = np.nonzero(s)
            size = 60 if n <= 16 else 14 if n <= 100 else 3
            ax.scatter(t, i, s=size if len(t) < 50000 else 1, marker="|", color=colours[name],
                       linewidths=1.5 if n <= 100 else 0.8)
            how = ""
        else:
            edges = np.linspace(0, n, _MAX_RASTER_NEURONS + 1).astype(np.int64)
            counts = np.add.reduceat(s, edges[:-1], axis=1).astype(float)
            frac = counts / np.diff(edges)[None, :]
            cmap = LinearSegmentedColormap.from_list(name, ["white", colours[name]])
            im = ax.imshow(frac.T, aspect="auto", origin="lower", cmap=cmap,
                           vmin=0.0, vmax=max(float(frac.max()), 1e-9),
                           extent=(-0.5, steps - 0.5, 0, n), interpolation="nearest")
            fig.colorbar(im, ax=ax, label="fraction\nspiking", fraction=0.03, pad=0.01)
            how = f", shaded by bins of {n // _MAX_RASTER_NEURONS:,} neurons"
        ax.set_xlim(-0.5, max(steps, 1) - 0.5)
        ax.set_ylim(-0.5 if n <= _MAX_RASTER_NEURONS else 0, n - 0.5)
        ax.set_ylabel(f"{name}\nneuron", fontsize=9)
        rate = s.mean() if s.size else 0.0
        ax.set_title(f"{name}: {int(s.sum()):,} spikes from {n:,} neurons "
                     f"({100 * rate:.2f} % per step){how}", fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("time step")
    fig.suptitle(title)
    return _save(fig, path)


def plot_placement(image: Image, target: Target, path: Path) -> Path:
    """Cores on each used chiplet's mesh, coloured by the population they hold."""
    plt = _pyplot()
    from matplotlib.patches import Patch, Rectangle

    topo = target.topology
    names = list(image.populations)
    colours = population_colours(names)
    owner: dict[int, list[str]] = {}
    for name, spec in image.populations.items():
        for sl in spec["slices"]:
            owner.setdefault(int(sl["core"]), []).append(name)
    chiplets = sorted({c.chiplet for c in image.cores}) or [0]
    ncols = min(len(chiplets), 4)
    nrows = -(-len(chiplets) // ncols)
    pw = float(np.clip(1.5 + 0.3 * topo.mesh_x, 3.0, 6.0))
    ph = float(np.clip(1.2 + 0.3 * topo.mesh_y, 1.8, 6.0))
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, layout="constrained",
                             figsize=(pw * ncols + 2.6, ph * nrows + 0.8))
    slots = topo.cores_per_router
    label_cores = len(image.cores) <= 48
    for ax in axes.flat[len(chiplets):]:
        ax.axis("off")
    for ax, chip in zip(axes.flat, chiplets):
        ax.add_patch(Rectangle((-0.5, -0.5), topo.mesh_x, topo.mesh_y, facecolor="#f2f2f2",
                               edgecolor="#999999"))
        for ci, core in enumerate(image.cores):
            if core.chiplet != chip:
                continue
            pops = owner.get(ci, [])
            colour = colours[pops[0]] if pops else "#dddddd"
            w = 0.9 / slots
            x0 = core.x - 0.45 + core.slot * w
            ax.add_patch(Rectangle((x0, core.y - 0.45), w, 0.9, facecolor=colour,
                                   edgecolor="black", linewidth=0.4,
                                   hatch="//" if len(pops) > 1 else None))
            if label_cores:
                ax.text(x0 + w / 2, core.y, f"core {ci}\n{core.n_neurons} n", ha="center",
                        va="center", fontsize=7 if topo.mesh_x <= 8 else 5)
        cx, cy = chip % topo.chiplets_x, chip // topo.chiplets_x
        used = sum(1 for c in image.cores if c.chiplet == chip)
        ax.set_title(f"chiplet {chip} ({cx},{cy}): {used} of {topo.cores_per_chiplet} cores",
                     fontsize=9)
        ax.set_xlim(-0.6, topo.mesh_x - 0.4)
        ax.set_ylim(-0.6, topo.mesh_y - 0.4)
        ax.set_aspect("equal")
        step = max(1, topo.mesh_x // 8)
        ax.set_xticks(range(0, topo.mesh_x, step))
        ax.set_yticks(range(0, topo.mesh_y, max(1, topo.mesh_y // 8)))
        ax.set_xlabel("router x")
        ax.set_ylabel("router y")
    handles = [Patch(facecolor=colours[n], edgecolor="black",
                     label=f"{n} ({image.populations[n]['size']:,} neurons)") for n in names]
    if any(len(p) > 1 for p in owner.values()):
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="//",
                             label="core shared by populations"))
    fig.legend(handles=handles, loc="outside right center", fontsize=9, title="population")
    fig.suptitle(f"Placement on {target.name}: {len(image.cores)} cores on "
                 f"{len(chiplets)} chiplet(s)")
    return _save(fig, path)


def _view(traffic: LinkTraffic, target: Target, cores_xy: np.ndarray) -> tuple[int, int, int, int]:
    """Router window ``(x0, x1, y0, y1)`` (inclusive) worth drawing: where cores and traffic are.

    Small meshes are drawn whole; on a larger one the window is the box around the used cores,
    the host corner and every link that carried a packet, plus a margin of two routers (or
    widened to whole chiplets on a multi-chiplet target).
    """
    topo = target.topology
    gx, gy = topo.global_x, topo.global_y
    if max(gx, gy) <= 8:
        return 0, gx - 1, 0, gy - 1
    xs, ys = [0, *cores_xy[:, 0].tolist()], [0, *cores_xy[:, 1].tolist()]
    for arr, dx, dy in ((traffic.horizontal, 1, 0), (traffic.vertical, 0, 1)):
        yy, xx = np.nonzero(arr)
        if len(xx):
            xs += [int(xx.min()), int(xx.max()) + dx]
            ys += [int(yy.min()), int(yy.max()) + dy]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if topo.chiplets > 1:
        mx, my = topo.mesh_x, topo.mesh_y
        return x0 // mx * mx, (x1 // mx + 1) * mx - 1, y0 // my * my, (y1 // my + 1) * my - 1
    return max(0, x0 - 2), min(gx - 1, x1 + 2), max(0, y0 - 2), min(gy - 1, y1 + 2)


def _link_segments(traffic: LinkTraffic, window: tuple[int, int, int, int],
                   per: int) -> tuple[np.ndarray, np.ndarray]:
    """Line segments ``(n, 2, 2)`` of the links inside ``window`` and their packets per step."""
    x0, x1, y0, y1 = window
    h = traffic.horizontal[y0:y1 + 1, x0:x1] / per          # links (x, y) - (x + 1, y)
    v = traffic.vertical[y0:y1, x0:x1 + 1] / per            # links (x, y) - (x, y + 1)
    hy, hx = np.indices(h.shape)
    vy, vx = np.indices(v.shape)
    segs = np.concatenate([
        np.stack([np.stack([hx + x0, hy + y0], -1), np.stack([hx + x0 + 1, hy + y0], -1)],
                 -2).reshape(-1, 2, 2),
        np.stack([np.stack([vx + x0, vy + y0], -1), np.stack([vx + x0, vy + y0 + 1], -1)],
                 -2).reshape(-1, 2, 2)])
    return segs, np.concatenate([h.ravel(), v.ravel()]).astype(float)


def _mesh_axes(ax, topo, window: tuple[int, int, int, int]) -> None:
    """Chiplet edges, the host port, ticks, limits and labels of the drawn ``window``."""
    from matplotlib.ticker import MaxNLocator

    x0, x1, y0, y1 = window
    nx, ny = x1 - x0 + 1, y1 - y0 + 1
    for k in range(1, topo.chiplets_x):
        if x0 < k * topo.mesh_x <= x1:
            ax.axvline(k * topo.mesh_x - 0.5, color="tab:blue", linestyle="--", linewidth=0.8)
    for k in range(1, topo.chiplets_y):
        if y0 < k * topo.mesh_y <= y1:
            ax.axhline(k * topo.mesh_y - 0.5, color="tab:blue", linestyle="--", linewidth=0.8)
    if x0 == 0 and y0 == 0:
        ax.annotate("host", (-0.15, 0), xytext=(-1.0, 0), ha="right", va="center", fontsize=8,
                    color="tab:green", arrowprops={"arrowstyle": "<->", "color": "tab:green"})
    for axis, lo, n in ((ax.xaxis, x0, nx), (ax.yaxis, y0, ny)):
        if n <= 24:
            axis.set_ticks(range(lo, lo + n))
        else:
            axis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(x0 - 1.9 if x0 == 0 else x0 - 0.6, x1 + 0.6)
    ax.set_ylim(y0 - 0.6, y1 + 0.6)
    ax.set_aspect("equal")
    ax.set_xlabel("global router x")
    ax.set_ylabel("global router y")


def _traffic_title(traffic: LinkTraffic, target: Target, window: tuple[int, int, int, int],
                   steps: int) -> str:
    """Title: target, steps, the window drawn if not the whole mesh, packets and hops."""
    topo, per = target.topology, max(steps, 1)
    x0, x1, y0, y1 = window
    nx, ny = x1 - x0 + 1, y1 - y0 + 1
    busiest = traffic.busiest()
    extra = (f"; chiplet edges dashed, {traffic.chiplet_hops:,} inter-chiplet hops"
             if topo.chiplets > 1 else "")
    shown = "" if (nx, ny) == (topo.global_x, topo.global_y) else \
        f" — routers x {x0}..{x1}, y {y0}..{y1} of {topo.global_x}x{topo.global_y}"
    if traffic.hops:
        detail = (f"{traffic.packets:,} packets, {traffic.hops:,} hops, busiest link "
                  f"{busiest['packets'] / per:.1f} packets/step{extra}")
    else:
        detail = (f"{traffic.packets:,} packets, none between routers: every packet stays at "
                  f"its router (core to core, or host port at (0, 0))")
    return (f"NoC link traffic on {target.name} over {steps} steps (grey links idle){shown}"
            f"\n{detail}")


def plot_link_traffic(traffic: LinkTraffic, target: Target, path: Path, *,
                      steps: int, cores_xy: np.ndarray | None = None) -> Path:
    """Heatmap of packets per time step on every router-to-router link (both directions).

    ``cores_xy`` (global router coordinates of the image's cores, ``(n, 2)``) marks the used
    routers and decides the window drawn on a large mesh (see :func:`_view`).
    """
    plt = _pyplot()
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    cores_xy = np.zeros((0, 2), np.int64) if cores_xy is None else np.asarray(cores_xy)
    x0, x1, y0, y1 = _view(traffic, target, cores_xy)
    nx, ny = x1 - x0 + 1, y1 - y0 + 1
    per = max(steps, 1)
    segs, vals = _link_segments(traffic, (x0, x1, y0, y1), per)

    width = float(np.clip(2.5 + 0.35 * nx, 6.0, 11.0))
    height = float(np.clip(width * ny / nx + 1.2, 3.2, 10.0))
    fig, ax = plt.subplots(figsize=(width + 1.5, height), layout="constrained")
    top = max(float(vals.max()) if vals.size else 0.0, 1e-9)
    norm = Normalize(vmin=top * 1e-6, vmax=top)       # idle links fall under: drawn grey
    cmap = plt.get_cmap("inferno_r").with_extremes(under="#e4e4e4")
    lw = max(0.6, 6.0 - 0.05 * max(nx, ny))
    if len(segs):
        lc = LineCollection(segs, array=vals, cmap=cmap, norm=norm, linewidths=lw)
        ax.add_collection(lc)
        if traffic.hops:
            fig.colorbar(lc, ax=ax, label="packets / time step (both directions)",
                         extend="min", shrink=0.9 if ny > 4 else 0.6)
    if max(nx, ny) <= 48:
        xs, ys = np.meshgrid(np.arange(x0, x1 + 1), np.arange(y0, y1 + 1))
        ax.scatter(xs.ravel(), ys.ravel(), s=max(2, 60 - max(nx, ny)), color="#bbbbbb",
                   zorder=3)
    if len(cores_xy):
        ax.scatter(cores_xy[:, 0], cores_xy[:, 1], s=max(2, 60 - max(nx, ny)), color="#333333",
                   zorder=4, label="router with a used core")
        ax.legend(loc="upper right", fontsize=8)
    _mesh_axes(ax, target.topology, (x0, x1, y0, y1))
    ax.set_title(_traffic_title(traffic, target, (x0, x1, y0, y1), steps), fontsize=10)
    return _save(fig, path)


def plot_chiplet_traffic(traffic: LinkTraffic, chiplets: list[int], target: Target, path: Path,
                         *, steps: int) -> Path:
    """Matrix of packets per time step from neurons on one chiplet to cores on another."""
    plt = _pyplot()
    from matplotlib.colors import LogNorm, Normalize

    m = traffic.chiplet_packets[np.ix_(chiplets, chiplets)] / max(steps, 1)
    n = len(chiplets)
    side = float(np.clip(2.5 + 0.4 * n, 4.5, 10.0))
    fig, ax = plt.subplots(figsize=(side + 1.5, side), layout="constrained")
    shown = np.where(m > 0, m, np.nan)
    vmin = np.nanmin(shown) if np.isfinite(shown).any() else 1e-3
    vmax = np.nanmax(shown) if np.isfinite(shown).any() else 1.0
    log = vmax / vmin > 20
    norm = LogNorm(vmin=vmin, vmax=vmax) if log else Normalize(vmin=0.0, vmax=vmax)
    im = ax.imshow(shown, cmap="viridis", norm=norm, origin="upper")
    fig.colorbar(im, ax=ax, label=f"packets / time step ({'log scale; ' if log else ''}"
                                  f"blank = none)")
    labels = [f"{c} ({c % target.topology.chiplets_x},{c // target.topology.chiplets_x})"
              for c in chiplets]
    step = max(1, n // 16)
    ax.set_xticks(range(0, n, step), labels[::step], rotation=90 if n > 6 else 0, fontsize=8)
    ax.set_yticks(range(0, n, step), labels[::step], fontsize=8)
    if n <= 8:
        for (i, j), v in np.ndenumerate(m):
            if v > 0:
                ax.text(j, i, f"{v:,.1f}", ha="center", va="center", fontsize=10,
                        color="white" if norm(v) < 0.6 else "black")
    ax.set_xlabel("destination chiplet (index (x,y))")
    ax.set_ylabel("source chiplet (index (x,y))")
    between = m.sum() - np.trace(m)
    ax.set_title(f"Chiplet-to-chiplet traffic on {target.name}: {between:,.1f} of "
                 f"{m.sum():,.1f} packets/step cross chiplets", fontsize=10)
    return _save(fig, path)


def plot_cycles(cycles_per_step: np.ndarray, path: Path, *, target: Target) -> Path:
    """Histogram of clock cycles per time step, with mean and maximum marked."""
    plt = _pyplot()
    c = np.asarray(cycles_per_step, np.int64)
    fig, ax = plt.subplots(figsize=(7, 4))
    bins = min(40, max(5, len(np.unique(c))))
    ax.hist(c, bins=bins, color="tab:blue", edgecolor="white")
    ax.axvline(c.mean(), color="tab:red", linestyle="--", label=f"mean {c.mean():,.0f}")
    ax.axvline(c.max(), color="tab:orange", linestyle=":", label=f"max {c.max():,}")
    us = c.mean() / target.timing.clock_mhz
    ax.set_xlabel(f"clock cycles per time step ({target.timing.clock_mhz:g} MHz)")
    ax.set_ylabel("time steps")
    ax.set_title(f"Cycles per step on {target.name}: {len(c)} steps, mean {us:,.2f} µs/step")
    ax.legend()
    return _save(fig, path)


def plot_energy(breakdown: Mapping[str, float], path: Path, *, target: Target,
                steps: int) -> Path:
    """Horizontal bars of energy per component, in nJ and as a share of the total.

    A logarithmic axis is used when the largest component dwarfs the others (static power
    usually does on a mostly idle chip), so the dynamic parts stay visible.
    """
    plt = _pyplot()
    items = sorted(((k, float(v)) for k, v in breakdown.items()), key=lambda kv: kv[1])
    total = sum(v for _, v in items) or 1.0
    dynamic = sum(v for k, v in items if k != "static")
    fig, ax = plt.subplots(figsize=(8, 1.4 + 0.45 * max(len(items), 1)))
    labels = [k.replace("_", " ") for k, _ in items]
    values = np.array([v / 1e3 for _, v in items])
    positive = values[values > 0]
    log = positive.size > 1 and positive.max() / positive.min() > 100
    bars = ax.barh(labels, values, color=["tab:gray" if k == "static" else "tab:green"
                                          for k, _ in items])
    for bar, (_, v) in zip(bars, items):
        x = bar.get_width() if v > 0 else (positive.min() if log else 0.0)
        ax.text(x, bar.get_y() + bar.get_height() / 2,
                f" {v / 1e3:,.3g} nJ ({100 * v / total:.1f} %)", va="center", fontsize=9)
    if log:
        ax.set_xscale("log")
        ax.set_xlim(positive.min() / 2, positive.max() * 30)
        ax.set_xlabel("energy (nJ, log scale)")
    else:
        ax.set_xlim(0, max(values.max(initial=0.0) * 1.45, 1e-9))
        ax.set_xlabel("energy (nJ)")
    ax.set_title(f"Energy on {target.name} over {steps} steps: {total / 1e3:,.1f} nJ in all "
                 f"({total / max(steps, 1) / 1e3:,.2f} nJ/step),\n"
                 f"{dynamic / 1e3:,.1f} nJ dynamic (green), the rest static (grey)", fontsize=10)
    return _save(fig, path)
