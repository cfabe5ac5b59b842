"""The quantization report: what fixed point did to each layer, in numbers a user can check.

Users of fixed-point modes ask "my thresholds and decays changed: is that right?".  This module
answers per layer: the float parameters (time constants as retentions, threshold, weight range),
the integers chosen (12-bit ``du``/``dv``, 17-bit threshold mantissa, weight mantissas and
``weight_exp`` per projection), the relative errors, and how often the float and the fixed-point
network agree spike for spike on a seeded random input (both with the chip's timing, so a
disagreement is quantization, never latency).  ``spikefab inspect MODEL --target T --dt S`` prints
it; ``spikefab compile --report`` stores it under ``quantization.layers``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spikefab.compiler.hwnet import HwNetwork
from spikefab.compiler.hwsim import simulate as hw_simulate
from spikefab.compiler.ir.graph import Graph
from spikefab.compiler.passes.lower import LoweredView

__all__ = ["layer_report", "format_layer_report", "sample_inputs", "graph_layer_report"]


def sample_inputs(net: LoweredView, steps: int, rate: float, seed: int) -> dict[str, np.ndarray]:
    """Seeded Bernoulli input spikes, ``(steps, n)`` per input."""
    rng = np.random.default_rng(seed)
    return {n: (rng.random((steps, size)) < rate).astype(np.uint8)
            for n, size in net.inputs.items()}


def _span(a) -> tuple[float, float]:
    a = np.asarray(a, np.float64).ravel()
    return (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)


def layer_report(lowered: Graph, hw: HwNetwork, *, steps: int = 100, rate: float = 0.2,
                 seed: int = 0) -> list[dict[str, Any]]:
    """One row per population of the lowered graph: float vs fixed parameters, errors and
    spike agreement."""
    fnet = LoweredView.of(lowered)
    q = hw.meta.get("quantization", {})
    pop_rows = {r["population"]: r for r in q.get("populations", [])}
    proj_rows: dict[str, list[dict]] = {}
    for r in q.get("projections", []):
        proj_rows.setdefault(r["target"], []).append(r)
    xs = sample_inputs(fnet, steps, rate, seed)
    f_spikes: dict[str, np.ndarray] = {}
    fnet.simulate({k: v.astype(np.float64) for k, v in xs.items()}, spikes=f_spikes)
    h = hw_simulate(hw, xs, steps)
    rows = []
    for name, pop in fnet.populations.items():
        r = pop_rows.get(name, {})
        hp = hw.populations[name]
        n = hp.neuron
        beta_q = (4096 - np.asarray(n.dv, np.float64)) / 4096
        alpha_q = (4095 - np.asarray(n.du, np.float64)) / 4096
        leak = 1.0 - pop.beta
        row: dict[str, Any] = {
            "layer": name, "kind": pop.kind, "size": pop.size,
            "beta": _span(pop.beta), "beta_q": _span(beta_q),
            "alpha": _span(pop.alpha), "alpha_q": _span(alpha_q),
            "du": _span(n.du), "dv": _span(n.dv),
            # relative error of the leak per step (1 - beta): what sets the time constant
            "leak_rel_error": float(np.max(np.abs((1.0 - beta_q) - leak) / leak,
                                           where=leak > 0, initial=0.0)),
            "profiles": r.get("profiles", 1),
            "threshold": _span(pop.vth) if pop.spiking else None,
            "vth_mantissa": int(n.vth) if np.ndim(n.vth) == 0 else _span(n.vth),
            "v_scale": _span(r.get("v_scale", 0.0)),
            "projections": [{"projection": p["projection"], "weight_exp": p["weight_exp"],
                             "bits_used": p["bits_used"], "max_abs_weight": p["max_abs_weight"],
                             "rel_max_error": p["rel_max_error"], "zeroed": p["zeroed"],
                             "saturated": p["saturated"]}
                            for p in proj_rows.get(name, [])],
        }
        if pop.spiking:
            fz = f_spikes[name]
            hz = h.spikes[name].astype(bool)
            cf, ch = fz.sum(axis=0), hz.sum(axis=0)
            row.update({
                "float_spikes": int(cf.sum()), "fixed_spikes": int(ch.sum()),
                "spike_agreement": float((fz == hz).mean()) if fz.size else 1.0,
                "count_correlation": _corr(cf, ch),
            })
        rows.append(row)
    return rows


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.size < 2 or a.std() == 0 or b.std() == 0:
        return None if not np.array_equal(a, b) else 1.0
    return float(np.corrcoef(a, b)[0, 1])


def format_layer_report(rows: list[dict[str, Any]], steps: int, rate: float) -> str:
    """The report as a table."""
    def rng(t) -> str:
        if t is None:
            return "-"
        lo, hi = t
        return f"{lo:.4g}" if lo == hi else f"{lo:.4g}..{hi:.4g}"

    head = ("layer", "kind", "n", "beta float", "beta fixed (dv)", "leak err", "profiles",
            "threshold", "vth mant", "weight_exp", "w rel err", "spikes float/fixed",
            "agree", "corr")
    out = [head]
    for r in rows:
        dv = rng(r["dv"])
        exps = ",".join(str(p["weight_exp"]) for p in r["projections"]) or "-"
        werr = max((p["rel_max_error"] for p in r["projections"]), default=0.0)
        vm = r["vth_mantissa"]
        out.append((
            r["layer"], r["kind"], str(r["size"]), rng(r["beta"]), f"{rng(r['beta_q'])} ({dv})",
            f"{100 * r['leak_rel_error']:.2f}%", str(r["profiles"]), rng(r["threshold"]),
            str(vm) if isinstance(vm, int) else rng(vm), exps, f"{100 * werr:.2f}%",
            f"{r['float_spikes']}/{r['fixed_spikes']}" if "float_spikes" in r else "voltage",
            f"{100 * r['spike_agreement']:.1f}%" if "spike_agreement" in r else "-",
            "-" if r.get("count_correlation") is None else f"{r['count_correlation']:.3f}"))
    w = [max(len(row[i]) for row in out) for i in range(len(head))]
    lines = [f"quantization per layer (float vs fixed on {steps} steps of seeded random input at "
             f"rate {rate:g}, both with the chip's timing):"]
    for k, row in enumerate(out):
        lines.append("  ".join(c.ljust(x) for c, x in zip(row, w)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * x for x in w))
    return "\n".join(lines)


def graph_layer_report(graph, hw: HwNetwork, *, dt: float | None, integrator: str = "euler",
                       reset: str = "zero", steps: int = 100, rate: float = 0.2,
                       seed: int = 0) -> list[dict[str, Any]]:
    """:func:`layer_report` of a float graph and the fixed-point network compiled from it.

    ``hw`` is what the back end used (on targets with one accumulator class its weight
    exponents may have been merged), so the agreement is the image's own.
    """
    from spikefab.compiler.passes.lower import lower
    dt = float(dt if dt is not None else graph.metadata["dt"])
    return layer_report(lower(graph, dt, integrator=integrator, reset=reset), hw, steps=steps,
                        rate=rate, seed=seed)
