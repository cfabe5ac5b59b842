"""``emu://[?mode=functional|cycle&weight_every=N]``: the emulator behind the Device API.

``weight_every=N`` makes every run's Result carry the plastic projections' weights every N
steps (``Result.weight_snapshots``); :meth:`read_weights` returns the learned weights.

A thin adapter: :func:`spikefab.emulator.simulate` does the work, so ``emu://`` gives exactly
what ``spikefab.run(image, ..., mode=...)`` gives.  It exists so scripts written against a
board run unchanged without one.
"""

from __future__ import annotations

from typing import Any, Mapping

from spikefab.arch.image import Image
from spikefab.arch.result import Result
from spikefab.arch.validate import check_fits
from spikefab.arch.target import load_target
from spikefab.errors import InputError, LinkError
from spikefab.runtime.device import InProcessDevice, weight_every_option

__all__ = ["EmuDevice"]


class EmuDevice(InProcessDevice):
    """The functional or cycle engine of :mod:`spikefab.emulator`, in process."""

    def __init__(self, *, uri: str = "emu://", mode: str = "functional",
                 weight_every: int = 0) -> None:
        super().__init__()
        from spikefab.emulator import MODES
        if mode not in MODES:
            raise InputError(f"emu:// mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.uri = uri
        self.mode = mode
        self.weight_every = weight_every_option(weight_every, "emu")

    @classmethod
    def from_uri(cls, uri: str, path: str, opts: dict[str, Any]) -> "EmuDevice":
        unknown = set(opts) - {"mode", "weight_every"}
        if unknown or path:
            what = sorted(unknown)[0] if unknown else path
            raise LinkError(f"emu:// takes only the options mode and weight_every, not {what!r} "
                            f"(in {uri!r})")
        return cls(uri=uri, mode=str(opts.get("mode", "functional")),
                   weight_every=opts.get("weight_every", 0))

    def load(self, image: Image) -> None:
        check_fits(image, load_target(image.target))
        self.image = image

    def run(self, inputs: Mapping[str, Any] | None, steps: int) -> Result:
        from spikefab.emulator import simulate
        result = simulate(self._loaded(), inputs, steps, mode=self.mode,
                          weight_every=self.weight_every)
        return self._remember(result)


