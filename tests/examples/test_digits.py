import json

import numpy as np
import pytest


@pytest.fixture(scope="module")
def trained(digits):
    data = digits.load_data(0)
    mlp = digits.train_ann(data, hidden=16, seed=0, max_iter=300)
    return data, mlp, digits.convert(mlp, data.x_train)


def test_rate_code_counts_equal_intensity_times_steps(digits):
    x = np.array([[0.0, 0.25, 0.5, 1.0, 0.3]])
    s = digits.encode(x, 40)
    assert s.shape == (1, 40, 5) and s.dtype == np.uint8
    assert s.sum(axis=1).tolist() == [[0, 10, 20, 40, 12]]
    assert np.array_equal(digits.encode(x, 40), s)          # no randomness


def test_spike_rates_follow_the_normalised_relu(digits, trained):
    data, mlp, snn = trained
    x = data.x_test[:40]
    steps = 200
    counts = digits.simulate_snn(snn, digits.encode(x, steps))
    relu = np.maximum(np.maximum(x @ snn.weights[0].T + snn.biases[0], 0) @ snn.weights[1].T
                      + snn.biases[1], 0)
    # rate ~ normalised activation (clipped at one spike per step), two steps of pipeline lag
    assert np.abs(counts / steps - np.minimum(relu, 1)).mean() < 0.05


def test_conversion_keeps_the_ann_accuracy(digits, trained):
    data, mlp, snn = trained
    ann = mlp.score(data.x_test, data.y_test)
    pred = digits.predict(digits.simulate_snn(snn, digits.encode(data.x_test, 64)))
    snn_acc = np.mean(pred == data.y_test)
    assert snn_acc >= ann - 0.02
    assert snn.sizes == [64, 16, 10]
    assert all(s > 0 for s in snn.scales)


def test_nir_export_round_trips_and_loads(digits, trained, tmp_path):
    import nir

    import spikefab.compiler.frontends as fe

    _, _, snn = trained
    path = digits.write_nir(snn, tmp_path / "d.nir")
    g = nir.read(path)
    assert sorted(g.nodes) == ["fc0", "fc1", "if0", "if1", "input", "output"]
    assert ("if1", "output") in [tuple(e) for e in g.edges]
    np.testing.assert_allclose(g.nodes["fc1"].weight, snn.weights[1], rtol=1e-6)
    np.testing.assert_allclose(g.nodes["fc0"].bias, snn.biases[0], rtol=1e-6)
    assert np.all(g.nodes["if0"].v_threshold == 1)
    graph = fe.load_model(path)
    assert len(graph.nodes) == 6


def test_float_only_main_writes_the_summary(digits, tmp_path, capsys):
    summary = digits.main(["--out", str(tmp_path), "--targets", "", "--hidden", "16",
                           "--max-iter", "200", "--test-samples", "60", "--steps", "32"])
    on_disk = json.loads((tmp_path / "digits.json").read_text())
    assert on_disk["snn_accuracy"] == summary["snn_accuracy"]
    assert on_disk["layers"] == [64, 16, 10]
    assert (tmp_path / "digits.nir").is_file()
    assert "conversion loss" in capsys.readouterr().out


def test_end_to_end_on_both_targets(digits, tmp_path, capsys):
    summary = digits.main(["--out", str(tmp_path), "--hidden", "16", "--max-iter", "200",
                           "--test-samples", "24", "--steps", "32", "--cycle-samples", "2",
                           "--rtl-samples", "0", "--quiet"])
    table = capsys.readouterr().out
    for target in ("darwin3", "ice40-up5k"):
        run = summary["targets"][target]
        assert run["cores"] >= 1
        assert 0.5 <= run["accuracy"] <= 1.0
        assert run["agree_float"] >= 0.8               # fixed point follows the float SNN
        assert run["cycle_equal"] == run["cycle_checked"] == 2
        assert run["cycles"] > 0 and run["latency_us"] > 0 and run["energy_nj"] > 0
        assert 0 < run["dynamic_nj"] < run["energy_nj"]
        assert (tmp_path / f"digits-{target}.sfi").is_file()
        assert target in table
    # the slower clock of the FPGA shows in the latency
    assert summary["targets"]["ice40-up5k"]["latency_us"] > summary["targets"]["darwin3"]["latency_us"]
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["target"] == "darwin3"
    assert set(report["files"]) == {"raster", "placement", "link_traffic", "cycles", "energy"}
    assert "emulator accuracy (fixed point)" in table and "energy / inference" in table


@pytest.mark.rtl
@pytest.mark.slow
def test_rtl_row_compares_spikes_and_cycles(digits, tmp_path, capsys):
    import shutil
    if not shutil.which("iverilog"):
        pytest.skip("needs Icarus Verilog")
    summary = digits.main(["--out", str(tmp_path), "--hidden", "16", "--max-iter", "200",
                           "--test-samples", "2", "--steps", "16", "--cycle-samples", "1",
                           "--rtl-samples", "1", "--targets", "ice40-up5k", "--no-report",
                           "--quiet"])
    run = summary["targets"]["ice40-up5k"]
    assert run["rtl_checked"] == 1 and run["rtl_equal"] == 1
    assert run["rtl_cycles_checked"] == 1 and run["rtl_cycles_equal"] == 1
    assert "RTL = cycle engine cycles" in capsys.readouterr().out
