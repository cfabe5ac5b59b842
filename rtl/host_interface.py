"""The device side of the host protocol: UART bytes in, fabric control port out.

:class:`HostInterface` implements ``docs/host-protocol.md`` exactly, as one small FSM around a
512-byte frame buffer (one block RAM):

1. **Receive** (:class:`~spikefab.rtl.host.receiver.FrameReceiver`): COBS-decode the request
   into the buffer, latch its header and fixed arguments, check CRC and length.
2. **Check**: decide the status (NAK, BAD_OP, BAD_LEN, BAD_ARG, BUSY or OK) from the latched
   fields alone, against the table sizes and depths of the fabric (:class:`~spikefab.rtl.params.MeshParams`),
   and perform the one-cycle effects (RUN's ``start``, CLEAR, RESET, SET_CRC).
3. **Respond**: write the response header into the buffer, then the payload -- INFO's 16 bytes,
   READ_MEM entries fetched from the memory port -- or, for WRITE_MEM / INJECT, move the request's
   entries from the buffer to the memory port; then the CRC.  Every byte written to the buffer also
   feeds the CRC unit, so the CRC is ready when the payload is.
4. **Transmit** (:class:`~spikefab.rtl.host.transmitter.FrameTransmitter`): COBS-encode the buffer
   to the UART.

The fabric port is the one of ``docs/microarchitecture.md`` section 11 (``mem_*``, ``run_steps``,
``start``, ``clear``, ``busy``) plus ``fabric_reset`` for RESET and two optional status inputs
(``overflow``, ``step_done``).

The link is full duplex: bytes that arrive while a frame is executed or answered wait in an RX
FIFO of :data:`RX_FIFO_DEPTH` bytes in front of the decoder, which empties it at one byte per clock
once the engine is idle again.  So a host may send its next frames without waiting for answers
(a window, ``docs/host-protocol.md`` section 3); only when the FIFO is full does the UART drop a
byte, which the frame's CRC then catches.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import crc, stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from spikefab.arch.image import ROUTE_DTYPE
from spikefab.arch.memory_map import COUNTERS, FABRIC_CORE, FabricTable, entry_size
from spikefab.arch.protocol import (HEADER_SIZE, MEM_ARGS, NAK_TYPE, PROTOCOL_VERSION,
                                      RESPONSE_BIT, InfoFlag, Op, Status)
from spikefab.rtl.host.receiver import BUF_ADDR_BITS, FrameReceiver
from spikefab.rtl.host.transmitter import FrameTransmitter
from spikefab.rtl.params import MeshParams

__all__ = ["HostInterface", "table_depths", "RX_FIFO_DEPTH"]

ENTRY_BITS = 128
#: Bytes the receiver holds while the engine executes and answers a frame.  The host's window
#: (``docs/host-protocol.md`` section 3) keeps the line busy with WRITE_MEMs; one of 124 two-byte
#: entries keeps the engine busy ~35 cycles per entry plus the fabric's write time plus the
#: 8-byte answer: ~130 byte times at the smallest divisor (4).  A full READ_MEM answer is ~265
#: bytes.  512 bytes is one iCE40 block RAM -- the smallest RAM there is -- and covers both.
RX_FIFO_DEPTH = 512
_INJECT_HDR = 3


def table_depths(params: MeshParams) -> tuple[list[int], list[int]]:
    """Entries of every core table (ids 0..8, then 9..16 where the cores have a learning
    engine) and fabric table (ids 0..5) of a fabric."""
    core = [spec.depth for spec in params.core_tables().values()]
    lc = params.learning
    if lc is not None:     # LEARN_SYNAPSES .. LEARN_CONFIG (spikefab.arch.learning.words)
        core += [lc.synapses, lc.profiles * lc.axons, lc.profiles * lc.neurons, lc.profiles * 5,
                 lc.products, lc.profiles * 6, 1,
                 params.synapses]   # LEARN_REWARD: a mark per synapse entry
    fabric = [params.host_queue_depth, 1, params.out_log_depth, 1, params.cycle_log_depth,
              len(COUNTERS)]
    return core, fabric


class HostInterface(wiring.Component):
    """Host-protocol engine between a UART byte stream and the fabric's control port.

    Parameters
    ----------
    params:
        The fabric's :class:`~spikefab.rtl.params.MeshParams` (core count, table depths, log
        depths reported by INFO and used for range checks).

    Attributes
    ----------
    rx_data : In(stream.Signature(8))
        Bytes received by the UART.
    tx_data : Out(stream.Signature(8))
        Bytes for the UART to send.
    mem_core, mem_table, mem_index, mem_wdata, mem_we, mem_re : Out
        Fabric memory port (microarchitecture section 11).
    mem_rdata, mem_rvalid : In
        Read data, valid one or more cycles after ``mem_re``.
    mem_ready : In(1)
        The fabric has applied the last write (serial cores take several cycles per entry);
        the port holds ``mem_*`` until it is high.  Fabrics without it leave it at 1.
    run_steps, start, clear : Out
        Step control.
    busy : In(1)
        The fabric is running steps.
    fabric_reset : Out(1)
        One-cycle pulse on RESET: reset the fabric (it aborts a run).
    overflow : In(1)
        ``out_log`` saturated (INFO flag bit 1).
    step_done : In(1)
        Optional pulse at the end of every step, for INFO's "steps still to run".
    link_error : Out(1)
        High after a frame that did not decode, until the next good one (for an LED).
    """

    def __init__(self, params: MeshParams) -> None:
        self.params = params
        self.core_depths, self.fabric_depths = table_depths(params)
        self.core_esizes = [entry_size(0, t) for t in range(len(self.core_depths))]
        self.fabric_esizes = [entry_size(FABRIC_CORE, t) for t in range(len(self.fabric_depths))]
        if max(self.core_esizes + self.fabric_esizes) * 8 > ENTRY_BITS:
            raise ValueError("table entries must fit the 128-bit memory port")
        super().__init__({
            "rx_data": In(stream.Signature(8)), "tx_data": Out(stream.Signature(8)),
            "mem_core": Out(8), "mem_table": Out(params.table_bits), "mem_index": Out(16),
            "mem_wdata": Out(ENTRY_BITS), "mem_we": Out(1), "mem_re": Out(1),
            "mem_rdata": In(ENTRY_BITS), "mem_rvalid": In(1), "mem_ready": In(1, init=1),
            "run_steps": Out(16), "start": Out(1), "clear": Out(1), "busy": In(1),
            "fabric_reset": Out(1), "overflow": In(1), "step_done": In(1),
            "link_error": Out(1)})

    # ------------------------------------------------------------------ checks
    def _mem_checks(self, m: Module, core, table, index, count, esize) -> Signal:
        """``core``/``table``/``esize``/index range valid for a memory access (comb)."""
        exp_esize = Signal(5)
        depth = Signal(17)
        valid_table = Signal()
        with m.If(core == FABRIC_CORE):
            with m.Switch(table):
                for t, (es, dp) in enumerate(zip(self.fabric_esizes, self.fabric_depths)):
                    with m.Case(t):
                        m.d.comb += [exp_esize.eq(es), depth.eq(dp), valid_table.eq(1)]
        with m.Else():
            with m.Switch(table):
                for t, (es, dp) in enumerate(zip(self.core_esizes, self.core_depths)):
                    with m.Case(t):
                        m.d.comb += [exp_esize.eq(es), depth.eq(dp), valid_table.eq(1)]
        ok = Signal()
        m.d.comb += ok.eq(valid_table & ((core < self.params.n_cores) | (core == FABRIC_CORE))
                          & (esize == exp_esize) & (index + count <= depth))
        return ok

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.rcv = rcv = FrameReceiver()
        m.submodules.xmt = xmt = FrameTransmitter()
        m.submodules.crc = crc16 = crc.catalog.CRC16_CCITT_FALSE(data_width=8).create()
        # full duplex: the UART's bytes queue here while the engine is busy (module docstring)
        m.submodules.rx_fifo = rx_fifo = SyncFIFOBuffered(width=8, depth=RX_FIFO_DEPTH)
        wiring.connect(m, wiring.flipped(self.rx_data), rx_fifo.w_stream)
        wiring.connect(m, rx_fifo.r_stream, rcv.i)
        wiring.connect(m, xmt.o, wiring.flipped(self.tx_data))

        e = _Engine(rcv, xmt, crc16, self.params.table_bits)
        self._request_fields(m, e)
        self._outputs(m, e)
        self._frame_buffer(m, e)
        with m.FSM():
            self._receive_and_check(m, e)
            self._header(m, e)
            self._read_payload(m, e)
            self._write_entries(m, e)
            self._crc_and_send(m, e)
        return m

    # ------------------------------------------------------------------ datapath
    def _request_fields(self, m: Module, e: "_Engine") -> None:
        """Name the latched request arguments; the memory and INJECT range checks (comb)."""
        args = [e.rcv.args[8 * k:8 * k + 8] for k in range(MEM_ARGS.size)]
        e.mem_core_arg, e.mem_table_arg = args[0], args[1]
        e.mem_index_arg, e.mem_count_arg, e.mem_esize_arg = Cat(args[2], args[3]), args[4], args[5]
        e.inj_index, e.inj_count = Cat(args[0], args[1]), args[2]
        e.steps_arg = Cat(args[0], args[1])
        e.crc_arg = Cat(args[0], args[1], args[2], args[3])
        # count * esize for the length checks; an esize >= 32 is refused anyway (BAD_ARG), so an
        # 8 x 5-bit product is enough and much smaller than 8 x 8 in LUTs.
        e.mem_bytes = Signal(13)
        m.d.comb += e.mem_bytes.eq(Mux(e.mem_esize_arg[5:] == 0,
                                       e.mem_count_arg * e.mem_esize_arg[:5], 0x1FFF))
        e.mem_ok = self._mem_checks(m, e.mem_core_arg, e.mem_table_arg, e.mem_index_arg,
                                    e.mem_count_arg, e.mem_esize_arg)
        e.inj_ok = Signal()
        m.d.comb += e.inj_ok.eq(e.inj_index + e.inj_count
                                <= self.fabric_depths[FabricTable.HOST_QUEUE])

    def _outputs(self, m: Module, e: "_Engine") -> None:
        """The fabric port from the engine registers; INFO's payload; step bookkeeping."""
        p = self.params
        flags = Signal(8)
        m.d.comb += [
            flags.eq(Mux(self.busy, InfoFlag.BUSY, 0) | Mux(self.overflow, InfoFlag.OVERFLOW, 0)
                     | (InfoFlag.LEARNING if p.learning is not None else 0)),
            self.mem_core.eq(e.cur_core),
            self.mem_table.eq(Mux(e.qlen, FabricTable.HOST_QUEUE_LEN, e.cur_table)),
            self.mem_index.eq(Mux(e.qlen, 0, e.base + e.k)),
            self.mem_wdata.eq(e.entry),
        ]
        e.info = Cat(Const(PROTOCOL_VERSION, 8), flags, Const(p.n_cores, 8), Const(0, 8),
                     e.image_crc, Const(p.host_queue_depth, 16), Const(p.out_log_depth, 16),
                     Const(p.cycle_log_depth, 16), e.steps_left)
        with m.If(self.step_done & (e.steps_left != 0)):
            m.d.sync += e.steps_left.eq(e.steps_left - 1)
        with m.If(~self.busy & ~self.start):
            m.d.sync += e.steps_left.eq(0)
        m.d.sync += [self.start.eq(0), self.clear.eq(0), self.fabric_reset.eq(0)]

    def _frame_buffer(self, m: Module, e: "_Engine") -> None:
        """The 512-byte frame buffer: the receiver owns the write port while idle, the engine
        otherwise (``put``); the engine reads request entries (``reading``), the transmitter
        reads the response.  Every byte the engine puts also feeds the CRC unit."""
        m.submodules.buf = buf = Memory(shape=8, depth=1 << BUF_ADDR_BITS, init=[])
        bw = buf.write_port()
        e.br = br = buf.read_port(domain="sync")
        m.d.comb += [
            br.addr.eq(Mux(e.reading, e.rp, e.xmt.buf_addr)),
            e.xmt.buf_data.eq(br.data),
            e.crc16.data.eq(e.put_data),
            e.crc16.valid.eq(e.put),
        ]
        with m.If(e.put):
            m.d.comb += [bw.en.eq(1), bw.addr.eq(e.wp), bw.data.eq(e.put_data)]
            m.d.sync += e.wp.eq(e.wp + 1)
        with m.Else():
            m.d.comb += [bw.en.eq(e.rcv.buf_we), bw.addr.eq(e.rcv.buf_addr),
                         bw.data.eq(e.rcv.buf_data)]

    # ------------------------------------------------------------------ FSM states
    def _receive_and_check(self, m: Module, e: "_Engine") -> None:
        """IDLE: take the next frame; CHECK: its status and one-cycle effects."""
        rcv = e.rcv
        with m.State("IDLE"):
            m.d.comb += rcv.enable.eq(1)
            with m.If(rcv.done):
                m.d.sync += [e.wp.eq(0), e.j.eq(0), e.k.eq(0), e.qlen.eq(0),
                             self.link_error.eq(~rcv.ok)]
                with m.If(rcv.ok):
                    m.next = "CHECK"
                with m.Else():
                    m.d.sync += [e.resp_type.eq(NAK_TYPE), e.resp_seq.eq(0),
                                 e.status.eq(Status.BAD_CRC), e.resp_len.eq(0)]
                    m.next = "HEADER"

        with m.State("CHECK"):
            op = rcv.op
            st = self._status(m, e)
            # A repeated RUN (the request just executed, re-sent after a lost answer) is
            # acknowledged even while its steps run; anything else but INFO / RESET waits.
            repeat = Signal()
            m.d.comb += repeat.eq(e.last_valid & (e.last_seq == rcv.seq) & (e.last_op == Op.RUN))
            final = Signal(8)
            m.d.comb += final.eq(Mux(self.busy & (st != Status.BAD_OP) & (op != Op.INFO)
                                     & (op != Op.RESET) & ~((op == Op.RUN) & repeat),
                                     Status.BUSY, st))
            m.d.sync += [e.status.eq(final), e.resp_type.eq(op | RESPONSE_BIT),
                         e.resp_seq.eq(rcv.seq), e.resp_len.eq(0)]
            with m.If(final == Status.OK):
                m.d.sync += [e.last_seq.eq(rcv.seq), e.last_op.eq(op), e.last_valid.eq(1)]
                self._execute(m, e, repeat)
            m.next = "HEADER"

    def _status(self, m: Module, e: "_Engine") -> Signal:
        """The status of the latched request from its header and arguments alone (comb)."""
        st = Signal(8)
        length = e.rcv.length
        with m.Switch(e.rcv.op):
            with m.Case(Op.INFO, Op.CLEAR, Op.RESET):
                m.d.comb += st.eq(Mux(length != 0, Status.BAD_LEN, Status.OK))
            with m.Case(Op.WRITE_MEM):
                with m.If((length < MEM_ARGS.size) | (length != MEM_ARGS.size + e.mem_bytes)):
                    m.d.comb += st.eq(Status.BAD_LEN)
                with m.Elif(~e.mem_ok):
                    m.d.comb += st.eq(Status.BAD_ARG)
            with m.Case(Op.READ_MEM):
                with m.If(length != MEM_ARGS.size):
                    m.d.comb += st.eq(Status.BAD_LEN)
                with m.Elif(~e.mem_ok | (e.mem_bytes > 255)):
                    m.d.comb += st.eq(Status.BAD_ARG)
            with m.Case(Op.INJECT):
                with m.If((length < _INJECT_HDR)
                          | (length != _INJECT_HDR + e.inj_count * ROUTE_DTYPE.itemsize)):
                    m.d.comb += st.eq(Status.BAD_LEN)
                with m.Elif(~e.inj_ok):
                    m.d.comb += st.eq(Status.BAD_ARG)
            with m.Case(Op.RUN):
                with m.If(length != 2):
                    m.d.comb += st.eq(Status.BAD_LEN)
                with m.Elif(e.steps_arg == 0):
                    m.d.comb += st.eq(Status.BAD_ARG)
            with m.Case(Op.SET_CRC):
                m.d.comb += st.eq(Mux(length != 4, Status.BAD_LEN, Status.OK))
            with m.Default():
                m.d.comb += st.eq(Status.BAD_OP)
        return st

    def _execute(self, m: Module, e: "_Engine", repeat: Signal) -> None:
        """Load the engine registers for an accepted command; RUN/CLEAR/RESET/SET_CRC act now."""
        with m.Switch(e.rcv.op):
            with m.Case(Op.INFO):
                m.d.sync += [e.resp_len.eq(16), e.entry.eq(e.info), e.esize.eq(16), e.count.eq(1)]
            with m.Case(Op.WRITE_MEM):
                m.d.sync += [e.cur_core.eq(e.mem_core_arg), e.cur_table.eq(e.mem_table_arg),
                             e.base.eq(e.mem_index_arg), e.count.eq(e.mem_count_arg),
                             e.esize.eq(e.mem_esize_arg), e.is_inject.eq(0),
                             e.rp.eq(HEADER_SIZE + MEM_ARGS.size)]
            with m.Case(Op.READ_MEM):
                m.d.sync += [e.cur_core.eq(e.mem_core_arg), e.cur_table.eq(e.mem_table_arg),
                             e.base.eq(e.mem_index_arg), e.count.eq(e.mem_count_arg),
                             e.esize.eq(e.mem_esize_arg), e.resp_len.eq(e.mem_bytes)]
            with m.Case(Op.INJECT):
                m.d.sync += [e.cur_core.eq(FABRIC_CORE), e.cur_table.eq(FabricTable.HOST_QUEUE),
                             e.base.eq(e.inj_index), e.count.eq(e.inj_count),
                             e.esize.eq(ROUTE_DTYPE.itemsize), e.is_inject.eq(1),
                             e.rp.eq(HEADER_SIZE + _INJECT_HDR)]
            with m.Case(Op.RUN):
                with m.If(~repeat):
                    m.d.sync += [self.run_steps.eq(e.steps_arg), self.start.eq(1),
                                 e.steps_left.eq(e.steps_arg)]
            with m.Case(Op.CLEAR):
                m.d.sync += self.clear.eq(1)
            with m.Case(Op.RESET):
                m.d.sync += [self.fabric_reset.eq(1), self.clear.eq(1), e.image_crc.eq(0),
                             e.last_valid.eq(0)]
            with m.Case(Op.SET_CRC):
                m.d.sync += e.image_crc.eq(e.crc_arg)

    def _header(self, m: Module, e: "_Engine") -> None:
        """HEADER: put ``type, seq, status, len`` into the buffer, then go to the payload."""
        with m.State("HEADER"):
            m.d.comb += [e.put.eq(1), e.crc16.start.eq(e.j == 0)]
            with m.Switch(e.j):
                for n, field in enumerate([e.resp_type, e.resp_seq, e.status, e.resp_len]):
                    with m.Case(n):
                        m.d.comb += e.put_data.eq(field)
            m.d.sync += e.j.eq(e.j + 1)
            with m.If(e.j == 3):
                m.d.sync += e.j.eq(0)
                with m.If((e.status != Status.OK) | (e.resp_type == NAK_TYPE)):
                    m.next = "CRC_LO"
                with m.Elif(e.resp_type == (Op.INFO | RESPONSE_BIT)):
                    m.next = "EMIT"
                with m.Elif(e.resp_type == (Op.READ_MEM | RESPONSE_BIT)):
                    m.next = "READ_REQ"
                with m.Elif((e.resp_type == (Op.WRITE_MEM | RESPONSE_BIT))
                            | (e.resp_type == (Op.INJECT | RESPONSE_BIT))):
                    m.next = "LOAD"
                with m.Else():
                    m.next = "CRC_LO"

    def _read_payload(self, m: Module, e: "_Engine") -> None:
        """EMIT ``esize`` bytes of ``entry`` LSB first; READ_MEM: one memory read per entry."""
        with m.State("EMIT"):
            m.d.comb += [e.put.eq(1), e.put_data.eq(e.entry[:8])]
            m.d.sync += [e.entry.eq(Cat(e.entry[8:], Const(0, 8))), e.j.eq(e.j + 1)]
            with m.If(e.j + 1 == e.esize):
                m.d.sync += [e.j.eq(0), e.k.eq(e.k + 1)]
                m.next = "READ_REQ"
        with m.State("READ_REQ"):
            with m.If(e.k == e.count):
                m.next = "CRC_LO"
            with m.Else():
                m.d.comb += self.mem_re.eq(1)
                m.next = "READ_WAIT"
        with m.State("READ_WAIT"):
            with m.If(self.mem_rvalid):
                m.d.sync += e.entry.eq(self.mem_rdata)
                m.next = "EMIT"

    def _write_entries(self, m: Module, e: "_Engine") -> None:
        """WRITE_MEM / INJECT: 16 buffer bytes per entry (missing ones are 0), one write each;
        INJECT then writes the queue length."""
        with m.State("LOAD"):
            m.d.comb += e.reading.eq(1)
            with m.If(e.k == e.count):
                with m.If(e.is_inject):
                    m.d.sync += [e.qlen.eq(1), e.entry.eq(e.base + e.count)]
                    m.next = "QLEN"
                with m.Else():
                    m.next = "CRC_LO"
            with m.Else():
                m.next = "SHIFT"
        with m.State("SHIFT"):
            m.d.comb += e.reading.eq(1)
            m.d.sync += [e.entry.eq(Cat(e.entry[8:], Mux(e.j < e.esize, e.br.data, 0))),
                         e.j.eq(e.j + 1)]
            with m.If(e.j < e.esize):
                m.d.sync += e.rp.eq(e.rp + 1)
            with m.If(e.j == 15):
                m.next = "STORE"
            with m.Else():
                m.next = "LOAD_BYTE"
        with m.State("LOAD_BYTE"):
            m.d.comb += e.reading.eq(1)
            m.next = "SHIFT"
        with m.State("STORE"):
            m.d.comb += self.mem_we.eq(1)
            m.d.sync += e.j.eq(0)
            m.next = "STORE_WAIT"
        with m.State("STORE_WAIT"):      # mem_* stay put until the fabric took the entry
            with m.If(self.mem_ready):
                m.d.sync += e.k.eq(e.k + 1)
                m.next = "LOAD"
        with m.State("QLEN"):
            m.d.comb += self.mem_we.eq(1)
            m.d.sync += e.qlen.eq(0)
            m.next = "CRC_LO"

    def _crc_and_send(self, m: Module, e: "_Engine") -> None:
        """Append the CRC (little-endian), hand the buffer to the transmitter, wait for it."""
        with m.State("CRC_LO"):
            m.d.comb += [e.put.eq(1), e.put_data.eq(e.crc16.crc[:8]), e.crc16.valid.eq(0)]
            m.next = "CRC_HI"
        with m.State("CRC_HI"):
            m.d.comb += [e.put.eq(1), e.put_data.eq(e.crc16.crc[8:]), e.crc16.valid.eq(0)]
            m.next = "SEND"
        with m.State("SEND"):
            m.d.comb += [e.xmt.start.eq(1), e.xmt.length.eq(e.wp)]
            m.next = "WAIT_TX"
        with m.State("WAIT_TX"):
            with m.If(~e.xmt.busy):
                m.next = "IDLE"


