"""``spikefab.neurobench``: NeuroBench's harness on a compiled image, metrics from hardware counters.

NeuroBench (the community benchmark harness) computes its workload metrics from PyTorch hooks, so
a network that runs as a hardware image has no way in.  :class:`SpikefabModel` is a
``NeuroBenchModel`` that runs each sample of a batch through the emulator (or a device) and keeps
each run's :class:`~spikefab.arch.Result`; the metric classes read the chip's counters from those
results instead of hooks.  Energy and latency are *modelled* (the target profile's per-event
costs and timing, whose sources :func:`metric_sources` lists), and named so.

Needs the ``neurobench`` extra (NeuroBench pulls PyTorch: install ``torch==2.13.0`` with it).
"""

try:
    import neurobench  # noqa: F401
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    from spikefab.errors import ToolError
    raise ToolError(f"spikefab.neurobench needs NeuroBench and PyTorch: pip install "
                    f"'torch==2.13.0' 'spikefab[neurobench]' ({exc})") from None

from spikefab.neurobench.metrics import (ActivationSparsity, ModelledEnergy,  # noqa: E402
                                         ModelledLatency,
                                         NeuronUpdates, Packets, SynapticOperations,
                                         metric_sources)
from spikefab.neurobench.model import SpikefabModel  # noqa: E402

__all__ = ["SpikefabModel", "SynapticOperations", "NeuronUpdates", "ActivationSparsity",
           "Packets", "ModelledEnergy", "ModelledLatency", "metric_sources"]
