"""``rtlsim://[?simulator=icarus|verilator&weight_every=N]``: the RTL fabric under cocotb behind
the Device API.

A thin adapter over :mod:`spikefab.rtl.sim.driver`: the Mesh of the image's target is exported
to Verilog and built once (cached), then each :meth:`RtlSimDevice.run` is one simulator run that
loads the image through the fabric's memory port, injects, runs and reads back -- the same
sequence the serial protocol performs on a board (``docs/host-protocol.md`` section 7).
``weight_every=N`` stops the fabric at every N-th step to read the plastic weights
(``Result.weight_snapshots``, as ``emu://`` and ``serial://`` give them).
"""

from __future__ import annotations

from typing import Any, Mapping

from spikefab.arch.image import Image
from spikefab.arch.result import Result
from spikefab.arch.target import load_target
from spikefab.errors import LinkError
from spikefab.runtime.device import InProcessDevice, weight_every_option

__all__ = ["RtlSimDevice"]


class RtlSimDevice(InProcessDevice):
    """The image's target fabric simulated by Icarus or Verilator (via cocotb)."""

    def __init__(self, *, uri: str = "rtlsim://", simulator: str = "icarus",
                 weight_every: int = 0) -> None:
        super().__init__()
        from spikefab.rtl.sim.driver import SIMULATORS
        if simulator not in SIMULATORS:
            raise LinkError(f"rtlsim:// simulator must be one of {', '.join(SIMULATORS)}, not "
                            f"{simulator!r}")
        self.weight_every = weight_every_option(weight_every, "rtlsim")
        self.uri = uri
        self.simulator = simulator
        self._sim = None

    @classmethod
    def from_uri(cls, uri: str, path: str, opts: dict[str, Any]) -> "RtlSimDevice":
        unknown = set(opts) - {"simulator", "weight_every"}
        if unknown or path:
            what = sorted(unknown)[0] if unknown else path
            raise LinkError(f"rtlsim:// takes only the options simulator and weight_every, not "
                            f"{what!r} (in {uri!r})")
        return cls(uri=uri, simulator=str(opts.get("simulator", "icarus")),
                   weight_every=opts.get("weight_every", 0))

    def load(self, image: Image) -> None:
        """Check the image fits the RTL and build (or find cached) the simulator of its target."""
        from spikefab.rtl.params import check_rtl_image, mesh_params
        from spikefab.rtl.sim.driver import build_simulator

        target = load_target(image.target)
        check_rtl_image(image, target, mesh_params(target))
        if self._sim is None or self._sim.target.name != target.name:
            self._sim = build_simulator(target, self.simulator)
        self.image = image

    def run(self, inputs: Mapping[str, Any] | None, steps: int) -> Result:
        from spikefab.rtl.sim.program import jobs_from

        image = self._loaded()
        result = self._sim.run([jobs_from(image, inputs, steps, self.weight_every)])[0]
        return self._remember(result)


