"""On-chip learning: output neurons become selective to spatial spike patterns through STDP.

In the spirit of NeuroCoreX's demo: a 4x4 input layer is shown a few spatial spike patterns in
turn, each with background noise; a small output population learns its input weights with
pair-based STDP on the chip's learning engine (``net.connect(..., learning=STDP(...))``) and
competes through static lateral inhibition.  After training, each output neuron answers mostly
to one pattern.  The script prints the selectivity index of every neuron,

    SI = (r_pref - mean r_other) / (r_pref + mean r_other)      (0: indifferent, 1: selective)

computed from the responses in the last third of the run, and plots the weight matrices over
time and the response matrix::

    python examples/stdp_patterns.py --out build/stdp

It runs on the emulator's functional engine (target ``loihi1``, the profile with a learning
engine); the weights it learns are the ones Lava 0.10 would learn for the same rule and seeds
(``tests/arch/learning/test_learning_lava.py``).

``--board`` runs a smaller configuration (:data:`BOARD`: fewer presentations, target
``ecp5-85k``, whose parallel cores carry the RTL learning engine -- the iCE40 UP5K has no room
for one) on the virtual board: the Verilator-built SoC behind a pseudo-terminal, driven through
``serial://`` exactly like an FPGA on a USB UART.  It runs the same image on ``emu://`` too and
checks that the learned weights (and the weight snapshots) are identical::

    python examples/stdp_patterns.py --board
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import numpy as np

SIDE = 4
N_IN = SIDE * SIDE
#: The virtual-board configuration: small enough for a simulated FPGA (540 steps, about a
#: minute), long enough that each output neuron ends selective to its own pattern.
BOARD = {"presentations": 18, "seed": 0, "target": "ecp5-85k", "snapshot_every": 90}


def patterns(n: int = 3) -> np.ndarray:
    """``n`` disjoint spatial patterns on the 4x4 grid: (n, 16) bool (rows, columns, diagonal)."""
    p = np.zeros((3, SIDE, SIDE), bool)
    p[0, :, 0:2] = True                 # left half
    p[1, 0:2, 2:] = True                # top-right block
    p[2, 2:, 2:] = True                 # bottom-right block
    return p[:n].reshape(n, N_IN)


def spike_train(pats: np.ndarray, presentations: int, show: int = 20, rest: int = 10,
                rate: float = 0.5, noise: float = 0.03, seed: int = 0):
    """Input spikes (steps, 16) and the pattern shown at each step (-1 during rest)."""
    rng = np.random.default_rng(seed)
    steps = presentations * (show + rest)
    x = (rng.random((steps, N_IN)) < noise).astype(np.uint8)
    label = np.full(steps, -1)
    order = rng.permutation(np.resize(np.arange(len(pats)), presentations))
    for k, pi in enumerate(order):
        t0 = k * (show + rest)
        on = rng.random((show, N_IN)) < rate
        x[t0:t0 + show] |= (on & pats[pi]).astype(np.uint8)
        label[t0:t0 + show] = pi
    return x, label


def build(n_out: int = 3, seed: int = 0, t_epoch: int = 2, learn: bool = True):
    """Input ``x`` (16) -> plastic ``out`` (n_out, STDP) with lateral inhibition.

    ``learn=False`` builds the same network with frozen weights (the control).
    """
    import spikefab as sf

    rng = np.random.default_rng(seed)
    net = sf.Network()
    net.input("x", N_IN)
    net.population("out", n_out, sf.LoihiLIF(du=2048, dv=1024, vth=180))
    w0 = rng.integers(30, 90, size=(n_out, N_IN))
    stdp = sf.STDP(A_plus=1, A_minus=-1, tau_plus=8, tau_minus=8, learning_rate=2 ** -2,
                   t_epoch=t_epoch, sign_mode="excitatory", rng_seed=seed)
    net.connect("x", "out", w0, learning=stdp if learn else None, name="x->out")
    inhibit = -220 * (1 - np.eye(n_out, dtype=int))
    net.connect("out", "out", inhibit, name="lateral")
    net.output("spikes", "out")
    return net


def selectivity(spikes: np.ndarray, label: np.ndarray, n_pat: int) -> tuple[np.ndarray, np.ndarray]:
    """(responses (n_out, n_pat): mean spikes per shown step, SI per neuron)."""
    r = np.stack([spikes[label == k].mean(axis=0) if np.any(label == k)
                  else np.zeros(spikes.shape[1]) for k in range(n_pat)], axis=1)
    pref = r.max(axis=1)
    other = (r.sum(axis=1) - pref) / max(n_pat - 1, 1)
    si = np.where(pref + other > 0, (pref - other) / np.maximum(pref + other, 1e-12), 0.0)
    return r, si


def run(presentations: int = 60, n_out: int = 3, seed: int = 0, snapshot_every: int = 30,
        device: str | None = None, learn: bool = True, target: str = "loihi1") -> dict:
    """Compile for ``target``, train (on ``device``: a device URI, e.g. ``serial://PTY``, or
    the functional engine), and measure selectivity in the last third."""
    import spikefab as sf

    pats = patterns(n_out)
    x, label = spike_train(pats, presentations, seed=seed)
    image = sf.compile(build(n_out, seed, learn=learn), target=target, progress=False)
    steps = len(x)
    if device is None:
        res = sf.run(image, {"x": x}, steps, weight_every=snapshot_every)
    else:
        with sf.open_device(device, weight_every=snapshot_every) as dev:
            dev.load(image)
            res = dev.run({"x": x}, steps)
    tail = slice(2 * steps // 3, steps)
    resp, si = selectivity(res.spikes["spikes"][tail], label[tail], len(pats))
    return {"image": image, "result": res, "responses": resp, "si": si, "patterns": pats,
            "weights": res.weights.get("x->out"), "snapshots": res.weight_snapshots.get("x->out")}


def run_on_virtual_board(presentations: int = BOARD["presentations"],
                         seed: int = BOARD["seed"]) -> dict:
    """:data:`BOARD` on the virtual board through ``serial://`` and on ``emu://``: both runs,
    and whether the learned weights and their snapshots are identical."""
    from spikefab.rtl.virtual_board import VirtualBoard

    kw = {"presentations": presentations, "seed": seed, "target": BOARD["target"],
          "snapshot_every": BOARD["snapshot_every"]}
    emu = run(device="emu://", **kw)
    with VirtualBoard(BOARD["target"]) as vb:
        board = run(device=f"serial://{vb.pty}?baud=1000000&progress=0", **kw)
    same = (np.array_equal(board["weights"], emu["weights"])
            and np.array_equal(board["snapshots"], emu["snapshots"]))
    return {"board": board, "emu": emu, "identical": same}


def plot(out: dict, path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    snaps = out["snapshots"]
    picks = np.linspace(0, len(snaps) - 1, 4).astype(int) if snaps is not None and len(snaps) \
        else []
    n_out = out["weights"].shape[0]
    fig, axes = plt.subplots(n_out, len(picks) + 1, figsize=(2.2 * (len(picks) + 1), 2.2 * n_out),
                             squeeze=False)
    for col, k in enumerate(picks):
        for row in range(n_out):
            ax = axes[row, col]
            ax.imshow(snaps[k][row].reshape(SIDE, SIDE), vmin=0, vmax=255, cmap="viridis")
            ax.set_xticks([]), ax.set_yticks([])
            if row == 0:
                ax.set_title(f"snapshot {k}")
    for row in range(n_out):
        ax = axes[row, -1]
        ax.bar(range(out["responses"].shape[1]), out["responses"][row])
        ax.set_title(f"neuron {row}: SI {out['si'][row]:.2f}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--presentations", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("build/stdp"))
    p.add_argument("--board", action="store_true",
                   help="the small configuration on the virtual board (ecp5-85k) vs emu://")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.board:
        both = run_on_virtual_board()
        out = both["board"]
        print(f"virtual board ({BOARD['target']}, {BOARD['presentations']} presentations): "
              f"weights {'identical to' if both['identical'] else 'DIFFERENT from'} emu://")
    else:
        out = run(args.presentations, seed=args.seed)
    for i, s in enumerate(out["si"]):
        pref = int(np.argmax(out["responses"][i]))
        print(f"neuron {i}: prefers pattern {pref}, selectivity index {s:.2f}")
    updates = out["result"].counters.get("learning_updates")     # a board does not count them
    print(f"mean selectivity index {out['si'].mean():.2f}"
          + (f"; {updates} synapse updates" if updates is not None else ""))
    print(f"plot: {plot(out, args.out / 'stdp_patterns.png')}")
    return out


if __name__ == "__main__":
    main()
