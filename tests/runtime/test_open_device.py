"""URI parsing and the errors a user can trigger when opening a device."""

from __future__ import annotations

import pytest
import serial

from spikefab.errors import LinkError
from spikefab.runtime import open_device, parse_uri


def test_parse_uri() -> None:
    assert parse_uri("serial:///dev/ttyUSB1?baud=1000000") == (
        "serial", "/dev/ttyUSB1", {"baud": "1000000"})
    assert parse_uri("emu://?mode=cycle") == ("emu", "", {"mode": "cycle"})
    with pytest.raises(LinkError, match="option 'baud' must be given once"):
        parse_uri("serial:///dev/x?baud=1&baud=2")


@pytest.mark.parametrize("uri, msg", [
    ("ttyUSB1", "device URI must look like"),
    ("serial://", "must name a port"),
    ("serial:///dev/x?speed=3", "option must be baud, timeout, resend_after, progress, reset, window or weight_every, not 'speed'"),
    ("serial:///dev/x?reset=maybe", "option reset must be 0 or 1, not 'maybe'"),
    ("serial:///dev/x?baud=-3", "baud must be a positive number, not '-3'"),
    ("serial:///nonexistent/tty", "cannot open port 'serial:///nonexistent/tty'"),
    ("nosuch://x", "cannot open port 'nosuch://x'"),
    ("emu://?speed=1", "emu:// takes only the options mode and weight_every, not 'speed'"),
    ("rtlsim://?simulator=xsim", "simulator must be one of icarus, verilator, not 'xsim'"),
    ("rtlsim://?sim=icarus", "rtlsim:// takes only the options simulator and weight_every, not 'sim'"),
])
def test_bad_uris(uri: str, msg: str) -> None:
    with pytest.raises(LinkError, match=msg):
        open_device(uri)


def test_faulty_handler_is_registered_and_seeded() -> None:
    import spikefab.runtime.serial_device  # noqa: F401  (registers the handler package)
    outs = []
    for _ in range(2):
        port = serial.serial_for_url("faulty://loop://?flip=0.1&drop=0.05&dup=0.05&seed=3",
                                     timeout=0.05)
        port.write(bytes(range(256)) * 4)
        outs.append(port.read(2000))
        faults = port.faults
        port.close()
    assert outs[0] == outs[1] != bytes(range(256)) * 4
    assert faults["flip"] > 0 and faults["drop"] > 0 and faults["dup"] > 0


def test_faulty_cut_after_stops_everything() -> None:
    import spikefab.runtime.serial_device  # noqa: F401
    port = serial.serial_for_url("faulty://loop://?cut_after=10", timeout=0.05)
    port.write(b"abcdefgh")            # 8 bytes out, echoed 8 in: 16 crossed, 10 allowed
    assert port.read(100) == b"ab"
    assert port.cut
    port.write(b"more")
    assert port.read(100) == b""
    port.close()


def test_faulty_rejects_bad_options() -> None:
    import spikefab.runtime.serial_device  # noqa: F401
    with pytest.raises(ValueError, match="option must be one of"):
        serial.serial_for_url("faulty://loop://?flop=1")
    with pytest.raises(ValueError, match="rate flip must be in"):
        serial.serial_for_url("faulty://loop://?flip=2")


def test_faulty_pace_limits_the_rate_to_the_line() -> None:
    import time

    import spikefab.runtime.serial_device  # noqa: F401
    port = serial.serial_for_url("faulty://loop://?pace=9600", timeout=0.0)
    start = time.monotonic()
    port.write(bytes(96))                  # 96 bytes at 960 B/s: 0.1 s on the wire
    got = b""
    while len(got) < 96:
        got += port.read(96)
    arrived = time.monotonic() - start
    port.close()
    assert got == bytes(96)
    assert arrived >= 0.1                  # a lower bound: the line can never be faster
