"""Build small networks in every installed framework, run them, export NIR, save the outputs.

Run inside a framework venv (``.venv-fw104``: nir 1.0.4, snnTorch 0.9.4, Norse 1.1, Sinabs 3.1,
Rockpool 3.1; ``.venv-fw106``: nir >= 1.0.6, snnTorch 1.0)::

    python tests/frameworks/export_fw.py OUTDIR

For each case it writes ``OUTDIR/NAME.nir`` (the framework's own export), ``OUTDIR/NAME.npz``
(``x``: the seeded input spikes ``(T, n)``, ``y``: the framework's own output ``(T, m)``, spikes
or voltages) and one entry of ``OUTDIR/manifest.json`` saying how to compile and compare it:
``dt``/``integrator``/``reset`` that state the framework's discretization in NIR terms,
``readout`` (``spikes`` or ``voltage``), ``exact`` (whether NIR can state the framework's
semantics exactly, so the float simulation must equal it spike for spike), and ``defect``: a
known exporter defect that spikefab must refuse with this text in the error, plus ``fix``, the
correction the user would apply (the test applies it and compares again).

It imports nothing of spikefab: the frameworks' venvs stay independent of ours.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import sys
import traceback
from pathlib import Path

import numpy as np
import torch

T = 80                  # steps per run
RATE = 0.25             # input spike probability per step and channel
CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def spikes(seed: int, *shape) -> np.ndarray:
    return (np.random.default_rng(seed).random((T, *shape)) < RATE).astype(np.float32)


def version(pkg: str) -> str:
    try:
        return md.version(pkg)
    except md.PackageNotFoundError:
        return ""


# ------------------------------------------------------------------------------- snnTorch
def _snn_run(net, x: np.ndarray, voltage: bool = False) -> np.ndarray:
    """Spikes (or membrane) of the output layer per step; output neurons return
    ``(spk, mem)`` (Leaky) or ``(spk, syn, mem)`` (Synaptic)."""
    import snntorch.utils as su
    su.reset(net)
    out = []
    with torch.no_grad():
        for t in range(T):
            state = net(torch.from_numpy(x[t][None]))
            out.append((state[-1] if voltage else state[0])[0].numpy().reshape(-1))
    return np.array(out)


def _snn_mlp(sizes: tuple[int, int, int], hidden, output, gain: float):
    """Linear -> ``hidden()`` -> Linear -> ``output()``, both weights scaled by ``gain`` (so that
    the random input drives spikes).  The layers are built in this order because a recurrent
    neuron draws its own weights from torch's generator."""
    lin1 = torch.nn.Linear(sizes[0], sizes[1])
    mid = hidden()
    lin2 = torch.nn.Linear(sizes[1], sizes[2])
    net = torch.nn.Sequential(lin1, mid, lin2, output())
    with torch.no_grad():
        net[0].weight.mul_(gain)
        net[2].weight.mul_(gain)
    return net


def _snn_export(net, x: np.ndarray):
    import snntorch as snn
    from snntorch.export_nir import export_to_nir
    sample = torch.from_numpy(x[0][None])
    if version("snntorch").startswith("0."):
        g = export_to_nir(net, sample)
    else:   # snnTorch 1.0: its documented call fails without ignore_dims (batch axis)
        g = export_to_nir(net, sample, ignore_dims=[0])
    snn.utils.reset(net)
    return g


def _snn_per_neuron(beta: float, n) -> torch.Tensor:
    """snnTorch 1.0 needs per-neuron tensors to export (its documented scalar call fails)."""
    return torch.full(tuple(np.atleast_1d(n)), beta) if not version("snntorch").startswith("0.") \
        else beta


def _thr(n):
    """The threshold as snnTorch 1.0 needs it for export: one per neuron (0.9.4: a number)."""
    return _snn_per_neuron(1.0, n)


@case
def snntorch_mlp_lif(seed=1):
    import snntorch as snn
    torch.manual_seed(seed)
    net = _snn_mlp(
        (20, 32, 12), lambda: snn.Leaky(beta=_snn_per_neuron(0.9, 32), threshold=_thr(32),
                                        init_hidden=True, reset_mechanism="zero"),
        lambda: snn.Leaky(beta=_snn_per_neuron(0.8, 12), threshold=_thr(12), init_hidden=True,
                          output=True, reset_mechanism="zero"), gain=3.0)
    x = spikes(seed, 20)
    return net, x, _snn_run(net, x), _snn_export(net, x), {
        "dt": 1e-4, "reset": "zero", "exact": True}


