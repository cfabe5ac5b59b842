"""Hardware-level graph nodes: a fixed-point :class:`HwNetwork` as a :class:`Graph`.

Lowering and quantization produce an :class:`~spikefab.compiler.hwnet.HwNetwork`.  Writing it
as a Graph with two node types lets the same text IR, verifier and ``inspect`` table show it:

* :class:`HwNeurons` — one population: ``size`` neurons with Loihi parameters (``LoihiLIF``
  field names; ``bias_mant``/``bias_exp`` per neuron).
* :class:`HwSynapses` — one projection: sparse ``pre``/``post``/``weight``/``delay`` arrays and
  ``weight_exp``, between an Input or HwNeurons node and an HwNeurons node.

``Input -> HwSynapses -> HwNeurons -> HwSynapses -> HwNeurons -> Output``.  Every number is exactly
what the HwNetwork holds, so :func:`graph_from_hwnet` / :func:`hwnet_from_graph` round-trip and a
``.sfir`` file can carry a builder network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from spikefab.compiler.hwnet import HwNetwork, LoihiLIF, Population, Projection
from spikefab.compiler.ir.graph import Graph
from spikefab.compiler.ir.nodes import Input, Node, Output, register
from spikefab.errors import ModelError

__all__ = ["HwNeurons", "HwSynapses", "HwPlasticSynapses", "HwRewardSynapses", "graph_from_hwnet",
           "hwnet_from_graph", "is_hardware_graph"]


def _int_array(x, what: str = "value") -> np.ndarray:
    """``x`` as int64; a fractional or non-finite value is a :class:`ModelError`, not truncated."""
    raw = np.asarray(x)
    if raw.dtype.kind == "f" and raw.size and (
            not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw))):
        bad = raw.ravel()[np.flatnonzero(~np.isfinite(raw.ravel()) | (raw.ravel() != np.round(
            raw.ravel())))[0]]
        raise ModelError(f"{what} must be integers (fixed point), not {float(bad)!r}")
    if raw.dtype.kind not in "iufb":
        raise ModelError(f"{what} must be integers, not {raw.dtype}")
    a = np.array(x, dtype=np.int64).ravel() if np.ndim(x) else np.array(x, dtype=np.int64)
    a.setflags(write=False)
    return a


def _int_scalar(x, what: str) -> int:
    """One whole number: ``du=1.5`` or ``size=1e30`` is a :class:`ModelError`, not truncated
    (``int(1.5)``) or overflowed."""
    raw = np.asarray(x)
    if raw.ndim or raw.dtype.kind not in "iufb" or (raw.dtype.kind == "f" and (
            not np.isfinite(raw) or raw != np.round(raw) or abs(raw) >= 2.0 ** 62)):
        raise ModelError(f"{what} must be an integer, not {x!r}")
    return int(raw)


@register
@dataclass(frozen=True, eq=False)
class HwNeurons(Node):
    """A population of Loihi CUBA LIF neurons (fixed point, ``LoihiLIF`` meanings)."""

    size: int
    du: int | np.ndarray = 0
    dv: int | np.ndarray = 0
    vth: int | np.ndarray = 10
    bias_mant: np.ndarray = 0  # type: ignore[assignment]
    bias_exp: np.ndarray = 0  # type: ignore[assignment]
    reset: str = "zero"
    refractory: int = 0
    theta_inc: int = 0
    theta_decay: int = 0
    spiking: ClassVar[bool] = True

    def __post_init__(self):
        for k in ("size", "refractory", "theta_inc", "theta_decay"):
            object.__setattr__(self, k, _int_scalar(getattr(self, k), f"HwNeurons {k}"))
        for k in ("du", "dv", "vth"):          # one number, or one per neuron (several profiles)
            v = getattr(self, k)
            object.__setattr__(self, k, _int_array(v, f"HwNeurons {k}") if np.ndim(v)
                               else _int_scalar(v, f"HwNeurons {k}"))
        for k in ("bias_mant", "bias_exp"):
            object.__setattr__(self, k, _int_array(getattr(self, k)))
        self.neuron()                              # range checks (ModelError)

    def neuron(self) -> LoihiLIF:
        bm = self.bias_mant if self.bias_mant.ndim else int(self.bias_mant)
        be = self.bias_exp if self.bias_exp.ndim else int(self.bias_exp)
        du, dv, vth = (np.array(x) if isinstance(x, np.ndarray) else x
                       for x in (self.du, self.dv, self.vth))
        return LoihiLIF(du=du, dv=dv, vth=vth, bias_mant=bm, bias_exp=be,
                        reset=self.reset, refractory=self.refractory, theta_inc=self.theta_inc,
                        theta_decay=self.theta_decay)

    def output_shape(self, shape):
        if int(np.prod(shape)) != self.size:
            raise ModelError(f"HwNeurons input shape must be ({self.size},), not {tuple(shape)}")
        return (self.size,)


@register
@dataclass(frozen=True, eq=False)
class HwSynapses(Node):
    """Sparse fixed-point synapses ``n_pre -> n_post`` (Lava Dense semantics, see HwNetwork)."""

    n_pre: int
    n_post: int
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray
    weight_exp: int = 0

    def __post_init__(self):
        for k in ("n_pre", "n_post", "weight_exp"):
            object.__setattr__(self, k, _int_scalar(getattr(self, k), f"HwSynapses {k}"))
        for k in ("pre", "post", "weight", "delay"):
            object.__setattr__(self, k, _int_array(np.atleast_1d(getattr(self, k)),
                                                   f"HwSynapses {k}"))

    def output_shape(self, shape):
        if int(np.prod(shape)) != self.n_pre:
            raise ModelError(f"HwSynapses input shape must be ({self.n_pre},), not {tuple(shape)}")
        return (self.n_post,)


@register
@dataclass(frozen=True, eq=False)
class HwPlasticSynapses(HwSynapses):
    """:class:`HwSynapses` whose weights learn on chip (``docs/learning.md``).

    The learning rule's fields, flat: rule strings (``""`` = absent), per trace (x1, x2, y1, y2,
    y3) ``trace_impulse`` and ``trace_tau``, ``t_epoch``, ``sign_mode``, ``rng_seed`` (-1: the
    compile seed), ``generator`` and the rule's ``rule_name``.
    """

    dw: str = ""
    dd: str = ""
    dt: str = ""
    trace_impulse: np.ndarray = None  # type: ignore[assignment]
    trace_tau: np.ndarray = None  # type: ignore[assignment]
    t_epoch: int = 1
    sign_mode: str = "mixed"
    rng_seed: int = -1
    generator: str = "hardware"
    rule_name: str = "rule"
    reward: int = 0

    def __post_init__(self):
        super().__post_init__()
        imp = np.zeros(5) if self.trace_impulse is None else self.trace_impulse
        imp = np.asarray(imp, np.float64).ravel().copy()
        imp.setflags(write=False)
        object.__setattr__(self, "trace_impulse", imp)
        object.__setattr__(self, "trace_tau", _int_array(np.zeros(5) if self.trace_tau is None
                                                   else np.atleast_1d(self.trace_tau)))
        for k in ("t_epoch", "rng_seed"):
            object.__setattr__(self, k, _int_scalar(getattr(self, k), f"HwPlasticSynapses {k}"))
        if self.rng_seed < -1:        # -1 is "no seed"; -7 silently meant the same
            raise ModelError(f"HwPlasticSynapses rng_seed must be -1 (none) or 0..2^32-1, not "
                             f"{self.rng_seed}")
        self.rule().profile(where="HwPlasticSynapses")          # range checks (ModelError)

    @classmethod
    def of(cls, base: dict, rule) -> "HwPlasticSynapses":
        return cls(**base, dw=rule.dw or "", dd=rule.dd or "", dt=rule.dt or "",
                   trace_impulse=np.array([t.impulse for t in rule.traces()], np.float64),
                   trace_tau=np.array([t.tau for t in rule.traces()], np.int64),
                   t_epoch=rule.t_epoch,
                   sign_mode=rule.sign_mode, rng_seed=-1 if rule.rng_seed is None
                   else rule.rng_seed, generator=rule.generator, rule_name=rule.name,
                   reward=int(rule.reward))

    def rule(self):
        from spikefab.arch.learning import LearningRule, TraceConfig
        if len(self.trace_impulse) != 5 or len(self.trace_tau) != 5:
            raise ModelError(f"HwPlasticSynapses trace_impulse and trace_tau must have 5 entries "
                             f"(x1 x2 y1 y2 y3), not {len(self.trace_impulse)} and "
                             f"{len(self.trace_tau)}")
        tr = [TraceConfig(float(i), int(t)) for i, t in zip(self.trace_impulse, self.trace_tau)]
        return LearningRule(dw=self.dw or None, dd=self.dd or None, dt=self.dt or None,
                            x1=tr[0], x2=tr[1], y1=tr[2], y2=tr[3], y3=tr[4],
                            t_epoch=self.t_epoch, sign_mode=self.sign_mode,
                            rng_seed=None if self.rng_seed < 0 else self.rng_seed,
                            name=self.rule_name, generator=self.generator,
                            reward=bool(self.reward))


@register
@dataclass(frozen=True, eq=False)
class HwRewardSynapses(HwSynapses):
    """Reward synapses (weight 0) feeding the y2 reward trace of plastic projection
    ``reward_for`` (``Network.reward``)."""

    reward_for: str = ""


def is_hardware_graph(graph: Graph) -> bool:
    """True when every node is Input, Output, HwNeurons or (plastic, reward) HwSynapses."""
    kinds = {type(n) for n in graph.nodes.values()}
    hw = {HwNeurons, HwSynapses, HwPlasticSynapses, HwRewardSynapses}
    return bool(kinds & hw) and kinds <= {Input, Output} | hw


def graph_from_hwnet(hw: HwNetwork) -> Graph:
    """The hardware network as a Graph (projection nodes named after the projections)."""
    hw.validate()
    meta = {k: v for k, v in hw.meta.items() if isinstance(v, (int, float, str))}
    g = Graph(meta)
    for name, size in hw.inputs.items():
        g.add_node(name, Input(shape=(size,)))
    for name, pop in hw.populations.items():
        n = pop.neuron
        g.add_node(name, HwNeurons(size=pop.size, du=n.du, dv=n.dv, vth=n.vth,
                                   bias_mant=n.bias_mant, bias_exp=n.bias_exp, reset=n.reset,
                                   refractory=n.refractory, theta_inc=n.theta_inc,
                                   theta_decay=n.theta_decay))
    for p in hw.projections:
        base = dict(n_pre=hw.size_of(p.source), n_post=hw.size_of(p.target), pre=p.pre,
                    post=p.post, weight=p.weight, delay=p.delay, weight_exp=p.weight_exp)
        if p.learning is not None:
            node = HwPlasticSynapses.of(base, p.learning)
        elif p.reward_for is not None:
            node = HwRewardSynapses(**base, reward_for=p.reward_for)
        else:
            node = HwSynapses(**base)
        g.add_node(p.name, node)
        g.add_edge(p.source, p.name)
        g.add_edge(p.name, p.target)
    for out, pop in hw.outputs.items():
        g.add_node(out, Output(shape=(hw.populations[pop].size,)))
        g.add_edge(pop, out)
    return g


def hwnet_from_graph(graph: Graph, *, verify: bool = True) -> HwNetwork:
    """The :class:`HwNetwork` a hardware Graph describes (exact numbers, nothing re-quantized).

    ``verify=False`` leaves verifying the graph and the result to the caller (the Unpack pass,
    whose graph the pass manager has verified already).
    """
    if not is_hardware_graph(graph):
        raise ModelError("graph must hold only Input, Output, HwNeurons and HwSynapses nodes to "
                         "be a hardware network")
    if verify:
        graph.verify()
    hw = HwNetwork(meta=dict(graph.metadata))
    for name, node in graph.nodes.items():
        if isinstance(node, Input):
            if len(node.shape) != 1:
                raise ModelError(f"input {name!r} of a hardware graph must be 1-D, not {node.shape}")
            hw.inputs[name] = node.shape[0]
        elif isinstance(node, HwNeurons):
            hw.populations[name] = Population(name, node.size, node.neuron())
    for name, node in graph.nodes.items():
        if isinstance(node, HwSynapses):
            preds, succs = graph.predecessors(name), graph.successors(name)
            if len(preds) != 1 or len(succs) != 1:
                raise ModelError(f"synapses {name!r} must have one source and one target, not "
                                 f"{len(preds)} and {len(succs)}")
            src, dst = preds[0], succs[0]
            if dst not in hw.populations:
                raise ModelError(f"synapses {name!r} must feed an HwNeurons node, not {dst!r}")
            hw.projections.append(Projection(name, src, dst, pre=node.pre, post=node.post,
                                             weight=node.weight, delay=node.delay,
                                             weight_exp=node.weight_exp,
                                             learning=node.rule() if isinstance(
                                                 node, HwPlasticSynapses) else None,
                                             reward_for=node.reward_for if isinstance(
                                                 node, HwRewardSynapses) else None))
        elif isinstance(node, Output):
            src = graph.predecessors(name)[0]          # verify() checked there is exactly one
            if src not in hw.populations:
                raise ModelError(f"output {name!r} must read an HwNeurons node, not {src!r}")
            hw.outputs[name] = src
    if verify:
        hw.validate()
    return hw
