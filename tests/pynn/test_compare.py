"""``spikefab compare`` / ``spikefab.compare``: a PyNN script in float and on the chip."""

from __future__ import annotations

import json
import math

import pytest

import spikefab
from spikefab.cli import main
from spikefab.errors import InputError, ModelError

SCRIPT = '''
import sys
import spikefab.pynn as sim

sim.setup(timestep=0.1, mode="functional", target="darwin3")   # compare overrides both
src = sim.Population(20, sim.SpikeSourcePoisson(rate=80.0), label="input")
exc = sim.Population(30, sim.IF_curr_exp(tau_refrac=2.0), label="exc")
inh = sim.Population(10, sim.IF_curr_exp(tau_refrac=2.0), label="inh")
rng = sim.NumpyRNG(seed=int(sys.argv[1]) if len(sys.argv) > 1 else 5)
sim.Projection(src, exc, sim.FixedProbabilityConnector(0.5, rng=rng),
               sim.StaticSynapse(weight=1.5, delay=1.0))
sim.Projection(exc, inh, sim.FixedProbabilityConnector(0.3, rng=rng),
               sim.StaticSynapse(weight=1.0, delay=1.0))
sim.Projection(inh, exc, sim.FixedProbabilityConnector(0.3, rng=rng),
               sim.StaticSynapse(weight=-1.0, delay=1.0), receptor_type="inhibitory")
exc.record("spikes")
sim.run(150.0)
sim.end()
'''


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(SCRIPT)
    return path


def test_compare_reports_float_vs_hardware_per_population(script) -> None:
    rep = spikefab.compare(script, target="loihi1", mode="cycle")
    assert rep.target == "loihi1" and rep.steps == 1500
    assert [p.label for p in rep.populations] == ["exc", "inh"]
    for p in rep.populations:
        assert p.float_spikes > 0 and p.hw_spikes > 0
        assert p.rate_diff_hz == pytest.approx(p.hw_rate_hz - p.float_rate_hz)
        assert 0.0 <= p.matched_within_1ms <= 1.0 and p.spike_time_diff_ms >= 0.0
        # quantization moves spikes a little; it does not change the network's activity level
        assert abs(p.rate_diff_hz) <= 0.25 * p.float_rate_hz
    assert rep.latency_us_per_step > 0 and rep.energy_pj_per_step > 0
    assert rep.counters["synops"] > 0
    assert any(k.startswith("energy.") for k in rep.sources)
    assert "float vs loihi1 (cycle)" in rep.format()


def test_compare_cli_prints_the_table_and_writes_json(script, tmp_path, capsys) -> None:
    out = tmp_path / "cmp.json"
    assert main(["compare", str(script), "--target", "loihi1", "--mode", "functional",
                 "--json", str(out), "--args", "9"]) == 0
    text = capsys.readouterr().out
    assert "population" in text and "latency per step (modelled)" in text
    data = json.loads(out.read_text())
    assert data["mode"] == "functional" and len(data["populations"]) == 2
    assert not math.isnan(data["populations"][0]["float_rate_hz"])


def test_compare_errors_are_typed(tmp_path, capsys) -> None:
    with pytest.raises(InputError, match="must be a PyNN script"):
        spikefab.compare(tmp_path / "net.nir")
    bad = tmp_path / "bad.py"
    bad.write_text("import spikefab.pynn as sim\nsim.setup()\nraise RuntimeError('oops')\n")
    with pytest.raises(ModelError, match="failed: RuntimeError: oops"):
        spikefab.compare(bad)
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    assert main(["compare", str(empty)]) == 2
    assert "must build a network with spikefab.pynn" in capsys.readouterr().err


def test_compare_audit_cases_are_one_line_errors(tmp_path, capsys) -> None:
    """An unclosed quote in --args was a shlex traceback; a missing .py was called 'not a
    script'; a script of spike sources only printed an empty table."""
    sources = tmp_path / "sources.py"
    sources.write_text("import spikefab.pynn as sim\nsim.setup(timestep=0.1)\n"
                       "p = sim.Population(2, sim.SpikeSourcePoisson(rate=50.0))\n"
                       "p.record('spikes')\nsim.run(20.0)\n")
    cases = [(["compare", str(sources), "--args", "'unclosed"], "must be a shell-quoted"),
             (["compare", str(tmp_path / "nope.py")], "nope.py' does not exist"),
             (["compare", str(sources), "--mode", "functional"], "runs spike sources only")]
    for argv, text in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and text in err[0], err
