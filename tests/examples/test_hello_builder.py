import numpy as np


def test_hello_compiles_runs_and_writes_its_input(hello_builder, tmp_path, capsys):
    out = hello_builder.main(["--target", "ice40-up5k", "--out", str(tmp_path), "--steps", "12"])
    x = np.load(tmp_path / "in.npz")["x"]
    assert x.shape == (12, 2) and np.array_equal(x, hello_builder.input_pattern(12))
    y = out["spikes"]
    assert y.shape == (12, 4) and out["cycles"] > 0
    # neuron 0 listens to channel 0 only, neuron 1 to channel 1 only
    assert y[:6, 0].sum() > 0 and y[:7, 1].sum() == 0
    assert y[7:, 1].sum() > 0
    assert (tmp_path / "hello.sfi").is_file()
    assert "hello on ice40-up5k" in capsys.readouterr().out


def test_build_is_a_valid_builder_network(hello_builder):
    net = hello_builder.build()
    net.validate()
    assert net.n_neurons == 4 and list(net.outputs) == ["y"]
