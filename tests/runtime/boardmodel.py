"""TEST DOUBLE: the device side of the host protocol in Python, behind a real pseudo-terminal.

Not shipped.  It lets the runtime's host side be tested through pyserial on a real pty
(``os.openpty``) without the RTL: it keeps every table of docs/microarchitecture.md section 11 in
byte arrays, answers the commands of docs/host-protocol.md (NAK, BUSY, the RUN repeat rule) and
computes steps with :class:`spikefab.arch.reference.ReferenceChip`.  The real device is the RTL
``HostInterface`` on the virtual board (``spikefab board --pty``).  Like it (its RX FIFO), the
model keeps receiving while it answers and answers frames in the order they arrived, so a host
window of frames in flight meets the same device behaviour here as on the RTL.

Cycle-log entries are ``1000 + step`` (there is no cycle model here): distinctive values that
prove the host reads the ring buffer back into the right steps.

On a target whose RTL has a learning engine (ecp5-85k) the model keeps the engine's tables
(core tables 9..15, one 16-byte word per entry, sized as the RTL builds them) so uploads and
read-backs of them cross the link as on the board, and sets INFO's LEARNING flag
(``learning=False`` models a static build: no engine tables, flag clear); it does not learn
(its steps are the reference's static ones), so a test of learned weights needs the virtual
board.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty

import numpy as np

from spikefab.arch.image import (CORE_TABLES, ROUTE_DTYPE, ROUTE_PTR_DTYPE, STATE_DTYPE,
                                   CoreImage, Image)
from spikefab.arch.protocol import (FABRIC_CORE, Clear, FabricTable, FrameError,
                                      FrameSplitter, Info, InfoFlag, InfoReply, Inject,
                                      ReadMem, Request, Reset, Response, Run, SetCrc, Status,
                                      WriteMem, decode_command, entry_size)
from spikefab.arch.reference import ReferenceChip
from spikefab.arch.target import load_target

from spikefab.arch.learning.words import TABLES as LEARN_TABLES

CORE_NAMES = list(CORE_TABLES) + ["config"] + [f"learn_{n}" for n in LEARN_TABLES] \
    + ["learn_reward"]


def learn_depths(target, learning: bool = True) -> dict[str, int]:
    """Entries of each learning-engine table as the target's RTL builds them (0: no engine;
    ``learning=False``: a static build of the target, like the ULX3S bitstream)."""
    from spikefab.errors import TargetError
    from spikefab.rtl.params import mesh_params
    try:
        caps = mesh_params(target).learning if learning else None
    except TargetError:          # a model of a target no RTL core implements (loihi1)
        caps = None
    if caps is None:
        return {f"learn_{n}": 0 for n in [*LEARN_TABLES, "reward"]}
    p = caps.profiles
    return {"learn_synapses": caps.synapses, "learn_x": p * caps.axons,
            "learn_y": p * caps.neurons, "learn_rng": p * 5, "learn_products": caps.products,
            "learn_profiles": p * 6, "learn_config": 1, "learn_reward": caps.entries}


class BoardModel:
    """A Python board on a pty.  ``path`` is the slave side to open with pyserial."""

    def __init__(self, target: str = "ice40-up5k", *, host_queue_depth: int = 64,
                 out_log_depth: int = 96, cycle_log_depth: int = 16,
                 step_seconds: float = 0.0, learning: bool = True) -> None:
        self.target = load_target(target)
        topo = self.target.topology
        self.n_cores = topo.cores
        lim = self.target.core
        self.depth = {"acc_exps": lim.acc_classes, "profiles": lim.profiles,
                      "neurons": lim.neurons, "state": lim.neurons, "axons": lim.input_axons,
                      "synapses": lim.synapses, "route_ptr": lim.neurons,
                      "routes": lim.route_entries, "config": 1}
        self.depth.update(learn_depths(self.target, learning))
        #: INFO's LEARNING flag: the target's RTL has engines and this is not a static build
        self.learning = self.depth["learn_config"] > 0
        self.fabric_depth = {FabricTable.HOST_QUEUE: host_queue_depth,
                             FabricTable.HOST_QUEUE_LEN: 1, FabricTable.OUT_LOG: out_log_depth,
                             FabricTable.OUT_LOG_LEN: 1, FabricTable.CYCLE_LOG: cycle_log_depth,
                             FabricTable.COUNTERS: 6}
        self.step_seconds = step_seconds
        self.requests: list[Request] = []
        self.runs_started = 0
        self._lock = threading.Lock()
        self._reset_all()
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ state
    def _reset_all(self) -> None:
        self.tables: dict[int, dict[str, bytearray]] = {}
        self.fabric = {t: bytearray(d * entry_size(FABRIC_CORE, t))
                       for t, d in self.fabric_depth.items()}
        self.image_crc = 0
        self.last: tuple[int, int] | None = None
        self.chip: ReferenceChip | None = None
        self.steps_pending = 0
        self.overflow = False
        self.t = 0

    def _clear(self) -> None:
        for t in self.fabric:
            self.fabric[t][:] = bytes(len(self.fabric[t]))
        self.chip = None
        self.overflow = False
        self.t = 0

    def _core(self, core: int) -> dict[str, bytearray]:
        if core not in self.tables:
            self.tables[core] = {name: bytearray(self.depth[name] * entry_size(core, k))
                                 for k, name in enumerate(CORE_NAMES)}
        return self.tables[core]

    def _table(self, core: int, table: int) -> bytearray | None:
        if core == FABRIC_CORE:
            return self.fabric.get(table)
        if core >= self.n_cores or not 0 <= table < len(CORE_NAMES):
            return None
        return self._core(core)[CORE_NAMES[table]]

    def _u32(self, table: FabricTable, index: int = 0) -> int:
        return int.from_bytes(self.fabric[table][4 * index:4 * index + 4], "little")

    def _set_u32(self, table: FabricTable, index: int, value: int) -> None:
        self.fabric[table][4 * index:4 * index + 4] = (value & 0xFFFFFFFF).to_bytes(4, "little")

    # ------------------------------------------------------------------ serving
    def _serve(self) -> None:
        splitter = FrameSplitter()
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.master], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(self.master, 4096)
            except (OSError, ValueError):
                return
            for raw in splitter.feed(data):
                try:
                    request = Request.decode(raw)
                except FrameError:
                    self._send(Response.nak())
                    continue
                self._send(self._handle(request))

    def _send(self, response: Response) -> None:
        try:
            os.write(self.master, response.encode())
        except OSError:
            pass

    def _handle(self, req: Request) -> Response:
        with self._lock:
            self.requests.append(req)
            try:
                cmd = decode_command(req)
            except KeyError:
                return Response(req.op, req.seq, Status.BAD_OP)
            except FrameError:
                return Response(req.op, req.seq, Status.BAD_LEN)
            busy = self.steps_pending > 0
            repeat = self.last == (req.seq, req.op)
            if busy and not isinstance(cmd, (Info, Reset)):
                return Response(req.op, req.seq, Status.BUSY)
            status, payload = self._execute(cmd, repeat)
            if status == Status.OK:
                self.last = (req.seq, req.op)
            return Response(req.op, req.seq, status, payload)

    def _execute(self, cmd, repeat: bool) -> tuple[int, bytes]:
        if isinstance(cmd, Info):
            flags = (InfoFlag.BUSY if self.steps_pending else 0) | \
                (InfoFlag.OVERFLOW if self.overflow else 0) | \
                (InfoFlag.LEARNING if self.learning else 0)
            return Status.OK, InfoReply(
                flags=flags, n_cores=self.n_cores, image_crc=self.image_crc,
                host_queue_depth=self.fabric_depth[FabricTable.HOST_QUEUE],
                out_log_depth=self.fabric_depth[FabricTable.OUT_LOG],
                cycle_log_depth=self.fabric_depth[FabricTable.CYCLE_LOG],
                steps_pending=self.steps_pending).encode()
        if isinstance(cmd, (WriteMem, ReadMem)):
            mem = self._table(cmd.core, cmd.table)
            try:
                size = entry_size(cmd.core, cmd.table)
            except ValueError:
                return Status.BAD_ARG, b""
            if mem is None or cmd.esize != size or (cmd.index + cmd.count) * size > len(mem):
                return Status.BAD_ARG, b""
            lo, hi = cmd.index * size, (cmd.index + cmd.count) * size
            if isinstance(cmd, ReadMem):
                if cmd.core != FABRIC_CORE and cmd.table == 3 and self.chip is not None:
                    self._sync_state()
                return Status.OK, bytes(mem[lo:hi])
            mem[lo:hi] = cmd.data
            if cmd.core != FABRIC_CORE:
                self.chip = None          # tables changed: the next RUN rebuilds the model
            return Status.OK, b""
        if isinstance(cmd, Inject):
            q = self.fabric[FabricTable.HOST_QUEUE]
            size = ROUTE_DTYPE.itemsize
            if (cmd.index + cmd.count) * size > len(q):
                return Status.BAD_ARG, b""
            q[cmd.index * size:(cmd.index + cmd.count) * size] = cmd.entries
            self.fabric[FabricTable.HOST_QUEUE_LEN][:2] = (cmd.index + cmd.count).to_bytes(2, "little")
            return Status.OK, b""
        if isinstance(cmd, Run):
            if not repeat and cmd.steps:
                self.runs_started += 1
                self.steps_pending = cmd.steps
                threading.Thread(target=self._run_steps, daemon=True).start()
            return Status.OK, b""
        if isinstance(cmd, Clear):
            self._clear()
            return Status.OK, b""
        if isinstance(cmd, Reset):
            self._reset_all()
            return Status.OK, b""
        if isinstance(cmd, SetCrc):
            self.image_crc = cmd.crc
            return Status.OK, b""
        return Status.BAD_OP, b""

    # ------------------------------------------------------------------ computing
    def _image(self) -> tuple[Image, list[int]]:
        cores, phys = [], []
        topo = self.target.topology
        for p in sorted(self.tables):
            t = self.tables[p]
            n = int.from_bytes(t["config"][:2], "little")
            if not n:
                continue
            slot = p % topo.cores_per_router
            router = p // topo.cores_per_router
            arrays = {name: np.frombuffer(bytes(t[name]), dtype).copy()
                      for name, dtype in CORE_TABLES.items()}
            for name in ("neurons", "state", "route_ptr"):
                arrays[name] = arrays[name][:n]
            cores.append(CoreImage(chiplet=0, x=router % topo.mesh_x, y=router // topo.mesh_x,
                                   slot=slot, **arrays))
            phys.append(p)
        n_out = 1 + max((int(r["axon"]) for c in cores for r in c.routes if r["host"]),
                        default=0)
        image = Image(target=self.target.name, cores=cores,
                      host_route_ptr=np.zeros(0, ROUTE_PTR_DTYPE),
                      host_routes=np.zeros(0, ROUTE_DTYPE),
                      manifest={"outputs": {"all": {"size": n_out, "channel_base": 0}}})
        return image, phys

    def _sync_state(self) -> None:
        for ci, p in enumerate(self._phys):
            st = np.asarray(self.chip.state[ci], STATE_DTYPE)
            self.tables[p]["state"][:len(st) * STATE_DTYPE.itemsize] = st.tobytes()

    def _run_steps(self) -> None:
        while True:
            if self.step_seconds:
                time.sleep(self.step_seconds)
            with self._lock:
                if self.steps_pending <= 0:
                    return
                self._one_step()
                self.steps_pending -= 1

    def _one_step(self) -> None:
        if self.chip is None:
            image, self._phys = self._image()
            self.chip = ReferenceChip(image)
        chip = self.chip
        qlen = int.from_bytes(self.fabric[FabricTable.HOST_QUEUE_LEN][:2], "little")
        queue = np.frombuffer(bytes(self.fabric[FabricTable.HOST_QUEUE]), ROUTE_DTYPE)[:qlen]
        chip.image.host_routes = queue.copy()
        chip.image.host_route_ptr = np.array([(i, 1) for i in range(qlen)], ROUTE_PTR_DTYPE)
        synops0 = chip.synops
        out_row, spikes = chip.step(np.ones(qlen, np.uint8))
        t = self.t
        for ch in np.flatnonzero(out_row):
            n = self._u32(FabricTable.OUT_LOG_LEN)
            if n >= self.fabric_depth[FabricTable.OUT_LOG]:
                self.overflow = True
                self._set_u32(FabricTable.COUNTERS, 5, 1)
                continue
            self._set_u32(FabricTable.OUT_LOG, n, ((t & 0xFFFF) << 16) | int(ch))
            self._set_u32(FabricTable.OUT_LOG_LEN, 0, n + 1)
        depth = self.fabric_depth[FabricTable.CYCLE_LOG]
        if depth:
            self._set_u32(FabricTable.CYCLE_LOG, t % depth, 1000 + t)
        add = [1, int(sum(int(s.sum()) for s in spikes)), chip.synops - synops0, qlen, 0]
        for k, v in enumerate(add):
            self._set_u32(FabricTable.COUNTERS, k, self._u32(FabricTable.COUNTERS, k) + v)
        self.fabric[FabricTable.HOST_QUEUE_LEN][:2] = b"\0\0"
        self.t += 1
        self._sync_state()

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self.slave, self.master):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> "BoardModel":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

