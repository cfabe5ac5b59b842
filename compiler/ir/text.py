"""The text IR (``.sfir``): print a :class:`Graph` readably and parse it back exactly.

Example::

    sfir 1
    meta dt = 0.0001
    node input = Input(shape=(1,))
    node "0" = Affine(weight=f32[1,1](1.0), bias=f32[1](0.0))
    node "1" = LIF(tau=f32[1](0.0025), r=f32[1](1.0), v_leak=f32[1](0.0),
                   v_threshold=f32[1](0.1), v_reset=f32[1](0.0))
    node output = Output(shape=(1,))
    edge input -> "0"
    edge "0" -> "1"
    edge "1" -> output

Arrays are written ``DTYPE[SHAPE](values)`` with the shortest decimal that reads back to the same
value of that dtype, so print -> parse -> print is the identity and parameters survive bit for
bit.  Names that are not identifiers are quoted.  Syntax errors give ``file:line:column`` and
the tokens that were expected.  The grammar (lark, LALR) is :data:`GRAMMAR`.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
from lark import Lark, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, \
    UnexpectedToken

from spikefab.compiler.ir.graph import Graph
from spikefab.compiler.ir.nodes import NODE_TYPES
from spikefab.errors import ModelError

__all__ = ["print_graph", "parse_graph", "read_sfir", "write_sfir", "GRAMMAR"]

GRAMMAR = r"""
start: header item*
header: "sfir" INT
?item: meta | node | edge
meta: "meta" IDENT "=" value
node: "node" name "=" IDENT "(" [kwarg ("," kwarg)*] ")"
edge: "edge" name "->" name
kwarg: IDENT "=" value
name: IDENT -> bare | STRING -> quoted
?value: array | tuple | number | STRING -> string | "none" -> none
array: DTYPE "[" [INT ("," INT)*] "]" VALUES
tuple: "(" ")" -> empty_tuple
     | "(" value "," ")" -> one_tuple
     | "(" value ("," value)+ ")" -> many_tuple
