"""IR printing for ``--print-after``: each level of the compiler as text a person can read.

The graph IR and the hardware IR print as the text IR (``.sfir``; a lowered graph as
FloatNeurons/FloatSynapses nodes, a hardware network as HwNeurons/HwSynapses nodes), so a printout
can be saved and read again.  The partition, the placement, the routing and the image print as
short summaries, one line per core.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

__all__ = ["format_ir"]


def _span(a: np.ndarray) -> str:
    a = np.asarray(a, np.float64)
    if not a.size:
        return "-"
    lo, hi = float(a.min()), float(a.max())
    return f"{lo:.6g}" if lo == hi else f"{lo:.6g}..{hi:.6g}"


def _partition(part: Any) -> str:
    use = part.core_usage()
    lines = [f"target {part.target.name}: {part.n_cores} core(s)"]
    for k in range(part.n_cores):
        row = " ".join(f"{key}={int(v[k])}" for key, v in use.items())
        lines.append(f"core {k}: neurons {int(part.bounds[k])}..{int(part.bounds[k + 1]) - 1} "
                     f"{row}")
    return "\n".join(lines) + "\n"


def format_ir(value: Any) -> str:
    """The text form of one pass's output (see the module docstring)."""
    from spikefab.compiler.hwnet import HwNetwork
    from spikefab.compiler.ir.graph import Graph
    from spikefab.compiler.ir.hardware import graph_from_hwnet
    from spikefab.compiler.ir.text import print_graph
    from spikefab.compiler.passes.emit import jsonable
    from spikefab.compiler.passes.partition import Partition
    from spikefab.compiler.passes.place import Placement
    from spikefab.compiler.passes.route import Routing

    if isinstance(value, Graph):
        return print_graph(value)
    if isinstance(value, HwNetwork):
        return print_graph(graph_from_hwnet(value))
    if isinstance(value, Partition):
        return _partition(value)
    if isinstance(value, Placement):
        return json.dumps({**value.summary(), "site": value.site.tolist()}) + "\n"
    if isinstance(value, Routing):
        return json.dumps(jsonable(value.summary())) + "\n"
    if hasattr(value, "cores") and hasattr(value, "populations"):      # an Image
        return (f"image: {len(value.cores)} core(s), populations "
                f"{', '.join(value.populations)}, inputs {', '.join(value.inputs)}, outputs "
                f"{', '.join(value.outputs)}\n")
    return f"{value!r}\n"
