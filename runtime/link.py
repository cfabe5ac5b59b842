"""The host end of the protocol link: one request at a time, retried until a valid answer.

:class:`Link` turns a byte stream (any pyserial ``Serial``-like object: a UART, a pty, a TCP
socket, the ``faulty://`` shim) into reliable command execution as ``docs/host-protocol.md``
section 3 specifies: COBS frames with CRC, sequence numbers, NAK / timeout / BUSY -> resend the
same frame, stale and corrupted frames ignored.  Because the device never repeats an effect for a
re-sent request, retrying is always safe; the only way out besides success is a
:class:`~spikefab.errors.LinkError` that names the command, what the caller was doing
(:attr:`Link.context`) and how long it tried.

:meth:`Link.execute_window` pipelines idempotent commands (the WRITE_MEMs of an upload): up to
``window`` frames are in flight, the device answers them in order (its receiver queues bytes
while it answers), and a frame is sent again on its own -- selective retransmit -- when an answer
to a *later* frame arrives first (its answer can only have been lost) or when its answer is late.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Callable

from spikefab.arch.protocol import (MAX_PAYLOAD, Command, FrameError, FrameSplitter, Response,
                                      Status, WriteMem)
from spikefab.errors import LinkError

try:                        # a port that vanishes mid-call raises termios.error from flush(),
    from termios import error as _TermiosError      # which is not an OSError (POSIX only)
except ImportError:  # pragma: no cover - Windows
    _TermiosError = OSError
#: Everything pyserial lets escape when the device goes away.
PORT_ERRORS = (OSError, ValueError, _TermiosError)

__all__ = ["Link", "LinkStats", "DEFAULT_WINDOW", "MAX_WINDOW"]

#: Frames :meth:`Link.execute_window` keeps in flight by default: enough to cover the round trip
#: of a USB UART (a few ms) at 1 Mbaud with 260-byte frames.
DEFAULT_WINDOW = 8
#: At most half the sequence space, so an answer's ``seq`` always names one frame in flight.
MAX_WINDOW = 64

#: Largest frame on the wire (header + payload + CRC + COBS overhead + delimiter).
_MAX_WIRE = 4 + MAX_PAYLOAD + 2 + 3
#: Smallest frame budget (payload bytes) the adaptive sizing goes down to.
MIN_BUDGET = 24


@dataclass
class LinkStats:
    """What the link did: the numbers behind "how noisy was it"."""

    commands: int = 0         #: commands completed
    resends: int = 0          #: frames sent again (timeout, NAK or BUSY)
    naks: int = 0             #: NAKs received
    timeouts: int = 0         #: attempts that got no matching response in time
    busy: int = 0             #: BUSY answers
    bad_frames: int = 0       #: received frames that failed COBS / CRC / length checks
    stale_frames: int = 0     #: valid frames that answered something else (old seq, duplicate)
    bytes_out: int = 0
    bytes_in: int = 0
    max_in_flight: int = 0    #: most frames :meth:`Link.execute_window` had unanswered at once
    splits: int = 0           #: windowed writes split to the budget before being sent again


class Link:
    """Reliable request/response over a pyserial port.

    Parameters
    ----------
    port:
        An open pyserial ``Serial`` (or ``serial_for_url`` result).
    baud:
        Line rate used to budget wire time (``port.baudrate`` if omitted; a pty ignores it).
    timeout:
        Seconds one command may take in total, all resends included, before ``LinkError``.
    resend_after:
        Seconds to wait for an answer before sending the same frame again (plus wire time).
    """

    def __init__(self, port: Any, *, baud: int | None = None, timeout: float = 2.0,
                 resend_after: float = 0.1) -> None:
        if timeout <= 0 or resend_after <= 0:
            raise LinkError(f"link timeouts must be positive, not timeout={timeout}, "
                            f"resend_after={resend_after}")
        self.port = port
        self.baud = int(baud or getattr(port, "baudrate", 115200) or 115200)
        self.timeout = float(timeout)
        self.resend_after = float(resend_after)
        #: Quiet time after a NAK / damaged frame before resending (see :meth:`_await`).
        self.idle_gap = min(0.02, self.resend_after / 2) + self.wire_seconds(16)
        self.seq = 0
        self.context = "link"
        self.stats = LinkStats()
        #: Payload bytes the caller should put in its next large frame.  Additive increase after
        #: each clean exchange, multiplicative decrease after each failed attempt (as TCP): on a
        #: clean line frames stay at the maximum; on a noisy one they shrink to where a frame
        #: still gets through, instead of resending 260-byte frames that rarely arrive intact.
        self.budget = MAX_PAYLOAD
        self._splitter = FrameSplitter()
        self._service = 0.0       #: seconds per answered frame in a window (moving average)
        self._last_answer = 0.0
        self.port.timeout = 0.002

    def wire_seconds(self, nbytes: int) -> float:
        """Time ``nbytes`` take on an 8N1 line at :attr:`baud` (10 bits per byte)."""
        return 10.0 * nbytes / self.baud

    def sync(self) -> None:
        """Make the device drop any partial frame (a lone delimiter) and forget our input."""
        self._write(b"\0")
        self._drain()

    def execute(self, command: Command, *, retry_busy: bool = True) -> Response:
        """Send ``command`` until a matching OK response arrives; return it.

        Raises
        ------
        LinkError
            No valid answer within :attr:`timeout`, or the device refused the command
            (BAD_OP / BAD_ARG / BAD_LEN: host and device disagree on the protocol).
        """
        request = command.request(self.seq)
        self.seq = (self.seq + 1) & 0xFF
        frame = request.encode()
        name = type(command).op.name
        start = time.monotonic()
        deadline = start + self.timeout
        attempts = 0
        self._drain()
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise LinkError(
                    f"{self.context}: {name} (seq {request.seq}) got no valid answer within "
                    f"{self.timeout:g} s ({attempts} tries; {self.stats.naks} NAKs, "
                    f"{self.stats.bad_frames} bad frames so far)", where=self.context)
            if attempts:
                self.stats.resends += 1
            attempts += 1
            self._write(frame)
            wait = self.resend_after + self.wire_seconds(len(frame) + _MAX_WIRE)
            answer = self._await(request.op, request.seq, min(now + wait, deadline))
            if answer is None:
                self.stats.timeouts += 1
                self._shrink()
                continue
            if answer.is_nak:
                self._shrink()
                continue
            if answer.status == Status.BUSY and retry_busy:
                self.stats.busy += 1
                time.sleep(0.002)
                deadline = time.monotonic() + self.timeout   # busy is progress, not silence
                continue
            if answer.status != Status.OK:
                status = Status(answer.status).name if answer.status in Status._value2member_map_ \
                    else str(answer.status)
                raise LinkError(f"{self.context}: board refused {name} with {status} "
                                f"(host and board disagree on the protocol or the memory map)",
                                where=self.context)
            self.stats.commands += 1
            if attempts == 1:
                self.budget = min(MAX_PAYLOAD, self.budget + 16)
            return answer

    def execute_window(self, next_command: Callable[[], Command | None], *,
                       window: int = DEFAULT_WINDOW) -> int:
        """Execute idempotent commands with up to ``window`` frames in flight; return the count.

        ``next_command()`` gives the next command (sized, if it likes, by :attr:`budget` at that
        moment) or None when there are no more.  The commands must be idempotent (not RUN) and
        must not overlap each other's effects, since a lost frame is re-sent after later ones.
        Each command gets :attr:`timeout` seconds from its first transmission; BUSY restarts
        that clock, as in :meth:`execute`.  A WRITE_MEM that has to be sent again and is larger
        than the (meanwhile shrunk) :attr:`budget` is split into budget-sized writes of the same
        entries, which inherit its deadline: on a noisy line a window's first frames were sized
        before the line showed its noise, and resending a 260-byte frame at 1 % flipped bytes
        succeeds one time in fifteen.

        Raises
        ------
        LinkError
            A command got no valid answer in time, or the device refused one.
        """
        if not 1 <= window <= MAX_WINDOW:
            raise LinkError(f"link window must be in [1, {MAX_WINDOW}], not {window}",
                            where=self.context)
        flight: OrderedDict[int, _InFlight] = OrderedDict()    # send order, oldest first
        self._service = 0.0
        self._last_answer = 0.0
        self._split_pieces: deque[tuple[Command, float, str]] = deque()
        done = 0
        exhausted = False
        self._drain()
        while True:
            while len(flight) < window:
                deadline = 0.0
                if self._split_pieces:
                    command, deadline, context = self._split_pieces.popleft()
                elif exhausted:
                    break
                else:
                    command, context = next_command(), ""
                    if command is None:
                        exhausted = True
                        break
                    context = self.context
                while self.seq in flight:   # a frame resent for long keeps its seq
                    self.seq = (self.seq + 1) & 0xFF
                request = command.request(self.seq)
                self.seq = (self.seq + 1) & 0xFF
                entry = _InFlight(request.op, request.seq, request.encode(),
                                  type(command).op.name, context, command)
                flight[request.seq] = entry
                self.stats.max_in_flight = max(self.stats.max_in_flight, len(flight))
                self._send_in_flight(flight, entry)
                if deadline:
                    entry.deadline = deadline
            if not flight:
                return done
            self._window_timeouts(flight)
            for raw in self._splitter.feed(self._read()):
                done += self._window_answer(flight, raw)

    def _send_in_flight(self, flight: "OrderedDict[int, _InFlight]", entry: "_InFlight") -> None:
        """(Re)send one frame; it becomes the newest in flight and its answer is due later."""
        if entry.attempts:
            self.stats.resends += 1
        else:
            entry.deadline = time.monotonic() + self.timeout
        entry.attempts += 1
        flight.move_to_end(entry.seq)
        self._write(entry.frame)
        # Its answer is due after the frames ahead of it have crossed the line -- or, for a
        # device slower than its line (a simulated board), after twice the time the device has
        # been taking per frame.
        ahead = sum(len(e.frame) for e in flight.values())
        wire = self.wire_seconds(ahead + len(flight) * 12 + _MAX_WIRE)
        entry.due = time.monotonic() + self.resend_after + max(wire,
                                                               2 * self._service * len(flight))

    def _window_timeouts(self, flight: "OrderedDict[int, _InFlight]") -> None:
        now = time.monotonic()
        for entry in list(flight.values()):
            if now >= entry.deadline:
                raise LinkError(
                    f"{entry.context}: {entry.name} (seq {entry.seq}) got no valid answer "
                    f"within {self.timeout:g} s ({entry.attempts} tries, {len(flight)} frames "
                    f"in flight; {self.stats.naks} NAKs, {self.stats.bad_frames} bad frames so "
                    f"far)", where=entry.context)
            if now >= entry.due:
                self.stats.timeouts += 1
                self._shrink()
                self._resend(flight, entry)
                return

    def _resend(self, flight: "OrderedDict[int, _InFlight]", entry: "_InFlight") -> None:
        """Send a frame of the window again -- split first if it is larger than the budget."""
        cmd = entry.command
        if not isinstance(cmd, WriteMem) or len(cmd.data) <= self.budget or cmd.count < 2:
            self._send_in_flight(flight, entry)
            return
        del flight[entry.seq]           # a late answer to it is now stale (and harmless)
        self.stats.resends += 1
        self.stats.splits += 1
        n = max(1, self.budget // cmd.esize)
        for k in reversed(range(0, cmd.count, n)):
            piece = WriteMem(cmd.core, cmd.table, cmd.index + k, cmd.esize,
                             cmd.data[k * cmd.esize:(k + n) * cmd.esize])
            self._split_pieces.appendleft((piece, entry.deadline, entry.context))

    def _window_answer(self, flight: "OrderedDict[int, _InFlight]", raw: bytes) -> int:
        """Take one received frame; return 1 if it completed a command in flight."""
        try:
            resp = Response.decode(raw)
        except FrameError:
            self.stats.bad_frames += 1
            return 0
        if resp.is_nak:
            self.stats.naks += 1
            self._shrink()
            return 0
        entry = flight.get(resp.seq)
        if entry is None or entry.op != resp.op:
            self.stats.stale_frames += 1
            return 0
        # The device answers in order: every frame sent before this one's last transmission
        # that is still unanswered was lost (or its answer was): send it again now.
        earlier = []
        for other in flight.values():
            if other is entry:
                break
            earlier.append(other)
        if resp.status == Status.BUSY:
            self.stats.busy += 1
            time.sleep(0.002)
            entry.deadline = time.monotonic() + self.timeout
            self._resend(flight, entry)
        elif resp.status != Status.OK:
            status = Status(resp.status).name if resp.status in Status._value2member_map_ \
                else str(resp.status)
            raise LinkError(f"{entry.context}: board refused {entry.name} with {status} (host "
                            f"and board disagree on the protocol or the memory map)",
                            where=entry.context)
        else:
            del flight[resp.seq]
            self.stats.commands += 1
            now = time.monotonic()
            if self._last_answer:                 # the device's time per frame (moving average)
                self._service += (now - self._last_answer - self._service) / 4
            self._last_answer = now if flight else 0.0
            if entry.attempts == 1:
                self.budget = min(MAX_PAYLOAD, self.budget + 16)
        for other in earlier:
            self._shrink()
            self._resend(flight, other)
        return 1 if resp.status == Status.OK else 0

    def _shrink(self) -> None:
        self.budget = max(MIN_BUDGET, self.budget * 2 // 3)

    # ------------------------------------------------------------------ bytes
    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
            self.port.flush()
        except PORT_ERRORS as exc:     # SerialException is an OSError, termios.error is not
            raise LinkError(f"{self.context}: writing to the port failed: {exc}",
                            where=self.context) from None
        self.stats.bytes_out += len(data)

    def _read(self) -> bytes:
        try:
            n = self.port.in_waiting
            data = self.port.read(max(n, 1))
        except PORT_ERRORS as exc:
            raise LinkError(f"{self.context}: reading from the port failed: {exc}",
                            where=self.context) from None
        self.stats.bytes_in += len(data)
        return data

    def _drain(self) -> None:
        """Forget everything received so far (answers to earlier requests)."""
        try:
            while self.port.in_waiting:
                self.stats.bytes_in += len(self.port.read(self.port.in_waiting))
        except PORT_ERRORS as exc:
            raise LinkError(f"{self.context}: reading from the port failed: {exc}",
                            where=self.context) from None
        self._splitter = FrameSplitter()

    def _await(self, op: int, seq: int, until: float) -> Response | None:
        """The matching answer, a NAK, or None at ``until``.

        After a NAK or a damaged frame the device may still be answering other fragments of
        the damaged request (and a device without an RX FIFO drops bytes while it answers).  So
        a resend waits until the line has been quiet for :attr:`idle_gap` -- and if the real
        answer turns up meanwhile (the NAK was for a fragment), it is taken.
        """
        damaged = False
        last_byte = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= until or (damaged and now - last_byte >= self.idle_gap):
                break
            data = self._read()
            if not data:
                continue
            last_byte = time.monotonic()
            for raw in self._splitter.feed(data):
                try:
                    resp = Response.decode(raw)
                except FrameError:
                    self.stats.bad_frames += 1
                    damaged = True
                    continue
                if resp.is_nak:
                    self.stats.naks += 1
                    damaged = True
                    continue
                if resp.op == op and resp.seq == seq:
                    return resp
                self.stats.stale_frames += 1
        return Response.nak() if damaged else None


@dataclass
class _InFlight:
    """One frame of :meth:`Link.execute_window` awaiting its answer."""

    op: int
    seq: int
    frame: bytes
    name: str
    context: str
    command: Command
    attempts: int = 0
    due: float = 0.0          #: resend when no answer by then
    deadline: float = 0.0     #: give up (LinkError) when no answer by then