@case
def snntorch_learned_beta(seed=2):
    import snntorch as snn
    torch.manual_seed(seed)
    beta = torch.linspace(0.5, 0.95, 24)          # a trained per-neuron beta (learn_beta=True)
    # snnTorch 0.9.4 exports a scalar threshold next to a per-neuron beta, which nir refuses
    # ("All parameters must have the same shape"): a per-neuron threshold tensor avoids it
    net = _snn_mlp(
        (16, 24, 10), lambda: snn.Leaky(beta=beta, learn_beta=True, threshold=torch.ones(24),
                                        init_hidden=True, reset_mechanism="zero"),
        lambda: snn.Leaky(beta=_snn_per_neuron(0.9, 10), threshold=_thr(10), init_hidden=True,
                          output=True, reset_mechanism="zero"), gain=3.0)
    x = spikes(seed, 16)
    return net, x, _snn_run(net, x), _snn_export(net, x), {
        "dt": 1e-4, "reset": "zero", "exact": True}


@case
def snntorch_mlp_subtract(seed=3):
    import snntorch as snn
    torch.manual_seed(seed)
    net = _snn_mlp(
        (20, 24, 10), lambda: snn.Leaky(beta=_snn_per_neuron(0.85, 24), threshold=_thr(24),
                                        init_hidden=True),
        lambda: snn.Leaky(beta=_snn_per_neuron(0.85, 10), threshold=_thr(10), init_hidden=True,
                          output=True), gain=3.0)
    x = spikes(seed, 20)
    # snnTorch subtracts the threshold after the decay (v = beta v + I - theta z), NIR's reset
    # before it (v = beta (v - theta) + I): close, not spike for spike
    return net, x, _snn_run(net, x), _snn_export(net, x), {
        "dt": 1e-4, "reset": "subtract", "exact": False}


@case
def snntorch_cubalif(seed=4):
    import snntorch as snn
    torch.manual_seed(seed)
    net = _snn_mlp(
        (16, 20, 10), lambda: snn.Synaptic(alpha=_snn_per_neuron(0.6, 20),
                                           beta=_snn_per_neuron(0.85, 20), threshold=_thr(20),
                                           init_hidden=True, reset_mechanism="zero"),
        lambda: snn.Synaptic(alpha=_snn_per_neuron(0.6, 10), beta=_snn_per_neuron(0.85, 10),
                             threshold=_thr(10), init_hidden=True, output=True,
                             reset_mechanism="zero"), gain=2.0)
    x = spikes(seed, 16)
    # snnTorch's zero reset also clears the synaptic current, which NIR's CubaLIF keeps
    return net, x, _snn_run(net, x), _snn_export(net, x), {
        "dt": 1e-4, "reset": "zero", "exact": False}


@case
def snntorch_rleaky(seed=16):
    """Recurrent RLeaky (exported by snnTorch 1.0 as LIF + a recurrent Affine; 0.9.4 refuses):
    its zero reset also drops the next step's input, ``(1 - z)(beta v + I)``, which NIR's LIF
    reset cannot state, so it agrees in counts, not spike for spike."""
    import snntorch as snn
    torch.manual_seed(seed)
    net = _snn_mlp(
        (16, 20, 8), lambda: snn.RLeaky(beta=_snn_per_neuron(0.9, 20), threshold=_thr(20),
                                        linear_features=20, all_to_all=True, init_hidden=True,
                                        reset_mechanism="zero"),
        lambda: snn.Leaky(beta=_snn_per_neuron(0.8, 8), threshold=_thr(8), init_hidden=True,
                          output=True, reset_mechanism="zero"), gain=3.0)
    with torch.no_grad():
        net[1].recurrent.weight.mul_(0.5)
    x = spikes(seed, 16)
    return net, x, _snn_run(net, x), _snn_export(net, x), {
        "dt": 1e-4, "reset": "zero", "exact": False}


@case
def snntorch_cnn(seed=5):
    import snntorch as snn
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1),
        snn.Leaky(beta=_snn_per_neuron(0.9, (4, 8, 8)), threshold=_thr((4, 8, 8)),
                  init_hidden=True, reset_mechanism="zero"),
        torch.nn.AvgPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 4 * 4, 10),
        snn.Leaky(beta=_snn_per_neuron(0.9, 10), threshold=_thr(10), init_hidden=True,
                  output=True, reset_mechanism="zero"))
    with torch.no_grad():
        net[0].weight.mul_(4.0)
        net[4].weight.mul_(6.0)
    x = spikes(seed, 2, 8, 8)
    y = _snn_run(net, x)
    return net, x.reshape(T, -1), y, _conv_input_shape(_snn_export(net, x), (8, 8), (4, 4, 4)), {
        "dt": 1e-4, "reset": "zero", "exact": True}


