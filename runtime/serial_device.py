"""A board behind a byte stream: the host side of ``docs/host-protocol.md``.

:class:`SerialDevice` uploads an image as memory writes, runs it step chunk by step chunk with the
host's input packets, and reads output spikes (``out_log``), cycles (``cycle_log``), counters and
final neuron states back into the same :class:`~spikefab.arch.result.Result` the emulator gives.
The transport is any pyserial port: a USB UART, the virtual board's pseudo-terminal, a TCP socket,
or the ``faulty://`` shim that corrupts bytes on purpose.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import serial
from tqdm import tqdm

from spikefab.arch.host import (FabricLogs, drive, input_channels, max_chunk, run_program,
                                split_outputs)
from spikefab.arch.image import Image
from spikefab.arch.learning.readout import plastic_projections, recorded_snapshots
from spikefab.arch.learning.words import EngineCaps
from spikefab.arch.memory_map import COUNTERS, FABRIC_CORE, FabricTable
from spikefab.arch.protocol import (PROTOCOL_VERSION, Clear, FrameError, Info, InfoReply, Inject,
                                      ReadMem, Reset, Run, SetCrc, WriteMem, max_entries)
from spikefab.arch.result import Result, normalize_inputs
from spikefab.arch.target import Target, load_target
from spikefab.errors import ImageError, LinkError
from spikefab.runtime.device import Device
from spikefab.runtime.hostplan import (INJECT_MAX, TableUpload, board_engine, core_map,
                                         learning_engine, learning_tables, state_tables,
                                         upload_tables)
from spikefab.runtime.link import (DEFAULT_WINDOW, MAX_WINDOW, PORT_ERRORS, READ_WINDOW,
                                    Link)

__all__ = ["SerialDevice", "UploadStats", "DEFAULT_BAUD"]

DEFAULT_BAUD = 115200
#: Where ``faulty://`` (and any future spikefab pyserial URL handler) lives.
HANDLER_PACKAGE = "spikefab.runtime.urlhandler"
if HANDLER_PACKAGE not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append(HANDLER_PACKAGE)

@dataclass(frozen=True)
class UploadStats:
    """How fast an upload went, against what the line allows (8N1: 10 bits per byte)."""

    payload_bytes: int     #: table bytes written (the image's memory contents)
    wire_bytes: int        #: bytes that crossed the link both ways (frames, answers, resends)
    seconds: float
    baud: int

    @property
    def bytes_per_s(self) -> float:
        return self.payload_bytes / self.seconds if self.seconds > 0 else float("inf")

    @property
    def line_bytes_per_s(self) -> float:
        return self.baud / 10.0

    @property
    def line_fraction(self) -> float:
        """Payload throughput as a fraction of the line rate (1.0 = every bit is payload)."""
        return self.bytes_per_s / self.line_bytes_per_s

    def summary(self) -> str:
        return (f"{self.payload_bytes:,} B in {self.seconds:.2f} s = {self.bytes_per_s:,.0f} B/s, "
                f"{100 * self.line_fraction:.1f} % of the {self.baud:,}-baud line "
                f"({self.line_bytes_per_s:,.0f} B/s)")


class SerialDevice(Device):
    """A board (real or virtual) speaking the host protocol on a pyserial port.

    Opening synchronises with the board and resets it (recovering from any earlier, interrupted
    session); :meth:`load` uploads; :meth:`run` clears, restores the initial state, runs and
    reads everything back.  Table writes go ``window`` frames at a time
    (:meth:`~spikefab.runtime.link.Link.execute_window`), reads ``READ_WINDOW`` at a time;
    ``window=1`` is stop-and-wait for both.

    A plastic image needs the board's learning engine -- the target's RTL must have one and the
    board's INFO must say LEARNING (a static bitstream, like the ULX3S build, has none) -- else
    ``ImageError``, need vs have, before anything is written: the
    upload adds the engine's tables, every run starts from the image's weights and engine state
    again (like a fresh emulator run), reads the learned weights back (:meth:`read_weights`,
    ``Result.weights``) and, with ``weight_every=N``, snapshots them every N steps
    (``Result.weight_snapshots``, as ``emu://?weight_every=N``).
    """

    def __init__(self, port: Any, *, uri: str, baud: int = DEFAULT_BAUD, timeout: float = 2.0,
                 resend_after: float = 0.1, progress: bool | None = None,
                 reset: bool = True, window: int = DEFAULT_WINDOW,
                 weight_every: int = 0) -> None:
        super().__init__()
        self.uri = uri
        self.port = port
        self.baud = int(baud)
        self.progress = progress
        if not 1 <= int(window) <= MAX_WINDOW:
            raise LinkError(f"serial link option window must be in [1, {MAX_WINDOW}], not "
                            f"{window!r}")
        self.window = int(window)
        if int(weight_every) < 0:
            raise LinkError(f"serial link option weight_every must be a non-negative integer, "
                            f"not {weight_every!r}")
        self.weight_every = int(weight_every)
        self._caps: EngineCaps | None = None
        self._weights: dict[str, np.ndarray] = {}
        self.link = Link(port, baud=self.baud, timeout=timeout, resend_after=resend_after)
        self.stall_timeout = max(30.0, 10 * timeout)
        self.upload: UploadStats | None = None
        self.run_seconds = 0.0
        self.target: Target | None = None
        self._phys: list[int] = []
        self._closed = False
        try:
            self._open(reset)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ opening
    @classmethod
    def from_uri(cls, uri: str, scheme: str, path: str, opts: dict[str, str],
                 options: dict[str, Any]) -> "SerialDevice":
        merged: dict[str, Any] = {**opts, **options} if scheme == "serial" else dict(options)
        unknown = set(merged) - {"baud", "timeout", "resend_after", "progress", "reset", "window",
                                 "weight_every"}
        if unknown:
            raise LinkError(f"serial link option must be baud, timeout, resend_after, progress, "
                            f"reset, window or weight_every, not {sorted(unknown)[0]!r}")
        if scheme == "serial" and not path:
            raise LinkError(f"serial URI must name a port, e.g. serial:///dev/ttyUSB1, not "
                            f"{uri!r}")
        baud = _positive(merged.get("baud", DEFAULT_BAUD), "baud", int)
        timeout = _positive(merged.get("timeout", 2.0), "timeout", float)
        resend = _positive(merged.get("resend_after", 0.1), "resend_after", float)
        progress = _flag(merged.get("progress"), "progress")
        reset = bool(_flag(merged.get("reset", True), "reset"))
        window = _positive(merged.get("window", DEFAULT_WINDOW), "window", int)
        every = merged.get("weight_every", 0)
        every = _positive(every, "weight_every", int) if str(every) != "0" else 0
        try:
            if scheme == "serial":
                port = serial.Serial(path, baudrate=baud, timeout=0.002)
            else:
                port = serial.serial_for_url(uri, baudrate=baud, timeout=0.002)
        except PORT_ERRORS as exc:      # SerialException is an OSError
            raise LinkError(f"cannot open port {uri!r}: {exc}") from None
        except KeyError as exc:         # pyserial's loop:// formats its own option error badly
            raise LinkError(f"cannot open port {uri!r}: pyserial refused its options "
                            f"(KeyError {exc})") from None
        return cls(port, uri=uri, baud=baud, timeout=timeout, resend_after=resend,
                   progress=progress, reset=reset, window=window, weight_every=every)

    def _open(self, reset: bool) -> None:
        """Synchronise; RESET unless asked not to -- but always when a run is still going."""
        self.link.context = f"opening {self.uri}"
        self.link.sync()
        info = self.info()
        if info.version != PROTOCOL_VERSION:
            raise LinkError(f"board protocol version must be {PROTOCOL_VERSION}, not "
                            f"{info.version}")
        if reset or info.busy:
            self.link.context = f"resetting the board on {self.uri}"
            self.link.execute(Reset())
            info = self.info()
        self.board = info

    # ------------------------------------------------------------------ small commands
    def info(self) -> InfoReply:
        """The board's INFO reply (flags, image CRC register, log depths)."""
        payload = self.link.execute(Info()).payload
        try:
            return InfoReply.decode(payload)
        except FrameError as exc:     # a CRC-valid answer of the wrong size: not our board
            raise LinkError(f"{self.link.context or self.uri}: INFO: {exc} (host and board "
                            f"disagree on the protocol)", where=self.uri) from None

    def image_crc(self) -> int:
        """The image CRC register (set after an upload, 0 after reset)."""
        return self.info().image_crc

    def read_table(self, core: int, table: int, index: int, count: int, esize: int) -> bytes:
        """Read ``count`` entries: READ_MEMs sized by the link's read budget, up to
        :data:`~spikefab.runtime.link.READ_WINDOW` in flight (one with ``window=1``); a read whose answer is lost or
        damaged is asked again in halves (see :meth:`Link.execute_window`).  Every entry is
        filled by exactly one OK answer of the right length, or this raises ``LinkError``."""
        out = bytearray(count * esize)
        filled = np.zeros(count, bool)
        k = 0

        def next_command() -> ReadMem | None:
            nonlocal k
            if k >= count:
                return None
            n = min(max_entries(esize, write=False), self.link.read_entries(esize), count - k)
            cmd = ReadMem(core, table, index + k, n, esize)
            k += n
            return cmd

        def on_answer(cmd: Any, payload: bytes) -> None:
            at = cmd.index - index
            if filled[at:at + cmd.count].any():
                raise LinkError(f"{self.link.context}: READ_MEM entries {cmd.index}.."
                                f"{cmd.index + cmd.count} answered twice")
            out[at * esize:(at + cmd.count) * esize] = payload
            filled[at:at + cmd.count] = True

        self.link.execute_window(next_command, window=READ_WINDOW if self.window > 1 else 1,
                                 on_answer=on_answer)
        if not filled.all():
            raise LinkError(f"{self.link.context}: READ_MEM left {int((~filled).sum())} of "
                            f"{count} entries unanswered")
        return bytes(out)

    def read_counters(self) -> dict[str, int]:
        self.link.context = "reading counters"
        raw = np.frombuffer(self.read_table(FABRIC_CORE, FabricTable.COUNTERS, 0, len(COUNTERS),
                                            4), "<u4")
        return {name: int(v) for name, v in zip(COUNTERS, raw)}

    def reset(self) -> None:
        self.link.context = "reset"
        self.link.execute(Reset())
        self.image = None
        self.board = self.info()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self.port.close()
            except OSError:
                pass

    # ------------------------------------------------------------------ upload
    def attach(self, image: Image) -> bool:
        """Use ``image`` without uploading if the board's CRC register says it holds it.

        The register is zeroed before every upload and set only after the last table, so a
        match means a complete upload of exactly this image (opened with ``reset=False``).
        """
        if self.image_crc() != image.crc32():
            return False
        target = load_target(image.target)
        self._caps = learning_engine(image, target)
        self._check_engine(image)
        self._phys = core_map(image, target, self.board.n_cores)
        self.image, self.target, self.upload = image, target, None
        return True

    def load(self, image: Image) -> None:
        """Upload every core's tables (progress bar), then set the board's image CRC register."""
        target = load_target(image.target)
        phys = core_map(image, target, self.board.n_cores)
        caps = learning_engine(image, target)
        self._check_engine(image)
        self.link.context = "upload: clearing the image CRC register"
        self.link.execute(SetCrc(0))
        tables = upload_tables(image, phys, self.board.n_cores)
        engine = board_engine(target) if self.board.learning else None
        if engine is not None:      # synapse tables are already in; engines off, then loaded
            tables += learning_tables(image, phys, engine, self.board.n_cores)[
                sum(c.plastic for c in image.cores):]
        total = sum(t.nbytes for t in tables)
        wire0 = self.link.stats.bytes_out + self.link.stats.bytes_in
        self.image = None
        start = time.perf_counter()
        disable = None if self.progress is None else not self.progress
        with tqdm(total=total, unit="B", unit_scale=True, desc="upload", disable=disable,
                  leave=False) as bar:
            self._write_tables(tables, "upload", total, bar)
        self.link.context = f"upload: image CRC ({total:,} of {total:,} bytes sent)"
        self.link.execute(SetCrc(image.crc32()))
        seconds = time.perf_counter() - start
        wire = self.link.stats.bytes_out + self.link.stats.bytes_in - wire0
        self.upload = UploadStats(total, wire, seconds, self.baud)
        self.image, self.target, self._phys, self._caps = image, target, phys, caps

    def _check_engine(self, image: Image) -> None:
        """Refuse a plastic image on a board whose INFO lacks LEARNING (a static bitstream):
        it would run, but never learn."""
        plastic = [i for i, core in enumerate(image.cores) if core.plastic]
        if not plastic or self.board.learning:
            return
        names = sorted(plastic_projections(image))
        what = (f"plastic projection{'s' if len(names) > 1 else ''} "
                + ", ".join(repr(n) for n in names) if names else "plastic synapses")
        need = sum(len(image.cores[i].learn_synapses) for i in plastic)
        cores = ", ".join(f"core/{i}" for i in plastic)
        raise ImageError(f"{what} ({cores}) must run on a board with a learning engine: needs "
                         f"a learning engine with {need} plastic synapses, the board on "
                         f"{self.uri} has none (INFO flag LEARNING clear: its bitstream is a "
                         f"static build, docs/fpga.md)", where=f"core/{plastic[0]}/learn_profiles")

    # ------------------------------------------------------------------ run
    def run(self, inputs: Mapping[str, Any] | None, steps: int) -> Result:
        image = self._loaded()
        chans = input_channels(image, normalize_inputs(image, inputs, steps), steps)
        board = self.board
        logs = FabricLogs(board.host_queue_depth, board.out_log_depth, board.cycle_log_depth)
        chunk = max_chunk(image, board.cycle_log_depth, board.out_log_depth)
        tables = state_tables(image, self._phys)
        if self._caps is not None:       # learning changed weights and engine state: restore
            tables += learning_tables(image, self._phys, self._caps, self.board.n_cores)
        loads = [(t.core, t.table, t.array, f"run: restoring initial state: {t.what}", t.first)
                 for t in tables]
        start = time.perf_counter()
        disable = None if self.progress is None else not self.progress
        every = self.weight_every if self._caps is not None else 0
        with tqdm(total=steps, unit="step", desc="run", disable=disable, leave=False) as bar:
            rec = drive(run_program(image, chans, logs, self._phys, loads, chunk,
                                    learning=self._caps, weight_every=every),
                        _LinkPort(self, bar))
        self._weights = dict(rec.learned.weights) if rec.learned is not None else {}
        self.run_seconds = time.perf_counter() - start
        has_cycles = board.cycle_log_depth > 0
        clock_mhz = (self.target or load_target(image.target)).timing.clock_mhz
        return Result(spikes=split_outputs(image, rec.out), final_state=rec.states,
                      counters=rec.counters, cycles_per_step=rec.cycles if has_cycles else None,
                      latency_us=float(rec.cycles.sum()) / clock_mhz if has_cycles else None,
                      backend="serial", weights=dict(self._weights),
                      weight_snapshots=recorded_snapshots(image, every, rec.weight_snapshots))

    def _write_tables(self, tables: list[TableUpload], doing: str, total: int = 0,
                      bar: Any = None) -> int:
        """Write tables in frames sized by the link's current budget, ``window`` frames in
        flight across table boundaries; return bytes sent."""
        queue = iter(tables)
        table = next(queue, None)
        k = 0
        sent = 0

        def next_command() -> WriteMem | None:
            nonlocal table, k, sent
            while table is not None and k >= len(table.array):
                table, k = next(queue, None), 0
            if table is None:
                return None
            cmd = table.command(k, self.link.budget)
            stop = k + cmd.count
            of = f" ({sent:,} of {total:,} bytes sent)" if total else ""
            self.link.context = f"{doing}: {table.what}[{k}..{stop}){of}"
            sent += len(cmd.data)
            if bar is not None:
                bar.update(len(cmd.data))
            k = stop
            return cmd

        self.link.execute_window(next_command, window=self.window)
        return sent

    def _wait_idle(self, what: str) -> None:
        last, since = -1, time.monotonic()
        while True:
            self.link.context = what
            info = self.info()
            if not info.busy:
                if info.overflow:
                    raise LinkError(f"{what}: the board's out_log overflowed")
                return
            now = time.monotonic()
            if info.steps_pending != last:
                last, since = info.steps_pending, now
            elif now - since > self.stall_timeout:
                raise LinkError(f"{what}: board busy with {last} steps left and no progress for "
                                f"{self.stall_timeout:g} s")


class _LinkPort:
    """The host program's port operations (:class:`spikefab.arch.hostop.Op`) as protocol frames."""

    def __init__(self, dev: SerialDevice, bar: Any) -> None:
        self.dev, self.link, self.bar = dev, dev.link, bar

    def clear(self, *, what: str) -> None:
        self.link.context = what
        self.link.execute(Clear())

    def write(self, core: int, table: int, index: int, entries: np.ndarray, *, what: str) -> None:
        upload = TableUpload(core, table, np.asarray(entries), what, index)
        self.dev._write_tables([upload], what)

    def read(self, core: int, table: int, index: int, count: int, dtype: Any, *,
             what: str) -> np.ndarray:
        self.link.context = what
        dtype = np.dtype(dtype)
        return np.frombuffer(self.dev.read_table(core, table, index, count, dtype.itemsize), dtype)

    def inject(self, entries: np.ndarray, *, what: str) -> None:
        raw, esize = entries.tobytes(), entries.dtype.itemsize
        for k in range(0, len(entries), INJECT_MAX):
            self.link.context = f"{what}: packets {k}..{min(k + INJECT_MAX, len(entries))}"
            self.link.execute(Inject(k, raw[k * esize:(k + INJECT_MAX) * esize]))

    def run(self, steps: int, *, what: str) -> None:
        self.link.context = what
        self.link.execute(Run(steps))
        self.dev._wait_idle(what)
        self.bar.update(steps)


def _flag(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise LinkError(f"link option {name} must be 0 or 1, not {value!r}")


def _positive(value: Any, name: str, kind: type) -> Any:
    try:
        v = kind(value)
    except (TypeError, ValueError):
        v = None
    if v is None or not 0 < v < float("inf"):      # nan or inf would wait for ever
        raise LinkError(f"link option {name} must be a positive number, not {value!r}")
    return v
