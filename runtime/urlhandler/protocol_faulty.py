"""``faulty://PORT?flip=0.01&drop=0&dup=0&delay=0&delay_s=0.005&cut_after=N&seed=S``.

A pyserial transport that wraps another port (``PORT`` is a device path such as ``/dev/pts/4``
or any pyserial URL) and damages the bytes crossing it, in both directions, at seeded rates:

``flip``
    probability that a byte has one random bit inverted;
``drop``
    probability that a byte is lost;
``dup``
    probability that a byte is delivered twice;
``delay`` / ``delay_s``
    probability that a chunk (one ``write`` or one ``read``) is held back ``delay_s`` seconds;
``cut_after``
    after this many bytes have crossed (both directions together) the link is cut: writes vanish
    and nothing more is received (a pulled cable);
``dir``
    ``both`` (default), ``tx`` (host -> board only) or ``rx`` (board -> host only);
``pace``
    a line rate in baud: bytes cross no faster than an 8N1 UART at that rate would carry them
    (10 bits per byte, each direction separately).  A pseudo-terminal has no baud rate, so this
    is how a benchmark on the virtual board measures throughput against a real line.  As with a
    UART driver's transmit buffer (:data:`TX_BUFFER` bytes), ``write`` returns once its bytes
    fit in the buffer; they reach the other end when their last stop bit would (delivered by the
    next call on the port);
``seed``
    seed of the random generator: the same seed damages the same bytes.

Registered through ``serial.protocol_handler_packages`` by :mod:`spikefab.runtime`.
``Serial.faults`` counts what was done, so tests can prove damage actually happened.
"""

from __future__ import annotations

import select
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import numpy as np
import serial
from serial.serialutil import PortNotOpenError, SerialBase, SerialException

__all__ = ["Serial", "FaultModel"]

_RATES = ("flip", "drop", "dup", "delay")
#: Bytes a paced ``write`` may queue ahead of the line (a Linux tty's transmit buffer is 4 KiB).
TX_BUFFER = 4096


@dataclass
class FaultModel:
    """Seeded byte damage; :meth:`apply` returns the bytes as the other end receives them."""

    flip: float = 0.0
    drop: float = 0.0
    dup: float = 0.0
    delay: float = 0.0
    delay_s: float = 0.005
    seed: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_RATES, 0))

    def __post_init__(self) -> None:
        for name in _RATES:
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"faulty:// rate {name} must be in [0, 1], not {rate}")
        self._rng = np.random.default_rng(self.seed)

    def apply(self, data: bytes) -> bytes:
        if not data or not (self.flip or self.drop or self.dup or self.delay):
            return data
        n = len(data)
        rng = self._rng
        arr = np.frombuffer(data, np.uint8).copy()
        flip = rng.random(n) < self.flip
        arr[flip] ^= (1 << rng.integers(0, 8, int(flip.sum()))).astype(np.uint8)
        keep = rng.random(n) >= self.drop
        dup = rng.random(n) < self.dup
        reps = keep.astype(np.int64) + (keep & dup)
        self.counts["flip"] += int(flip.sum())
        self.counts["drop"] += int((~keep).sum())
        self.counts["dup"] += int((keep & dup).sum())
        if self.delay and rng.random() < self.delay:
            self.counts["delay"] += 1
            time.sleep(self.delay_s)
        return np.repeat(arr, reps).tobytes()


