"""The fabric a board's bitstream carries: its target's mesh, static where the engines miss timing.

Simulation has no clock to meet, so ``rtlsim://`` and the virtual board keep every learning
engine the target's RTL has.  A bitstream must close timing on the board oscillator: a board
builds its target's learning engines only when its :attr:`BoardSpec.engine_fmax_mhz` -- the Fmax
measured for the SoC with the engines, docs/fpga.md -- reaches the board clock.  Otherwise the
bitstream is a *static build* (``learning=None``): it runs static images, and its INFO reply
leaves the ``LEARNING`` flag clear, so ``serial://`` refuses plastic images (need vs have)
instead of running them without learning.  No option builds the engines anyway: that bitstream
would fail timing.
"""

from __future__ import annotations

from dataclasses import dataclass

from spikefab.arch.target import load_target
from spikefab.errors import TargetError
from spikefab.rtl.boards.spec import BoardSpec, get_board
from spikefab.rtl.params import MeshParams, learning_caps, mesh_params

__all__ = ["BoardFabric", "board_fabric"]


@dataclass(frozen=True)
class BoardFabric:
    """What :func:`~spikefab.rtl.build.build_board` puts on a board."""

    params: MeshParams
    #: one line for the build summary: the learning engines in the bitstream, or why none
    learning: str


def board_fabric(board: str | BoardSpec, target=None) -> BoardFabric:
    """The mesh parameters a ``board``'s bitstream is built with (``target``: as
    :func:`~spikefab.rtl.build.build_board`'s, default the board's own).

    Raises
    ------
    TargetError
        If ``target`` is a :class:`MeshParams` with learning engines on a board where they do
        not meet timing (the build would fail).
    """
    spec = get_board(board) if isinstance(board, str) else board
    clock = spec.clock_hz / 1e6
    fmax = spec.engine_fmax_mhz
    meets = fmax is not None and fmax >= clock
    if meets:
        why = "a static build"
    elif fmax is not None:
        why = f"{fmax:g} MHz < {clock:g} MHz, docs/fpga.md"
    else:
        why = "their Fmax on this board is not measured, docs/fpga.md"

    if isinstance(target, MeshParams):
        params = target
        if params.learning is not None and not meets:
            raise TargetError(f"board {spec.name}: a bitstream with learning engines must meet "
                              f"the {clock:g} MHz board clock, but they reach "
                              + (f"{fmax:g} MHz" if fmax is not None else "an unmeasured Fmax")
                              + f" (docs/fpga.md); build {params.target} with learning=None",
                              where="learning")
    else:
        params = mesh_params(load_target(target or spec.target))
        if params.learning is not None and not meets:
            params = mesh_params(load_target(target or spec.target), learning=None)
    caps = params.learning
    if caps is not None:
        note = (f"learning engines: in each of the {params.n_cores} cores ({caps.profiles} "
                f"profiles, {caps.synapses} plastic synapses; {fmax:g} MHz >= {clock:g} MHz)")
    elif learning_caps(load_target(params.target), params.core_kind) is not None:
        note = f"learning engines: not in this bitstream ({why})"
    else:
        note = f"learning engines: none (target {params.target} has no learning engine)"
    return BoardFabric(params, note)