# ---------------------------------------------------------------------------------- Norse
def _norse_run(net, x: np.ndarray) -> np.ndarray:
    """Output per step of a stateful ``SequentialState`` (state threaded by hand)."""
    state, out = None, []
    with torch.no_grad():
        for t in range(T):
            y, state = net(torch.from_numpy(x[t][None]), state)
            out.append(y[0].numpy())
    return np.array(out)


def _norse_export(net, x: np.ndarray):
    import norse.torch as norse
    return norse.to_nir(net, torch.from_numpy(x[0][None]), dt=1e-3)


@case
def norse_lif_li(seed=6):
    import norse.torch as norse
    torch.manual_seed(seed)
    p = norse.LIFBoxParameters(tau_mem_inv=torch.tensor(100.0), v_th=torch.tensor(0.3))
    q = norse.LIBoxParameters(tau_mem_inv=torch.tensor(50.0))
    lin1, lin2 = torch.nn.Linear(16, 20), torch.nn.Linear(20, 8)
    with torch.no_grad():
        lin1.weight.mul_(4.0)
        lin2.weight.mul_(2.0)
    net = norse.SequentialState(lin1, norse.LIFBoxCell(p), lin2, norse.LIBoxCell(q))
    x = spikes(seed, 16)
    return net, x, _norse_run(net, x), _norse_export(net, x), {
        "dt": 1e-3, "reset": "zero", "exact": True, "readout": "voltage",
        "defect": "Norse 1.1 writes tau*dt", "fix": "tau_over_dt"}


@case
def norse_lifcell(seed=15):
    """LIFCell (CUBA): exported as CubaLIF with Norse's tau*dt; the fix also sets w_in."""
    import norse.torch as norse
    torch.manual_seed(seed)
    p = norse.LIFParameters(tau_syn_inv=torch.tensor(200.0), tau_mem_inv=torch.tensor(100.0),
                            v_th=torch.tensor(0.3))
    lin1, lin2 = torch.nn.Linear(16, 20), torch.nn.Linear(20, 8)
    with torch.no_grad():
        lin1.weight.mul_(6.0)
        lin2.weight.mul_(6.0)
    net = norse.SequentialState(lin1, norse.LIFCell(p), lin2, norse.LIFCell(p))
    x = spikes(seed, 16)
    return net, x, _norse_run(net, x), _norse_export(net, x), {
        "dt": 1e-3, "reset": "zero", "exact": True,
        "defect": "Norse 1.1 writes tau*dt", "fix": "tau_over_dt"}


@case
def norse_if(seed=7):
    import norse.torch as norse
    torch.manual_seed(seed)
    lin1, lin2 = torch.nn.Linear(16, 20), torch.nn.Linear(20, 10)
    with torch.no_grad():
        lin1.weight.mul_(0.5)
        lin2.weight.mul_(0.5)
    net = norse.SequentialState(lin1, norse.IAFCell(), lin2, norse.IAFCell())
    x = spikes(seed, 16)
    return net, x, _norse_run(net, x), _norse_export(net, x), {"dt": 1e-3, "reset": "zero", "exact": True}


# --------------------------------------------------------------------------------- Sinabs
def _sinabs_run(net, x: np.ndarray) -> np.ndarray:
    import sinabs
    sinabs.reset_states(net)
    with torch.no_grad():
        y = net(torch.from_numpy(x[:, None]).reshape(T, *x.shape[1:]))
    sinabs.reset_states(net)
    return y.reshape(T, -1).numpy()


@case
def sinabs_if_mlp(seed=8):
    import sinabs
    import sinabs.layers as sl
    from sinabs.activation import MembraneSubtract, SingleSpike
    torch.manual_seed(seed)
    kw = dict(spike_fn=SingleSpike, reset_fn=MembraneSubtract())
    net = torch.nn.Sequential(torch.nn.Linear(20, 24, bias=False), sl.IAFSqueeze(batch_size=1, **kw),
                              torch.nn.Linear(24, 10, bias=False), sl.IAFSqueeze(batch_size=1, **kw))
    with torch.no_grad():
        net[0].weight.mul_(2.0)
        net[2].weight.mul_(2.0)
    x = spikes(seed, 20)
    y = _sinabs_run(net, x)
    g = sinabs.to_nir(net, torch.from_numpy(x[:1]))
    return net, x, y, g, {"dt": 1.0, "reset": "subtract", "exact": True}