class Serial(SerialBase):
    """pyserial ``Serial`` for ``faulty://`` URLs (see module docstring)."""

    def open(self) -> None:
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        if self.is_open:
            raise SerialException("Port is already open.")
        inner, tx, rx, self._cut_after, self._pace = self._parse(self.portstr)
        self._tx, self._rx = tx, rx
        self._crossed = 0
        self._pending = bytearray()
        self._arriving: list[tuple[float, bytes]] = []     # (release time, bytes) when paced
        self._leaving: list[tuple[float, bytes]] = []      # the same, host -> board
        self._tx_free = self._rx_free = 0.0
        try:
            self._inner = serial.serial_for_url(inner, baudrate=self._baudrate, timeout=0)
        except (OSError, ValueError) as exc:
            raise SerialException(f"faulty:// cannot open {inner!r}: {exc}") from None
        self.is_open = True

    @staticmethod
    def _parse(url: str) -> tuple[str, FaultModel | None, FaultModel | None, int | None, float]:
        if not url.lower().startswith("faulty://"):
            raise SerialException(f"URL must start with faulty://, not {url!r}")
        rest = url[len("faulty://"):]
        inner, _, query = rest.partition("?")
        if not inner:
            raise SerialException(f"faulty:// URL must name the port it wraps, not {url!r}")
        args: dict[str, float] = {}
        direction = "both"
        cut = None
        pace = 0.0
        for key, values in parse_qs(query).items():
            value = values[-1]
            if key == "dir":
                if value not in ("both", "tx", "rx"):
                    raise ValueError(f"faulty:// dir must be both, tx or rx, not {value!r}")
                direction = value
            elif key == "cut_after":
                cut = int(value)
            elif key == "pace":
                pace = float(value)
                if pace <= 0:
                    raise ValueError(f"faulty:// pace must be a positive baud rate, not {value}")
            elif key in _RATES or key in ("delay_s", "seed"):
                args[key] = float(value)
            else:
                raise ValueError(f"faulty:// option must be one of {', '.join(_RATES)}, "
                                 f"delay_s, seed, cut_after, dir, pace, not {key!r}")
        seed = int(args.pop("seed", 0))
        tx = FaultModel(**args, seed=seed) if direction in ("both", "tx") else None
        rx = FaultModel(**args, seed=seed + 1) if direction in ("both", "rx") else None
        return inner, tx, rx, cut, pace

    @property
    def faults(self) -> dict[str, int]:
        """Damage done so far, both directions summed."""
        out = dict.fromkeys(_RATES, 0)
        for model in (self._tx, self._rx):
            if model is not None:
                for k, v in model.counts.items():
                    out[k] += v
        return out

    @property
    def cut(self) -> bool:
        return self._cut_after is not None and self._crossed >= self._cut_after

    def _cross(self, data: bytes) -> bytes:
        """Count bytes crossing; what lies beyond the cut point never arrives."""
        if self._cut_after is None:
            return data
        room = max(self._cut_after - self._crossed, 0)
        self._crossed += len(data)
        return data[:room]

    def close(self) -> None:
        if self.is_open:
            self._inner.close()
            self.is_open = False

    def _reconfigure_port(self) -> None:
        if self.is_open:
            self._inner.baudrate = self._baudrate

    @property
    def in_waiting(self) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        self._pull()
        return len(self._pending)

    def _push(self) -> None:
        """Hand the board the paced bytes whose wire time is over."""
        now = time.monotonic()
        while self._leaving and self._leaving[0][0] <= now:
            data = self._leaving.pop(0)[1]
            if data:
                self._inner.write(data)

    def _pull(self) -> None:
        self._push()
        n = self._inner.in_waiting
        if n:
            data = self._cross(self._inner.read(n))
            data = self._rx.apply(data) if self._rx else data
            if self._pace:
                now = time.monotonic()
                self._rx_free = max(now, self._rx_free) + 10.0 * len(data) / self._pace
                self._arriving.append((self._rx_free, data))
            else:
                self._pending += data
        if self._arriving:
            now = time.monotonic()
            while self._arriving and self._arriving[0][0] <= now:
                self._pending += self._arriving.pop(0)[1]

    def read(self, size: int = 1) -> bytes:
        if not self.is_open:
            raise PortNotOpenError()
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        while len(self._pending) < size:
            self._pull()
            if len(self._pending) >= size:
                break
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            self._wait(min(deadline if deadline is not None else now + 0.05, now + 0.05))
        out = bytes(self._pending[:size])
        del self._pending[:size]
        return out

    def _wait(self, until: float) -> None:
        """Sleep until bytes may be ready: the next paced release, or data on the inner port."""
        now = time.monotonic()
        if self._arriving:
            until = min(until, self._arriving[0][0])
        if self._leaving:
            until = min(until, self._leaving[0][0])
        if until <= now:
            return
        try:
            fd = self._inner.fileno()
        except (AttributeError, OSError, ValueError, NotImplementedError):
            time.sleep(min(until - now, 0.0005))
            return
        select.select([fd], [], [], until - now)

    def write(self, data: bytes) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        data = bytes(data)
        sent = self._cross(data)
        sent = self._tx.apply(sent) if self._tx else sent
        if self._pace:
            # wait until these bytes fit in the transmit buffer; the board sees them when their
            # last stop bit ends
            now = time.monotonic()
            self._tx_free = max(now, self._tx_free) + 10.0 * len(data) / self._pace
            self._leaving.append((self._tx_free, sent))
            ahead = self._tx_free - now - 10.0 * TX_BUFFER / self._pace
            if ahead > 0:                # sleep(0) would still give up the CPU
                time.sleep(ahead)
            self._push()
        elif sent:
            self._inner.write(sent)
        return len(data)

    def flush(self) -> None:
        if self.is_open:
            self._push()
            self._inner.flush()

    def reset_input_buffer(self) -> None:
        if not self.is_open:
            raise PortNotOpenError()
        self._push()
        self._pending.clear()
        self._arriving.clear()
        self._inner.reset_input_buffer()

    def reset_output_buffer(self) -> None:
        if not self.is_open:
            raise PortNotOpenError()
        self._inner.reset_output_buffer()
