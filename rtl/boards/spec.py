"""What spikefab needs to know about each supported board."""

from __future__ import annotations

from dataclasses import dataclass

from spikefab.errors import TargetError

__all__ = ["BoardSpec", "BOARDS", "get_board"]


@dataclass(frozen=True)
class BoardSpec:
    """One FPGA board.

    Attributes
    ----------
    name:
        CLI name (``--board``).
    platform_path:
        ``module:Class`` of the amaranth-boards platform (imported lazily: amaranth-boards is an
        optional dependency).
    device:
        FPGA part, for reports.
    target:
        spikefab target profile whose mesh fits this FPGA.
    clock_hz:
        Board oscillator (the SoC runs directly on it).
    baud:
        Default UART rate; ``clock_hz / baud`` must be a near-integer divisor.
    ext:
        Bitstream file extension amaranth's build produces.
    programmer, programmer_env, programmer_args:
        Programmer executable, the environment variable that overrides it (amaranth-boards'
        convention) and the arguments before the bitstream path.
    lut_cell, ff_cell, bram_cell, spram_cell:
        nextpnr cell types counted as LUTs, flip-flops, block RAMs and single-port RAMs;
        ``ff_cell=None`` counts Yosys' ``SB_DFF*`` cells instead (nextpnr reports iCE40 logic
        cells, each one LUT4 plus an optional flip-flop).
    dsp_cell:
        nextpnr cell type of the multiplier blocks.
    build_options:
        Overrides for amaranth's build script: ``synth_opts="-dsp"`` makes Yosys map the
        neuron datapath's multipliers to the iCE40's SB_MAC16 blocks (the default maps them to
        logic cells, several hundred of them per multiplier).
    engine_fmax_mhz:
        Fmax nextpnr reached for the SoC *with* the target's learning engines (docs/fpga.md;
        None: not measured).  Below the board clock the bitstream is a static build
        (:func:`spikefab.rtl.boards.fabric.board_fabric`).
    """

    name: str
    platform_path: str
    device: str
    target: str
    clock_hz: float
    baud: int
    ext: str
    programmer: str
    programmer_env: str
    programmer_args: tuple[str, ...]
    lut_cell: str
    ff_cell: str | None
    bram_cell: str
    spram_cell: str | None
    dsp_cell: str | None = None
    build_options: tuple[tuple[str, str], ...] = ()
    engine_fmax_mhz: float | None = None

    def platform(self):
        """A fresh amaranth-boards platform object."""
        from importlib import import_module

        module, cls = self.platform_path.split(":")
        return getattr(import_module(module), cls)()

    def summary(self, util: dict[str, tuple[int, int]]) -> dict[str, int]:
        """LUT / FF / BRAM / SPRAM / DSP counts from nextpnr's utilisation table."""
        def used(cell: str | None) -> int:
            return util.get(cell, (0, 0))[0] if cell else 0
        return {"luts": used(self.lut_cell), "ffs": used(self.ff_cell),
                "brams": used(self.bram_cell), "sprams": used(self.spram_cell),
                "dsps": used(self.dsp_cell)}


BOARDS: dict[str, BoardSpec] = {
    "icebreaker": BoardSpec(
        name="icebreaker", platform_path="amaranth_boards.icebreaker:ICEBreakerPlatform",
        device="iCE40UP5K-SG48", target="ice40-up5k", clock_hz=12e6, baud=1_000_000, ext="bin",
        programmer="iceprog", programmer_env="ICEPROG", programmer_args=(),
        # an iCE40 logic cell is one LUT4 plus one optional flip-flop
        lut_cell="ICESTORM_LC", ff_cell=None, bram_cell="ICESTORM_RAM",
        spram_cell="ICESTORM_SPRAM", dsp_cell="ICESTORM_DSP",
        build_options=(("synth_opts", "-dsp"),)),
    "ulx3s": BoardSpec(
        name="ulx3s", platform_path="amaranth_boards.ulx3s:ULX3S_85F_Platform",
        device="LFE5U-85F-6CABGA381", target="ecp5-85k", clock_hz=25e6, baud=1_000_000, ext="bit",
        programmer="openFPGALoader", programmer_env="OPENFPGALOADER",
        programmer_args=("-b", "ulx3s", "-m"),
        lut_cell="TRELLIS_COMB", ff_cell="TRELLIS_FF", bram_cell="DP16KD", spram_cell=None,
        dsp_cell="MULT18X18D",
        # the four engines' SoC fits (55,428 LUT4) but places at 18.9 MHz (docs/fpga.md)
        engine_fmax_mhz=18.9),
}


def get_board(name: str) -> BoardSpec:
    """The :class:`BoardSpec` called ``name``.

    Raises
    ------
    TargetError
        For an unknown board name.
    """
    try:
        return BOARDS[name]
    except KeyError:
        raise TargetError(f"board must be one of {', '.join(sorted(BOARDS))}, "
                          f"not {name!r}") from None
