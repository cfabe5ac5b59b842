"""Handwritten digits, end to end: train an ANN, convert it to a spiking network, run it on chips.

This is the default demo (``make demo`` / ``spikefab demo``).  Every number it prints comes from
this run:

1. train a one-hidden-layer ReLU :class:`~sklearn.neural_network.MLPClassifier` on scikit-learn's
   bundled 8x8 digits (no download);
2. convert it to an integrate-and-fire (IF) network by data-based weight normalisation (Diehl et
   al. 2015, "threshold balancing"): each layer's weights and biases are divided by the 99.9th
   percentile of its ReLU activations on the training set, so a threshold of 1 stands for the
   layer's largest typical activation and the spike rate approximates the ReLU output;
3. rate-code the pixels deterministically (a pixel of intensity ``p`` in [0, 1] spikes at step
   ``t`` when ``floor(t p)`` increases: no random numbers, so every run is identical) and measure
   the float SNN with a small NumPy simulation that keeps the hardware's timing (a spike reaches
   the next layer one step later);
4. export the SNN to NIR (``Input -> Affine -> IF -> Affine -> IF -> Output``, ``r = 1``,
   ``v_threshold = 1``) and load it back with :func:`spikefab.load_model`;
5. compile it for ``darwin3`` and ``ice40-up5k``, run the test set on the functional emulator, a
   subset on the cycle-accurate engine (cycles, microseconds, energy) and, when an HDL simulator
   is installed, a few samples on the RTL simulation;
6. print one table and write a report (plots and ``report.json``) of the ``darwin3`` run.

Run ``python examples/digits.py --help`` for the options; ``--hidden``, ``--steps``,
``--test-samples`` and ``--cycle-samples`` make it small enough for a test.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

DEFAULT_TARGETS = ("darwin3", "ice40-up5k")


# ----------------------------------------------------------------------------- data and ANN
@dataclass
class Dataset:
    """The 8x8 digits split once with a fixed seed; pixels scaled to [0, 1]."""

    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def load_data(seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """scikit-learn's bundled digits (1,797 images of 8x8 pixels, values 0..16), stratified split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_fraction, random_state=seed,
                                              stratify=y)
    return Dataset(x_tr, x_te, y_tr, y_te)


def train_ann(data: Dataset, hidden: int = 32, seed: int = 0, max_iter: int = 600):
    """A ReLU MLP ``64 -> hidden -> 10``; its biases become the spiking neurons' biases."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    mlp = MLPClassifier(hidden_layer_sizes=(hidden,), activation="relu", alpha=1e-3,
                        max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        # small --max-iter values in tests stop early on purpose
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(data.x_train, data.y_train)
    return mlp


# ----------------------------------------------------------------------------- conversion
@dataclass
class SpikingMLP:
    """Weights ``(out, in)`` and biases of IF layers with threshold 1 (reset by subtraction).

    ``scales[l]`` is the activation scale divided out of layer ``l`` (its 99.9th percentile).
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    scales: list[float] = field(default_factory=list)

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]


def convert(mlp, x_train: np.ndarray, percentile: float = 99.9) -> SpikingMLP:
    """Data-based normalisation: layer ``l`` gets ``W * s_{l-1} / s_l`` and ``b / s_l``.

    ``s_l`` is the ``percentile`` of layer ``l``'s positive ReLU activations over the training
    set (``s_0 = 1``: pixels are already in [0, 1]); a robust percentile rather than the maximum
    keeps rare outliers from slowing every other neuron down.
    """
    weights, biases, scales = [], [], []
    act, prev = np.asarray(x_train, float), 1.0
    for w_in_out, b in zip(mlp.coefs_, mlp.intercepts_):
        w = np.asarray(w_in_out, float).T
        act = np.maximum(act @ w.T + b, 0.0)
        positive = act[act > 0]
        scale = float(np.percentile(positive, percentile)) if positive.size else 1.0
        weights.append(w * prev / scale)
        biases.append(np.asarray(b, float) / scale)
        scales.append(scale)
        prev = scale
    return SpikingMLP(weights, biases, scales)


def encode(x: np.ndarray, steps: int) -> np.ndarray:
    """Deterministic rate code: ``(samples, steps, pixels)`` uint8, rate = intensity."""
    x = np.clip(np.asarray(x, float), 0.0, 1.0)
    t = np.arange(steps + 1, dtype=float)[None, :, None]
    level = np.floor(t * x[:, None, :] + 1e-9)
    return np.diff(level, axis=1).astype(np.uint8)


