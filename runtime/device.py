"""One Device API for every backend: emulator, RTL simulation, a board behind a serial link.

``open_device(uri)`` picks the backend from the URI scheme:

=================================================  ==========================================
``emu://[?mode=functional|cycle]``                 :mod:`spikefab.emulator` (in process)
``rtlsim://[?simulator=icarus|verilator]``         :mod:`spikefab.rtl.sim` (Icarus / Verilator
                                                   under cocotb)
``serial:///dev/ttyUSB1[?baud=B&timeout=S]``       a board (or ``spikefab board --pty``) over
                                                   the host protocol (``docs/host-protocol.md``)
any other pyserial URL (``socket://h:p``,          the same protocol over that pyserial
``loop://``, ``faulty:///dev/pts/3?flip=0.01``)    transport
=================================================  ==========================================

Every device returns the same :class:`~spikefab.arch.result.Result` for the same image and
inputs (DESIGN.md invariant 1), so a user changes one string to move from emulation to a board.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Mapping
from urllib.parse import parse_qs, urlsplit

import numpy as np

from spikefab.arch.image import Image
from spikefab.arch.result import Result
from spikefab.errors import InputError, LinkError

__all__ = ["Device", "InProcessDevice", "open_device", "parse_uri"]


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
        return result

    def read_counters(self) -> dict[str, int]:
        return dict(self._counters)

    def reset(self) -> None:
        self.image = None
        self._counters = {}


def parse_uri(uri: str) -> tuple[str, str, dict[str, str]]:
    """``(scheme, path, options)`` of a device URI; every option appears at most once."""
    if not isinstance(uri, str) or "://" not in uri:
        raise LinkError(f"device URI must look like 'emu://', 'rtlsim://', "
                        f"'serial:///dev/ttyUSB1' or a pyserial URL, not {uri!r}")
    parts = urlsplit(uri)
    opts: dict[str, str] = {}
    for key, values in parse_qs(parts.query, keep_blank_values=True).items():
        if len(values) != 1:
            raise LinkError(f"device URI option {key!r} must be given once, not {len(values)} "
                            f"times in {uri!r}")
        opts[key] = values[0]
    return parts.scheme.lower(), parts.netloc + parts.path, opts


def open_device(uri: str, **options: Any) -> Device:
    """Open the device a URI names (table in the module docstring).

    Keyword options override URI options (``baud``, ``timeout``, ``progress`` for serial links;
    ``mode`` for ``emu://``; ``simulator`` for ``rtlsim://``).
    """
    scheme, path, opts = parse_uri(uri)
    if scheme == "emu":
        from spikefab.runtime.emu import EmuDevice
        return EmuDevice.from_uri(uri, path, {**opts, **options})
    if scheme == "rtlsim":
        from spikefab.extras import require
        require("device 'rtlsim://'", ("amaranth", "cocotb"))   # the rtl extra
        from spikefab.runtime.rtlsim import RtlSimDevice
        return RtlSimDevice.from_uri(uri, path, {**opts, **options})
    from spikefab.runtime.serial_device import SerialDevice
    return SerialDevice.from_uri(uri, scheme, path, opts, options)
