"""Typed errors for everything a user can get wrong (re-exported by ``spikefab.errors``).

Every error a user can trigger is one of these, never a bare ``assert`` or a traceback from deep
inside NumPy.  Messages follow one pattern: *what* must be *what*, *where* it happened, the number
that was needed and the number that is available, e.g. ``population 'lif2': one neuron has fan-in
9412 synapse entries, target darwin3 allows 8192 per core``.  The command line prints
``error: <message>`` and exits with status 2 for any ``SpikefabError``.
"""

from __future__ import annotations

__all__ = [
    "SpikefabError",
    "ModelError",
    "ResourceError",
    "ImageError",
    "TargetError",
    "LinkError",
    "InputError",
    "ToolError",
    "MissingExtraError",
]


class SpikefabError(Exception):
    """Base class of every error spikefab raises on purpose.

    Parameters
    ----------
    message:
        Full sentence for the user: what, where, needed, available.
    where:
        Optional location (file, node, core, section) kept separately for programs that want it.
    """

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.where = where


class ModelError(SpikefabError):
    """The network itself is wrong or unsupported (bad file, shape mismatch, NaN weight...)."""


class ResourceError(SpikefabError):
    """The network does not fit the target (per-core limits, whole-chip capacity, routing)."""


class ImageError(SpikefabError):
    """A hardware image file is truncated, corrupted, of another version or another target."""


class TargetError(SpikefabError):
    """A target profile is unknown, malformed or holds an impossible value."""


class LinkError(SpikefabError):
    """The host link to a board failed: no port, timeout, cut cable, too many retries."""


class InputError(SpikefabError):
    """Run-time inputs do not match the image (names, shapes, probes, step counts)."""


class ToolError(SpikefabError):
    """An external tool (simulator, synthesis, programmer) is missing or failed."""


class MissingExtraError(ToolError):
    """A feature needs an optional extra (``pip install "spikefab[rtl]"``) that is not installed.

    ``extra`` names the extra, ``module`` the first of its modules that could not be imported;
    the message ends with the pip command that installs it (see :mod:`spikefab.extras`).
    """

    def __init__(self, message: str, *, extra: str, module: str, where: str | None = None) -> None:
        super().__init__(message, where=where)
        self.extra = extra
        self.module = module