def simulate_snn(net: SpikingMLP, spikes: np.ndarray) -> np.ndarray:
    """Float IF simulation of a batch; returns output spike counts ``(samples, classes)``.

    Same timing as the hardware (DESIGN.md section 3): host input of step ``t`` and spikes of
    layer ``l`` in step ``t`` are integrated by the next layer in step ``t + 1``.  Neurons fire
    when ``v > 1`` and subtract the threshold.
    """
    n, steps, _ = spikes.shape
    v = [np.zeros((n, w.shape[0])) for w in net.weights]
    incoming = [np.zeros((n, w.shape[1])) for w in net.weights]
    counts = np.zeros((n, net.weights[-1].shape[0]), np.int64)
    for t in range(steps):
        fired = []
        for layer, (w, b) in enumerate(zip(net.weights, net.biases)):
            v[layer] += incoming[layer] @ w.T + b
            z = v[layer] > 1.0
            v[layer] -= z
            fired.append(z.astype(float))
        incoming = [spikes[:, t, :].astype(float)] + fired[:-1]
        counts += fired[-1].astype(np.int64)
    return counts


def predict(counts: np.ndarray) -> np.ndarray:
    """Class = output neuron with most spikes (ties: lowest index, as the hardware can't see v)."""
    return np.asarray(counts).argmax(axis=1)


