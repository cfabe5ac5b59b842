"""Target profiles: the five shipped ones load, every figure has a source, bad ones are refused."""

from __future__ import annotations

import re
from dataclasses import fields
from importlib import resources

import pytest

from spikefab.arch.target import PROFILE_PACKAGE, Target, load_target, target_names
from spikefab.errors import TargetError

SECTIONS = ("topology", "core", "timing", "energy", "learning")
FIVE = ["darwin3", "darwinwafer", "ecp5-85k", "ice40-up5k", "loihi1"]


def profile_text(name: str = "darwin3") -> str:
    return (resources.files(PROFILE_PACKAGE) / f"{name}.toml").read_text()


def test_the_five_profiles_ship():
    assert target_names() == FIVE


@pytest.mark.parametrize("name", FIVE)
def test_profile_loads_with_a_source_for_every_figure(name):
    t = load_target(name)
    assert isinstance(t, Target) and t.name == name and t.description
    rows = t.rows()
    assert len(rows) == sum(len(fields(getattr(t, s))) for s in SECTIONS)
    for section, key, value, source in rows:
        assert source.strip(), f"{name}: {section}.{key} has no source"
        assert value == getattr(getattr(t, section), key)
    assert t.topology.cores * t.core.neurons == t.total_neurons > 0
    assert load_target(t) is t


def test_profiles_match_the_published_anchors():
    """A few figures the reference notes pin to publications (hardware-anchors.md 2-3)."""
    loihi, d3, wafer = load_target("loihi1"), load_target("darwin3"), load_target("darwinwafer")
    assert loihi.topology.cores == 128 and loihi.core.neurons == 1024
    assert loihi.energy.synop_pj == 23.6 and loihi.energy.spike_pj == 1.7
    assert (loihi.energy.hop_ew_pj, loihi.energy.hop_ns_pj) == (3.0, 4.0)
    assert (loihi.energy.neuron_active_pj, loihi.energy.neuron_inactive_pj) == (81.0, 52.0)
    assert d3.energy.synop_pj == 5.47 and d3.timing.clock_mhz == 333.0
    assert wafer.topology.chiplets == 64 and wafer.energy.synop_pj == 4.9
    assert "Davies" in loihi.source_of("energy", "synop_pj")
    assert "5.47" in d3.source_of("energy", "synop_pj")
    assert "2509.16213" in wafer.source_of("energy", "synop_pj")


def test_targets_share_the_neuron_arithmetic():
    widths = {(t.state_bits, t.decay_bits, t.threshold_bits, t.weight_bits, t.bias_mant_bits)
              for t in map(load_target, FIVE)}
    assert widths == {(24, 12, 17, 9, 13)}


def test_unknown_name():
    with pytest.raises(TargetError) as info:
        load_target("nope")
    assert str(info.value) == f"target must be one of {', '.join(FIVE)}, not 'nope'"


def test_missing_file(tmp_path):
    with pytest.raises(TargetError, match="does not exist"):
        load_target(tmp_path / "absent.toml")


def write(tmp_path, text: str):
    path = tmp_path / "custom.toml"
    path.write_text(text)
    return path


def test_a_copied_profile_loads_from_a_path(tmp_path):
    path = write(tmp_path, profile_text().replace('name = "darwin3"', 'name = "mine"'))
    t = load_target(path)
    assert t.name == "mine" and t.path == str(path)
    assert t.core == load_target("darwin3").core


CASES = {
    # what, edit of darwin3.toml, key the message must name
    "unknown top-level key": (lambda s: 'extra = 1\n' + s, "'extra'"),
    "source for no figure": (lambda s: s.replace('[sources]\n', '[sources]\n"core.bankz" = "x"\n'),
                             "'sources.core.bankz'"),
    "unknown section key": (lambda s: s.replace("[core]\n", "[core]\nbanks = 2\n"),
                            "'core.banks'"),
    "missing key": (lambda s: re.sub(r"\nfifo_depth = \d+", "", s), "'timing.fifo_depth'"),
    "missing section": (lambda s: s.replace("[energy]", "[energy_table]"), "'energy_table'"),
    "impossible value": (lambda s: s.replace("max_delay = 15", "max_delay = 64"),
                         "'core.max_delay'"),
    "zero neurons": (lambda s: s.replace("neurons = 4096", "neurons = 0"), "'core.neurons'"),
    "negative energy": (lambda s: s.replace("synop_pj = 5.47", "synop_pj = -1.0"),
                        "'energy.synop_pj'"),
    "float for an integer": (lambda s: s.replace("mesh_x = 24", "mesh_x = 24.5"),
                             "'topology.mesh_x'"),
    "boolean": (lambda s: s.replace("fifo_depth = 4", "fifo_depth = true"),
                "'timing.fifo_depth'"),
    "no source": (lambda s: re.sub(r'\n"energy.static_mw" = .*', "", s),
                  "'energy.static_mw' has no source"),
    "not toml": (lambda s: s + "\n[[[", "not a valid TOML profile"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_profile_names_file_and_key(tmp_path, case):
    edit, key = CASES[case]
    text = edit(profile_text())
    assert text != profile_text()
    path = write(tmp_path, text)
    with pytest.raises(TargetError) as info:
        load_target(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert key in message, message
    assert info.value.where == str(path)


def test_impossible_value_states_the_allowed_range(tmp_path):
    path = write(tmp_path, profile_text().replace("max_delay = 15", "max_delay = 64"))
    with pytest.raises(TargetError, match=r"'core.max_delay' must be in \[0, 63\], not 64"):
        load_target(path)
