"""The spikefab system on chip: UART + host-protocol engine + fabric.

:class:`SoC` is what goes on an FPGA (through :mod:`spikefab.rtl.boards`) and behind the virtual
board (:mod:`spikefab.rtl.virtual_board`): two pins, ``rx`` and ``tx``, speaking the host
protocol (``docs/host-protocol.md``) at ``clock / divisor`` baud, and the fabric
(:class:`~spikefab.rtl.mesh.Mesh`) of one target behind it.
"""

from amaranth.hdl import Module, ResetInserter
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from spikefab.arch.target import Target
from spikefab.rtl.host_interface import HostInterface
from spikefab.rtl.params import MeshParams, mesh_params
from spikefab.rtl.uart import UART

__all__ = ["SoC", "CONTROL_IN", "CONTROL_OUT"]

#: Section-11 signals the HostInterface drives into the fabric.
CONTROL_IN = ("mem_core", "mem_table", "mem_index", "mem_wdata", "mem_we", "mem_re",
              "run_steps", "start", "clear")
#: Section-11 signals the fabric drives back.
CONTROL_OUT = ("mem_rdata", "mem_rvalid", "busy")


class SoC(wiring.Component):
    """UART + :class:`~spikefab.rtl.host_interface.HostInterface` + :class:`~spikefab.rtl.mesh.Mesh`.

    Parameters
    ----------
    target:
        Target (or its :class:`~spikefab.rtl.params.MeshParams`) whose fabric to build.
    divisor:
        Clock cycles per UART bit (``clock_hz / baud``).
    fabric:
        The fabric component to drive, for tests and alternative fabrics; by default a
        :class:`~spikefab.rtl.mesh.Mesh` of ``target``.  It must have the section-11 ports;
        optional ``overflow`` / ``step_done`` outputs feed INFO, an optional ``mem_ready``
        output paces memory writes.

    Attributes
    ----------
    rx : In(1)
        UART receive pin (from the host).
    tx : Out(1)
        UART transmit pin (to the host).
    busy : Out(1)
        The fabric is running steps.
    link_error : Out(1)
        The last frame received did not decode.
    """

    rx: In(1, init=1)
    tx: Out(1, init=1)
    busy: Out(1)
    link_error: Out(1)

    def __init__(self, target: Target | str | MeshParams, *, divisor: int,
                 fabric: wiring.Component | None = None) -> None:
        self.params = target if isinstance(target, MeshParams) else mesh_params(target)
        self.divisor = divisor
        self.fabric = fabric
        super().__init__()

    def elaborate(self, platform) -> Module:
        from spikefab.rtl.mesh import Mesh

        m = Module()
        m.submodules.uart = uart = UART(self.divisor)
        m.submodules.host = host = HostInterface(self.params)
        fabric = self.fabric if self.fabric is not None else Mesh(self.params)
        # RESET aborts a run: registers of the fabric go back to their reset values (memories
        # keep their contents, which the host reloads).
        m.submodules.fabric = ResetInserter(host.fabric_reset)(fabric)

        m.d.comb += [uart.rx.eq(self.rx), self.tx.eq(uart.tx),
                     self.busy.eq(fabric.busy), self.link_error.eq(host.link_error)]
        wiring.connect(m, uart.rx_data, host.rx_data)
        wiring.connect(m, host.tx_data, uart.tx_data)
        for name in CONTROL_IN:
            m.d.comb += getattr(fabric, name).eq(getattr(host, name))
        for name in CONTROL_OUT:
            m.d.comb += getattr(host, name).eq(getattr(fabric, name))
        members = fabric.signature.members
        for name in ("overflow", "step_done", "mem_ready"):
            if name in members:
                m.d.comb += getattr(host, name).eq(getattr(fabric, name))
        return m
