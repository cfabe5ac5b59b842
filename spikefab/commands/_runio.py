"""Shared by ``spikefab run`` and ``spikefab estimate``: read an image and an input file."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from spikefab.arch.image import Image, load_image
from spikefab.errors import InputError
from spikefab.commands._args import steps_arg


def load_inputs(path: str | None) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` input file (name -> (steps, n) spikes); none when no file is given."""
    if path is None:
        return {}
    p = Path(path)
    if p.is_dir():
        raise InputError(f"input file {path!r} is a folder; give an .npz file", where=path)
    if not p.is_file():
        raise InputError(f"input file {path!r} does not exist", where=path)
    try:
        data = np.load(p, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise InputError(f"input file {path!r} must be an .npz of named spike arrays (one "
                             f"per input), not a single {type(data).__name__}", where=path)
        with data:
            return {k: np.asarray(data[k]) for k in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"input file {path!r} must be an .npz of spike arrays ({exc})",
                         where=path) from None


def add_common(p) -> None:
    p.add_argument("image", help="compiled image (.sfi)")
    p.add_argument("--input", metavar="NPZ", help="input spikes: one (steps, n) array per input")
    p.add_argument("--steps", type=steps_arg, required=True, help="time steps to run")


def read_image(path: str) -> Image:
    return load_image(path)