@case
def sinabs_lif_mlp(seed=9):
    import sinabs
    import sinabs.layers as sl
    from sinabs.activation import MembraneSubtract, SingleSpike
    torch.manual_seed(seed)
    kw = dict(spike_fn=SingleSpike, reset_fn=MembraneSubtract())
    net = torch.nn.Sequential(torch.nn.Linear(20, 24, bias=False),
                              sl.LIFSqueeze(tau_mem=torch.tensor(10.0), batch_size=1, **kw),
                              torch.nn.Linear(24, 10, bias=False),
                              sl.LIFSqueeze(tau_mem=torch.tensor(8.0), batch_size=1, **kw))
    with torch.no_grad():
        net[0].weight.mul_(25.0)
        net[2].weight.mul_(25.0)
    x = spikes(seed, 20)
    y = _sinabs_run(net, x)
    g = sinabs.to_nir(net, torch.from_numpy(x[:1]))
    return net, x, y, g, {"dt": 1.0, "integrator": "exact", "reset": "subtract", "exact": True}


@case
def sinabs_cnn(seed=10):
    import sinabs
    import sinabs.layers as sl
    from sinabs.activation import MembraneSubtract, SingleSpike
    torch.manual_seed(seed)
    kw = dict(spike_fn=SingleSpike, reset_fn=MembraneSubtract())
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1, bias=False), sl.IAFSqueeze(batch_size=1, **kw),
        sl.SumPool2d(2), torch.nn.Flatten(), torch.nn.Linear(64, 10, bias=False),
        sl.IAFSqueeze(batch_size=1, **kw))
    with torch.no_grad():
        net[0].weight.mul_(3.0)
    x = spikes(seed, 2, 8, 8)
    y = _sinabs_run(net, x)
    g = _conv_input_shape(sinabs.to_nir(net, torch.from_numpy(x[:1])), (8, 8), (4, 4, 4))
    return net, x.reshape(T, -1), y, g, {"dt": 1.0, "reset": "subtract", "exact": True}


@case
def sinabs_conv1d(seed=11):
    import sinabs
    import sinabs.layers as sl
    from sinabs.activation import MembraneSubtract, SingleSpike
    torch.manual_seed(seed)
    kw = dict(spike_fn=SingleSpike, reset_fn=MembraneSubtract())
    net = torch.nn.Sequential(
        torch.nn.Conv1d(3, 6, 5, stride=2, bias=False), sl.IAFSqueeze(batch_size=1, **kw),
        torch.nn.Flatten(), torch.nn.Linear(6 * 8, 8, bias=False),
        sl.IAFSqueeze(batch_size=1, **kw))
    with torch.no_grad():
        net[0].weight.mul_(3.0)
        net[3].weight.mul_(2.0)
    x = spikes(seed, 3, 20)
    y = _sinabs_run(net, x)
    g = _conv_input_shape(sinabs.to_nir(net, torch.from_numpy(x[:1])), (20,), (6, 8))
    return net, x.reshape(T, -1), y, g, {"dt": 1.0, "reset": "subtract", "exact": True}


@case
def sinabs_expleak_readout(seed=12):
    import sinabs
    import sinabs.layers as sl
    from sinabs.activation import MembraneSubtract, SingleSpike
    torch.manual_seed(seed)
    kw = dict(spike_fn=SingleSpike, reset_fn=MembraneSubtract())
    net = torch.nn.Sequential(torch.nn.Linear(16, 20, bias=False), sl.IAFSqueeze(batch_size=1, **kw),
                              torch.nn.Linear(20, 6, bias=False),
                              sl.ExpLeakSqueeze(tau_mem=torch.tensor(5.0), batch_size=1))
    with torch.no_grad():
        net[0].weight.mul_(2.0)
    x = spikes(seed, 16)
    y = _sinabs_run(net, x)
    g = sinabs.to_nir(net, torch.from_numpy(x[:1]))
    # Sinabs 3.1 exports ExpLeak (v = alpha v + I, no input normalisation) as LI with r = 1,
    # which means v = alpha v + (1 - alpha) I: the fix is r = 1 / (1 - alpha)
    return net, x, y, g, {"dt": 1.0, "integrator": "exact", "reset": "subtract", "exact": True,
                          "readout": "voltage", "fix": "sinabs_expleak_r"}


