"""``spikefab.run``: run an image on the emulator, or on a device through the runtime.

One entry point for the user (DESIGN.md section 1): without ``device`` the image runs on the
emulator (``mode="functional"`` time-step exact, ``mode="cycle"`` cycle by cycle); with ``device``
(``"emu://"``, ``"rtlsim://"``, ``"serial:///dev/ttyUSB1"``) it is handed to
:func:`spikefab.runtime.open_device`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from spikefab.arch.image import Image, load_image
from spikefab.arch.result import Result
from spikefab.errors import InputError

__all__ = ["run", "compare"]


def run(image_or_path: Image | str | Path, inputs: Mapping[str, Any] | None, steps: int,
        mode: str = "functional", probes: Sequence[str] = (), device: str | None = None,
        weight_every: int = 0) -> Result:
    """Run an image for ``steps`` time steps and return its :class:`~spikefab.arch.Result`.

    Parameters
    ----------
    image_or_path:
        An :class:`~spikefab.arch.Image` or the path of an ``.sfi`` file.
    inputs:
        Input name -> ``(steps, n)`` spikes (0/1); missing inputs are silent.
    mode:
        ``"functional"`` or ``"cycle"`` (emulator only).
    probes:
        ``"population.variable"`` names (u, v, theta, ref, s) recorded at the end of each step.
    device:
        Optional device URI; the run then goes through :mod:`spikefab.runtime`.
    weight_every:
        Plastic images (on-chip learning): record learned weights every N steps (emulator).

    Under ``mpirun`` (docs/scale-out.md) the emulator runs over the job's ranks: each rank
    reads only its cores of the image, rank 0 returns the Result and the other ranks ``None``.
    """
    if device is not None:
        from spikefab.emulator.distributed.comm import launched_ranks
        if launched_ranks()[1] > 1:
            raise InputError(f"a run on device {device!r} is one host process, not an MPI job "
                             f"of {launched_ranks()[1]} ranks: call it without mpirun (only the "
                             f"emulator runs over ranks)", where="mpi")
    if device is None:
        from spikefab.emulator.distributed import launched_by_mpi
        if launched_by_mpi():     # one rank of an MPI job: Result on rank 0, None elsewhere
            from spikefab.emulator.distributed import simulate_mpi
            return simulate_mpi(image_or_path, inputs, steps, mode=mode, probes=probes)
    image = image_or_path if isinstance(image_or_path, Image) else load_image(image_or_path)
    if not image.outputs and not probes:
        raise InputError("a run must have something to read back: the image has no output "
                         f"(populations: {sorted(image.populations) or 'none'}) and no probes "
                         "were given; add net.output(name, population) before compiling, or "
                         "probes=['population.v']", where="outputs")
    if device is None:
        from spikefab.emulator import simulate
        return simulate(image, inputs, steps, mode=mode, probes=probes,
                        weight_every=weight_every)
    from spikefab.runtime import open_device
    if mode != "functional":
        raise InputError(f"mode must be 'functional' (the default) when a device is given, not "
                         f"{mode!r}: choose the engine in the URI (emu://?mode=cycle)")
    if probes:
        raise InputError(f"probes must be empty when a device is given (a device reports "
                         f"spikes and counters only), not {list(probes)!r}")
    with open_device(device) as dev:
        dev.load(image)
        return dev.run(inputs, steps)


def compare(script: str | Path, target: str = "loihi1", mode: str = "cycle",
            args: Sequence[str] = (), device: str | None = None):
    """Run a ``spikefab.pynn`` script in float and on ``target``; a PyCARL-style report.

    Returns a :class:`spikefab.pynn.compare.Comparison` (per population: rates, CV of ISIs and
    spike-time differences; the hardware run's latency and energy per step).  Needs the
    ``pynn`` extra.
    """
    from spikefab.pynn.compare import compare as _compare
    return _compare(script, target=target, mode=mode, args=args, device=device)
