"""Time constants against the time step: the retention factors a neuron node gets at ``dt``.

A leak with time constant ``tau`` keeps ``beta = 1 - dt/tau`` (Euler) or ``exp(-dt/tau)``
(exact) of its state per step.  Only ``0 <= beta <= 1`` is a leak: a negative retention flips the
sign of the state every step and grows it without bound (a float simulation diverges, the
chip's 12-bit decay clips it to something else entirely).  ``beta = 0`` (``tau = dt``) is kept:
a neuron that forgets everything each step is what a trained ``beta = 0`` layer means.

Two exporters are known to write time constants that fail this test, and the error says so
with the numbers that would fix them:

* Norse 1.1 writes ``tau * dt`` (``1e-5`` for 10 ms at ``dt = 1e-3``): the intended constant is
  ``tau / dt``;
* lava-dl is step-based and writes its per-step decay fraction ``d`` where NIR expects a time
  constant: the intended constant is ``dt / d``.

:func:`retention` is what every leaky neuron node's ``discretize`` calls (so the float
simulator and Lower share it); Quantize checks its 12-bit decays in ``passes/decays.py``.
"""

from __future__ import annotations

import numpy as np

from spikefab.errors import ModelError

__all__ = ["decay_factor", "retention", "ROUNDING"]

#: Retentions this far outside [0, 1] are float rounding (float32 time constants), not errors.
ROUNDING = 1e-5


def decay_factor(dt: float, tau: np.ndarray, integrator: str) -> np.ndarray:
    """Per-step retention of a leak with time constant ``tau`` (euler: 1-dt/tau, exact: e^-dt/tau)."""
    tau = np.asarray(tau, np.float64)
    if integrator == "euler":
        return 1.0 - dt / tau
    if integrator == "exact":
        return np.exp(-dt / tau)
    raise ModelError(f"integrator must be 'euler' or 'exact', not {integrator!r}")


def _fmt(a: np.ndarray) -> str:
    a = np.unique(np.asarray(a, np.float64).ravel())
    if a.size == 1:
        return f"{a[0]:.6g}"
    return f"{a.min():.6g}..{a.max():.6g} ({a.size} distinct values)"


def retention(node_name: str, param: str, tau, dt: float, integrator: str) -> np.ndarray:
    """Per-step retention of ``tau`` at ``dt``; :class:`ModelError` when it is not a leak."""
    tau = np.asarray(tau, np.float64)
    where = f"node {node_name!r}"
    if tau.size and (not np.all(np.isfinite(tau)) or np.any(tau <= 0)):
        bad = tau[~np.isfinite(tau) | (tau <= 0)].ravel()[0]
        raise ModelError(f"{where}: {param} must be a positive number of seconds, not {bad!r}",
                         where=node_name)
    with np.errstate(over="ignore"):
        beta = decay_factor(dt, tau, integrator)
    # tau = dt stored as float32 gives beta = -2e-7: rounding, not a defect (tolerated, clipped)
    bad = (beta < -ROUNDING) | (beta > 1 + ROUNDING)
    if not np.any(bad):
        return np.clip(beta, 0.0, 1.0)
    t_bad = tau[bad] if tau.ndim else tau
    b_bad = beta[bad] if beta.ndim else beta
    hint = ""
    t_small = float(np.min(t_bad))
    if t_small < dt:
        hint = (f". Known exporter defects that write such values: Norse 1.1 writes tau*dt "
                f"(then the intended {param} is tau/dt = {_fmt(t_bad / dt)} s); lava-dl writes "
                f"its per-step decay fraction d (then the intended {param} is dt/d = "
                f"{_fmt(dt / t_bad)} s). Fix the graph's {param} (or re-export) and compile again")
        if param in ("tau_mem", "tau_syn"):     # Norse's LIFCell adds each input to i whole
            hint += (f"; a Norse LIFCell (CubaLIF) also needs w_in = tau_syn/dt (Norse adds "
                     f"each input to the current whole, NIR scales it by dt/tau_syn)")
    raise ModelError(
        f"{where}: {param} = {_fmt(t_bad)} s at dt = {dt:g} s gives a per-step retention "
        f"{_fmt(b_bad)} ({integrator} rule), which must be in [0, 1]: {param} must be at least "
        f"dt = {dt:g} s with the {integrator} rule, or dt at most {float(np.min(t_bad)):g} s"
        f"{hint}", where=node_name)
