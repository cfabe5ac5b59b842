import numpy as np
import pytest

from spikefab.arch import load_target
from spikefab.arch.reference import run_reference
from spikefab.errors import InputError
from spikefab.report import link_traffic, population_spike_counts, spike_probes


def _walk(sx, sy, dx, dy):
    """Directed hops of one XY-routed packet, brute force."""
    hops = []
    x, y = sx, sy
    while x != dx:
        nx = x + (1 if dx > x else -1)
        hops.append(((x, y), (nx, y)))
        x = nx
    while y != dy:
        ny = y + (1 if dy > y else -1)
        hops.append(((x, y), (x, ny)))
        y = ny
    return hops


def _brute(image, target, inputs, traces):
    counts = {}
    sent = population_spike_counts(image, traces)

    def go(src, routes, n):
        for r in routes:
            dst = (0, 0) if r["host"] else (int(r["x"]), int(r["y"]))
            for hop in _walk(*src, *dst):
                counts[hop] = counts.get(hop, 0) + n
    for ch in range(len(image.host_route_ptr)):
        n = int(inputs["x"][:, ch].sum())
        p = image.host_route_ptr[ch]
        go((0, 0), image.host_routes[p["start"]:p["start"] + p["count"]], n)
    for core, s in zip(image.cores, sent):
        for i in range(core.n_neurons):
            p = core.route_ptr[i]
            go((core.x, core.y), core.routes[p["start"]:p["start"] + p["count"]], int(s[i]))
    return counts


def test_link_counts_equal_hop_by_hop_walk(tiny_image):
    target = load_target("darwin3")
    rng = np.random.default_rng(3)
    x = (rng.random((12, 2)) < 0.6).astype(np.uint8)
    res = run_reference(tiny_image, {"x": x}, 12, probes=spike_probes(tiny_image))
    tr = link_traffic(tiny_image, target, {"x": x}, res.traces)
    expected = _brute(tiny_image, target, {"x": x}, res.traces)
    got = {}
    for (gy, gx), n in np.ndenumerate(tr.east):
        got[((gx, gy), (gx + 1, gy))] = n
    for (gy, gx), n in np.ndenumerate(tr.west):
        got[((gx + 1, gy), (gx, gy))] = n
    for (gy, gx), n in np.ndenumerate(tr.north):
        got[((gx, gy), (gx, gy + 1))] = n
    for (gy, gx), n in np.ndenumerate(tr.south):
        got[((gx, gy + 1), (gx, gy))] = n
    assert {k: v for k, v in got.items() if v} == expected
    assert tr.hops == sum(expected.values())
    assert tr.host_in == int(x.sum())
    assert tr.host_out == int(sum(v.sum() for v in res.spikes.values()))
    assert tr.busiest()["packets"] == max(expected.values())


def test_chiplet_hops_counted_on_wafer_edges():
    from spikefab.report.traffic import LinkTraffic
    z = np.zeros
    east = z((4, 3), np.int64)
    east[0, 1] = 5                       # crosses the edge between chiplet columns (mesh_x = 2)
    east[0, 0] = 7                       # inside a chiplet
    tr = LinkTraffic(east=east, west=z((4, 3), np.int64), north=z((3, 4), np.int64),
                     south=z((3, 4), np.int64), host_in=0, host_out=0, packets=12,
                     mesh_x=2, mesh_y=2)
    assert tr.chiplet_hops == 5
    assert tr.hops == 12


def test_missing_spike_probe_is_an_input_error(tiny_image):
    with pytest.raises(InputError, match="'b.s'"):
        population_spike_counts(tiny_image, {"a.s": np.zeros((3, 2))})
