"""The shipped image fuzzer, bounded: CRC-valid mutations are refused or run identically (#15).

``make fuzz`` runs 10,000 images and writes docs/reliability.md; this runs a few hundred.
"""

from __future__ import annotations

import numpy as np

from spikefab.arch.image import Image
from spikefab.arch.target import load_target
from spikefab.fuzz import check_one, fuzz, mutate, render, seed_image, write_report, FuzzStats


def test_bounded_fuzz_run():
    stats = fuzz(300, seed=11)
    assert stats.images == 300
    assert stats.tracebacks == 0, stats.examples
    assert stats.big == 0, stats.examples          # (run time is measured, not asserted:
    #                                                  docs/reliability.md reports it)
    assert stats.divergent == 0, stats.examples
    assert stats.accepted > 20 and stats.refused_on_load > 100    # both paths exercised
    assert all(v > 0 for v in stats.by_kind.values())


def test_mutations_keep_crcs_valid():
    rng = np.random.default_rng(2)
    image = seed_image(rng, load_target("loihi1"))
    Image.from_bytes(image.to_bytes())                            # the seed itself is valid
    for _ in range(50):
        kind, data = mutate(image, rng)
        try:
            Image.from_bytes(data)
        except Exception as exc:                                  # noqa: BLE001
            assert "CRC" not in str(exc), kind


def test_a_diverging_engine_would_be_counted(monkeypatch):
    """The comparison is real: an emulator that drops one spike is reported as divergent."""
    import spikefab.emulator as emu
    real = emu.simulate

    def broken(image, inputs, steps, mode="functional", *a, **k):
        res = real(image, inputs, steps, mode, *a, **k)
        for s in res.spikes.values():
            s[:] = 1 - s
        return res

    monkeypatch.setattr(emu, "simulate", broken)
    stats = FuzzStats()
    image = seed_image(np.random.default_rng(4), load_target("loihi1"))
    check_one(image.to_bytes(), np.random.default_rng(0), stats, "seed")
    assert stats.accepted == 1 and stats.divergent == 1


def test_report_block_is_replaced_in_place(tmp_path):
    doc = tmp_path / "r.md"
    doc.write_text("# Reliability\n\nprose\n")
    stats = FuzzStats(images=3, refused_on_load=3)
    write_report(doc, render(stats, 3, 0))
    write_report(doc, render(stats, 3, 0))
    text = doc.read_text()
    assert text.count("fuzz:begin") == 1 and "prose" in text and "| 3 |" in text


def _raw_sections(data: bytes) -> list[tuple[str, bytes]]:
    """(name, payload) of every section of an encoded file, without any check."""
    import struct
    pos, out = 20, []
    while pos < len(data):
        (n,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2:pos + 2 + n].decode()
        (nbytes,) = struct.unpack_from("<Q", data, pos + 2 + n)
        start = pos + 2 + n + 12
        out.append((name, data[start:start + nbytes]))
        pos = start + nbytes
    return out


def test_plastic_seeds_mutate_learning_sections():
    """Plastic seeds (learning tables 9..15, profiles, generator states, reward synapses) are
    mutated where only plastic images have fields, and still give no traceback or divergence."""
    from spikefab.fuzz_learning import seed_plastic_image
    rng = np.random.default_rng(5)
    image = seed_plastic_image(rng, "loihi1")
    assert image.cores[0].plastic and "learning" in image.manifest
    touched = set()
    for _ in range(60):
        kind, data = mutate(image, rng)
        old = dict(image.sections())
        touched |= {n for n, p in _raw_sections(data) if old.get(n) != p}
    assert any("/learn_" in n for n in touched) and "manifest" in touched
    stats = fuzz(200, seed=23, plastic=6)
    assert stats.tracebacks == 0 and stats.divergent == 0 and stats.big == 0, stats.examples
    assert stats.accepted > 10 and stats.refused_on_load > 50 and stats.plastic > 20
