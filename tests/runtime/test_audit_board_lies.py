"""A board that answers with CRC-valid frames the host cannot use: typed LinkErrors, no hang."""

from __future__ import annotations

import pytest

from spikefab.arch.protocol import Op
from spikefab.arch.protocol.frames import Response
from spikefab.errors import LinkError
from spikefab.runtime import open_device

from .boardmodel import BoardModel


class ShortInfoBoard(BoardModel):
    """Answers INFO with four bytes too few (CRC and framing valid)."""

    def _send(self, response: Response) -> None:
        if response.op == Op.INFO:
            response = Response(response.op, response.seq, response.status,
                                response.payload[:-4])
        super()._send(response)


def test_an_info_reply_of_the_wrong_size_is_a_link_error() -> None:
    with ShortInfoBoard() as board:
        with pytest.raises(LinkError, match=r"INFO: INFO reply must have 16 bytes, not 12 "
                                            r"\(host and board disagree on the protocol\)"):
            open_device(f"serial://{board.path}", progress=False, timeout=0.5)


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), -1.0])
def test_timeouts_that_would_never_expire_are_refused(timeout: float) -> None:
    """nan passed the old ``<= 0`` check and a board that never answered hung the host."""
    with pytest.raises(LinkError, match="link option timeout must be a positive number, not (nan|inf|-1.0)"):
        open_device("loop://", progress=False, timeout=timeout)


def test_a_pyserial_url_with_options_it_cannot_parse_is_a_link_error() -> None:
    with pytest.raises(LinkError, match=r"cannot open port 'loop://\?x=1': pyserial refused"):
        open_device("loop://?x=1", progress=False)
