"""spikefab.runtime: one Device API for the emulator, the RTL simulation and boards.

::

    with spikefab.open_device("serial:///dev/ttyUSB1?baud=1000000") as dev:
        dev.load(image)
        result = dev.run({"x": spikes}, steps=100)

See :func:`open_device` for the URIs, ``docs/host-protocol.md`` for the serial protocol.
"""

from spikefab.runtime.device import Device
from spikefab.runtime.uri import open_device, parse_uri
from spikefab.runtime.link import Link, LinkStats

__all__ = ["Device", "open_device", "parse_uri", "Link", "LinkStats", "SerialDevice",
           "UploadStats"]


def __getattr__(name: str):
    # pyserial-backed classes load on first use, so `import spikefab.runtime` stays light.
    if name in ("SerialDevice", "UploadStats"):
        from spikefab.runtime import serial_device
        return getattr(serial_device, name)
    raise AttributeError(f"module 'spikefab.runtime' has no attribute {name!r}")