class _Engine:
    """The command engine's registers and shared wires, handed between the elaborate helpers
    of :class:`HostInterface` (plus the request fields they name)."""

    def __init__(self, rcv: FrameReceiver, xmt: FrameTransmitter, crc16, table_bits: int) -> None:
        self.rcv, self.xmt, self.crc16 = rcv, xmt, crc16
        self.status = Signal(8)
        self.resp_type = Signal(8)
        self.resp_seq = Signal(8)
        self.resp_len = Signal(8)
        self.image_crc = Signal(32)
        self.last_seq = Signal(8)
        self.last_op = Signal(8)
        self.last_valid = Signal()
        self.steps_left = Signal(16)
        self.entry = Signal(ENTRY_BITS)
        self.j = Signal(5)                    # byte within an entry / header
        self.k = Signal(8)                    # entry within a command
        self.count = Signal(8)
        self.esize = Signal(5)
        self.base = Signal(16)
        self.rp = Signal(BUF_ADDR_BITS)       # buffer read pointer (request entries)
        self.wp = Signal(BUF_ADDR_BITS)       # buffer write pointer (response)
        self.cur_core = Signal(8)
        self.cur_table = Signal(table_bits)
        self.is_inject = Signal()
        self.qlen = Signal()
        self.put = Signal()                   # the engine writes put_data at wp (and the CRC)
        self.put_data = Signal(8)
        self.reading = Signal()               # the engine owns the buffer read port
