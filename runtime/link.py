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
READ_MEMs go the same way (``on_answer`` takes their data): a read whose answer was lost or
damaged is sent again as two reads of half its entries each (down to one entry), because on a
noisy line a long answer rarely arrives intact -- at 4 % flipped bytes a 140-byte answer survives
0.2 % of tries, a 16-byte one 36 %.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Callable

from spikefab.arch.protocol import (MAX_PAYLOAD, Command, FrameError, FrameSplitter, ReadMem,
                                      Response, Status, WriteMem)
from spikefab.errors import LinkError

try:                        # a port that vanishes mid-call raises termios.error from flush(),
    from termios import error as _TermiosError      # which is not an OSError (POSIX only)
except ImportError:  # pragma: no cover - Windows
    _TermiosError = OSError
#: Everything pyserial lets escape when the device goes away.
PORT_ERRORS = (OSError, ValueError, _TermiosError)

__all__ = ["Link", "LinkStats", "DEFAULT_WINDOW", "MAX_WINDOW", "READ_WINDOW"]

#: Frames :meth:`Link.execute_window` keeps in flight by default: enough to cover the round trip
#: of a USB UART (a few ms) at 1 Mbaud with 260-byte frames.
DEFAULT_WINDOW = 8
#: At most half the sequence space, so an answer's ``seq`` always names one frame in flight.
MAX_WINDOW = 64

