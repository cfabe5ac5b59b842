"""Building blocks of the host interface: COBS frame receiver and transmitter.

The command engine that ties them to the fabric is :class:`spikeforge.rtl.host_interface.HostInterface`.
"""

from spikeforge.rtl.host.receiver import FrameReceiver
from spikeforge.rtl.host.transmitter import FrameTransmitter

__all__ = ["FrameReceiver", "FrameTransmitter"]
