"""NIR import and export (the ``nir`` package, HDF5 ``.nir`` files).

Import walks ``NIRGraph.nodes``/``edges`` and maps each primitive to the IR node of the same name.
Nested graphs are flattened with dotted names (``lif1.w_rec``); a nested graph's own Input and
Output nodes disappear (edges are joined through them).  Files that today's ``nir`` refuses under
strict type checking (graphs written by older exporters) are read again without it, with a
:class:`NirCompatWarning`; our own verifier then checks shapes.  Export writes a flat NIRGraph
with the same dotted names and every parameter unchanged, so IR -> NIR -> IR is exact.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np

from spikefab.compiler.ir import nodes as ir
from spikefab.compiler.ir.graph import Graph
from spikefab.errors import ModelError

__all__ = ["NirCompatWarning", "read_nir", "from_nir", "to_nir", "write_nir"]


class NirCompatWarning(UserWarning):
    """A NIR file needed the lenient reader (no strict type check); say so, but load it."""


# Parameter names per type, read by attribute from nir nodes (same names as ours).
_FIELDS = {
    "Affine": ("weight", "bias"), "Linear": ("weight",), "Scale": ("scale",),
    "Conv1d": ("weight", "bias", "stride", "padding", "dilation", "groups", "input_shape"),
    "Conv2d": ("weight", "bias", "stride", "padding", "dilation", "groups", "input_shape"),
    "SumPool2d": ("kernel_size", "stride", "padding"),
    "AvgPool2d": ("kernel_size", "stride", "padding"),
    "Flatten": ("start_dim", "end_dim"), "Delay": ("delay",), "Threshold": ("threshold",),
    "I": ("r",), "IF": ("r", "v_threshold", "v_reset"), "LI": ("tau", "r", "v_leak"),
    "LIF": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
    "CubaLI": ("tau_syn", "tau_mem", "r", "v_leak", "w_in"),
    "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
}


def read_nir(path: str | Path) -> Graph:
    """Read a ``.nir`` file into a verified-shape :class:`Graph`.

    Raises :class:`ModelError` for a missing file, a file that is not HDF5/NIR, or an unknown
    node type; warns :class:`NirCompatWarning` when strict type checking had to be dropped.
    """
    import h5py
    import nir

    p = Path(path)
    if not p.is_file():
        raise ModelError(f"model file {str(p)!r} does not exist", where=str(p))
    if not h5py.is_hdf5(p):
        raise ModelError(f"model file {str(p)!r} must be an HDF5 NIR file, but it is not HDF5",
                         where=str(p))
    _check_node_types(p)
    try:
        g = nir.read(p, type_check=True)
    except Exception as strict_exc:  # nir raises bare ValueError/KeyError/AssertionError
        msg = str(strict_exc)
        try:
            g = nir.read(p, type_check=False)
        except Exception as exc:
            raise ModelError(f"{p}: not a readable NIR graph ({type(exc).__name__}: {exc})",
                             where=str(p)) from None
        warnings.warn(f"{p}: nir refused the file under strict type checking "
                      f"({type(strict_exc).__name__}: {msg.splitlines()[0] if msg else ''}); "
                      f"read it leniently, shapes are checked by spikefab's verifier",
                      NirCompatWarning, stacklevel=2)
    graph = from_nir(g, source=str(p))
    graph.metadata.setdefault("source", p.name)
    return graph


def _check_node_types(p: Path) -> None:
    """Name the first node whose type nir would not know (nir itself fails obscurely)."""
    import h5py

    known = set(ir.NODE_TYPES) | {"NIRGraph"}
    try:
        with h5py.File(p, "r") as f:
            if "node" not in f:
                raise ModelError(f"{p}: not a NIR file: the HDF5 file has no 'node' group",
                                 where=str(p))
            _check_sizes(p, f)
            stack = [("", f["node"])]
            while stack:
                path, grp = stack.pop()
                if "type" not in grp:
                    raise ModelError(_truncated(p, f"node {path or '<root>'!r} has no 'type' "
                                                   f"entry"), where=str(p))
                t = grp["type"][()]
                try:
                    t = t.decode() if isinstance(t, bytes) else str(t)
                except UnicodeDecodeError:
                    raise ModelError(f"{p}: node {path or '<root>'!r} has a type that is not "
                                     f"UTF-8 text ({t[:16]!r}); the file is corrupted",
                                     where=str(p)) from None
                if t not in known:
                    raise ModelError(f"{p}: node {path or '<root>'!r} has unknown NIR node type "
                                     f"{t!r}; supported: {', '.join(sorted(known))}",
                                     where=str(p))
                if t == "NIRGraph":
                    if "nodes" not in grp or "edges" not in grp:
                        raise ModelError(_truncated(p, f"graph {path or '<root>'!r} has no "
                                                       f"'{'nodes' if 'nodes' not in grp else 'edges'}'"
                                                       f" entry"), where=str(p))
                    for name, sub in grp["nodes"].items():
                        stack.append((f"{path}.{name}" if path else name, sub))
    except OSError as exc:
        if "truncat" in str(exc).lower() or "eof" in str(exc).lower():
            raise ModelError(_truncated(p, str(exc)), where=str(p)) from None
        raise ModelError(f"{p}: unreadable HDF5 file ({exc})", where=str(p)) from None
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelError(f"{p}: unreadable HDF5 file ({type(exc).__name__}: {exc})",
                         where=str(p)) from None


def _check_sizes(p: Path, f) -> None:
    """Refuse a file whose datasets would not fit the memory budget once read: HDF5 stores
    unwritten or compressed chunks in a few bytes, so a small file can declare a 75 GiB array
    that ``nir.read`` would allocate and fill."""
    import h5py

    from spikefab.arch.validate import run_budget
    sizes: list[tuple[int, str]] = []
    f.visititems(lambda name, obj: sizes.append((int(obj.size) * obj.dtype.itemsize, name))
                 if isinstance(obj, h5py.Dataset) else None)
    total, budget = sum(n for n, _ in sizes), run_budget()
    if total > budget:
        big, name = max(sizes)
        raise ModelError(f"{p}: the NIR file's arrays need {total / 2**20:,.0f} MiB once read "
                         f"(largest: {name!r}, {big / 2**20:,.0f} MiB), {budget / 2**20:,.0f} "
                         f"MiB are available (SPIKEFAB_MAX_RUN_BYTES)", where=str(p))


def _truncated(p: Path, detail: str) -> str:
    return (f"{p}: the NIR file is truncated or half-written ({detail}; a failed or interrupted "
            f"nir.write leaves such files): export it again")


def from_nir(g, source: str = "<NIRGraph>") -> Graph:
    """Convert an in-memory ``nir.NIRGraph`` (nested or flat) into a :class:`Graph`."""
    import nir

    if not isinstance(g, nir.NIRGraph):
        raise ModelError(f"model must be a nir.NIRGraph, not {type(g).__name__}")
    flat_nodes: dict[str, object] = {}
    flat_edges: list[tuple[str, str]] = []
    _flatten(g, "", flat_nodes, flat_edges, nir)
    converted: dict[str, ir.Node] = {}
    for name, node in flat_nodes.items():
        try:
            converted[name] = _convert(node, nir)
        except ModelError as exc:
            raise ModelError(f"{source}: node {name!r}: {exc}", where=name) from None

    def build(nodes: dict[str, ir.Node]) -> Graph:
        graph = Graph(_metadata(g.metadata))
        for name, node in nodes.items():
            graph.add_node(name, node)
        for src, dst in flat_edges:
            if (src, dst) in graph.edges:
                continue
            try:
                graph.add_edge(src, dst)
            except ModelError as exc:
                raise ModelError(f"{source}: {exc}") from None
        return graph

    return _in_flow_order(build(_drop_extra_axes(converted, build, source)))


def _drop_extra_axes(nodes: dict[str, ir.Node], build, source: str) -> dict[str, ir.Node]:
    """Input/Output shapes without the batch (and time) axes some exporters keep.

    snnTorch 0.9 writes the sample's batch axis into Input (``(1, 2, 8, 8)`` before a Conv2d
    that takes ``(2, 8, 8)``), Rockpool 3.1 its batch and time axes (``(1, 80, 16)``).  When the
    graph does not verify as written, the fewest leading axes whose removal makes it verify are
    dropped, with a :class:`NirCompatWarning` naming them; otherwise the graph is left as is
    (and the verifier's error names the mismatch).
    """
    try:
        build(nodes).verify()
        return nodes
    except ModelError:
        pass
    io = [n for n, v in nodes.items() if isinstance(v, (ir.Input, ir.Output)) and len(v.shape) > 1]
    if not io or len(io) > 6:
        return nodes
    choices = [range(len(nodes[n].shape)) for n in io]
    for drops in sorted(itertools.product(*choices), key=sum):
        if not sum(drops):
            continue
        trial = dict(nodes)
        for n, k in zip(io, drops):
            trial[n] = type(nodes[n])(shape=nodes[n].shape[k:])
        try:
            build(trial).verify()
        except ModelError:
            continue
        said = ", ".join(f"{n} {nodes[n].shape} -> {trial[n].shape}"
                         for n, k in zip(io, drops) if k)
        warnings.warn(f"{source}: dropped leading batch/time axes that the exporter wrote into "
                      f"the graph's input/output shapes ({said})", NirCompatWarning, stacklevel=3)
        return trial
    return nodes


def _in_flow_order(graph: Graph) -> Graph:
    """The same graph with nodes in data-flow order (HDF5 stores them alphabetically)."""
    order, _ = graph.order()
    out = Graph(graph.metadata)
    for name in order:
        out.add_node(name, graph[name])
    for src, dst in sorted(graph.edges, key=lambda e: (order.index(e[0]), order.index(e[1]))):
        out.add_edge(src, dst)
    return out


def _metadata(meta) -> dict:
    out = {}
    for k, v in dict(meta or {}).items():
        if isinstance(v, bytes):
            v = v.decode()
        if isinstance(v, np.ndarray) and v.ndim == 0:
            v = v.item()
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, (int, float, str, np.ndarray)):
            out[str(k)] = v
    return out


def _flatten(g, prefix: str, nodes: dict, edges: list, nir) -> tuple[list[str], list[str]]:
    """Add ``g``'s nodes under ``prefix``; return the names its Input feeds / its Output reads."""
    ent: dict[str, list[str]] = {}
    ex: dict[str, list[str]] = {}
    inner_in, inner_out = set(), set()
    for name, node in g.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            ent[name], ex[name] = _flatten(node, full + ".", nodes, edges, nir)
        elif prefix and isinstance(node, nir.Input):
            inner_in.add(name)
        elif prefix and isinstance(node, nir.Output):
            inner_out.add(name)
        else:
            nodes[full] = node
            ent[name] = ex[name] = [full]

    def resolve(name: str, side: str) -> list[str]:
        if name in ent:
            return ex[name] if side == "src" else ent[name]
        head, _, rest = name.partition(".")
        if rest and head in ent and prefix + name in nodes:   # dotted reference into a sub-graph
            return [prefix + name]
        raise ModelError(f"edge references node {prefix + name!r}, which does not exist")

    ins: list[str] = []
    outs: list[str] = []
    for s, d in g.edges:
        if s in inner_in:
            ins += [] if d in inner_out else resolve(d, "dst")
        elif d in inner_out:
            outs += resolve(s, "src")
        else:
            edges.extend((a, b) for a in resolve(s, "src") for b in resolve(d, "dst"))
    return ins, outs


def _get(node, key):
    v = getattr(node, key, None)
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, np.ndarray) and v.dtype.kind in "SUO":
        v = v.item() if v.ndim == 0 else v.ravel()[0]
        v = v.decode() if isinstance(v, bytes) else v
    return v


