"""The graph IR: named typed nodes, directed edges, shapes, and the verifier.

A :class:`Graph` is what every front end produces and every pass consumes.  Nested NIR graphs are
flattened on import, so names may be dotted (``lif1.w_rec``).  Edges may form cycles (recurrent
networks); several edges into one node are summed (NIR semantics).  networkx holds the structure
internally but is not part of the API.
"""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx
import numpy as np

from spikefab.compiler.ir.lowered import FloatNeurons
from spikefab.compiler.ir.nodes import (NEURON_TYPES, Input, Node, Output, SPIKING_TYPES)
from spikefab.errors import ModelError

__all__ = ["Graph"]


class Graph:
    """A directed graph of :class:`~spikefab.compiler.ir.nodes.Node` objects.

    Parameters
    ----------
    metadata:
        Free-form facts carried along (``dt`` in seconds when the model states it, source file).
    """

    def __init__(self, metadata: dict | None = None) -> None:
        self._g = nx.DiGraph()
        self.metadata: dict = dict(metadata or {})

    # -- construction -------------------------------------------------------------------------
    def add_node(self, name: str, node: Node) -> str:
        if not isinstance(name, str) or not name:
            raise ModelError(f"node name must be a non-empty string, not {name!r}")
        if name in self._g:
            raise ModelError(f"node {name!r} is defined twice")
        if not isinstance(node, Node):
            raise ModelError(f"node {name!r} must be an IR node, not {type(node).__name__}")
        self._g.add_node(name, node=node)
        return name

    def add_edge(self, src: str, dst: str) -> None:
        for end in (src, dst):
            if end not in self._g:
                raise ModelError(f"edge {src} -> {dst}: node {end!r} does not exist")
        if self._g.has_edge(src, dst):
            raise ModelError(f"edge {src} -> {dst} is defined twice")
        self._g.add_edge(src, dst)

    def copy(self) -> "Graph":
        g = Graph(self.metadata)
        g._g = self._g.copy()
        return g

    # -- queries ------------------------------------------------------------------------------
    @property
    def nodes(self) -> dict[str, Node]:
        """Nodes by name, in insertion order."""
        return {n: d["node"] for n, d in self._g.nodes(data=True)}

    @property
    def edges(self) -> list[tuple[str, str]]:
        return list(self._g.edges())

    def __getitem__(self, name: str) -> Node:
        try:
            return self._g.nodes[name]["node"]
        except KeyError:
            raise ModelError(f"no node named {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._g

    def __len__(self) -> int:
        return self._g.number_of_nodes()

    def __iter__(self) -> Iterator[str]:
        return iter(self._g)

    def predecessors(self, name: str) -> list[str]:
        return list(self._g.predecessors(name))

    def successors(self, name: str) -> list[str]:
        return list(self._g.successors(name))

    def inputs(self) -> list[str]:
        return [n for n, node in self.nodes.items() if isinstance(node, Input)]

    def outputs(self) -> list[str]:
        return [n for n, node in self.nodes.items() if isinstance(node, Output)]

    def order(self) -> tuple[list[str], set[tuple[str, str]]]:
        """A node order and the set of back edges whose removal makes the graph acyclic.

        Back edges are found by depth-first search from the inputs (then from any node not yet
        reached), in insertion order, so the choice is deterministic.  The float simulator
        evaluates a back edge with the source's value from the previous time step.
        """
        color: dict[str, int] = {}
        back: set[tuple[str, str]] = set()
        starts = self.inputs() + [n for n in self._g if n not in self.inputs()]
        for root in starts:
            if root in color:
                continue
            color[root] = 1
            stack = [(root, iter(self._g.successors(root)))]
            while stack:
                node, it = stack[-1]
                for nxt in it:
                    c = color.get(nxt, 0)
                    if c == 0:
                        color[nxt] = 1
                        stack.append((nxt, iter(self._g.successors(nxt))))
                        break
                    if c == 1:
                        back.add((node, nxt))
                else:
                    color[node] = 2
                    stack.pop()
        dag = nx.DiGraph()
        dag.add_nodes_from(self._g)
        dag.add_edges_from(e for e in self._g.edges() if e not in back)
        order = list(nx.lexicographical_topological_sort(dag, key=list(self._g).index))
        return order, back

    def recurrent_edges(self) -> list[tuple[str, str]]:
        return sorted(self.order()[1])

    # -- shapes and verification --------------------------------------------------------------
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Output shape of every node, inferred from the inputs along the edges.

        Raises :class:`ModelError` naming the node and edge where shapes disagree.
        """
        order, back = self.order()
        out: dict[str, tuple[int, ...]] = {}
        pending_back: list[tuple[str, str]] = []
        for name in order:
            node = self[name]
            if isinstance(node, Input):
                out[name] = node.shape
                continue
            preds = [p for p in self._g.predecessors(name) if (p, name) not in back]
            if not preds:
                if isinstance(node, (*NEURON_TYPES, FloatNeurons)) and getattr(node, "shape", ()):
                    out[name] = node.shape      # fed only by recurrence
                    pending_back += [(p, name) for p in self._g.predecessors(name)]
                    continue
                raise ModelError(f"node {name!r} ({node.type_name}) has no input edge")
            in_shapes = {p: out[p] for p in preds}
            first = preds[0]
            for p in preds[1:]:
                if in_shapes[p] != in_shapes[first]:
                    raise ModelError(f"node {name!r}: inputs must have one shape, but edge "
                                     f"{first} -> {name} brings {in_shapes[first]} and "
                                     f"{p} -> {name} brings {in_shapes[p]}")
            try:
                out[name] = tuple(int(s) for s in node.output_shape(in_shapes[first]))
            except ModelError as exc:
                raise ModelError(f"node {name!r}, edge {first} -> {name}: {exc}") from None
        for src, dst in back:
            node = self[dst]
            try:
                node.output_shape(out[src])
            except ModelError as exc:
                raise ModelError(f"node {dst!r}, edge {src} -> {dst}: {exc}") from None
        return out

    def verify(self) -> dict[str, tuple[int, ...]]:
        """Check structure, shapes and parameters; returns the shapes.

        Raises :class:`ModelError` for: no input or output, dangling nodes, an Output with other
        than one predecessor or with successors, shape mismatches, NaN or infinite parameters,
        negative time constants.
        """
        if not self.inputs():
            raise ModelError("graph must have at least one Input node, not 0")
        if not self.outputs():
            raise ModelError("graph must have at least one Output node, not 0")
        for name, node in self.nodes.items():
            for key, value in node.params().items():
                if isinstance(value, np.ndarray) and value.dtype.kind == "f" \
                        and not np.all(np.isfinite(value)):
                    bad = int(np.count_nonzero(~np.isfinite(value)))
                    raise ModelError(f"node {name!r}: parameter {key} must be finite, not NaN/inf "
                                     f"({bad} of {value.size} values)")
                if key.startswith("tau") and np.any(np.asarray(value) <= 0):
                    raise ModelError(f"node {name!r}: {key} must be > 0 seconds, not "
                                     f"{float(np.min(value))}")
            if isinstance(node, Output):
                preds = self.predecessors(name)
                if len(preds) != 1:
                    raise ModelError(f"output {name!r} must have exactly one input edge, not "
                                     f"{len(preds)}")
                if self.successors(name):
                    raise ModelError(f"output {name!r} must not feed other nodes, but feeds "
                                     f"{', '.join(self.successors(name))}")
            elif isinstance(node, Input):
                if self.predecessors(name):
                    raise ModelError(f"input {name!r} must not have input edges")
                if not self.successors(name):
                    raise ModelError(f"input {name!r} is dangling: it feeds no node")
            elif not self.successors(name):
                raise ModelError(f"node {name!r} ({node.type_name}) is dangling: its output "
                                 f"feeds no node")
        return self.shapes()

    # -- summaries ----------------------------------------------------------------------------
    def n_neurons(self) -> int:
        shapes = self.shapes()
        return sum(int(np.prod(shapes[n])) for n, node in self.nodes.items()
                   if isinstance(node, NEURON_TYPES))

    def is_spiking(self, name: str) -> bool:
        return isinstance(self[name], (*SPIKING_TYPES, Input))

    def __repr__(self) -> str:
        return f"Graph({len(self)} nodes, {len(self.edges)} edges)"
