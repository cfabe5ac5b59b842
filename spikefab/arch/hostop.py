"""One operation of the host program on a fabric port.

Its own module so that the host program (:mod:`spikefab.arch.host`) and the parts of it that
live with their concept (the learning engine's loads and read-back,
:mod:`spikefab.arch.learning.hostio`) can both yield operations without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Op"]


@dataclass(frozen=True)
class Op:
    """One operation of the host program on a fabric port: ``port.<method>(*args, what=what)``.

    The methods every port provides (a simulator port as coroutines, a serial link as plain
    calls): ``clear()``, ``write(core, table, index, entries)``, ``read(core, table, index,
    count, dtype) -> entries``, ``inject(entries)`` (the host packets of the next run: host_queue
    and its length) and ``run(steps)`` (returns when the steps are done).  ``what`` says what the
    operation is for, for progress and error messages.
    """

    method: str
    args: tuple
    what: str