# ------------------------------------------------------------------------------- Rockpool
@case
def rockpool_lif(seed=13):
    from rockpool.nn.combinators import Sequential
    from rockpool.nn.modules import LIFTorch, LinearTorch
    from rockpool.nn.modules.torch.nir import to_nir
    torch.manual_seed(seed)
    net = Sequential(LinearTorch((16, 20)), LIFTorch(20, dt=1e-3),
                     LinearTorch((20, 8)), LIFTorch(8, dt=1e-3))
    x = spikes(seed, 16)
    with torch.no_grad():
        y, _, _ = net(torch.from_numpy(x[None]))
    g = to_nir(net, torch.from_numpy(x[None]))
    # Rockpool's export does not describe its own LIFTorch (w_in / r differ, several spikes per
    # step): the graph compiles and runs, but there is no agreement to expect
    return net, x, y[0].numpy(), g, {"dt": 1e-3, "reset": "subtract", "exact": False,
                                     "compare": False}


def _conv_input_shape(g, spatial: tuple[int, ...], flat_in: tuple[int, ...]):
    """nir 1.0.4 cannot write a convolution or Flatten whose input shape is None (what nirtorch
    leaves; the write fails half-way): set them, as a user of nir 1.0.4 must."""
    for node in g.nodes.values():
        if type(node).__name__ in ("Conv1d", "Conv2d") and node.input_shape is None:
            node.input_shape = spatial[0] if len(spatial) == 1 else np.array(spatial)
        if type(node).__name__ == "Flatten" and (node.input_type or {}).get("input") is None:
            node.input_type = {"input": np.array(flat_in)}
    return g


# ------------------------------------------------------------------- nir itself (every version)
@case
def nir_threshold(seed=14):
    """A memoryless Threshold layer written by this venv's nir (1.0.4 keeps Threshold in
    ``surrogate_gradient``, 1.0.8 in ``threshold``; the file's type name is the same).  Weights
    that are halves and quarters of the threshold make exact ties (0.5 + 0.5 = 1.0): NIR's
    ``z = [x > theta]`` does not fire on them; the reference output is that rule in NumPy."""
    import nir
    w = np.array([[0.5, 0.5, 0.0, 0.0], [0.5, 0.25, 0.25, 0.0], [1.0, 0.75, 0.0, 0.5],
                  [0.25, 0.25, 0.25, 0.25], [0.75, 0.0, 0.5, 0.0], [0.5, 0.5, 0.5, 0.0]],
                 np.float32)
    theta = np.ones(6, np.float32)
    g = nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([4])),
                            "w": nir.Linear(weight=w),
                            "th": nir.Threshold(threshold=theta),
                            "output": nir.Output(output_type=np.array([6]))},
                     edges=[("input", "w"), ("w", "th"), ("th", "output")])
    x = spikes(seed, 4)
    y = (x @ w.T > theta).astype(np.float32)
    return None, x, y, g, {"dt": 1e-3, "reset": "zero", "exact": True, "framework": "nir"}


# ---------------------------------------------------------------------------------- main
def main(out: Path) -> int:
    import nir
    out.mkdir(parents=True, exist_ok=True)
    meta = {"versions": {p: version(p) for p in ("nir", "torch", "snntorch", "norse", "sinabs",
                                                 "rockpool")}, "cases": {}, "failed": {}}
    for fn in CASES:
        fw = fn.__name__.split("_")[0]
        if not version(fw):
            continue
        path = out / f"{fn.__name__}.nir"
        try:
            _, x, y, g, info = fn()
            nir.write(str(path), g)
        except Exception as exc:    # an exporter that fails is a finding, recorded for the docs
            meta["failed"][fn.__name__] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
            if path.exists():       # what a failed nir.write leaves: kept for the reader's test
                path.replace(out / f"{fn.__name__}.partial.nir")
            continue
        np.savez(out / f"{fn.__name__}.npz", x=np.asarray(x, np.uint8),
                 y=np.asarray(y, np.float64))
        meta["cases"][fn.__name__] = {"framework": fw, "version": version(fw),
                                      "readout": "spikes", "integrator": "euler",
                                      "compare": True, **info}
        if fw == "nir":
            meta["cases"][fn.__name__]["latency"] = 1   # memoryless: one step on the chip
    (out / "manifest.json").write_text(json.dumps(meta, indent=1))
    print(f"{len(meta['cases'])} cases exported, {len(meta['failed'])} failed: "
          f"{', '.join(meta['failed']) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
