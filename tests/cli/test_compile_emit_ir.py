"""`spikefab compile --emit ir` on a builder network prints hardware-level IR that re-parses."""

from pathlib import Path

from spikefab.cli import main
from spikefab.compiler.ir.text import parse_graph, print_graph

ROOT = Path(__file__).resolve().parents[2]


def test_builder_network_emits_parsable_hardware_ir(capsys):
    assert main(["compile", str(ROOT / "examples" / "hello_builder.py"), "--target", "loihi1",
                 "--emit", "ir"]) == 0
    text = capsys.readouterr().out
    assert "HwNeurons" in text and "HwSynapses" in text
    assert print_graph(parse_graph(text)) == text
