"""What every backend returns, and the input checks every backend shares.

The emulator engines, the RTL simulation and a board behind a serial link all return a
:class:`Result` of the same shape, so that the invariant "same image + same input -> same output"
is one ``==`` away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from spikefab.arch.errors import InputError

if TYPE_CHECKING:
    from spikefab.arch.image import Image

__all__ = ["Result", "normalize_inputs", "parse_probe", "PROBE_VARIABLES", "readout_probes",
           "readout_values"]

PROBE_VARIABLES = ("u", "v", "theta", "ref", "s")


@dataclass
class Result:
    """Spikes, probes, counters and costs of one run.

    Attributes
    ----------
    spikes:
        Output name -> ``(steps, n)`` uint8 array (1 where the output neuron spiked in that step).
    traces:
        Probe (``"pop.v"``) -> ``(steps, n)`` int64: the variable at the end of each step.
    values:
        Voltage-readout output name (an LI / CubaLI / I layer that ends the graph) ->
        ``(steps, n)`` float64: its voltage at the end of each step in the graph's own units
        (the integer voltage divided by the manifest's ``v_scale``).  Its entry in ``spikes``
        stays all zeros: such a layer never spikes.
    final_state:
        Per core, a STATE_DTYPE array of the neuron state after the last step.
    counters:
        Event counts (``synops``, ``spikes``, ``neuron_updates`` ...); backend-specific extras allowed.
    cycles_per_step:
        ``(steps,)`` int64 clock cycles per time step (cycle-accurate backends only).
    """

    spikes: dict[str, np.ndarray]
    traces: dict[str, np.ndarray] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict)
    final_state: list[np.ndarray] = field(default_factory=list)
    counters: dict[str, Any] = field(default_factory=dict)
    cycles_per_step: np.ndarray | None = None
    latency_us: float | None = None
    energy_pj: float | None = None
    energy_breakdown: dict[str, float] = field(default_factory=dict)
    backend: str = ""
    #: on-chip learning: plastic projection -> (n_post, n_pre) weights after the last step
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    #: plastic projection -> (k, n_post, n_pre) weights after steps N, 2N, ... (weight_every=N)
    weight_snapshots: dict[str, np.ndarray] = field(default_factory=dict)

    def same_behaviour(self, other: "Result") -> bool:
        """True if spikes and final neuron states are identical (the cross-backend invariant)."""
        if self.spikes.keys() != other.spikes.keys():
            return False
        if any(not np.array_equal(self.spikes[k], other.spikes[k]) for k in self.spikes):
            return False
        if len(self.final_state) != len(other.final_state):
            return False
        if self.weights.keys() != other.weights.keys() or any(
                not np.array_equal(self.weights[k], other.weights[k]) for k in self.weights):
            return False
        return all(np.array_equal(a, b) for a, b in zip(self.final_state, other.final_state))

    def save_npz(self, path) -> None:
        """Write ``out.npz``: each output under its name (spikes as uint8, a voltage readout as
        float64 values), plus ``cycles_per_step`` if known and ``trace:pop.var`` per probe."""
        arrays = {k: v.astype(np.uint8) for k, v in self.spikes.items()}
        arrays.update({k: np.asarray(v, np.float64) for k, v in self.values.items()})
        if self.cycles_per_step is not None:
            arrays["cycles_per_step"] = np.asarray(self.cycles_per_step, np.int64)
        for k, v in self.traces.items():
            arrays[f"trace:{k}"] = v
        for k, v in self.weights.items():          # on-chip learning: learned weights
            arrays[f"weights:{k}"] = v
        np.savez(path, **arrays)


#: Largest step count of a run (the host link and the step counters are 32-bit).
MAX_STEPS = (1 << 31) - 1

def normalize_inputs(image: "Image", inputs: Mapping[str, Any] | None,
                     steps: int) -> dict[str, np.ndarray]:
    """Check run inputs against the manifest; return name -> ``(steps, n)`` uint8 arrays.

    Missing inputs are silent (all zeros); shorter arrays are padded with zeros; unknown names,
    wrong widths, longer arrays and non-binary values are :class:`InputError`.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) \
            or not 0 <= steps <= MAX_STEPS:
        raise InputError(f"steps must be an integer in [0, {MAX_STEPS}], not {steps!r}")
    declared = image.inputs
    if inputs is not None and not isinstance(inputs, Mapping):
        raise InputError(f"inputs must be a mapping of input name -> (steps, n) spikes, not "
                         f"{type(inputs).__name__}; the image's inputs are "
                         f"{', '.join(sorted(declared)) or 'none'}")
    inputs = dict(inputs or {})
    for name in inputs:
        if name not in declared:
            raise InputError(f"input {name!r} is not in the image; it has "
                             f"{', '.join(sorted(declared)) or 'no inputs'}", where=name)
    out = {}
    for name, spec in declared.items():
        n = int(spec["size"])
        if name not in inputs:
            out[name] = np.zeros((steps, n), np.uint8)
            continue
        arr = np.asarray(inputs[name])
        if arr.ndim == 1 and n == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != n:
            raise InputError(f"input {name!r} must have shape (steps, {n}), not {arr.shape}",
                             where=name)
        if arr.shape[0] > steps:
            raise InputError(f"input {name!r} has {arr.shape[0]} steps, run asks for {steps}",
                             where=name)
        if arr.size and not np.isin(arr, (0, 1)).all():
            raise InputError(f"input {name!r} must hold spikes (0 or 1)", where=name)
        full = np.zeros((steps, n), np.uint8)
        full[:arr.shape[0]] = arr
        out[name] = full
    return out


def parse_probe(image: "Image", probe: str) -> tuple[str, str]:
    """Split ``"pop.var"``; raise :class:`InputError` for an unknown population or variable."""
    if not isinstance(probe, str):
        raise InputError(f"probe must be a 'population.variable' string, not {probe!r}")
    pop, _, var = probe.rpartition(".")
    if not pop or var not in PROBE_VARIABLES:
        raise InputError(f"probe must be 'population.variable' with variable one of "
                         f"{', '.join(PROBE_VARIABLES)}, not {probe!r}", where=probe)
    if pop not in image.populations:
        raise InputError(f"probe {probe!r}: population {pop!r} is not in the image; it has "
                         f"{', '.join(sorted(image.populations)) or 'none'}", where=probe)
    return pop, var


def readout_probes(image: "Image") -> dict[str, str]:
    """Output name -> ``"population.v"`` for every voltage-readout output of the image."""
    return {name: f"{spec['population']}.v" for name, spec in image.outputs.items()
            if spec.get("readout") == "voltage" and "population" in spec}


def readout_values(image: "Image", traces: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Voltage readouts in the graph's units from probed integer voltages (see :class:`Result`)."""
    out = {}
    for name, probe in readout_probes(image).items():
        if probe in traces:
            scale = np.asarray(image.outputs[name]["v_scale"], np.float64)
            out[name] = np.asarray(traces[probe], np.float64) / scale
    return out
