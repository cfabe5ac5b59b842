"""One Device API for every backend: emulator, RTL simulation, a board behind a serial link.

:class:`Device` is what every backend implements; :func:`spikefab.runtime.uri.open_device` picks
the backend from a URI.  Every device returns the same :class:`~spikefab.arch.result.Result` for
the same image and inputs (DESIGN.md invariant 1), so a user changes one string to move from
emulation to a board.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Mapping

import numpy as np

from spikefab.arch.image import Image
from spikefab.arch.result import Result
from spikefab.errors import InputError

__all__ = ["Device", "InProcessDevice", "weight_every_option"]


class Device(ABC):
    """A place that runs images.  Use as a context manager so the link is always closed."""

    uri: str = ""

    def __init__(self) -> None:
        self.image: Image | None = None

    @abstractmethod
    def load(self, image: Image) -> None:
        """Put ``image`` on the device (replacing any earlier one)."""

    @abstractmethod
    def run(self, inputs: Mapping[str, Any] | None, steps: int) -> Result:
        """Run the loaded image from its initial state for ``steps`` steps."""

    @abstractmethod
    def read_counters(self) -> dict[str, int]:
        """Event counters of the last run (``steps``, ``spikes``, ``synops``, ...)."""

    @abstractmethod
    def reset(self) -> None:
        """Bring the device back to its power-on state; the image must be loaded again."""

    def close(self) -> None:
        """Release the device (idempotent)."""

    def read_weights(self) -> dict[str, np.ndarray]:
        """Learned weights after the last run: plastic projection -> ``(n_post, n_pre)`` matrix.

        Empty for images without plastic projections (the only images targets without a
        learning engine accept).
        """
        return {k: v.copy() for k, v in getattr(self, "_weights", {}).items()}

    def _loaded(self) -> Image:
        if self.image is None:
            raise InputError(f"device {self.uri!r} must have an image loaded before run "
                             f"(call load(image) first)")
        return self.image

    def __enter__(self) -> "Device":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.uri}>"


class InProcessDevice(Device):
    """A device that runs in this process (emulator, RTL simulation): it keeps the last counters."""

    def __init__(self) -> None:
        super().__init__()
        self._counters: dict[str, int] = {}

    def _remember(self, result: Result) -> Result:
        """Keep the integer counters of ``result`` for :meth:`read_counters`; return it."""
        self._counters = {k: int(v) for k, v in result.counters.items()
                          if isinstance(v, (int, np.integer))}
        self._weights = dict(result.weights)
        return result

    def read_counters(self) -> dict[str, int]:
        return dict(self._counters)

    def reset(self) -> None:
        self.image = None
        self._counters = {}
        self._weights = {}


def weight_every_option(value: Any, scheme: str) -> int:
    """A device's ``weight_every`` option as a snapshot period (0: none); ``InputError`` unless
    a non-negative integer."""
    try:
        every = int(value)
    except (TypeError, ValueError):
        every = -1
    if every < 0:
        raise InputError(f"{scheme}:// weight_every must be a non-negative integer, not {value!r}")
    return every
