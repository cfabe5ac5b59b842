"""Shared fixtures of the RTL tests: simulators built once per session and reused for all images."""

from __future__ import annotations

import dataclasses

import pytest

from spikefab.errors import ToolError
from spikefab.rtl.params import mesh_params
from spikefab.rtl.sim.driver import build_simulator, simulator_problem

TARGET = "ice40-up5k"          # the serial core (one core on the UP5K)
PARALLEL_TARGET = "ecp5-85k"   # the parallel core (2 x 2 mesh, four cores)


def _built(simulator: str, tmp_path_factory, target: str = TARGET, params=None):
    problem = simulator_problem(simulator)
    if problem:
        pytest.skip(f"{simulator}: {problem}")
    try:
        return build_simulator(target, simulator,
                               tmp_path_factory.mktemp(f"rtlsim-{target}-{simulator}"), params)
    except ToolError as exc:
        if simulator == "verilator":      # an installed but unusable toolchain: skip, say why
            pytest.skip(f"verilator cannot build the Mesh here: {str(exc).splitlines()[0]}")
        raise


@pytest.fixture(scope="session")
def icarus_sim(tmp_path_factory):
    """The ice40-up5k Mesh built on Icarus (once per session)."""
    return _built("icarus", tmp_path_factory)


@pytest.fixture(scope="session")
def verilator_sim(tmp_path_factory):
    """The ice40-up5k Mesh built on Verilator (once per session; skipped if it cannot build)."""
    return _built("verilator", tmp_path_factory)


@pytest.fixture(scope="session")
def icarus_sim_parallel(tmp_path_factory):
    """The ecp5-85k Mesh (parallel cores) built on Icarus (once per session)."""
    return _built("icarus", tmp_path_factory, PARALLEL_TARGET)


def _one_core():
    return dataclasses.replace(mesh_params(PARALLEL_TARGET), mesh_x=1, mesh_y=1)


@pytest.fixture(scope="session")
def icarus_sim_parallel_core(tmp_path_factory):
    """One ecp5-85k parallel core (with its learning engine) on a 1 x 1 mesh, on Icarus
    (once per session): images on core (0, 0) only, a few times faster than the full mesh."""
    return _built("icarus", tmp_path_factory, PARALLEL_TARGET, _one_core())


@pytest.fixture(scope="session")
def verilator_sim_parallel_core(tmp_path_factory):
    """One ecp5-85k parallel core (with its learning engine) on a 1 x 1 mesh, built on
    Verilator (once per session; skipped if it cannot build): images on core (0, 0) only, a
    quarter of the full mesh's build."""
    return _built("verilator", tmp_path_factory, PARALLEL_TARGET, _one_core())
