"""``spikefab inspect``: table, --ir, and exit status 2 with one line on bad input."""

from __future__ import annotations

from spikefab.cli import main
from spikefab.compiler.ir.text import parse_graph

from .conftest import PAPER


def test_table_of_braille(capsys):
    assert main(["inspect", str(PAPER / "braille_noDelay_bias_zero.nir")]) == 0
    out = capsys.readouterr().out
    assert "7 nodes, 7 edges, 45 neurons" in out
    assert "lif1.lif    CubaLIF  38     38" in out
    assert "recurrent edges: lif1.w_rec -> lif1.lif" in out
    assert "tau_mem=0.001" in out


def test_table_of_cnn_counts_synapses(capsys):
    assert main(["inspect", str(PAPER / "cnn_sinabs.nir")]) == 0
    out = capsys.readouterr().out
    assert "8,970 neurons" in out
    assert "Conv2d     16x16x16" in out
    assert "recurrent edges: none" in out


def test_ir_output_parses_back(capsys):
    assert main(["inspect", "--ir", str(PAPER / "lif_norse.nir")]) == 0
    text = capsys.readouterr().out
    assert text.startswith("sfir 1\n")
    assert len(parse_graph(text)) == 4


def test_errors_exit_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.sfir"
    bad.write_text("sfir 1\nnode x = Input(shape=(3,)\n")
    cases = [str(tmp_path / "missing.nir"), str(bad)]
    junk = tmp_path / "junk.nir"
    junk.write_bytes(b"\x00not hdf5")
    cases.append(str(junk))
    for path in cases:
        assert main(["inspect", path]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1
        assert "Traceback" not in err
    assert main(["inspect", str(bad)]) == 2
    assert ":2:25: syntax error" in capsys.readouterr().err
