"""Argument checks shared by the subcommands, run before any work starts.

A run or a compile can take minutes; an output path that cannot be written, or a step count no
machine could hold, must be refused up front with an :class:`~spikefab.errors.InputError`
rather than after the work (or as a traceback from NumPy).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from spikefab.errors import InputError

__all__ = ["MAX_STEPS", "steps_arg", "seconds_arg", "check_output_file", "check_output_dir"]

from spikefab.arch.result import MAX_STEPS


def steps_arg(text: str) -> int:
    """``--steps``: a whole number (``1e6`` allowed); the run checks ``[0, MAX_STEPS]``.

    Anything that is not a whole number is argparse's usage error (exit 2); a number out of
    range is the backends' :class:`InputError` (one line, exit 2), before anything is allocated.
    """
    try:
        value = int(text)
    except ValueError:
        try:
            f = float(text)
        except ValueError:
            f = float("nan")
        if not (f == f and abs(f) != float("inf") and f == int(f)):
            raise argparse.ArgumentTypeError(f"must be a whole number of steps, not {text!r}") \
                from None
        value = int(f)
    return value


def seconds_arg(text: str) -> float:
    """A timeout in seconds: a positive finite number (``nan`` or ``inf`` would wait for ever
    on a lost rank or board, so they are argparse's usage error, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number of seconds, not "
                                         f"{text!r}")
    return value


def _parent_writable(path: Path, flag: str) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{flag} {str(path)!r}: folder {str(parent)!r} does not exist",
                         where=str(path))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {str(path)!r}: folder {str(parent)!r} is not writable",
                         where=str(path))


def check_output_file(path: str | None, suffix: str, flag: str = "-o") -> None:
    """An output file must end in ``suffix``, not be a folder, and have a writable folder."""
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{flag} {path!r} is a folder; give a file name ending in {suffix}",
                         where=path)
    if p.suffix.lower() != suffix:
        raise InputError(f"{flag} {path!r} must end in {suffix}", where=path)
    if p.exists() and not os.access(p, os.W_OK):
        raise InputError(f"{flag} {path!r} exists and is not writable", where=path)
    _parent_writable(p, flag)


def check_output_dir(path: str, flag: str = "-o") -> None:
    """An output folder may exist (as a folder) or be created in a writable folder."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"{flag} {path!r} exists and is not a folder", where=path)
    if p.is_dir():
        if not os.access(p, os.W_OK | os.X_OK):
            raise InputError(f"{flag} {path!r} is not writable", where=path)
        return
    _parent_writable(p, flag)
