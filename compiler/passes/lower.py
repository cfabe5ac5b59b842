"""Pass 1, Lower: cut the graph at neurons; fold linear chains into sparse float projections.

The result is a :class:`~spikefab.compiler.ir.Graph` of the hardware *structure* with float
numbers (:mod:`spikefab.compiler.ir.lowered`): populations (:class:`FloatNeurons`, one per neuron
node) and sparse projections (:class:`FloatSynapses`, one per source, target and delay), in the
discrete form the chip computes::

    u <- alpha * u + sum_proj W s(t - 1 - delay) + bias_u
    v <- beta * v + u + bias_v
    z <- v > vth ;  v <- v_reset (zero) or v - vth (subtract) where z

Every NIR neuron maps onto it exactly (``docs/ir.md``): the node's input gain (e.g.
``(1 - beta) r`` for LIF, ``(1 - beta) r (1 - alpha) w_in`` for CubaLIF) is folded into the
weights of the projections that reach it, constant inputs (Affine/Conv biases) into
``bias_u``/``bias_v``.  Linear nodes (Affine, Linear, Scale, Conv1d/2d, Sum/AvgPool2d, Flatten,
Delay) between two neurons are composed into one sparse matrix per delay value; convolutions are
expanded to their exact connectivity with vectorized index arithmetic.  So the lowered network
equals the float simulator (``latency="hardware"``) up to floating-point reassociation; the
test suite checks it on random inputs.

:class:`LoweredView` reads a lowered graph as populations and projections by name (what
Quantize, the quantization report and the float run of such a graph need); it is computed from
the graph (:meth:`LoweredView.of`), and Lower and the PyNN front end build their records in one
before writing the graph (:meth:`LoweredView.to_graph`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from spikefab.compiler.ir import nodes as ir
from spikefab.compiler.ir.graph import Graph
from spikefab.compiler.ir.lowered import FloatNeurons, FloatSynapses
from spikefab.errors import InputError, ModelError

__all__ = ["FloatPopulation", "FloatProjection", "LoweredView", "lower", "lower_shaped",
           "verify_lowered", "simulate_lowered", "linear_operator"]


@dataclass
class FloatPopulation:
    """A population of the view: its name and the graph's own :class:`FloatNeurons` node.

    The node's fields are read through (one record, not a copy); the one mapping is ``vth``:
    a graded population (``reports="voltage"``, ``vth`` 0 in the node) reads ``vth = inf`` here,
    so the float run's ``v > vth`` never fires and Quantize sees it as non-spiking.
    """

    name: str
    node: FloatNeurons

    @classmethod
    def build(cls, name: str, size: int, kind: str, alpha, beta, vth, bias_u, bias_v, v_reset,
              reset: str = "zero") -> "FloatPopulation":
        """The population of these discrete parameters; a non-finite ``vth`` makes it graded."""
        spiking = bool(np.all(np.isfinite(vth)))
        return cls(name, FloatNeurons(
            size=size, kind=kind, alpha=alpha, beta=beta, vth=vth if spiking else 0.0,
            bias_u=bias_u, bias_v=bias_v, v_reset=v_reset, reset=reset,
            reports="spikes" if spiking else "voltage"))

    @property
    def spiking(self) -> bool:
        return self.node.spiking

    @property
    def vth(self) -> np.ndarray:
        return self.node.vth if self.node.spiking else np.full(self.node.size, np.inf)

    size = property(lambda self: self.node.size)
    kind = property(lambda self: self.node.kind)
    alpha = property(lambda self: self.node.alpha)
    beta = property(lambda self: self.node.beta)
    bias_u = property(lambda self: self.node.bias_u)
    bias_v = property(lambda self: self.node.bias_v)
    v_reset = property(lambda self: self.node.v_reset)
    reset = property(lambda self: self.node.reset)

    def add_bias(self, extra: np.ndarray) -> None:
        """Fold a constant input in: into ``bias_v`` when the current does not persist
        (``alpha`` 0), else into ``bias_u``."""
        key = "bias_v" if np.all(self.node.alpha == 0) else "bias_u"
        self.node = replace(self.node, **{key: getattr(self.node, key) + extra})


@dataclass
class FloatProjection:
    """Sparse float synapses ``source -> target`` with one delay (steps beyond the base step)."""

    name: str
    source: str
    target: str
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: int = 0


@dataclass
class LoweredView:
    """A lowered graph as inputs, float populations, float projections and outputs by name.

    Not a level of its own: :meth:`of` computes it from the graph, :meth:`to_graph` writes the
    graph it describes.  ``meta`` is the graph's metadata plus ``voltage_outputs`` (the outputs
    that read a graded population) when there are any.
    """

    inputs: dict[str, int] = field(default_factory=dict)
    populations: dict[str, FloatPopulation] = field(default_factory=dict)
    projections: list[FloatProjection] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    @classmethod
    def of(cls, graph: Graph) -> "LoweredView":
        """The view of a lowered graph (one holding Input, FloatNeurons, FloatSynapses and
        Output nodes only); :class:`ModelError` for any other graph."""
        view = cls(meta=dict(graph.metadata))
        for name, node in graph.nodes.items():
            if isinstance(node, ir.Input):
                view.inputs[name] = int(np.prod(node.shape))
            elif isinstance(node, FloatNeurons):
                view.populations[name] = FloatPopulation(name, node)
            elif isinstance(node, FloatSynapses):
                (src,), (dst,) = graph.predecessors(name), graph.successors(name)
                view.projections.append(FloatProjection(name, src, dst, node.pre, node.post,
                                                        node.weight, node.delay))
            elif isinstance(node, ir.Output):
                view.outputs[name] = graph.predecessors(name)[0]
            else:
                raise ModelError(f"node {name!r} ({node.type_name}) is not lowered: a lowered "
                                 f"graph holds Input, FloatNeurons, FloatSynapses and Output "
                                 f"nodes only")
        graded = [o for o, p in view.outputs.items() if not view.populations[p].spiking]
        if graded:
            view.meta["voltage_outputs"] = graded
        return view

    def to_graph(self) -> Graph:
        """The lowered graph these records describe (each population's own node)."""
        g = Graph({k: v for k, v in self.meta.items() if k != "voltage_outputs"})
        for name, size in self.inputs.items():
            g.add_node(name, ir.Input(shape=(size,)))
        for name, p in self.populations.items():
            g.add_node(name, p.node)
        for fp in self.projections:
            g.add_node(fp.name, FloatSynapses(n_pre=self.size_of(fp.source),
                                              n_post=self.size_of(fp.target), pre=fp.pre,
                                              post=fp.post, weight=fp.weight, delay=fp.delay))
            g.add_edge(fp.source, fp.name)
            g.add_edge(fp.name, fp.target)
        for out, pop in self.outputs.items():
            g.add_node(out, ir.Output(shape=(self.populations[pop].size,)))
            g.add_edge(pop, out)
        return g

    def size_of(self, name: str) -> int:
        return self.inputs[name] if name in self.inputs else self.populations[name].size

    def simulate(self, inputs: dict[str, np.ndarray], record: bool = False,
                 spikes: dict[str, np.ndarray] | None = None):
        """Run in float with the chip's timing; outputs ``(T, batch, n)`` (spikes, or v).

        Returns ``(outputs, v)`` where ``v`` holds every population's voltage when ``record``;
        a dict given as ``spikes`` receives every spiking population's spikes (bool).
        """
        xs, T, B, unbatched = self._inputs(inputs)
        max_d = max([p.delay for p in self.projections], default=0)
        hist = {n: np.zeros((max_d + 2, B, self.size_of(n))) for n in
                [*self.inputs, *self.populations]}
        u = {n: np.zeros((B, p.size)) for n, p in self.populations.items()}
        v = {n: np.zeros((B, p.size)) for n, p in self.populations.items()}
        mats = [(p, sp.csr_matrix((p.weight, (p.post, p.pre)),
                                  shape=(self.size_of(p.target), self.size_of(p.source))))
                for p in self.projections]
        outs = {o: np.zeros((T, B, self.populations[p].size)) for o, p in self.outputs.items()}
        rec = {n: np.zeros((T, B, p.size)) for n, p in self.populations.items()} if record else {}
        L = max_d + 2
        for t in range(T):
            acc = {n: np.zeros((B, p.size)) for n, p in self.populations.items()}
            for proj, m in mats:
                src = hist[proj.source][(t - 1 - proj.delay) % L]
                acc[proj.target] += (m @ src.T).T
            for n, p in self.populations.items():
                u[n] = p.alpha * u[n] + acc[n] + p.bias_u
                v[n] = p.beta * v[n] + u[n] + p.bias_v
                z = v[n] > p.vth
                if p.reset == "subtract":
                    v[n] = np.where(z, v[n] - p.vth, v[n])
                else:
                    v[n] = np.where(z, p.v_reset, v[n])
                hist[n][t % L] = z
                if spikes is not None and p.spiking:
                    spikes.setdefault(n, np.zeros((T, B, p.size), bool))[t] = z
                if record:
                    rec[n][t] = v[n]
            for n in self.inputs:
                hist[n][t % L] = xs[n][t]
            for o, pname in self.outputs.items():
                pop = self.populations[pname]
                outs[o][t] = hist[pname][t % L] if pop.spiking else v[pname]
        if unbatched:
            outs = {k: a[:, 0] for k, a in outs.items()}
            rec = {k: a[:, 0] for k, a in rec.items()}
            if spikes is not None:
                spikes.update({k: a[:, 0] for k, a in spikes.items()})
        return outs, rec

    def _inputs(self, inputs):
        if set(inputs) != set(self.inputs):
            raise InputError(f"inputs must be exactly {', '.join(self.inputs)}, not "
                             f"{', '.join(map(str, inputs)) or 'none'}")
        xs, T, B, unbatched = {}, None, None, False
        for n, size in self.inputs.items():
            a = np.asarray(inputs[n], np.float64)
            if a.ndim == 2:
                a, unbatched = a[:, None, :], True
            a = a.reshape(a.shape[0], a.shape[1], -1)
            if a.shape[2] != size:
                raise InputError(f"input {n!r} must have {size} channels, not {a.shape[2]}")
            xs[n] = a
            T, B = a.shape[0], a.shape[1]
        return xs, T, B, unbatched


# --------------------------------------------------------------------------- linear operators
def _conv_operator(node: ir._Conv, in_shape, out_shape) -> sp.csr_matrix:
    """Exact sparse matrix of a convolution (flattened C-order), vectorized."""
    n = node.ndim
    w = np.asarray(node.weight, np.float64)
    cout, cin_g = w.shape[:2]
    k = w.shape[2:]
    g = node.groups
    cout_g = cout // g
    osp, isp = tuple(out_shape[1:]), tuple(in_shape[1:])
    grids = np.meshgrid(np.arange(cout), *[np.arange(o) for o in osp], np.arange(cin_g),
                        *[np.arange(kk) for kk in k], indexing="ij")
    co, o, ci_l, kk = grids[0], grids[1:1 + n], grids[1 + n], grids[2 + n:]
    ci = (co // cout_g) * cin_g + ci_l
    valid = np.ones(co.shape, bool)
    pos = []
    for d in range(n):
        p = o[d] * node.stride[d] - node.pads()[d][0] + kk[d] * node.dilation[d]
        valid &= (p >= 0) & (p < isp[d])
        pos.append(p)
    wv = w[(co, ci_l, *kk)]
    valid &= wv != 0
    rows = np.ravel_multi_index((co[valid], *[x[valid] for x in o]), out_shape)
    cols = np.ravel_multi_index((ci[valid], *[x[valid] for x in pos]), in_shape)
    m = sp.coo_matrix((wv[valid], (rows, cols)),
                      shape=(int(np.prod(out_shape)), int(np.prod(in_shape))))
    return m.tocsr()


def _pool_operator(node: ir._Pool, in_shape, out_shape) -> sp.csr_matrix:
    c, oh, ow = out_shape
    kh, kw = node.kernel_size
    ch, y, x, dy, dx = np.meshgrid(np.arange(c), np.arange(oh), np.arange(ow), np.arange(kh),
                                   np.arange(kw), indexing="ij")
    iy = y * node.stride[0] - node.padding[0] + dy
    ix = x * node.stride[1] - node.padding[1] + dx
    valid = (iy >= 0) & (iy < in_shape[1]) & (ix >= 0) & (ix < in_shape[2])
    rows = np.ravel_multi_index((ch[valid], y[valid], x[valid]), out_shape)
    cols = np.ravel_multi_index((ch[valid], iy[valid], ix[valid]), in_shape)
    val = 1.0 / (kh * kw) if isinstance(node, ir.AvgPool2d) else 1.0
    m = sp.coo_matrix((np.full(rows.size, val), (rows, cols)),
                      shape=(int(np.prod(out_shape)), int(np.prod(in_shape))))
    return m.tocsr()


def linear_operator(node: ir.Node, in_shape, out_shape) -> tuple[sp.csr_matrix, np.ndarray]:
    """``(M, b)`` with ``y.ravel() = M @ x.ravel() + b`` for a stateless linear node."""
    n_out = int(np.prod(out_shape))
    n_in = int(np.prod(in_shape))
    b = np.zeros(n_out)
    if isinstance(node, ir.Linear):
        m = sp.csr_matrix(np.asarray(node.weight, np.float64))
        if isinstance(node, ir.Affine):
            b = np.asarray(node.bias, np.float64).copy()
    elif isinstance(node, ir.Scale):
        s = np.broadcast_to(np.asarray(node.scale, np.float64), tuple(in_shape)).ravel()
        m = sp.diags(s, format="csr")
    elif isinstance(node, ir._Conv):
        m = _conv_operator(node, tuple(in_shape), tuple(out_shape))
        b = np.repeat(np.asarray(node.bias, np.float64), n_out // node.weight.shape[0])
    elif isinstance(node, ir._Pool):
        m = _pool_operator(node, tuple(in_shape), tuple(out_shape))
    elif isinstance(node, (ir.Flatten, ir.Output, ir.Delay)):
        m = sp.identity(n_in, format="csr")
    else:  # pragma: no cover
        raise ModelError(f"{node.type_name} is not linear")
    return m, b


# ------------------------------------------------------------------------------------- lower
def _population(name: str, node: ir.Node, size: int, dt: float, integrator: str,
                reset: str) -> tuple[FloatPopulation, np.ndarray]:
    """The float population of a neuron node and its per-neuron input gain (the node's own
    discretization, broadcast to one value per neuron)."""
    def f(a) -> np.ndarray:
        return np.broadcast_to(np.asarray(a, np.float64).ravel(), (size,)).copy()

    d = node.discretize(dt, integrator, name)
    vth = f(d.vth) if node.spiking else np.full(size, np.inf)
    pop = FloatPopulation.build(name, size, node.type_name, f(d.alpha), f(d.beta), vth,
                                np.zeros(size), f(d.bias_v), f(d.v_reset), reset)
    return pop, f(d.gain)


def lower(graph: Graph, dt: float, *, integrator: str = "euler", reset: str = "zero") -> Graph:
    """Lower a float graph to a lowered graph (exact, still float); verifies it first.

    Raises :class:`ModelError` for graphs without a hardware form: a graded (non-spiking) neuron
    feeding anything but an Output, an Output that reads a linear chain instead of a neuron,
    a cycle made only of linear nodes.
    """
    if reset not in ("zero", "subtract"):
        raise ModelError(f"reset must be 'zero' or 'subtract', not {reset!r}")
    return lower_shaped(graph, graph.verify(), dt, integrator=integrator, reset=reset)


def lower_shaped(graph: Graph, shapes: dict[str, tuple[int, ...]], dt: float, *,
                 integrator: str = "euler", reset: str = "zero") -> Graph:
    """:func:`lower` for a graph already verified, whose node ``shapes`` are known (the pass)."""
    nodes = graph.nodes
    for name, node in nodes.items():
        if isinstance(node, (FloatNeurons, FloatSynapses)):
            raise ModelError(f"node {name!r} ({node.type_name}) is already lowered; lower takes "
                             f"float graphs of NIR nodes: compile the model this lowered graph "
                             f"was printed from")
        if not isinstance(node, (*ir.NEURON_TYPES, *ir.LINEAR_TYPES, ir.Input, ir.Output)):
            raise ModelError(f"node {name!r} ({node.type_name}) is already fixed point; lower "
                             f"takes float graphs (lower_to_hardware passes hardware graphs "
                             f"through)")
    net = LoweredView(meta={"dt": dt, "integrator": integrator, "reset": reset})
    gains: dict[str, np.ndarray] = {}
    for name, node in nodes.items():
        size = int(np.prod(shapes[name]))
        if isinstance(node, ir.Input):
            net.inputs[name] = size
        elif isinstance(node, ir.NEURON_TYPES):
            net.populations[name], gains[name] = _population(name, node, size, dt, integrator,
                                                             reset)
    walk = _Walk(graph, shapes, dt, net)
    for src in [*net.inputs, *net.populations]:
        walk.from_source(src)
    _add_projections(net, walk.terms, gains)
    for tgt, c in walk.const.items():
        pop = net.populations[tgt]
        pop.add_bias(gains[tgt] * np.broadcast_to(c, (pop.size,)))
    return net.to_graph()


class _Walk:
    """Follows every path from a source (input or population) through linear nodes to the
    neurons and outputs it reaches, composing the linear maps per delay on the way.

    ``terms[(source, target)] = {delay: matrix}``; ``const[target]`` the constant input.
    """

    def __init__(self, graph: Graph, shapes, dt: float, net: LoweredView) -> None:
        self.graph, self.shapes, self.dt, self.net = graph, shapes, dt, net
        self.nodes = graph.nodes
        self.ops: dict[str, tuple[sp.csr_matrix, np.ndarray]] = {}
        self.terms: dict[tuple[str, str], dict[int, sp.csr_matrix]] = {}
        self.const: dict[str, np.ndarray] = {}
        self.voltage_outputs: list[str] = []

    def op(self, name: str) -> tuple[sp.csr_matrix, np.ndarray]:
        if name not in self.ops:
            pred = self.graph.predecessors(name)[0]
            self.ops[name] = linear_operator(self.nodes[name], self.shapes[pred],
                                             self.shapes[name])
        return self.ops[name]

    def from_source(self, src: str) -> None:
        size = self.net.size_of(src)
        stack = [(s, {0: sp.identity(size, format="csr")}, np.zeros(size), (src,))
                 for s in self.graph.successors(src)]
        while stack:
            name, mats, c, path = stack.pop()
            node = self.nodes[name]
            if isinstance(node, ir.Output):
                _connect_output(self.net, self.graph, src, name, path, self.voltage_outputs)
                continue
            if isinstance(node, ir.NEURON_TYPES):
                self._reach_neuron(src, name, mats, c)
                continue
            if name in path:
                raise ModelError(f"cycle {' -> '.join(path + (name,))} has no neuron node; "
                                 f"every loop must pass through a neuron")
            mats, c = self._through(name, node, mats, c)
            for s in self.graph.successors(name):
                stack.append((s, mats, c, path + (name,)))

    def _reach_neuron(self, src: str, name: str, mats, c) -> None:
        pops = self.net.populations
        if src in pops and not pops[src].spiking:
            raise ModelError(
                f"node {src!r} ({self.nodes[src].type_name}) has graded output and feeds "
                f"{name!r}; hardware neurons send spikes only: make {src!r} a spiking "
                f"neuron (e.g. LIF instead of LI) or let it feed an Output only")
        acc = self.terms.setdefault((src, name), {})
        for d, m in mats.items():
            acc[d] = acc[d] + m if d in acc else m
        self.const[name] = self.const.get(name, 0) + c

    def _through(self, name: str, node: ir.Node, mats, c):
        """The maps and constant after passing linear node ``name``."""
        m_op, b = self.op(name)
        if not isinstance(node, ir.Delay):
            return {d: (m_op @ m).tocsr() for d, m in mats.items()}, m_op @ c + b
        try:
            steps = np.broadcast_to(node.steps(self.dt), self.shapes[name]).ravel()
        except ModelError as exc:
            raise ModelError(f"node {name!r}: {exc}", where=name) from None
        new: dict[int, sp.csr_matrix] = {}
        for d, m in mats.items():
            for k in np.unique(steps):
                part = sp.diags((steps == k).astype(np.float64), format="csr") @ m
                new[d + int(k)] = new[d + int(k)] + part if d + int(k) in new else part
        return new, c


def _add_projections(net: LoweredView, terms, gains: dict[str, np.ndarray]) -> None:
    for (src, tgt), mats in terms.items():
        g = gains[tgt]
        for d in sorted(mats):
            csr = (sp.diags(g) @ mats[d]).tocsr()    # canonical: no duplicate entries
            csr.sort_indices()
            m = csr.tocoo()
            keep = m.data != 0
            name = f"{src}->{tgt}" + (f"@{d}" if len(mats) > 1 else "")
            net.projections.append(FloatProjection(name, src, tgt, m.col[keep].astype(np.int64),
                                                   m.row[keep].astype(np.int64), m.data[keep],
                                                   int(d)))


def verify_lowered(graph: Graph) -> None:
    """Lower's invariants: the graph verifies, every projection joins one source to one
    population with in-range, finite synapses, every output reads a population."""
    graph.verify()
    for name, node in graph.nodes.items():
        if isinstance(node, FloatSynapses) and (len(graph.predecessors(name)) != 1
                                                or len(graph.successors(name)) != 1):
            raise AssertionError(f"lower: projection {name!r} must have one source and one "
                                 f"target")
    net = LoweredView.of(graph)
    for fp in net.projections:
        if fp.source not in net.inputs and fp.source not in net.populations or \
                fp.target not in net.populations:
            raise AssertionError(f"lower: projection {fp.name!r} joins unknown nodes")
        n_pre, n_post = net.size_of(fp.source), net.size_of(fp.target)
        if len(fp.pre) and (fp.pre.min() < 0 or fp.pre.max() >= n_pre or fp.post.min() < 0
                            or fp.post.max() >= n_post) or not np.all(np.isfinite(fp.weight)):
            raise AssertionError(f"lower: projection {fp.name!r} has synapses out of range")
    for out, pop in net.outputs.items():
        if pop not in net.populations:
            raise AssertionError(f"lower: output {out!r} reads no population")


def simulate_lowered(graph: Graph, inputs: dict[str, np.ndarray], record: bool = False,
                     spikes: dict[str, np.ndarray] | None = None):
    """Run a lowered graph in float with the chip's timing (:meth:`LoweredView.simulate`)."""
    return LoweredView.of(graph).simulate(inputs, record=record, spikes=spikes)


def _connect_output(net: LoweredView, graph: Graph, src: str, out: str, path: tuple,
                    voltage_outputs: list) -> None:
    between = [p for p in path[1:] if not isinstance(graph[p], ir.Flatten)]
    if src in net.inputs or between:
        raise ModelError(
            f"output {out!r} reads {' -> '.join(path)}, which ends in no neuron; outputs must "
            f"read a neuron node directly: add a neuron (e.g. LI for graded values, IF/LIF for "
            f"spikes) before {out!r}")
    net.outputs[out] = src
    if not net.populations[src].spiking:
        voltage_outputs.append(out)
