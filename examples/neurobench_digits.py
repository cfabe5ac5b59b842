"""NeuroBench's harness on the digits network running on a hardware model.

The digits example's network (``examples/digits.py``: scikit-learn MLP converted to an IF network,
exported to NIR) is compiled for a target; :class:`spikefab.neurobench.SpikefabModel` runs every
test sample on the emulator, and NeuroBench's ``Benchmark`` reports its own
``ClassificationAccuracy`` next to metrics read from the chip's counters (synaptic operations,
neuron updates, activation sparsity, packets) and the target's modelled energy and latency per
sample.  Needs the ``neurobench`` extra (``make .venv-neurobench/.installed-stamp``).

Usage: ``python examples/neurobench_digits.py [--target T] [--samples N] [--steps S]
[--mode functional|cycle] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from neurobench.benchmarks import Benchmark
from neurobench.metrics.workload import ClassificationAccuracy
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
import digits  # noqa: E402

from spikefab.neurobench import (ActivationSparsity, ModelledEnergy,  # noqa: E402
                                 ModelledLatency, NeuronUpdates, Packets, SpikefabModel,
                                 SynapticOperations, metric_sources)

METRICS = [ClassificationAccuracy, SynapticOperations, NeuronUpdates, ActivationSparsity,
           Packets, ModelledEnergy, ModelledLatency]


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", default="loihi1")
    p.add_argument("--samples", type=int, default=100, help="test samples (default 100)")
    p.add_argument("--steps", type=int, default=32, help="time steps per sample (default 32)")
    p.add_argument("--mode", default="cycle", choices=["functional", "cycle"])
    p.add_argument("--json", help="also write the results as JSON")
    args = p.parse_args(argv)

    data = digits.load_data()
    mlp = digits.train_ann(data, hidden=32)
    net = digits.convert(mlp, data.x_train)
    with tempfile.TemporaryDirectory() as tmp:
        model_path = digits.write_nir(net, Path(tmp) / "digits.nir")
        image, _ = digits.compile_for(model_path, args.target, Path(tmp))
    spikes = digits.encode(data.x_test[:args.samples], args.steps)
    labels = data.y_test[:args.samples]
    loader = DataLoader(TensorDataset(torch.as_tensor(spikes), torch.as_tensor(labels)),
                        batch_size=25)
    model = SpikefabModel(image, steps=args.steps, mode=args.mode)
    results = Benchmark(model, loader, [], [lambda counts: counts.argmax(dim=1)],
                        [[], METRICS]).run(quiet=True)
    print(f"NeuroBench on spikefab ({args.target}, {args.mode} emulator, {args.samples} samples, "
          f"{args.steps} steps each):")
    for name, value in results.items():
        print(f"  {name:<24} {value:,.4f}")
    print("ModelledEnergy is pJ and ModelledLatency us per sample, from the target's model:")
    for key, source in metric_sources(args.target).items():
        if key.startswith("energy.") or key in ("timing.clock_mhz",):
            print(f"  {key}: {source}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
