"""``setup``/``run``/``reset``/``end`` and the state queries, built by PyNN's ``common`` factories.

``setup`` takes PyNN's arguments plus where the network runs:

``target``
    a spikefab target name or profile (``loihi1``, ``darwin3``, ...); default ``loihi1``.
``mode``
    ``"functional"`` (time-step exact emulator, default), ``"cycle"`` (cycle-accurate
    emulator: adds latency and energy per step) or ``"float"`` (the same network in double
    precision, before quantization: the software reference of a PyCARL-style comparison).
``device``
    a runtime URI (``"emu://"``, ``"rtlsim://"``, ``"serial:///dev/ttyUSB1"``): the compiled
    image runs there instead (spikes only; ``v`` cannot be probed on a device).
``placer``, ``rng_seed``
    the compiler's placer (``"sequential"`` default, ``"anneal"``) and the seed of Poisson
    sources.
"""

from __future__ import annotations

import numbers

import numpy as np
from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.recording import get_io

from spikefab.errors import InputError
from spikefab.pynn import simulator
from spikefab.pynn.lowering import MAX_DELAY_STEPS

__all__ = ["setup", "end", "run", "run_until", "run_for", "reset", "initialize",
           "get_current_time", "get_time_step", "get_min_delay", "get_max_delay",
           "num_processes", "rank"]

#: Largest synaptic delay in time steps (6-bit delay field of the synapse memory).

#: setup() options forced on every script (``spikefab compare`` runs one script in two modes).
OVERRIDES: dict[str, object] = {}


def setup(timestep: float = DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY,
          **extra_params) -> int:
    """Start a new network; see the module docstring for the spikefab options."""
    extra_params = {**extra_params, **OVERRIDES}
    common.setup(timestep, min_delay, **extra_params)
    state = simulator.state
    mode = extra_params.get("mode", "functional")
    if mode not in simulator.MODES:
        raise InputError(f"setup: mode must be one of {', '.join(simulator.MODES)}, not "
                         f"{mode!r}")
    if not timestep > 0:
        raise InputError(f"setup: timestep must be > 0 ms, not {timestep!r}")
    state.clear()
    state.dt = float(timestep)
    state.min_delay = state.dt if min_delay == "auto" else float(min_delay)
    max_delay = extra_params.get("max_delay", DEFAULT_MAX_DELAY)
    state.max_delay = MAX_DELAY_STEPS * state.dt if max_delay == "auto" else float(max_delay)
    state.target = extra_params.get("target", "loihi1")
    state.mode = mode
    state.device = extra_params.get("device")
    state.placer = extra_params.get("placer", "sequential")
    seed = extra_params.get("rng_seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"setup: rng_seed must be an integer >= 0 (the seed of the Poisson "
                         f"sources and the placer), not {seed!r}")
    state.seed = int(seed)
    # under mpirun every rank runs the script and holds every cell (the emulator itself runs
    # over the ranks): rank() is the real rank, so PyNN writes files and prints on rank 0 only
    from spikefab.emulator.distributed.comm import launched_ranks
    state.mpi_rank = launched_ranks()[0]
    state.num_processes = 1
    return rank()


def end(compatible_output: bool = True) -> None:
    """Write the data requested with ``record(..., to_file=...)``."""
    for population, variables, filename in simulator.state.write_on_end:
        population.write_data(get_io(filename), variables)
    simulator.state.write_on_end = []


_run, _run_until = common.build_run(simulator)


def _real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def run_until(time_point, callbacks=None) -> float:
    """PyNN's ``run_until``; an end time before now or no number is an ``InputError`` (PyNN's
    own check was a bare ``ValueError``)."""
    now = simulator.state.t
    if not _real(time_point):
        raise InputError(f"run_until: the end time must be a number of ms, not {time_point!r}",
                         where="run_until")
    if time_point - now < -simulator.state.dt / 2:
        raise InputError(f"run_until: the end time {time_point:g} ms is before the current "
                         f"time {now:g} ms; runs only go forward (reset() returns to 0 ms)",
                         where="run_until")
    return _run_until(time_point, callbacks)


def run(simtime, callbacks=None) -> float:
    """PyNN's ``run``; a negative duration or no number is an ``InputError``."""
    if not _real(simtime):
        raise InputError(f"run: the duration must be a number of ms, not {simtime!r}",
                         where="run")
    if simtime < -simulator.state.dt / 2:
        raise InputError(f"run: the duration must be >= 0 ms, not {simtime:g} ms (now at "
                         f"{simulator.state.t:g} ms)", where="run")
    return _run_until(simulator.state.t + simtime, callbacks)


run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank = \
    common.build_state_queries(simulator)
