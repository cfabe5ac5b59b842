"""Merge weight-exponent classes when a target has too few accumulators per neuron.

A core keeps one dendritic accumulator per weight-exponent class (``core.acc_classes``), so
projections with different ``weight_exp`` normally land on different classes — or, when a core
has too few, on different cores (the partition pass).  A target with few cores *and* few classes
(the one-core, one-class ``ice40-up5k``) cannot do that: this pass raises every projection's
exponent to one of at most ``classes`` values instead, dividing its mantissas by the difference
(truncation toward zero, as Lava's weight truncation), so the network fits at the cost of the
low mantissa bits of the projections whose exponent grew.  The compile driver runs it only
after partitioning failed, and warns with the bits lost.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from spikefab.compiler.hwnet import HwNetwork

__all__ = ["merge_weight_exponents"]


def merge_weight_exponents(net: HwNetwork, classes: int) -> tuple[HwNetwork, dict[int, int]]:
    """A copy of ``net`` whose projections use at most ``classes`` distinct ``weight_exp``.

    The ``classes - 1`` largest exponents are kept; every smaller one is raised to the smallest
    kept exponent.  Returns the new network and the mapping ``old exponent -> new exponent``
    (identity entries included).
    """
    exps = sorted({p.weight_exp for p in net.projections}, reverse=True)
    keep = exps[:max(classes, 1)]
    floor = keep[-1] if keep else 0
    mapping = {e: (e if e in keep else floor) for e in exps}
    projections = []
    for p in net.projections:
        new = mapping[p.weight_exp]
        shift = new - p.weight_exp
        if not shift:                   # unchanged: the same projection, no copy of its arrays
            projections.append(p)
            continue
        weight = np.sign(p.weight) * (np.abs(p.weight) >> shift)
        projections.append(dataclasses.replace(p, weight=weight, weight_exp=new))
    return dataclasses.replace(net, projections=projections), mapping
