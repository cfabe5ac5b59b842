"""Device URIs: ``open_device(uri)`` picks the backend from the URI scheme.

The factory lives apart from :mod:`spikefab.runtime.device` because it imports every backend,
and every backend imports the :class:`~spikefab.runtime.device.Device` base class.

=================================================  ==========================================
``emu://[?mode=functional|cycle]``                 :mod:`spikefab.emulator` (in process)
``rtlsim://[?simulator=icarus|verilator]``         :mod:`spikefab.rtl.sim` (Icarus / Verilator
                                                   under cocotb)
(each of the three takes ``weight_every=N``)       weight snapshots every N steps
``serial:///dev/ttyUSB1[?baud=B&timeout=S]``       a board (or ``spikefab board --pty``) over
                                                   the host protocol (``docs/host-protocol.md``;
                                                   ``weight_every=N``: weight snapshots)
any other pyserial URL (``socket://h:p``,          the same protocol over that pyserial
``loop://``, ``faulty:///dev/pts/3?flip=0.01``)    transport
=================================================  ==========================================

Every device returns the same :class:`~spikefab.arch.result.Result` for the same image and
inputs (DESIGN.md invariant 1), so a user changes one string to move from emulation to a board.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from spikefab.errors import LinkError
from spikefab.runtime.device import Device

__all__ = ["open_device", "parse_uri"]


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
