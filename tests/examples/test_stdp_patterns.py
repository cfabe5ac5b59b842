"""examples/stdp_patterns.py learns: every output neuron ends selective to its own pattern."""

from __future__ import annotations

import numpy as np
import pytest

from spikefab.demo import load_example


@pytest.fixture(scope="module")
def stdp():
    return load_example("stdp_patterns")


@pytest.fixture(scope="module")
def trained(stdp):
    return stdp.run(presentations=30, seed=1, snapshot_every=100)


def test_neurons_become_selective_to_distinct_patterns(trained):
    assert trained["si"].min() > 0.8
    prefs = trained["responses"].argmax(axis=1)
    assert sorted(prefs.tolist()) == [0, 1, 2]        # one neuron per pattern


def test_weights_grow_on_the_preferred_pattern(trained):
    w, pats = trained["weights"], trained["patterns"]
    w0 = trained["snapshots"][0]
    for i, k in enumerate(trained["responses"].argmax(axis=1)):
        on, off = w[i][pats[k]].mean(), w[i][~pats[k]].mean()
        assert on > off + 20, (i, on, off)
    assert trained["snapshots"].shape == (9, 3, 16) and not np.array_equal(w0, w)


def test_main_prints_and_plots(stdp, tmp_path, capsys):
    stdp.main(["--presentations", "12", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert "selectivity index" in text and "synapse updates" in text
    assert (tmp_path / "stdp_patterns.png").stat().st_size > 1000
