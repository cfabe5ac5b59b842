"""Front ends: turn a model (``.nir``, ``.sfir``, ``nir.NIRGraph``) into a verified Graph."""

from __future__ import annotations

from pathlib import Path

from spikefab.compiler.frontends.nir_io import (NirCompatWarning, from_nir, read_nir, to_nir,
                                                  write_nir)
from spikefab.compiler.hwnet import HwNetwork
from spikefab.compiler.ir.graph import Graph
from spikefab.compiler.ir.text import read_sfir
from spikefab.errors import ModelError

__all__ = ["load_model", "read_model", "verify_model", "read_nir", "from_nir", "to_nir", "write_nir", "NirCompatWarning"]


def read_model(model) -> Graph | HwNetwork:
    """Read a model into the IR without verifying it (the pass manager's Load pass verifies).

    Accepts what :func:`load_model` accepts; an :class:`HwNetwork` is returned as is.
    """
    if isinstance(model, HwNetwork):
        return model
    if isinstance(model, Graph):
        graph = model
    elif isinstance(model, (str, Path)):
        path = Path(model)
        suffix = path.suffix.lower()
        if suffix == ".nir":
            graph = read_nir(path)
        elif suffix == ".sfir":
            graph = read_sfir(path)
        elif not path.exists():
            raise ModelError(f"model file {str(path)!r} does not exist", where=str(path))
        else:
            raise ModelError(f"model file {str(path)!r} must end in .nir or .sfir, not "
                             f"{suffix or 'no extension'!r}", where=str(path))
    elif type(model).__name__ == "NIRGraph":
        graph = from_nir(model)
    else:
        raise ModelError(f"model must be a .nir/.sfir path, a nir.NIRGraph, a Graph or a "
                         f"Network, not {type(model).__name__}")
    return graph


def load_model(model) -> Graph | HwNetwork:
    """Load a model and verify it.

    Parameters
    ----------
    model:
        A path to a ``.nir`` (HDF5) or ``.sfir`` (text IR) file, a ``nir.NIRGraph``, a
        :class:`Graph`, or a fixed-point :class:`HwNetwork` / builder ``Network`` (returned
        unchanged, after :meth:`HwNetwork.validate`: builder networks are never re-quantized).

    Raises
    ------
    ModelError
        Missing or unreadable file, unknown extension, or a graph the verifier rejects.
    """
    graph = read_model(model)
    verify_model(graph, model)
    return graph


def verify_model(graph: Graph | HwNetwork, model) -> None:
    """Verify what :func:`read_model` read from ``model`` (errors name the file it came from)."""
    if isinstance(graph, HwNetwork):
        graph.validate()
        return
    try:
        graph.verify()
    except ModelError as exc:
        if isinstance(model, (str, Path)) and not str(exc).startswith(str(model)):
            raise ModelError(f"{model}: {exc}", where=str(model)) from None
        raise
