"""Bring your own snnTorch network: train on the digits, export NIR, run it on two chips.

What a user of snnTorch does with spikefab, end to end, with every number from this run:

1. rate-code scikit-learn's bundled 8x8 digits into spike trains (deterministic: a pixel of
   intensity ``p`` spikes at step ``t`` when ``floor(t p)`` increases);
2. train a small snnTorch network on the CPU (``Linear -> Leaky -> Linear -> Leaky``, zero
   reset, surrogate gradients, cross-entropy on output spike counts) and export it with
   ``snntorch.export_to_nir``; snnTorch needs torch, which lives in the framework venvs that
   ``make frameworks`` builds (``.venv-fw106``: snnTorch 1.0, or ``.venv-fw104``: 0.9.4), so
   this half runs there, as a subprocess (``--train``);
3. load the NIR file with :func:`spikefab.load_model` and simulate it in float (NIR semantics,
   no added latency): the framework's accuracy must come back;
4. compile for ``loihi1`` and ``ice40-up5k`` and run the test set on the functional emulator
   (each layer adds one step of latency, so every sample runs two extra steps);
5. print framework / float / fixed-point accuracy per target.

``python examples/snntorch_digits.py --help``; ``--epochs``, ``--hidden``, ``--test-samples``
make it small enough for a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ("loihi1", "ice40-up5k")
DT = 1e-4                    # snnTorch's export convention: tau = dt / (1 - beta) at dt = 1e-4


# ----------------------------------------------------------------------------------- data
def encode(x: np.ndarray, steps: int) -> np.ndarray:
    """Deterministic rate code: ``(steps, n_samples, 64)`` spikes from pixels in [0, 1]."""
    t = np.arange(1, steps + 1)[:, None, None]
    return (np.floor(t * x[None]) > np.floor((t - 1) * x[None])).astype(np.uint8)


def make_data(path: Path, steps: int, seed: int) -> None:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x / 16.0, y, test_size=0.2, random_state=seed,
                                              stratify=y)
    np.savez(path, x_train=encode(x_tr, steps), y_train=y_tr, x_test=encode(x_te, steps),
             y_test=y_te)


# -------------------------------------------------------------------- training (framework venv)
def train(work: Path, hidden: int, epochs: int, seed: int) -> None:
    """Runs where snnTorch is installed: train, export ``net.nir``, save framework outputs."""
    import importlib.metadata as md

    import nir
    import snntorch as snn
    import snntorch.utils as su
    import torch
    from snntorch import surrogate
    from snntorch.export_nir import export_to_nir

    torch.manual_seed(seed)
    data = np.load(work / "data.npz")
    x_tr = torch.from_numpy(data["x_train"].astype(np.float32))
    y_tr = torch.from_numpy(data["y_train"])
    x_te = torch.from_numpy(data["x_test"].astype(np.float32))
    v1 = md.version("snntorch").startswith("0.")

    def param(value: float, n: int):
        # snnTorch 1.0 exports only per-neuron tensors; 0.9.4 takes numbers
        return value if v1 else torch.full((n,), value)

    grad = surrogate.fast_sigmoid(slope=10)
    net = torch.nn.Sequential(
        torch.nn.Linear(64, hidden),
        snn.Leaky(beta=param(0.9, hidden), threshold=param(1.0, hidden), spike_grad=grad,
                  init_hidden=True, reset_mechanism="zero"),
        torch.nn.Linear(hidden, 10),
        snn.Leaky(beta=param(0.9, 10), threshold=param(1.0, 10), spike_grad=grad,
                  init_hidden=True, output=True, reset_mechanism="zero"))

    def counts(x: torch.Tensor) -> torch.Tensor:
        su.reset(net)
        total = 0
        for t in range(x.shape[0]):
            spk, _ = net(x[t])
            total = total + spk
        return total

    opt = torch.optim.Adam(net.parameters(), lr=5e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(x_tr.shape[1])
        for i in range(0, len(perm), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = loss_fn(counts(x_tr[:, idx]), y_tr[idx])
            loss.backward()
            opt.step()
    train_s = time.perf_counter() - t0
    with torch.no_grad():
        c = counts(x_te).numpy()
    sample = x_te[0, :1]
    g = export_to_nir(net, sample) if v1 else export_to_nir(net, sample, ignore_dims=[0])
    nir.write(str(work / "net.nir"), g)
    np.savez(work / "framework.npz", counts=c)
    (work / "framework.json").write_text(json.dumps({
        "snntorch": md.version("snntorch"), "nir": md.version("nir"), "train_s": train_s}))


def default_fw_python() -> str | None:
    try:
        import snntorch  # noqa: F401
        return sys.executable
    except ImportError:
        pass
    for venv in (".venv-fw106", ".venv-fw104"):
        py = ROOT / venv / "bin" / "python"
        if py.exists():
            return str(py)
    return None


# ----------------------------------------------------------------------- spikefab (our venv)
def evaluate(work: Path, test_samples: int, targets=TARGETS) -> dict:
    import spikefab as sf
    from spikefab.compiler.floatsim import simulate as fsim
    from spikefab.compiler.frontends import NirCompatWarning

    data = np.load(work / "data.npz")
    x, y = data["x_test"][:, :test_samples], data["y_test"][:test_samples]
    fw = np.load(work / "framework.npz")["counts"][:test_samples]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NirCompatWarning)    # nir 1.0.4 files: lenient reader
        graph = sf.load_model(work / "net.nir")
    (inp,), (out,) = graph.inputs(), graph.outputs()
    f = fsim(graph, {inp: x.astype(np.float64)}, DT)[out].sum(axis=0)
    res = {"samples": int(len(y)), "framework": float((fw.argmax(1) == y).mean()),
           "float": float((f.argmax(1) == y).mean()),
           "float_equals_framework": bool(np.array_equal(f, fw)), "targets": {}}
    steps, lag = x.shape[0], 2                     # one step of latency per layer
    for target in targets:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # exponent merge on one-class cores
            img = sf.compile(graph, target, dt=DT)
        pred = np.zeros(len(y), np.int64)
        cnt = np.zeros((len(y), 10))
        t0 = time.perf_counter()
        for i in range(len(y)):
            xi = np.zeros((steps + lag, x.shape[2]), np.uint8)
            xi[:steps] = x[:, i]
            r = sf.run(img, {inp: xi}, steps + lag)
            cnt[i] = r.spikes[out].sum(axis=0)
            pred[i] = int(cnt[i].argmax())
        corr = np.corrcoef(cnt.ravel(), fw.ravel())[0, 1]
        res["targets"][target] = {"accuracy": float((pred == y).mean()),
                                  "count_correlation": float(corr), "cores": len(img.cores),
                                  "run_s": time.perf_counter() - t0}
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--steps", type=int, default=16, help="time steps per digit")
    p.add_argument("--test-samples", type=int, default=360)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fw-python", help="python of a venv with snnTorch (default: this one if it "
                                       "has snnTorch, else .venv-fw106, else .venv-fw104)")
    p.add_argument("--work", type=Path, help="folder for the data, net.nir and results")
    p.add_argument("--train", type=Path, help=argparse.SUPPRESS)   # the framework-venv half
    a = p.parse_args(argv)
    if a.train:
        train(a.train, a.hidden, a.epochs, a.seed)
        return 0
    fw_python = a.fw_python or default_fw_python()
    if fw_python is None:
        print("snnTorch is not installed here and no framework venv exists: run "
              "`make frameworks` first", file=sys.stderr)
        return 2
    work = a.work or Path(tempfile.mkdtemp(prefix="snntorch_digits_"))
    work.mkdir(parents=True, exist_ok=True)
    make_data(work / "data.npz", a.steps, a.seed)
    subprocess.run([fw_python, __file__, "--train", str(work), "--hidden", str(a.hidden),
                    "--epochs", str(a.epochs), "--seed", str(a.seed)], check=True)
    res = evaluate(work, a.test_samples)
    res["framework_versions"] = json.loads((work / "framework.json").read_text())
    (work / "snntorch_digits.json").write_text(json.dumps(res, indent=1))
    v = res["framework_versions"]
    print(f"snnTorch {v['snntorch']} (nir {v['nir']}), trained in {v['train_s']:.0f} s; "
          f"{res['samples']} test digits")
    print(f"  framework accuracy        {100 * res['framework']:.1f} %")
    print(f"  spikefab float (NIR)      {100 * res['float']:.1f} %  (spike counts equal to the "
          f"framework's: {res['float_equals_framework']})")
    for t, r in res["targets"].items():
        print(f"  {t:<12} fixed point {100 * r['accuracy']:.1f} %  (count correlation "
              f"{r['count_correlation']:.3f}, {r['cores']} cores, {r['run_s']:.1f} s emulated)")
    print(f"  wrote {work / 'snntorch_digits.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
