"""PyCARL-style comparison: one PyNN script in float and on a hardware model, side by side.

PyCARL (Balaji et al., 2020) put hardware models behind PyNN so that a modeller can see what
running on the chip changes without rewriting the model.  :func:`compare` runs a script written
for ``spikefab.pynn`` twice, forcing ``setup(mode="float")`` and then the chosen engine and
target (the script's own ``setup`` arguments are overridden), and reports per population the
rate and irregularity in both runs, how far the chip's spike times are from the float ones, and
the chip's latency and energy per time step with the sources the target profile cites.
"""

from __future__ import annotations

import json
import math
import runpy
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from spikefab.errors import InputError, ModelError, SpikefabError
from spikefab.pynn import control, simulator
from spikefab.pynn.lowering import SOURCES
from spikefab.pynn.stats import spike_stats

__all__ = ["PopulationComparison", "Comparison", "compare", "run_script"]


@dataclass
class PopulationComparison:
    """One population: float vs hardware.

    ``spike_time_diff_ms`` is the median over the hardware's spikes of the distance to the
    nearest float spike of the same neuron (NaN when either run has none);
    ``matched_within_1ms`` the fraction of hardware spikes with a float spike within 1 ms.
    """

    label: str
    size: int
    float_spikes: int
    hw_spikes: int
    float_rate_hz: float
    hw_rate_hz: float
    rate_diff_hz: float
    float_cv_isi: float
    hw_cv_isi: float
    spike_time_diff_ms: float
    matched_within_1ms: float