number: NUMBER
DTYPE.2: /[fiu](8|16|32|64)(?=\[)/
IDENT: /[A-Za-z_][A-Za-z0-9_.]*/
NUMBER.1: /[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|inf|nan)/
INT: /\d+/
STRING: /"([^"\\]|\\.)*"/
VALUES: /\([^()"]*\)/
COMMENT: /#[^\n]*/
%import common.WS
%ignore WS
%ignore COMMENT
"""

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_NUMBER = re.compile(r"[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|inf|nan)")
_KEYWORDS = {"sfir", "meta", "node", "edge", "none", "inf", "nan"}
_TOKEN_WORDS = {"IDENT": "a name", "STRING": "a quoted name", "NUMBER": "a number",
                "INT": "an integer", "DTYPE": "an array type (f32[...])", "LPAR": "'('",
                "RPAR": "')'", "COMMA": "','", "EQUAL": "'='", "LSQB": "'['", "RSQB": "']'",
                "__ANON_0": "'->'", "MINUS": "'-'", "MORETHAN": "'>'", "$END": "end of file"}


# ---------------------------------------------------------------------------------- printing
def _name(n: str) -> str:
    return n if _IDENT.fullmatch(n) and n not in _KEYWORDS else json.dumps(n)


def _value(v) -> str:
    if v is None:
        return "none"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (bool, np.bool_)):
        return str(int(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return str(np.float64(v))
    if isinstance(v, tuple):
        if len(v) == 1:
            return f"({_value(v[0])},)"
        return "(" + ", ".join(_value(x) for x in v) + ")"
    a = np.asarray(v)
    if a.dtype.kind == "b":
        a = a.astype(np.uint8)
    if a.dtype.kind not in "fiu":
        raise ModelError(f"cannot print a value of type {a.dtype} in the text IR")
    tag = f"{a.dtype.kind}{a.dtype.itemsize * 8}"
    shape = ",".join(str(s) for s in a.shape)
    if a.dtype.kind == "f":
        vals = ", ".join(str(x) for x in a.ravel())
    else:
        vals = ", ".join(str(x) for x in a.ravel().tolist())
    return f"{tag}[{shape}]({vals})"


def print_graph(graph: Graph) -> str:
    """The text IR of ``graph`` (deterministic: nodes and edges in the graph's order)."""
    lines = ["sfir 1"]
    for key in sorted(graph.metadata):
        lines.append(f"meta {key} = {_value(graph.metadata[key])}")
    for name, node in graph.nodes.items():
        args = ", ".join(f"{k}={_value(v)}" for k, v in node.params().items())
        lines.append(f"node {_name(name)} = {node.type_name}({args})")
    for src, dst in graph.edges:
        lines.append(f"edge {_name(src)} -> {_name(dst)}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------- parsing
class _Num(str):
    """A number token, kept as text until its dtype is known (exact for every dtype)."""


class _ToGraph(Transformer):
    def __init__(self, source: str):
        super().__init__()
        self.source = source

    def number(self, items):
        return _Num(items[0])

    def bare(self, items):
        return str(items[0])

    def quoted(self, items):
        return self._string(items[0])

    def string(self, items):
        return self._string(items[0])

    def _string(self, token) -> str:
        """A quoted name or string: JSON's escapes (control characters must be escaped)."""
        try:
            return json.loads(token)
        except json.JSONDecodeError as exc:
            raise ModelError(f"{self.source}:{token.line}:{token.column + exc.pos}: quoted "
                             f"string must be JSON text ({exc.msg.lower().removesuffix(' at')}; write control "
                             f"characters as \\u0000), not {str(token)[:40]!r}") from None

    def none(self, _items):
        return None

    def empty_tuple(self, _items):
        return ()

    def one_tuple(self, items):
        return (self._scalar(items[0]),)

    def many_tuple(self, items):
        return tuple(self._scalar(i) for i in items)

    @staticmethod
    def _scalar(v):
        if isinstance(v, _Num):
            return int(v) if re.fullmatch(r"[+-]?\d+", v) else float(v)
        return v

    def array(self, items):
        tag = str(items[0])
        dims = [int(t) for t in items[1:-1]]
        body = items[-1]
        dtype = np.dtype({"f": "float", "i": "int", "u": "uint"}[tag[0]] + tag[1:])
        words = body[1:-1].replace(",", " ").split()
        if int(np.prod(dims)) != len(words):
            raise ModelError(f"{self.source}:{body.line}:{body.column}: array "
                             f"{tag}[{','.join(map(str, dims))}] must hold {int(np.prod(dims))} "
                             f"values, not {len(words)}")
        try:
            if dtype.kind == "f":
                bad = [w for w in words if not _NUMBER.fullmatch(w)]
                if bad:
                    raise ValueError(bad[0])
                return np.array(words, dtype=dtype).reshape(dims)
            return np.array([int(w) for w in words], dtype=dtype).reshape(dims)
        except (ValueError, OverflowError) as exc:
            word = str(exc).split()[-1].strip("'")
            offset = body.find(word) if word in body else 0
            line = body.line + body[:offset].count("\n")
            col = (offset - body[:offset].rfind("\n")) if "\n" in body[:offset] \
                else body.column + offset
            raise ModelError(f"{self.source}:{line}:{col}: array {tag}[...] value must be a "
                             f"{dtype} number, not {word!r}") from None

    def kwarg(self, items):
        return str(items[0]), self._scalar(items[1])

    def meta(self, items):
        return ("meta", str(items[0]), self._scalar(items[1]))

    def node(self, items):
        kwargs = dict(i for i in items[2:] if i is not None)
        return ("node", items[0], str(items[1]), kwargs)

    def edge(self, items):
        return ("edge", items[0], items[1])

    def header(self, items):
        return ("header", int(items[0]))

    def start(self, items):
        graph = Graph()
        version = items[0][1]
        if version != 1:
            raise ModelError(f"{self.source}: sfir version must be 1, not {version}")
        for item in items[1:]:
            if item[0] == "meta":
                if item[1] in graph.metadata:
                    raise ModelError(f"{self.source}: meta {item[1]} is defined twice")
                graph.metadata[item[1]] = item[2]
            elif item[0] == "node":
                _, name, type_name, kwargs = item
                cls = NODE_TYPES.get(type_name)
                if cls is None:
                    raise ModelError(f"{self.source}: node {name!r}: type must be one of "
                                     f"{', '.join(sorted(NODE_TYPES))}, not {type_name!r}")
                try:
                    node = cls(**kwargs)
                except (TypeError, ValueError, AttributeError) as exc:
                    # e.g. a number where the node wants text (dw=5): AttributeError
                    raise ModelError(f"{self.source}: node {name!r} ({type_name}): bad "
                                     f"parameters: {type(exc).__name__}: {exc}") from None
                except ModelError as exc:
                    raise ModelError(f"{self.source}: node {name!r}: {exc}") from None
                graph.add_node(name, node)
            else:
                graph.add_edge(item[1], item[2])
        return graph


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)


def parse_graph(text: str, source: str = "<sfir>") -> Graph:
    """Parse the text IR; raises :class:`ModelError` with ``source:line:column`` on bad syntax."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise ModelError(_syntax_message(exc, text, source), where=source) from None
    try:
        return _ToGraph(source).transform(tree)
    except Exception as exc:  # lark wraps transformer errors in VisitError
        inner = getattr(exc, "orig_exc", exc)
        if isinstance(inner, ModelError):
            raise inner from None
        raise


def _syntax_message(exc: UnexpectedInput, text: str, source: str) -> str:
    if isinstance(exc, UnexpectedEOF):
        lines = text.splitlines() or [""]
        line, col = len(lines), len(lines[-1]) + 1
        got = "end of file"
        expected = exc.expected
    else:
        line, col = exc.line, exc.column
        if isinstance(exc, UnexpectedToken):
            got = repr(str(exc.token)) if exc.token.type != "$END" else "end of file"
            expected = exc.expected
        elif isinstance(exc, UnexpectedCharacters):
            got = repr(text[exc.pos_in_stream]) if exc.pos_in_stream < len(text) else "end"
            expected = exc.allowed or set()
        else:  # pragma: no cover - lark has no other kinds today
            got, expected = "input", set()
    words = sorted({_TOKEN_WORDS.get(t, repr(t.lower()) if t.isupper() else t) for t in expected})
    return (f"{source}:{line}:{col}: syntax error: expected {' or '.join(words) or 'nothing'}, "
            f"not {got}")


def read_sfir(path: str | Path) -> Graph:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(f"model file {str(p)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"model file {str(p)!r} must be readable UTF-8 text: {exc}") from None
    return parse_graph(text, source=str(p))


def write_sfir(graph: Graph, path: str | Path) -> None:
    Path(path).write_text(print_graph(graph), encoding="utf-8")