def _convert(node, nir) -> ir.Node:
    t = type(node).__name__
    if t == "Input":
        return ir.Input(shape=np.asarray(node.input_type["input"]))
    if t == "Output":
        return ir.Output(shape=np.asarray(node.output_type["output"]))
    if t not in _FIELDS:
        raise ModelError(f"NIR node type must be one of {', '.join(sorted(ir.NODE_TYPES))}, "
                         f"not {t!r}")
    kwargs = {k: _get(node, k) for k in _FIELDS[t]}
    if t in ("Conv1d", "Conv2d") and kwargs["input_shape"] is not None:
        kwargs["input_shape"] = np.atleast_1d(kwargs["input_shape"])
    return ir.NODE_TYPES[t](**kwargs)


def to_nir(graph: Graph):
    """Export ``graph`` as a flat ``nir.NIRGraph`` (dotted names kept, parameters unchanged)."""
    import nir

    out = {}
    shapes = graph.shapes()
    for name, node in graph.nodes.items():
        t = node.type_name
        p = node.params()
        if t == "Input":
            out[name] = nir.Input(input_type=np.array(node.shape))
        elif t == "Output":
            out[name] = nir.Output(output_type=np.array(node.shape))
        elif t in ("Conv1d", "Conv2d"):
            kw = dict(p)
            kw["stride"] = np.array(p["stride"])
            kw["dilation"] = np.array(p["dilation"])
            kw["padding"] = p["padding"] if isinstance(p["padding"], str) else np.array(p["padding"])
            if t == "Conv1d" and p["input_shape"] is not None:
                kw["input_shape"] = int(p["input_shape"][0])
            elif p["input_shape"] is not None:
                kw["input_shape"] = np.array(p["input_shape"])
            out[name] = getattr(nir, t)(**kw)
        elif t in ("SumPool2d", "AvgPool2d"):
            out[name] = getattr(nir, t)(**{k: np.array(v) for k, v in p.items()})
        elif t == "Flatten":
            src = graph.predecessors(name)[0]
            out[name] = nir.Flatten(input_type={"input": np.array(shapes[src])},
                                    start_dim=p["start_dim"], end_dim=p["end_dim"])
        elif t in _FIELDS:
            shape = tuple(shapes[name])
            out[name] = getattr(nir, t)(**{k: _full(v, shape) for k, v in p.items()})
        else:
            raise ModelError(f"node {name!r}: {t} is a hardware-level node and has no NIR form; "
                             f"export the float graph instead")
    meta = {k: v for k, v in graph.metadata.items() if k != "source"}
    return nir.NIRGraph(nodes=out, edges=list(graph.edges), metadata=meta, type_check=False)


def _full(v, shape: tuple[int, ...]):
    """A neuron parameter as an array of the node's shape.

    Exporters (Norse) write one number for a whole layer; nir's writer and the type inference
    of newer nir versions need one value per neuron, so 0-d parameters are broadcast on export.
    """
    if isinstance(v, np.ndarray) and v.ndim == 0 and shape:
        return np.full(shape, v.item(), dtype=v.dtype)
    return v


def write_nir(graph: Graph, path: str | Path) -> None:
    """Write ``graph`` to a ``.nir`` file (a temporary file renamed into place, so that a
    failed write never leaves a half-written ``.nir`` behind)."""
    import nir

    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    try:
        nir.write(str(tmp), to_nir(graph))
        tmp.replace(path)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"{path}: cannot write the graph as NIR ({type(exc).__name__}: {exc})",
                         where=str(path)) from None
