"""Building blocks of the host interface: COBS frame receiver and transmitter.

The command engine that ties them to the fabric is :class:`spikefab.rtl.host_interface.HostInterface`.
"""

from spikefab.rtl.host.receiver import FrameReceiver
from spikefab.rtl.host.transmitter import FrameTransmitter

__all__ = ["FrameReceiver", "FrameTransmitter"]
