"""A hand-written three-core image, so the report is tested without the compiler."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.arch.image import ROUTE_DTYPE, CoreImage, Image
from spikefab.arch.validate import check_image


def _routes(entries):
    arr = np.zeros(len(entries), ROUTE_DTYPE)
    for i, (host, chiplet, x, y, axon) in enumerate(entries):
        arr[i] = (host, 0, chiplet, x, y, axon)
    return arr


def _ptr(counts):
    counts = np.asarray(counts, np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.array(list(zip(starts, counts)), dtype=[("start", "<u4"), ("count", "<u4")])


def _core(x, y, n, n_axons, synapses, routes, route_counts, chiplet=0):
    profiles = np.array([(4095, 0, 1, 0, 0, 0, 0)],
                        dtype=[("du", "<u2"), ("dv", "<u2"), ("vth", "<i4"), ("reset_mode", "u1"),
                               ("refractory", "u1"), ("theta_decay", "<u2"), ("theta_inc", "<i4")])
    syn = np.array(synapses, dtype=[("neuron", "<u2"), ("weight", "<i2"), ("delay", "u1"),
                                    ("acc_class", "u1")])
    return CoreImage(chiplet=chiplet, x=x, y=y, slot=0, acc_exps=np.zeros(1, np.int8),
                     profiles=profiles, neurons=np.zeros(n, dtype=[("profile", "u1"),
                                                                  ("bias_exp", "i1"),
                                                                  ("bias_mant", "<i2")]),
                     state=np.zeros(n, dtype=[("u", "<i4"), ("v", "<i4"), ("theta", "<i4"),
                                              ("ref", "u1")]),
                     axons=_ptr(np.ones(n_axons)), synapses=syn, route_ptr=_ptr(route_counts),
                     routes=_routes(routes))


def make_tiny_image(target: str = "darwin3", b1_chiplet: int = 0) -> Image:
    """Host input ``x`` (2) -> ``a`` (2, core (0,0)) -> ``b`` (2, split over (3,1) and (1,2)).

    Every spike crosses: each ``a`` neuron routes to both ``b`` cores; ``b`` neurons report to the
    host as output ``y``.  One synapse per axon, weight 100 (far above threshold 64); du = 4095 (no current memory).
    """
    core_a = _core(0, 0, 2, 2, [(0, 100, 0, 0), (1, 100, 0, 0)],
                   routes=[(0, 0, 3, 1, 0), (0, b1_chiplet, 1, 2, 0), (0, 0, 3, 1, 1),
                           (0, b1_chiplet, 1, 2, 1)],
                   route_counts=[2, 2])
    core_b0 = _core(3, 1, 1, 2, [(0, 100, 0, 0), (0, 100, 0, 0)],
                    routes=[(1, 0, 0, 0, 0)], route_counts=[1])
    core_b1 = _core(1, 2, 1, 2, [(0, 100, 0, 0), (0, 100, 0, 0)],
                    routes=[(1, 0, 0, 0, 1)], route_counts=[1], chiplet=b1_chiplet)
    manifest = {
        "inputs": {"x": {"size": 2, "channel_base": 0}},
        "outputs": {"y": {"size": 2, "channel_base": 0}},
        "populations": {
            "a": {"size": 2, "slices": [{"core": 0, "offset": 0, "count": 2, "start": 0}]},
            "b": {"size": 2, "slices": [{"core": 1, "offset": 0, "count": 1, "start": 0},
                                        {"core": 2, "offset": 0, "count": 1, "start": 1}]},
        },
    }
    image = Image(target=target, cores=[core_a, core_b0, core_b1],
                  host_route_ptr=_ptr([1, 1]), host_routes=_routes([(0, 0, 0, 0, 0), (0, 0, 0, 0, 1)]),
                  manifest=manifest)
    check_image(image)
    return image


@pytest.fixture
def tiny_image() -> Image:
    """Everything on one darwin3 chip (see :func:`make_tiny_image`)."""
    return make_tiny_image()


@pytest.fixture
def wafer_image() -> Image:
    """The same network on darwinwafer with ``b``'s second core on chiplet 1 (to the east)."""
    return make_tiny_image("darwinwafer", b1_chiplet=1)
