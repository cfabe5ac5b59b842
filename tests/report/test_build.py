import json
from dataclasses import replace

import numpy as np

from spikefab.arch.reference import run_reference
from spikefab.report import generate, write_report

PNG = b"\x89PNG\r\n\x1a\n"


def _input(steps=16):
    x = np.zeros((steps, 2), np.uint8)
    x[::2, 0] = 1
    x[::3, 1] = 1
    return x


def test_generate_writes_every_plot_and_a_consistent_json(tiny_image, tmp_path):
    x = _input()
    report = generate(tiny_image, {"x": x}, 16, tmp_path, runner=run_reference)
    assert set(report["files"]) == {"raster", "placement", "link_traffic"}
    for name in report["files"].values():
        assert (tmp_path / name).read_bytes()[:8] == PNG
    on_disk = json.loads((tmp_path / "report.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    # a spikes one step after its input (host input is integrated in the next step); each a
    # spike is routed to both b cores
    assert report["populations"]["a"]["spikes"] == int(x[:-1].sum())
    assert report["noc"]["host_in_packets"] == int(x.sum())
    assert report["noc"]["packets"] == int(x.sum()) + 2 * report["populations"]["a"]["spikes"] \
        + report["populations"]["b"]["spikes"]
    assert report["cores"] == 3 and report["chiplets"] == 1
    assert report["populations"]["b"]["cores"] == [1, 2]


def test_cycles_and_energy_plots_appear_when_the_run_has_them(tiny_image, tmp_path):
    x = _input()
    res = run_reference(tiny_image, {"x": x}, 16, probes=["a.s", "b.s"])
    res = replace(res, cycles_per_step=np.arange(100, 116), latency_us=1.5, energy_pj=1234.0,
                  energy_breakdown={"synops": 1000.0, "neurons": 200.0, "static": 34.0})
    report = write_report(tiny_image, res, {"x": x}, 16, tmp_path)
    assert {"cycles", "energy"} <= set(report["files"])
    assert report["cycles"] == {"total": int(np.arange(100, 116).sum()), "mean_per_step": 107.5,
                                "max_per_step": 115, "min_per_step": 100}
    assert 0 < report["noc"]["busiest_link"]["utilization"] <= 1
    assert report["energy_breakdown_pj"]["synops"] == 1000.0


def test_chiplet_traffic_when_the_image_spans_chiplets(wafer_image, tmp_path):
    x = _input()
    report = generate(wafer_image, {"x": x}, 16, tmp_path, runner=run_reference)
    assert (tmp_path / report["files"]["chiplet_traffic"]).read_bytes()[:8] == PNG
    ct = report["chiplet_traffic"]
    a_spikes = report["populations"]["a"]["spikes"]
    assert ct["chiplets"] == [0, 1]
    # every a spike sends one packet within chiplet 0 and one to chiplet 1
    assert ct["packets_matrix"] == [[a_spikes, a_spikes], [0, 0]]
    assert ct["between_chiplets"] == a_spikes
    assert ct["top_pairs"] == [{"from": 0, "to": 1, "packets": a_spikes}]
    # the packet to chiplet 1 crosses the chiplet edge at x = 23 | 24, then goes north twice
    assert report["noc"]["inter_chiplet_hops"] == a_spikes + report["populations"]["b"]["spikes"] // 2


def test_raster_of_a_large_population_is_shaded_not_sampled(tmp_path):
    from spikefab.report import plots

    rng = np.random.default_rng(0)
    big = rng.random((5, 5000)) < 0.01
    path = plots.plot_raster({"big": big, "small": np.eye(5, 3, dtype=bool)}, tmp_path / "r.png",
                             title="t")
    assert path.read_bytes()[:8] == PNG
