"""Learned weights read back as matrices: the image manifest maps each plastic synapse home.

``manifest["learning"]["projections"][name]["synapses"]`` lists ``[core, entry, pre, post]``
for every synapse of a plastic projection; with the per-core live weight arrays of any backend
that gives the ``(n_post, n_pre)`` matrix a user reads (absent pairs read 0).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from spikefab.arch.image import Image

__all__ = ["plastic_projections", "projection_weights", "WeightRecorder", "recorded_snapshots"]


def plastic_projections(image: Image) -> dict[str, dict]:
    return image.manifest.get("learning", {}).get("projections", {})


def projection_weights(image: Image, core_weights: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Plastic projection name -> its ``(n_post, n_pre)`` int64 weight matrix."""
    out = {}
    for name, spec in plastic_projections(image).items():
        m = np.zeros(spec["shape"], np.int64)
        e = np.asarray(spec["synapses"], np.int64).reshape(-1, 4)
        for core in np.unique(e[:, 0]):
            sel = e[:, 0] == core
            m[e[sel, 3], e[sel, 2]] = np.asarray(core_weights[int(core)])[e[sel, 1]]
        out[name] = m
    return out


class WeightRecorder:
    """Collects weight snapshots every ``every`` steps (0: never)."""

    def __init__(self, image: Image, every: int) -> None:
        self.image, self.every = image, int(every)
        self.snaps: dict[str, list[np.ndarray]] = {n: [] for n in plastic_projections(image)}

    def after_step(self, step: int, core_weights: Sequence[np.ndarray]) -> None:
        """Call with the 1-based number of steps done."""
        if self.every > 0 and step % self.every == 0 and self.snaps:
            for name, m in projection_weights(self.image, core_weights).items():
                self.snaps[name].append(m)

    def result(self) -> dict[str, np.ndarray]:
        return {n: np.stack(v) if v else np.zeros((0,) + tuple(
            plastic_projections(self.image)[n]["shape"]), np.int64)
            for n, v in self.snaps.items()} if self.every > 0 else {}


def recorded_snapshots(image: Image, every: int, snapshots) -> dict[str, np.ndarray]:
    """``Result.weight_snapshots`` from a host program's ``RunRecord.weight_snapshots``
    (``(steps done, every image core's weights)`` pairs) taken every ``every`` steps."""
    rec = WeightRecorder(image, every)
    for done, core_weights in snapshots:
        rec.after_step(done, core_weights)
    return rec.result()
