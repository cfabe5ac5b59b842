"""``spikefab report``: runs the image on the emulator and writes the files it lists."""

import json

import numpy as np

from spikefab.cli import main


def test_report_command_on_the_emulator(tiny_image, tmp_path, capsys):
    image = tiny_image.save(tmp_path / "tiny.sfi")
    x = np.zeros((10, 2), np.uint8)
    x[::2] = 1
    np.savez(tmp_path / "in.npz", x=x)
    out = tmp_path / "rep"
    assert main(["report", str(image), "--input", str(tmp_path / "in.npz"), "--steps", "10",
                 "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    for name in report["files"].values():
        assert (out / name).is_file() and str(out / name) in printed
    assert {"cycles", "energy"} <= set(report["files"])      # the cycle engine by default
    assert report["backend"].startswith("emulator")
    assert report["populations"]["a"]["spikes"] == int(x[:-1].sum())
    # the traffic derived from routes and spikes agrees with the engine's own hop counters
    c = report["counters"]
    assert report["noc"]["hops"] == c["hops_ew"] + c["hops_ns"] + c["chiplet_hops"] > 0
    assert report["noc"]["packets"] == c["packets"]          # host injections included
    assert report["noc"]["host_in_packets"] == c["host_packets_in"]


def test_report_command_rejects_a_bad_input_file(tiny_image, tmp_path, capsys):
    image = tiny_image.save(tmp_path / "tiny.sfi")
    (tmp_path / "bad.npz").write_text("not a zip")
    assert main(["report", str(image), "--input", str(tmp_path / "bad.npz"), "--steps", "3",
                 "-o", str(tmp_path / "rep")]) == 2
    assert "error: input file" in capsys.readouterr().err
