"""The float reference simulator: discrete-time NumPy simulation of a :class:`Graph`.

This is the golden *float* model that quantization error is measured against.  One call runs a
batch of input spike trains through the graph for ``T`` steps of ``dt`` seconds.

Discretization (each neuron node's ``discretize``; ``docs/ir.md`` has the table): with
``integrator="euler"`` a leak factor is ``1 - dt/tau``, with ``"exact"`` it is ``exp(-dt/tau)``;
the input gain is ``1 - factor`` so that a constant input converges to the same fixed point under
both rules::

    LIF      v <- beta v + (1 - beta) (v_leak + r S)         z = [v > v_th]; reset
    IF, I    v <- v + r S                                    (charge per step; dt-free)
    CubaLIF  I <- alpha I + (1 - alpha) w_in S ; v <- beta v + (1 - beta) (v_leak + r I)
    Threshold z = [S > theta]

where ``S`` is the sum of the node's inputs in this step.  Reset ``"zero"`` sets ``v <- v_reset``,
``"subtract"`` sets ``v <- v - v_th`` (NIR cannot state it; the caller chooses).

Timing (``latency``): ``"none"`` propagates a step's spikes through every feed-forward path in the
same step (Norse / snnTorch convention; recurrent back edges read the previous step), which is what
the NIR paper's traces show.  ``"hardware"`` makes every edge that leaves an Input or a spiking node
read the previous step, as the chip does (a spike emitted in step t is integrated in step t+1);
the lowered network equals the graph under this timing.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from spikefab.compiler.ir import nodes as ir
from spikefab.compiler.ir.discrete import decay_factor
from spikefab.compiler.ir.graph import Graph
from spikefab.errors import InputError, ModelError

__all__ = ["simulate", "spike_rates", "SimResult", "apply_linear", "decay_factor", "delay_steps"]


@dataclass
class SimResult:
    """Outputs ``(T, batch, n)`` by Output name; with ``record``, per-node ``v`` and ``spikes``."""

    outputs: dict[str, np.ndarray]
    v: dict[str, np.ndarray]
    spikes: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.outputs[name]


def delay_steps(node: ir.Delay, dt: float) -> np.ndarray:
    """Whole steps of a Delay node (rounded to the nearest step): ``node.steps(dt)``."""
    return node.steps(dt)


# --------------------------------------------------------------------------- linear operators
def _conv(x: np.ndarray, node: ir._Conv) -> np.ndarray:
    """PyTorch convolution of a batch ``x`` (B, Cin, *spatial); float64 result."""
    n = node.ndim
    w = np.asarray(node.weight, np.float64)
    pads = [(0, 0), (0, 0)] + list(node.pads())
    xp = np.pad(np.asarray(x, np.float64), pads)
    k = w.shape[2:]
    span = [d * (kk - 1) + 1 for kk, d in zip(k, node.dilation)]
    win = np.lib.stride_tricks.sliding_window_view(xp, span, axis=tuple(range(2, 2 + n)))
    sl = (slice(None), slice(None)) + tuple(slice(None, None, s) for s in node.stride) + \
        tuple(slice(None, None, d) for d in node.dilation)
    win = win[sl]  # (B, Cin, *out, *k)
    g = node.groups
    cin_g = w.shape[1]
    cout_g = w.shape[0] // g
    outs = []
    for gi in range(g):
        xw = win[:, gi * cin_g:(gi + 1) * cin_g]
        wg = w[gi * cout_g:(gi + 1) * cout_g]
        # contract Cin and kernel axes
        axes_x = [1] + list(range(2 + n, 2 + 2 * n))
        axes_w = [1] + list(range(2, 2 + n))
        y = np.tensordot(xw, wg, axes=(axes_x, axes_w))  # (B, *out, cout_g)
        outs.append(np.moveaxis(y, -1, 1))
    y = np.concatenate(outs, axis=1)
    return y + np.asarray(node.bias, np.float64).reshape((1, -1) + (1,) * n)


def _pool(x: np.ndarray, node: ir._Pool) -> np.ndarray:
    xp = np.pad(np.asarray(x, np.float64), [(0, 0), (0, 0)] + [(p, p) for p in node.padding])
    win = np.lib.stride_tricks.sliding_window_view(xp, node.kernel_size, axis=(2, 3))
    win = win[:, :, ::node.stride[0], ::node.stride[1]]
    y = win.sum(axis=(-2, -1))
    if isinstance(node, ir.AvgPool2d):
        y = y / (node.kernel_size[0] * node.kernel_size[1])
    return y


def apply_linear(node: ir.Node, x: np.ndarray, out_shape: tuple[int, ...]) -> np.ndarray:
    """Apply a stateless linear node to a batch ``x`` of shape (B, *in_shape)."""
    x = np.asarray(x, np.float64)
    if isinstance(node, ir.Linear):        # Affine too
        y = x.reshape(x.shape[0], -1) @ np.asarray(node.weight, np.float64).T
        if isinstance(node, ir.Affine):
            y = y + np.asarray(node.bias, np.float64)
        return y
    if isinstance(node, ir.Scale):
        return x * np.asarray(node.scale, np.float64)
    if isinstance(node, ir._Conv):
        return _conv(x, node)
    if isinstance(node, ir._Pool):
        return _pool(x, node)
    if isinstance(node, (ir.Flatten, ir.Output)):
        return x.reshape((x.shape[0],) + tuple(out_shape))
    raise ModelError(f"{node.type_name} is not a linear node")  # pragma: no cover


# ------------------------------------------------------------------------------ the simulator
class _NeuronState:
    """Discretized coefficients and state of one neuron node."""

    def __init__(self, node: ir.Node, shape, batch: int, dt: float, integrator: str, reset: str,
                 name: str = ""):
        d = node.discretize(dt, integrator, name)      # the node's own rule (Lower reads it too)
        self.node = node
        self.v = np.zeros((batch,) + tuple(shape))
        self.i = np.zeros_like(self.v)
        self.reset = reset
        self.spiking = node.spiking
        self.alpha, self.beta = d.alpha, d.beta
        self.vth, self.v_reset = d.vth, d.v_reset

    def step(self, s: np.ndarray) -> np.ndarray:
        n = self.node
        if isinstance(n, ir.Threshold):
            self.v = s
        elif isinstance(n, (ir.IF, ir.I)):
            self.v = self.v + np.asarray(n.r, np.float64) * s
        elif isinstance(n, (ir.LIF, ir.LI)):
            self.v = self.beta * self.v + (1 - self.beta) * (n.v_leak + n.r * s)
        else:
            self.i = self.alpha * self.i + (1 - self.alpha) * n.w_in * s
            self.v = self.beta * self.v + (1 - self.beta) * (n.v_leak + n.r * self.i)
        if not self.spiking:
            return self.v
        z = self.v > self.vth
        if not isinstance(n, ir.Threshold):
            if self.reset == "subtract":
                self.v = np.where(z, self.v - self.vth, self.v)
            else:
                self.v = np.where(z, self.v_reset, self.v)
        return z.astype(np.float64)


def _schedule(graph: Graph, latency: str) -> tuple[list[str], set[tuple[str, str]]]:
    """Evaluation order of the nodes and the edges that read the previous step."""
    order, back = graph.order()
    if latency != "hardware":
        return order, set(back)
    delayed = {(s, d) for s, d in graph.edges
               if graph.is_spiking(s) and not isinstance(graph[d], ir.Output)}
    dg = nx.DiGraph()
    dg.add_nodes_from(graph)
    dg.add_edges_from(e for e in graph.edges if e not in delayed)
    if not nx.is_directed_acyclic_graph(dg):
        cycle = " -> ".join(s for s, _ in nx.find_cycle(dg))
        raise ModelError(f"latency='hardware' needs a spiking node in every loop, but "
                         f"loop {cycle} has none")
    return list(nx.lexicographical_topological_sort(dg, key=list(graph).index)), delayed


def _state(graph: Graph, shapes, batch: int, dt: float, integrator: str, reset: str):
    """Every neuron node's state and every Delay node's steps and ring buffer."""
    states: dict[str, _NeuronState] = {}
    delays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, node in graph.nodes.items():
        if isinstance(node, ir.NEURON_TYPES):
            states[name] = _NeuronState(node, shapes[name], batch, dt, integrator, reset, name)
        elif isinstance(node, ir.Delay):
            d = np.broadcast_to(delay_steps(node, dt), shapes[name])
            buf = np.zeros((int(d.max()) + 1, batch) + tuple(shapes[name]))
            delays[name] = (d, buf)
    return states, delays


def _delay_step(d: np.ndarray, buf: np.ndarray, t: int, s: np.ndarray, batch: int) -> np.ndarray:
    """A Delay node's output at step ``t`` (its ring buffer ``buf`` takes this step's input)."""
    buf[t % len(buf)] = s
    idx = (t - d) % len(buf)
    got = np.take_along_axis(buf, idx[None, None].repeat(batch, 1), axis=0)[0]
    return np.where(t - d >= 0, got, 0.0)


def simulate(graph: Graph, inputs: dict[str, np.ndarray], dt: float, *, integrator: str = "euler",
             reset: str = "zero", latency: str = "none", record: bool = False) -> SimResult:
    """Run ``graph`` on ``inputs`` for as many steps as the inputs have.

    Parameters
    ----------
    inputs:
        One array per Input node: ``(T, n)`` or ``(T, batch, n)`` with ``n`` the node's size (or
        ``(T, batch, *shape)``).
    dt:
        Step in seconds (only leaky nodes and Delay use it).
    integrator, reset, latency:
        Discretization choices, see the module docstring.
    record:
        Also return every neuron node's voltage and spikes, ``(T, batch, n)`` each.

    Returns
    -------
    SimResult
        ``outputs[name]`` is ``(T, batch, n)`` (``(T, n)`` when the inputs had no batch axis).
    """
    if reset not in ("zero", "subtract"):
        raise ModelError(f"reset must be 'zero' or 'subtract', not {reset!r}")
    if latency not in ("none", "hardware"):
        raise ModelError(f"latency must be 'none' or 'hardware', not {latency!r}")
    if not dt or dt <= 0:
        raise ModelError(f"dt must be a positive number of seconds, not {dt!r}")
    shapes = graph.verify()
    hw = [n for n, node in graph.nodes.items()
          if not isinstance(node, (*ir.NEURON_TYPES, *ir.LINEAR_TYPES, ir.Input, ir.Output))]
    if hw:
        raise ModelError(f"node {hw[0]!r} ({graph[hw[0]].type_name}) is a fixed-point hardware "
                         f"node; the float simulator runs float graphs (use "
                         f"spikefab.compiler.hwsim for hardware networks)")
    xs, T, batch, unbatched = _inputs(graph, inputs, shapes)
    order, delayed = _schedule(graph, latency)
    nodes = graph.nodes
    states, delays = _state(graph, shapes, batch, dt, integrator, reset)
    prev = {n: np.zeros((batch,) + tuple(shapes[n])) for n in nodes}
    outs = {n: np.zeros((T, batch, int(np.prod(shapes[n])))) for n in graph.outputs()}
    rec_v = {n: np.zeros((T, batch, int(np.prod(shapes[n])))) for n in states} if record else {}
    rec_s = {n: np.zeros((T, batch, int(np.prod(shapes[n])))) for n in states
             if states[n].spiking} if record else {}
    preds = {n: graph.predecessors(n) for n in nodes}
    for t in range(T):
        cur: dict[str, np.ndarray] = {}
        for name in order:
            node = nodes[name]
            if isinstance(node, ir.Input):
                cur[name] = xs[name][t]
                continue
            s = None
            for p in preds[name]:
                val = prev[p] if (p, name) in delayed else cur[p]
                s = val if s is None else s + val
            if name in states:
                cur[name] = states[name].step(s)
                if record:
                    rec_v[name][t] = states[name].v.reshape(batch, -1)
                    if name in rec_s:
                        rec_s[name][t] = cur[name].reshape(batch, -1)
            elif name in delays:
                cur[name] = _delay_step(*delays[name], t, s, batch)
            else:
                cur[name] = apply_linear(node, s, shapes[name])
            if name in outs:
                outs[name][t] = cur[name].reshape(batch, -1)
        prev = cur
    if unbatched:
        outs = {k: v[:, 0] for k, v in outs.items()}
        rec_v = {k: v[:, 0] for k, v in rec_v.items()}
        rec_s = {k: v[:, 0] for k, v in rec_s.items()}
    return SimResult(outs, rec_v, rec_s)


def _inputs(graph: Graph, inputs: dict, shapes) -> tuple[dict, int, int, bool]:
    names = graph.inputs()
    missing = [n for n in names if n not in inputs]
    extra = [n for n in inputs if n not in names]
    if missing or extra:
        raise InputError(f"inputs must be exactly {', '.join(names)}, not "
                         f"{', '.join(map(str, inputs)) or 'none'}")
    xs, T, batch, unbatched = {}, None, None, False
    for n in names:
        shape = shapes[n]
        size = int(np.prod(shape))
        a = np.asarray(inputs[n], np.float64)
        if a.ndim == 2 and a.shape[1] == size:
            a, unbatched = a[:, None, :], True
        if a.ndim < 2 or int(np.prod(a.shape[2:])) != size:
            raise InputError(f"input {n!r} must have shape (T, {size}) or (T, batch, {size}), "
                             f"not {a.shape}")
        a = a.reshape(a.shape[:2] + tuple(shape))
        if T is None:
            T, batch = a.shape[0], a.shape[1]
        elif a.shape[:2] != (T, batch):
            raise InputError(f"input {n!r} must have {T} steps and batch {batch}, not "
                             f"{a.shape[:2]}")
        xs[n] = a
    return xs, int(T), int(batch), unbatched


def spike_rates(graph: Graph, inputs: dict[str, np.ndarray], dt: float, **options
                ) -> dict[str, np.ndarray]:
    """Mean spikes per step of every Input and spiking neuron node (one value per neuron).

    The names are those of the lowered populations, so the result can weight placement traffic
    (``spikefab.compile(..., rates=...)``).  ``options`` go to :func:`simulate`.
    """
    r = simulate(graph, inputs, dt, latency="hardware", record=True, **options)
    shapes = graph.shapes()
    rates = {}
    for name in graph.inputs():
        a = np.asarray(inputs[name], np.float64)
        rates[name] = a.reshape(-1, int(np.prod(shapes[name]))).mean(axis=0)
    for name, z in r.spikes.items():
        rates[name] = z.reshape(-1, z.shape[-1]).mean(axis=0)
    return rates
