"""A compiled image as a ``NeuroBenchModel``: one emulator run per sample."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from neurobench.models import NeuroBenchModel

from spikefab.arch.image import Image, load_image
from spikefab.errors import InputError

__all__ = ["SpikefabModel"]


class SpikefabModel(NeuroBenchModel):
    """Run ``image`` on each sample; predictions are output spike counts ``(batch, n_out)``.

    Parameters
    ----------
    image:
        An :class:`~spikefab.arch.Image` or the path of an ``.sfi`` file.
    steps:
        Time steps per sample.
    mode, device:
        ``"functional"`` or ``"cycle"`` emulator engine, or a device URI (as :func:`spikefab.run`).
    input_name, output_name:
        Which host input receives the sample and which output is counted (default: the only one).

    A batch is a tensor ``(batch, steps, n_in)`` of spikes (0/1) for the input.  After each call,
    :attr:`results` holds the batch's :class:`~spikefab.arch.Result` objects, which the metrics in
    :mod:`spikefab.neurobench.metrics` read.
    """

    def __init__(self, image: Image | str, steps: int, mode: str = "functional",
                 device: str | None = None, input_name: str | None = None,
                 output_name: str | None = None) -> None:
        super().__init__()
        self.image = image if isinstance(image, Image) else load_image(image)
        self.steps, self.mode, self.device = int(steps), mode, device
        self.input_name = input_name or self._only("input", self.image.inputs)
        self.output_name = output_name or self._only("output", self.image.outputs)
        self.results: list[Any] = []
        self._net = torch.nn.Module()          # no torch layers: nothing for hooks to find

    @staticmethod
    def _only(kind: str, names: dict) -> str:
        if len(names) != 1:
            raise InputError(f"the image has {len(names)} {kind}s ({', '.join(names)}); name "
                             f"the {kind} to use with {kind}_name")
        return next(iter(names))

    def __call__(self, batch) -> torch.Tensor:
        import spikefab
        x = np.asarray(batch.detach().cpu().numpy() if isinstance(batch, torch.Tensor) else batch)
        size = int(self.image.inputs[self.input_name]["size"])
        if x.ndim != 3 or x.shape[1] != self.steps or x.shape[2] != size:
            raise InputError(f"a batch must have shape (batch, {self.steps}, {size}) (spikes per "
                             f"step for input {self.input_name!r}), not {tuple(x.shape)}")
        self.results = [spikefab.run(self.image, {self.input_name: sample != 0}, self.steps,
                                     mode=self.mode, device=self.device) for sample in x]
        counts = np.stack([r.spikes[self.output_name].sum(axis=0) for r in self.results])
        return torch.as_tensor(counts, dtype=torch.float32)

    def __net__(self) -> torch.nn.Module:
        return self._net
