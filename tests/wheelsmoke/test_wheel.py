"""``pip install spikefab`` (the wheel, no extras) works on Python 3.11, 3.12 and 3.13.

The wheel is built once (``pip wheel --no-deps``) and installed into one venv per Python with no
extra (cached under ``build/wheel-smoke/`` while the wheel is unchanged, see wheel_env.py).  In
each, from a folder outside the checkout: ``spikefab --version``, ``targets``, the hello network
compiled and run from the copy the wheel ships (same spikes as this checkout gives), its
``estimate`` and ``report``, ``demo --quick`` and ``inspect`` of the demo's NIR model, ``deploy`` without the RTL, and ``rtl verilog`` stopping with the typed
missing-extra error.  The three Pythons run side by side (wheel_env.smoke_all).  A Python that
is not installed is skipped with a message saying so, and so is one whose smoke already passed
for this very wheel and test code (a stamp in its venv; ``rm -r build/wheel-smoke`` reruns).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from . import wheel_env
from .wheel_env import PYTHONS, ROOT, Smoke, build_wheel, smoke_all, wheel_requirements

pytestmark = pytest.mark.wheel

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
HINT = 'pip install "spikefab[rtl]"'
STEPS = 20


@pytest.fixture(scope="session")
def wheel() -> Path:
    return build_wheel(sys.executable)


def test_wheel_carries_examples_profiles_and_no_tests(wheel):
    assert wheel.name == f"spikefab-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    for example in ("digits", "hello_builder"):
        assert f"spikefab/examples/{example}.py" in names
    for target in ("darwin3", "ice40-up5k"):
        assert f"spikefab/arch/profiles/{target}.toml" in names
    assert "spikefab/rtl/virtual_board/harness.cpp" in names
    assert not any(n.startswith(("tests/", "examples/", "docs/")) for n in names)
    requires = " ".join(wheel_requirements(wheel))
    assert "scikit-learn" in requires and "matplotlib" in requires and "amaranth" not in requires


def _hello_spikes_here() -> np.ndarray:
    """The hello network on ice40-up5k, cycle engine, run by this checkout."""
    import spikefab as sf
    from spikefab.demo import load_example

    hello = load_example("hello_builder")
    image = sf.compile(hello.build(), target="ice40-up5k", progress=False)
    return sf.run(image, {"x": hello.input_pattern(STEPS)}, STEPS, mode="cycle").spikes["y"]


@pytest.fixture(scope="session")
def smoke_results(wheel, tmp_path_factory) -> dict[str, object]:
    return smoke_all(wheel, tmp_path_factory.mktemp("wheel-smoke"), STEPS)


def _check(result: Smoke, name: str, rc: int = 0) -> subprocess.CompletedProcess:
    proc = result.steps[name]
    assert proc.returncode == rc, (f"{name}: {' '.join(proc.args)} exited {proc.returncode}, "
                                   f"not {rc}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


@pytest.mark.parametrize("version", PYTHONS)
def test_wheel_without_extras(version, wheel, smoke_results):
    result = smoke_results[version]
    if result is None:
        pytest.skip(f"Python {version} is not installed (no pyenv version {version}.x under "
                    f"$PYENV_ROOT/versions, no python{version} on PATH): wheel smoke skipped")
    if result == "passed":
        pytest.skip(f"the smoke passed on Python {version} for this very wheel and test code "
                    f"before (build/wheel-smoke/venv-{version}/.smoke-passed); remove "
                    f"build/wheel-smoke to run it again")
    if isinstance(result, Exception):
        raise result
    py_version, pkg_file, hello_file, extras = _check(result, "probe").stdout.splitlines()[:4]
    venv = wheel_env.CACHE / f"venv-{version}"
    assert py_version == str(tuple(int(x) for x in version.split(".")))
    assert Path(pkg_file).is_relative_to(venv) and Path(hello_file).is_relative_to(venv), \
        "spikefab must come from the venv, not the checkout"
    assert extras == "[]", f"no extra may be installed in the smoke venv, found {extras}"

    assert _check(result, "version").stdout.strip() == f"spikefab {VERSION}"
    from spikefab.arch.target import target_names
    listing = _check(result, "targets").stdout
    assert all(name in listing for name in target_names())

    # the hello network: the shipped example as a script, then as a builder for `compile`
    _check(result, "hello script")
    _check(result, "compile")
    assert "cycles/step" in _check(result, "run").stdout
    work = result.work
    assert (work / "hello" / "hello.sfi").is_file()
    with np.load(work / "out.npz") as got:
        assert np.array_equal(got["y"], _hello_spikes_here())

    assert "energy per inference" in _check(result, "estimate").stdout
    _check(result, "report")
    assert json.loads((work / "report" / "report.json").read_text())["target"] == "ice40-up5k"

    assert "float SNN accuracy" in _check(result, "demo").stdout
    summary = json.loads((work / "demo" / "digits.json").read_text())
    assert summary["test_samples"] == 90
    assert set(summary["targets"]) == {"darwin3", "ice40-up5k"}
    assert all(t["cycle_checked"] == 5 for t in summary["targets"].values())
    assert (work / "demo" / "report" / "report.json").is_file()
    assert "if0" in _check(result, "inspect").stdout            # the demo's NIR model

    # deploy needs no extra: a closed port is a link error, not a missing module
    deploy = _check(result, "deploy", rc=2)
    assert deploy.stderr.startswith("error: ")
    assert "extra" not in deploy.stderr and "Traceback" not in deploy.stderr

    rtl = _check(result, "rtl verilog", rc=2)
    assert rtl.stderr.startswith("error: spikefab rtl verilog needs the 'rtl' extra")
    assert HINT in rtl.stderr and "Traceback" not in rtl.stderr
    wheel_env.mark_passed(version, wheel)
