"""The pass manager: runs named passes in order, verifies between them, prints IR on request.

A pass is an object with a ``name``, the field of :class:`CompileState` it ``produces``, a
``run(state)`` that returns that field's new value, and a ``verify(value, state)`` that checks
the invariants of its output (a broken invariant is a compiler bug, reported as such, never a
silently wrong image).  The manager times every pass, runs its verifier unless the value is one
it already verified (a pass that hands its input on unchanged, e.g. Discretize's graph copy with
the same nodes and edges, is not verified again), prints the output of the passes named in
``print_after`` (or ``"all"``), and shows a tqdm progress bar when a compile takes more than a
second.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Collection, Protocol, TextIO

__all__ = ["Pass", "CompileState", "PassManager", "fingerprint"]


class Pass(Protocol):
    """One step of the compiler: one job, one output field, one verifier."""

    name: str
    produces: str

    def run(self, state: "CompileState") -> Any: ...

    def verify(self, value: Any, state: "CompileState") -> None: ...


@dataclass
class CompileState:
    """Everything the passes have produced so far (one field per level)."""

    model: Any = None
    graph: Any = None          #: graph IR (:class:`~spikefab.compiler.ir.Graph`)
    lowered: Any = None        #: lowered float graph (Lower's output, Quantize's input)
    net: Any = None            #: hardware IR (:class:`~spikefab.compiler.hwnet.HwNetwork`)
    partition: Any = None
    traffic: Any = None
    placement: Any = None
    routing: Any = None
    image: Any = None
    target: Any = None


def fingerprint(value: Any) -> tuple:
    """What "unchanged" means to the verifier: a graph's nodes and edges, else the object."""
    from spikefab.compiler.ir.graph import Graph
    if isinstance(value, Graph):
        return ("graph", tuple((n, id(v)) for n, v in value.nodes.items()), tuple(value.edges))
    return ("object", id(value))


@dataclass
class PassManager:
    """Runs passes over a :class:`CompileState`, timing, verifying and printing each."""

    progress: bool | None = None
    total: int = 0
    print_after: Collection[str] = ()
    out: TextIO | None = None
    timings: list[dict[str, Any]] = field(default_factory=list)
    _verified: set = field(default_factory=set)
    _bar: Any = None

    def __enter__(self) -> "PassManager":
        from tqdm import tqdm
        self._bar = tqdm(total=self.total, desc="compile", unit="pass", delay=1.0,
                         disable=(None if self.progress is None else not self.progress),
                         leave=False)
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()

    def run_all(self, passes: list[Pass], state: CompileState) -> CompileState:
        for p in passes:
            self.run(p, state)
        return state

    def run(self, p: Pass, state: CompileState) -> Any:
        """Run one pass, store its output in ``state``, verify and maybe print it."""
        if self._bar is not None:
            self._bar.set_postfix_str(p.name)
        t0 = time.perf_counter()
        value = p.run(state)
        t1 = time.perf_counter()
        setattr(state, p.produces, value)
        key = fingerprint(value)
        if key not in self._verified:
            p.verify(value, state)
            self._verified.add(key)
        self.timings.append({"pass": p.name, "seconds": t1 - t0,
                             "verify_seconds": time.perf_counter() - t1})
        if self._bar is not None:
            self._bar.update(1)
        if "all" in self.print_after or p.name in self.print_after:
            from spikefab.compiler.passes.printing import format_ir
            out = self.out or sys.stdout
            out.write(f"; --- IR after {p.name} ---\n{format_ir(value)}")
        return value