# ----------------------------------------------------------------------------- NIR
def to_nir(net: SpikingMLP):
    """The SNN as a NIR graph: ``input -> fc0 -> if0 -> fc1 -> if1 -> output``."""
    import nir

    nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array([net.sizes[0]])})}
    edges, prev = [], "input"
    for layer, (w, b) in enumerate(zip(net.weights, net.biases)):
        n = w.shape[0]
        nodes[f"fc{layer}"] = nir.Affine(weight=w.astype(np.float32), bias=b.astype(np.float32))
        nodes[f"if{layer}"] = nir.IF(r=np.ones(n, np.float32), v_threshold=np.ones(n, np.float32),
                                     v_reset=np.zeros(n, np.float32))
        edges += [(prev, f"fc{layer}"), (f"fc{layer}", f"if{layer}")]
        prev = f"if{layer}"
    nodes["output"] = nir.Output(output_type={"output": np.array([net.sizes[-1]])})
    edges.append((prev, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges)


def write_nir(net: SpikingMLP, path: str | Path) -> Path:
    import nir

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nir.write(str(path), to_nir(net))
    return path


# ----------------------------------------------------------------------------- hardware
@dataclass
class TargetRun:
    """What one target did with the test set."""

    target: str
    cores: int = 0
    accuracy: float = float("nan")            #: functional emulator, fixed point
    agree_float: float = float("nan")         #: same class as the float SNN
    cycle_checked: int = 0                    #: samples also run on the cycle engine
    cycle_equal: int = 0                      #: ... with spikes identical to the functional run
    cycles: float = float("nan")              #: mean clock cycles per inference (cycle engine)
    latency_us: float = float("nan")          #: mean microseconds per inference
    energy_nj: float = float("nan")           #: mean energy per inference
    dynamic_nj: float = float("nan")          #: ... of which not static power
    rtl_checked: int = 0
    rtl_equal: int = 0                        #: RTL output spikes identical to the emulator's
    rtl_cycles_checked: int = 0               #: RTL runs whose cycles could be compared ...
    rtl_cycles_equal: int = 0                 #: ... and equalled the cycle engine's, step by step
    rtl_note: str = ""
    image_path: str = ""
    seconds: float = 0.0


def compile_for(model_path: Path, target: str, out_dir: Path):
    """Load the NIR file and compile it (reset by subtraction, as in the conversion)."""
    import spikefab as sf

    # IF neurons have no time constant, so dt only labels the step (1 ms).  A compiler note
    # (e.g. weight exponents merged for a one-class target) is shown, not raised.
    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always")
        image = sf.compile(sf.load_model(model_path), target=target, dt=1e-3, reset="subtract")
    for note in notes:
        print(f"note: {note.message}")
    path = out_dir / f"digits-{target}.sfi"
    image.save(path)
    return image, path


def run_target(model_path: Path, target: str, spikes: np.ndarray, labels: np.ndarray,
               float_pred: np.ndarray, out_dir: Path, *, cycle_samples: int,
               rtl_samples: int, progress: bool = True) -> tuple[TargetRun, Any]:
    """Compile for ``target``, run every sample functionally and a subset cycle-accurately."""
    from tqdm import tqdm

    import spikefab as sf

    t0 = time.perf_counter()
    image, path = compile_for(model_path, target, out_dir)
    (in_name,), (out_name,) = list(image.inputs), list(image.outputs)
    run = TargetRun(target, cores=len(image.cores), image_path=str(path))
    steps = spikes.shape[1]
    pred = np.empty(len(spikes), np.int64)
    functional = []
    for i in tqdm(range(len(spikes)), desc=f"{target} functional", disable=not progress,
                  leave=False):
        res = sf.run(image, {in_name: spikes[i]}, steps, mode="functional")
        functional.append(res.spikes[out_name])
        pred[i] = predict(res.spikes[out_name].sum(axis=0)[None])[0]
    run.accuracy = float(np.mean(pred == labels))
    run.agree_float = float(np.mean(pred == float_pred))

    cycles, lat, energy, dynamic, cycle_cps = [], [], [], [], []
    for i in tqdm(range(min(cycle_samples, len(spikes))), desc=f"{target} cycle",
                  disable=not progress, leave=False):
        res = sf.run(image, {in_name: spikes[i]}, steps, mode="cycle")
        run.cycle_checked += 1
        run.cycle_equal += int(np.array_equal(res.spikes[out_name], functional[i]))
        cycles.append(float(np.sum(res.cycles_per_step)))
        cycle_cps.append(np.asarray(res.cycles_per_step))
        lat.append(float(res.latency_us))
        energy.append(float(res.energy_pj) / 1e3)
        dynamic.append((float(res.energy_pj) - res.energy_breakdown.get("static", 0.0)) / 1e3)
    if cycles:
        run.cycles, run.latency_us, run.energy_nj, run.dynamic_nj = (
            float(np.mean(v)) for v in (cycles, lat, energy, dynamic))
    if rtl_samples:
        _run_rtl(run, image, in_name, out_name, spikes[:rtl_samples], functional, cycle_cps)
    run.seconds = time.perf_counter() - t0
    return run, image


def _run_rtl(run: TargetRun, image, in_name: str, out_name: str, spikes: np.ndarray,
             functional: list[np.ndarray], cycle_cps: list[np.ndarray]) -> None:
    """A few samples on the RTL simulation, compared spike for spike with the emulator and,
    where the cycle engine ran the same sample, cycle for cycle (docs/microarchitecture.md)."""
    import shutil

    try:
        from spikefab.runtime import open_device
    except ImportError:
        run.rtl_note = "no RTL simulation in this build"
        return
    if not shutil.which("iverilog") and not shutil.which("verilator"):
        run.rtl_note = "no HDL simulator installed"
        return
    from spikefab.errors import SpikefabError
    try:
        with open_device("rtlsim://") as dev:
            dev.load(image)
            for i, s in enumerate(spikes):
                res = dev.run({in_name: s}, s.shape[0])
                run.rtl_checked += 1
                run.rtl_equal += int(np.array_equal(res.spikes[out_name], functional[i]))
                if res.cycles_per_step is not None and i < len(cycle_cps):
                    run.rtl_cycles_checked += 1
                    run.rtl_cycles_equal += int(np.array_equal(res.cycles_per_step,
                                                               cycle_cps[i]))
    except SpikefabError as exc:
        run.rtl_note = f"no RTL simulation of {run.target}: {exc}"


# ----------------------------------------------------------------------------- table
def _pct(x: float) -> str:
    return "-" if x != x else f"{100 * x:.2f} %"


def _num(x: float, fmt: str) -> str:
    return "-" if x != x else format(x, fmt)


def format_table(summary: dict, runs: Sequence[TargetRun]) -> str:
    """The one table the demo prints: accuracy, agreement, cost per inference on each target."""
    rows: list[tuple[str, ...]] = [("", *(r.target for r in runs))]

    def same(value: str) -> tuple[str, ...]:          # the float rows do not depend on target
        return tuple(value for _ in runs)

    rows.append(("float ANN accuracy", *same(_pct(summary["ann_accuracy"]))))
    rows.append(("float SNN accuracy", *same(_pct(summary["snn_accuracy"]))))
    rows.append(("conversion loss (ANN - SNN)",
                 *same(f"{100 * summary['conversion_loss']:+.2f} pt")))
    rows.append(("emulator accuracy (fixed point)", *(_pct(r.accuracy) for r in runs)))
    rows.append(("emulator = float SNN class", *(_pct(r.agree_float) for r in runs)))
    rows.append(("cycle engine = functional",
                 *(f"{r.cycle_equal}/{r.cycle_checked} samples" if r.cycle_checked else "-"
                   for r in runs)))
    notes = list(dict.fromkeys(r.rtl_note for r in runs if r.rtl_note and not r.rtl_checked))
    rows.append(("RTL = emulator spikes",
                 *(f"{r.rtl_equal}/{r.rtl_checked} samples" if r.rtl_checked else
                   (f"n/a ({notes.index(r.rtl_note) + 1})" if r.rtl_note else "-")
                   for r in runs)))
    if any(r.rtl_cycles_checked for r in runs):
        rows.append(("RTL = cycle engine cycles",
                     *(f"{r.rtl_cycles_equal}/{r.rtl_cycles_checked} samples"
                       if r.rtl_cycles_checked else "-" for r in runs)))
    rows.append(("time steps / inference", *same(str(summary["steps"]))))
    rows.append(("cores used", *(str(r.cores) for r in runs)))
    rows.append(("cycles / inference", *(_num(r.cycles, ",.0f") for r in runs)))
    rows.append(("µs / inference", *(_num(r.latency_us, ",.1f") for r in runs)))
    rows.append(("energy / inference (nJ)", *(_num(r.energy_nj, ",.1f") for r in runs)))
    rows.append(("  of which dynamic (nJ)", *(_num(r.dynamic_nj, ",.1f") for r in runs)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                       enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines += [f"({i}) {note}" for i, note in enumerate(notes, 1)]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("build/demo"),
                   help="folder for the .nir model, images and the report (default build/demo)")
    p.add_argument("--hidden", type=int, default=32, help="hidden neurons (default 32: fits "
                   "ice40-up5k's one core of 1,024 neurons x 15,360 synapses)")
    p.add_argument("--steps", type=int, default=64, help="time steps per inference (default 64)")
    p.add_argument("--test-samples", type=int, default=0,
                   help="test images run on the emulator (default 0 = all 360)")
    p.add_argument("--cycle-samples", type=int, default=20,
                   help="test images also run on the cycle engine (default 20)")
    p.add_argument("--rtl-samples", type=int, default=1,
                   help="test images also run on the RTL simulation where the target has one "
                        "and a simulator is installed (default 1: about 30 s each on Icarus)")
    p.add_argument("--targets", default=",".join(DEFAULT_TARGETS),
                   help="comma-separated targets (default darwin3,ice40-up5k); '' = float only")
    p.add_argument("--report-steps", type=int, default=0, help="steps of the report run "
                   "(default: 4 inferences back to back)")
    p.add_argument("--no-report", action="store_true", help="skip the plots of the first target")
    p.add_argument("--max-iter", type=int, default=600, help="MLP training epochs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def main(argv: Sequence[str] | None = None) -> dict:
    """Run the whole demo; print the table; return everything measured as a dict."""
    args = build_parser().parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    data = load_data(args.seed)
    mlp = train_ann(data, args.hidden, args.seed, args.max_iter)
    ann_acc = float(mlp.score(data.x_test, data.y_test))
    snn = convert(mlp, data.x_train)
    n_test = args.test_samples or len(data.x_test)
    x_test, y_test = data.x_test[:n_test], data.y_test[:n_test]
    spikes = encode(x_test, args.steps)
    float_pred = predict(simulate_snn(snn, spikes))
    snn_acc = float(np.mean(float_pred == y_test))
    model_path = write_nir(snn, out / "digits.nir")
    summary = {"ann_accuracy": ann_acc, "snn_accuracy": snn_acc,
               "conversion_loss": ann_acc - snn_acc, "steps": args.steps,
               "layers": snn.sizes, "train_samples": len(data.x_train), "test_samples": n_test,
               "model": str(model_path), "targets": {}}
    print(f"digits: MLP {'-'.join(map(str, snn.sizes))} trained on {len(data.x_train):,} images, "
        f"tested on {n_test:,}; ANN -> IF SNN conversion loss "
        f"{100 * (ann_acc - snn_acc):+.2f} points; NIR model {model_path}")

    targets = [t for t in args.targets.split(",") if t]
    runs = []
    for i, target in enumerate(targets):
        run, image = run_target(model_path, target, spikes, y_test, float_pred, out,
                                cycle_samples=args.cycle_samples,
                                rtl_samples=args.rtl_samples, progress=not args.quiet)
        runs.append(run)
        summary["targets"][target] = run.__dict__
        if i == 0 and not args.no_report:
            summary["report"] = str(_report(image, spikes, args, out / "report"))
    if runs:
        print(format_table(summary, runs))
    if "report" in summary:
        print(f"report of the {targets[0]} run (plots + report.json): {Path(summary['report']).resolve()}")
    (out / "digits.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def _report(image, spikes: np.ndarray, args, where: Path) -> Path:
    """Plots of the first target: a few inferences back to back on the cycle engine."""
    from spikefab.report import generate

    k = min(4, len(spikes))
    stream = spikes[:k].reshape(k * spikes.shape[1], spikes.shape[2])
    steps = args.report_steps or len(stream)
    (in_name,) = list(image.inputs)
    generate(image, {in_name: stream[:steps]}, steps, where, mode="cycle")
    return where


if __name__ == "__main__":
    main()