@dataclass
class Comparison:
    """The whole report; :meth:`format` prints it, :meth:`to_json` saves it."""

    script: str
    target: str
    mode: str
    steps: int
    dt_ms: float
    populations: list[PopulationComparison]
    latency_us_per_step: float | None
    energy_pj_per_step: float | None
    energy_breakdown_pj_per_step: dict[str, float] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(asdict(self), indent=2, default=float) + "\n")
        return path

    def format(self) -> str:
        lines = [f"{self.script}: float vs {self.target} ({self.mode}), {self.steps} steps of "
                 f"{self.dt_ms:g} ms", ""]
        head = ("population", "n", "rate float", "rate hw", "diff", "CV float", "CV hw",
                "|dt| median", "within 1 ms")
        rows = [head] + [(p.label, str(p.size), f"{p.float_rate_hz:.2f} Hz",
                          f"{p.hw_rate_hz:.2f} Hz", f"{p.rate_diff_hz:+.2f} Hz",
                          f"{p.float_cv_isi:.3f}", f"{p.hw_cv_isi:.3f}",
                          f"{p.spike_time_diff_ms:.2f} ms", f"{p.matched_within_1ms:.0%}")
                         for p in self.populations]
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        for r in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        lines.append("")
        if self.latency_us_per_step is not None:
            lines.append(f"latency per step (modelled): {self.latency_us_per_step:.4f} us")
        if self.energy_pj_per_step is not None:
            lines.append(f"energy per step (modelled):  {self.energy_pj_per_step:,.1f} pJ")
            for k, v in self.energy_breakdown_pj_per_step.items():
                lines.append(f"  {k}: {v:,.1f} pJ")
        for k in ("synops", "spikes", "packets"):
            if k in self.counters:
                lines.append(f"{k}: {self.counters[k]:,}")
        for k, v in self.sources.items():
            lines.append(f"source of {k}: {v}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


@dataclass
class ScriptRun:
    """What one run of a script left in the backend: populations and their spikes."""

    labels: dict[int, str]
    sizes: dict[int, int]
    spikes: dict[int, np.ndarray]
    steps: int
    dt: float
    result: Any
    notes: list[str]


def run_script(script: str | Path, args: Sequence[str] = (), **setup: Any) -> ScriptRun:
    """Run a ``spikefab.pynn`` script with ``setup`` options forced; what it simulated."""
    path = Path(script)
    if path.suffix == ".py" and not path.is_file():
        raise InputError(f"script {str(path)!r} does not exist"
                         f"{' (it is a folder)' if path.is_dir() else ''}", where=str(path))
    if path.suffix != ".py" or not path.is_file():
        raise InputError(f"model must be a PyNN script (.py) using spikefab.pynn, not {str(path)!r}")
    argv, saved = sys.argv, dict(control.OVERRIDES)
    control.OVERRIDES.clear()
    control.OVERRIDES.update(setup)
    sys.argv = [str(path), *args]
    simulator.state.clear()
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise ModelError(f"script {str(path)!r} exited with status {exc.code}") from None
    except SpikefabError:
        raise
    except Exception as exc:                  # the user's script failed: say where, no traceback
        raise ModelError(f"script {str(path)!r} failed: {type(exc).__name__}: {exc}") from None
    finally:
        sys.argv = argv
        control.OVERRIDES.clear()
        control.OVERRIDES.update(saved)
    state = simulator.state
    out = state.outcome
    if out is None or not state.populations:
        raise ModelError(f"script {str(path)!r} must build a network with spikefab.pynn (import "
                         f"spikefab.pynn as sim) and run it; it left nothing to compare")
    cells = [p for p in state.populations if p._index in out.spikes
             and type(p.celltype).__name__ not in SOURCES]      # sources: same in both runs
    if not cells:
        raise ModelError(f"script {str(path)!r} runs spike sources only: compare needs a cell "
                         f"population (IF_curr_exp, IF_curr_delta) to run in float and on the "
                         f"chip", where=str(path))
    return ScriptRun({p._index: p.label for p in cells}, {p._index: p.size for p in cells},
                     dict(out.spikes), out.steps, state.dt, out.result, list(out.notes))


def _time_diffs(a: np.ndarray, b: np.ndarray, dt: float) -> np.ndarray:
    """Per spike of ``b``: distance (ms) to the nearest spike of the same neuron in ``a``."""
    out = []
    for i in range(a.shape[1]):
        ta, tb = np.nonzero(a[:, i])[0] * dt, np.nonzero(b[:, i])[0] * dt
        if len(ta) and len(tb):
            k = np.clip(np.searchsorted(ta, tb), 1, len(ta)) - 1
            k2 = np.clip(k + 1, 0, len(ta) - 1)
            out.append(np.minimum(np.abs(tb - ta[k]), np.abs(tb - ta[k2])))
    return np.concatenate(out) if out else np.zeros(0)


def _population(label: str, fs: np.ndarray, hs: np.ndarray, dt: float) -> PopulationComparison:
    dur = fs.shape[0] * dt

    def st(x):
        t, i = np.nonzero(x)
        return spike_stats(t * dt, i, x.shape[1], dur)
    f, h = st(fs), st(hs)
    d = _time_diffs(fs, hs, dt)
    return PopulationComparison(
        label=label, size=f.neurons, float_spikes=f.spikes, hw_spikes=h.spikes,
        float_rate_hz=f.rate_hz, hw_rate_hz=h.rate_hz, rate_diff_hz=h.rate_hz - f.rate_hz,
        float_cv_isi=f.cv_isi, hw_cv_isi=h.cv_isi,
        spike_time_diff_ms=float(np.median(d)) if d.size else math.nan,
        matched_within_1ms=float(np.mean(d <= 1.0 + 1e-9)) if d.size else math.nan)


def compare(script: str | Path, target: str = "loihi1", mode: str = "cycle",
            args: Sequence[str] = (), device: str | None = None) -> Comparison:
    """Run ``script`` in float and on ``target`` (``mode`` functional/cycle, or ``device``).

    Returns a :class:`Comparison`; latency and energy come from the hardware run (the cycle
    engine measures cycles per step, the functional engine estimates them).
    """
    if mode not in ("functional", "cycle"):
        raise InputError(f"mode must be 'functional' or 'cycle' (the float run is always "
                         f"made), not {mode!r}")
    ref = run_script(script, args, mode="float")
    hw = run_script(script, args, mode=mode, target=target, device=device)
    if ref.sizes != hw.sizes or ref.steps != hw.steps:
        raise ModelError(f"script {str(script)!r} built different networks or ran for different "
                         f"times in the two runs ({ref.steps} and {hw.steps} steps); it must be "
                         f"deterministic")
    pops = [_population(ref.labels[i], ref.spikes[i], hw.spikes[i], ref.dt) for i in ref.labels]
    res, steps = hw.result, hw.steps
    from spikefab.arch.target import load_target
    tgt = load_target(target)
    sources = {k: v for k, v in tgt.sources.items() if k.startswith(("energy", "timing"))}
    per_step = (lambda v: None if v is None or not steps else float(v) / steps)
    counters = {k: int(v) for k, v in (res.counters if res else {}).items()
                if isinstance(v, (int, np.integer))}
    return Comparison(
        script=str(script), target=target, mode=mode if device is None else f"device {device}",
        steps=steps, dt_ms=hw.dt, populations=pops,
        latency_us_per_step=per_step(res.latency_us) if res else None,
        energy_pj_per_step=per_step(res.energy_pj) if res else None,
        energy_breakdown_pj_per_step={k: v / steps for k, v in
                                      (res.energy_breakdown if res else {}).items()},
        counters=counters, sources=sources, notes=hw.notes)
