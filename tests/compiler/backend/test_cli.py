"""``spikefab compile``: image file, report, --emit placement, errors as one line."""

from __future__ import annotations

import json

import pytest

from spikefab.arch.image import load_image
from spikefab.cli import main

SCRIPT = """
import numpy as np
import spikefab as sf

def build():
    rng = np.random.default_rng(0)
    net = sf.Network()
    net.input("x", 20)
    net.population("h", 600, sf.LoihiLIF(vth=80, du=200, dv=300))
    net.population("o", 5, sf.LoihiLIF(vth=50))
    net.connect("x", "h", rng.integers(-50, 120, (600, 20)))
    net.connect("h", "h", rng.integers(-50, 60, (600, 600)) * (rng.random((600, 600)) < 0.3),
                weight_exp=-1, delay=2)
    net.connect("h", "o", rng.integers(-20, 60, (5, 600)))
    net.output("y", "o")
    return net
"""


@pytest.fixture()
def model(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(SCRIPT)
    return path


def test_compile_writes_image_and_report(tmp_path, model, capsys):
    out, rep = tmp_path / "net.sfi", tmp_path / "r.json"
    assert main(["compile", str(model), "--target", "darwin3", "-o", str(out), "--report",
                 str(rep), "--emit", "placement", "--seed", "2"]) == 0
    image = load_image(out, expect_target="darwin3")
    assert image.manifest["options"]["seed"] == 2
    report = json.loads(rep.read_text())
    assert [p["pass"] for p in report["passes"]] == ["load", "partition", "place", "route",
                                                     "emit"]
    assert report["resources"]["cores_used"] == len(image.cores) > 1
    assert report["resources"]["max"]["synapses"] <= report["resources"]["limits"]["synapses"]
    chosen, seq = report["placement"]["chosen"], report["placement"]["sequential"]
    assert chosen["cost"] <= seq["cost"]
    assert {"hops", "chiplet_crossings", "max_link_load"} <= set(chosen)
    text = capsys.readouterr().out
    assert "h[0:" in text and "placer anneal seed 2" in text


def test_compile_error_is_one_line(tmp_path, model, capsys):
    code = main(["compile", str(model), "--target", str(tmp_path / "none.toml"), "-o",
                 str(tmp_path / "x.sfi")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: target profile file") and err.count("\n") == 1


def test_builder_script_without_network(tmp_path, capsys):
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\n")
    assert main(["compile", str(bad), "-o", str(tmp_path / "x.sfi")]) == 2
    assert "must define 'net'" in capsys.readouterr().err


def test_rates_file_weights_the_report(tmp_path, model):
    rep_uniform, rep_rates = tmp_path / "u.json", tmp_path / "r.json"
    rates = tmp_path / "rates.json"
    rates.write_text(json.dumps({"h": 0.25, "x": 0.5}))
    assert main(["compile", str(model), "--report", str(rep_uniform)]) == 0
    assert main(["compile", str(model), "--report", str(rep_rates), "--rates", str(rates)]) == 0
    hops_u = json.loads(rep_uniform.read_text())["placement"]["sequential"]["hops"]
    hops_r = json.loads(rep_rates.read_text())["placement"]["sequential"]["hops"]
    assert 0 < hops_r < hops_u
    rates.write_text("[1, 2]")
    assert main(["compile", str(model), "--report", str(rep_rates), "--rates", str(rates)]) == 2