#: Largest frame on the wire (header + payload + CRC + COBS overhead + delimiter).
_MAX_WIRE = 4 + MAX_PAYLOAD + 2 + 3
#: Smallest frame budget (payload bytes) the adaptive sizing goes down to.
MIN_BUDGET = 24
#: Most READ_MEMs in flight: their requests are short and their answers long, so requests pile
#: up in the device's 512-byte RX FIFO while it answers; 16 requests of 15 bytes stay far below.
#: On a noisy line reads get short and many are lost, so more of them must be in flight.
READ_WINDOW = 16
#: Bytes the read budget grows by after each answer that arrived at the first try.
READ_GROWTH = 16
#: Silence (s) after which a window's frames whose answers are overdue count as lost (plus 16
#: byte times, and at least 4 times the device's measured time per frame, for a slow device).
QUIET_S = 0.005
#: Smallest read budget (answer bytes): at 4 % flipped bytes a 16-byte answer gets through 36 %
#: of the time, near the best payload per wire byte; a lost read is still split to one entry.
READ_FLOOR = 16


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
    read_splits: int = 0      #: READ_MEMs sent again as two reads of half the entries


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
        #: Answer bytes the caller should ask for in its next READ_MEM: halved after a lost or
        #: damaged answer (see :meth:`_shrink`), grown by :data:`READ_GROWTH` after each answer
        #: that arrived at the first try.  Separate from :attr:`budget` since the two directions
        #: of a line can be differently noisy.
        self.read_budget = MAX_PAYLOAD
        self._read_shrunk_at = 0.0
        #: seq -> frames sent when a split frame was retired: a late answer to it could still
        #: arrive, so its seq is not reused until a frame sent after it has been answered.
        self._retired: dict[int, int] = {}
        self._sent = 0
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
        request = command.request(self._next_seq({}))
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
            self._sent += 1
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
            self._retired.clear()         # every earlier frame's answer would have come first
            return answer

    def read_entries(self, esize: int) -> int:
        """Entries of ``esize`` bytes the next READ_MEM should ask for (at least one)."""
        return max(1, min(self.read_budget, MAX_PAYLOAD) // esize)

    def execute_window(self, next_command: Callable[[], Command | None], *,
                       window: int = DEFAULT_WINDOW,
                       on_answer: Callable[[Command, bytes], None] | None = None) -> int:
        """Execute idempotent commands with up to ``window`` frames in flight; return the count.

        ``next_command()`` gives the next command (sized, if it likes, by :attr:`budget` or
        :meth:`read_entries` at that moment) or None when there are no more.  The commands must
        be idempotent (not RUN) and must not overlap each other's effects, since a lost frame is
        re-sent after later ones.  ``on_answer(command, payload)`` gets every OK answer -- for a
        READ_MEM, exactly ``count * esize`` bytes (anything else is a ``LinkError``); the command
        may be a piece of one that ``next_command`` gave, since a re-sent READ_MEM is split in
        two halves and a re-sent WRITE_MEM larger than the (meanwhile shrunk) :attr:`budget`
        into budget-sized writes; pieces inherit the deadline of the frame they came from.  Each
        command gets :attr:`timeout` seconds from its first transmission; BUSY restarts that
        clock, as in :meth:`execute`.  On a noisy line a window's first frames were sized before
        the line showed its noise: resending a 260-byte frame at 1 % flipped bytes succeeds one
        time in fifteen.

        Raises
        ------
        LinkError
            A command got no valid answer in time, or the device refused one.
        """
        if not 1 <= window <= MAX_WINDOW:
            raise LinkError(f"link window must be in [1, {MAX_WINDOW}], not {window}",
                            where=self.context)
        win = _Window(OrderedDict(), on_answer)
        self._last_answer = 0.0     # the device's pace (_service) carries over from earlier calls
        done = 0
        exhausted = False
        self._drain()
        while True:
            while len(win.flight) < window:
                deadline = 0.0
                if win.pieces:
                    command, deadline, context = win.pieces.popleft()
                elif exhausted:
                    break
                else:
                    command, context = next_command(), self.context
                    if command is None:
                        exhausted = True
                        break
                request = command.request(self._next_seq(win.flight))
                entry = _InFlight(request.op, request.seq, request.encode(),
                                  type(command).op.name, context, command,
                                  answer=_answer_wire(command))
                win.flight[request.seq] = entry
                self.stats.max_in_flight = max(self.stats.max_in_flight, len(win.flight))
                self._send_in_flight(win, entry)
                if deadline:
                    entry.deadline = deadline
            if not win.flight:
                return done
            self._window_timeouts(win)
            data = self._read()
            if data:
                win.last_byte = time.monotonic()
            for raw in self._splitter.feed(data):
                done += self._window_answer(win, raw)

    def _next_seq(self, flight: "OrderedDict[int, _InFlight]") -> int:
        """A fresh ``seq``: not in flight (a frame resent for long keeps its seq), not retired."""
        if len(self._retired) + len(flight) > 192:      # cannot happen with MAX_WINDOW = 64
            self._retired.clear()
        while self.seq in flight or self.seq in self._retired:
            self.seq = (self.seq + 1) & 0xFF
        seq = self.seq
        self.seq = (self.seq + 1) & 0xFF
        return seq

    def _send_in_flight(self, win: "_Window", entry: "_InFlight") -> None:
        """(Re)send one frame; it becomes the newest in flight and its answer is due later."""
        flight = win.flight
        if entry.attempts:
            self.stats.resends += 1
        else:
            entry.deadline = time.monotonic() + self.timeout
        entry.attempts += 1
        flight.move_to_end(entry.seq)
        self._write(entry.frame)
        self._sent += 1
        entry.sent_no = self._sent
        entry.sent_at = time.monotonic()
        # Its answer is due after the frames ahead of it and their answers have crossed the
        # line -- or, for a device slower than its line (a simulated board), after twice the
        # time the device has been taking per frame.
        ahead = sum(len(e.frame) + e.answer for e in flight.values())
        entry.expect = entry.sent_at + max(self.wire_seconds(ahead + _MAX_WIRE),
                                           2 * self._service * len(flight))
        entry.due = entry.expect + self.resend_after * entry.backoff

    def _window_timeouts(self, win: "_Window") -> None:
        now = time.monotonic()
        for entry in list(win.flight.values()):
            if now >= entry.deadline:
                raise LinkError(
                    f"{entry.context}: {entry.name} (seq {entry.seq}) got no valid answer "
                    f"within {self.timeout:g} s ({entry.attempts} tries, {len(win.flight)} "
                    f"frames in flight; {self.stats.naks} NAKs, {self.stats.bad_frames} bad "
                    f"frames so far)", where=entry.context)
            if now >= entry.due:
                self.stats.timeouts += 1
                entry.backoff = min(8, 2 * entry.backoff)   # a slow device: do not flood it
                self._retry(win, entry, "late")
                return
        # Damage seen (a bad frame or a NAK), then a quiet line: every frame whose answer should
        # have crossed by now is lost (answers come in order, so none can still be on its way);
        # resend them at once rather than after resend_after -- on a noisy line most of the
        # time would go to waiting.  Without damage a late answer is a slow device (a simulated
        # board), and resending into it would only fill its RX FIFO.
        quiet = self.wire_seconds(16) + max(QUIET_S, 4 * self._service)
        if win.causes and now - win.last_byte >= quiet:
            lost = [e for e in win.flight.values() if now >= e.expect + quiet]
            for entry in lost:
                self._retry(win, entry, win.causes.popleft() if win.causes else "late")
            if lost:
                win.causes.clear()

    def _retry(self, win: "_Window", entry: "_InFlight", cause: str) -> None:
        """Send a frame again after a failed attempt.  ``cause`` is what the line showed for it:
        ``"nak"`` (the device got a damaged request: a READ_MEM's request does not shrink with
        its answer, so the read is asked again as it was), ``"bad"`` (a damaged answer: the
        read is split and the read budget halves) or ``"late"`` (nothing arrived: a read is
        split but the budget kept, since a busy host or device is late without any noise).
        Writes shrink the write budget whatever the cause."""
        if isinstance(entry.command, ReadMem):
            if cause == "nak":
                self._send_in_flight(win, entry)
                return
            if cause == "bad":
                self._shrink(entry)
        else:
            self._shrink(entry)
        self._resend(win, entry)

    def _resend(self, win: "_Window", entry: "_InFlight", *, busy: bool = False) -> None:
        """Send a frame of the window again -- split first if a lost answer says it is too long:
        a READ_MEM into two reads of half its entries (at most :meth:`read_entries` each), a
        WRITE_MEM larger than the budget into budget-sized writes."""
        cmd = entry.command
        if isinstance(cmd, ReadMem) and cmd.count >= 2 and not busy:
            n = max(1, min((cmd.count + 1) // 2, self.read_entries(cmd.esize)))
            pieces = [ReadMem(cmd.core, cmd.table, cmd.index + k, min(n, cmd.count - k),
                              cmd.esize) for k in range(0, cmd.count, n)]
            self.stats.read_splits += 1
        elif isinstance(cmd, WriteMem) and len(cmd.data) > self.budget and cmd.count >= 2:
            n = max(1, self.budget // cmd.esize)
            pieces = [WriteMem(cmd.core, cmd.table, cmd.index + k, cmd.esize,
                               cmd.data[k * cmd.esize:(k + n) * cmd.esize])
                      for k in range(0, cmd.count, n)]
            self.stats.splits += 1
        else:
            self._send_in_flight(win, entry)
            return
        del win.flight[entry.seq]       # a late answer to it is now stale (and harmless) ...
        self._retired[entry.seq] = self._sent   # ... as long as its seq is not reused
        self.stats.resends += 1
        for piece in reversed(pieces):
            win.pieces.appendleft((piece, entry.deadline, entry.context))

    def _window_answer(self, win: "_Window", raw: bytes) -> int:
        """Take one received frame; return 1 if it completed a command in flight."""
        flight = win.flight
        try:
            resp = Response.decode(raw)
        except FrameError:
            self.stats.bad_frames += 1
            win.causes.append("bad")
            return 0
        if resp.is_nak:
            self.stats.naks += 1
            win.causes.append("nak")
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
            self._resend(win, entry, busy=True)
        elif resp.status != Status.OK:
            status = Status(resp.status).name if resp.status in Status._value2member_map_ \
                else str(resp.status)
            raise LinkError(f"{entry.context}: board refused {entry.name} with {status} (host "
                            f"and board disagree on the protocol or the memory map)",
                            where=entry.context)
        else:
            self._complete(win, entry, resp, clean=not earlier and not win.causes)
        # what the line showed meanwhile, in order: the oldest lost frame's damage came first
        for other in earlier:
            self._retry(win, other, win.causes.popleft() if win.causes else "late")
        win.causes.clear()
        return 1 if resp.status == Status.OK else 0

    def _complete(self, win: "_Window", entry: "_InFlight", resp: Response, *,
                  clean: bool) -> None:
        """An OK answer to a frame in flight: hand its data over, learn the device's pace."""
        cmd = entry.command
        if isinstance(cmd, ReadMem) and len(resp.payload) != cmd.count * cmd.esize:
            raise LinkError(f"{entry.context}: READ_MEM of {cmd.count} x {cmd.esize} bytes "
                            f"answered {len(resp.payload)} bytes", where=entry.context)
        del win.flight[resp.seq]
        self.stats.commands += 1
        # answers come in order: no retired frame sent before this one can still answer
        self._retired = {s: n for s, n in self._retired.items() if n >= entry.sent_no}
        if win.on_answer is not None:
            win.on_answer(cmd, resp.payload)
        now = time.monotonic()
        # the device's time per frame (moving average), from answers that followed each other
        # with nothing lost between them: waits for lost frames must not make the host wait longer
        if self._last_answer and clean and entry.attempts == 1:
            self._service += (now - self._last_answer - self._service) / 4
        self._last_answer = now if win.flight else 0.0
        if entry.attempts == 1:
            if isinstance(cmd, ReadMem):
                if 2 * cmd.count * cmd.esize > self.read_budget:   # a read the budget sized
                    self.read_budget = min(MAX_PAYLOAD, self.read_budget + READ_GROWTH)
            else:
                self.budget = min(MAX_PAYLOAD, self.budget + 16)

    def _shrink(self, entry: "_InFlight | None" = None) -> None:
        """A failed attempt: halve the read budget after a lost READ_MEM answer, else take a
        third off the write budget.

        The read budget halves once per loss, as TCP's window: not again for frames sent before
        the last halving (they were sized by the old budget, and one noisy moment often takes
        several answers in flight), nor for reads much shorter than the budget (a short answer
        lost says little about a long one).  It stays at :data:`READ_FLOOR` bytes or more; the
        lost read itself is split down to one entry (:meth:`_resend`).
        """
        if entry is not None and isinstance(entry.command, ReadMem):
            nbytes = entry.command.count * entry.command.esize
            if entry.sent_at >= self._read_shrunk_at and 2 * nbytes > self.read_budget:
                self.read_budget = max(READ_FLOOR, self.read_budget // 2)
                self._read_shrunk_at = time.monotonic()
        else:
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
    answer: int = 12          #: bytes its answer takes on the wire
    backoff: int = 1          #: resend_after multiplier, doubled at each timeout (at most 8)
    attempts: int = 0
    expect: float = 0.0       #: its answer has crossed the line by then, if it comes
    due: float = 0.0          #: resend when no answer by then
    deadline: float = 0.0     #: give up (LinkError) when no answer by then
    sent_at: float = 0.0      #: time of its last transmission
    sent_no: int = 0          #: :attr:`Link._sent` at its last transmission


@dataclass
class _Window:
    """The state of one :meth:`Link.execute_window` call."""

    flight: "OrderedDict[int, _InFlight]"      #: send order, oldest first
    on_answer: Callable[[Command, bytes], None] | None
    #: pieces of split frames, to send before new commands: (command, deadline, context)
    pieces: deque = field(default_factory=deque)
    #: "bad" (damaged frame) and "nak" since the last answer, in arrival order
    causes: deque = field(default_factory=deque)
    last_byte: float = 0.0    #: when the last bytes arrived


def _answer_wire(command: Command) -> int:
    """Bytes the answer to ``command`` takes on the wire (header, CRC, COBS, delimiter)."""
    if isinstance(command, ReadMem):
        return 4 + command.count * command.esize + 2 + 2 + 1
    return 12
