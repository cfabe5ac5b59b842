"""PyNN example scripts, unchanged but for the backend import, against PyNN's Brian2 backend.

Each script runs on spikefab.pynn in ``float``, ``functional`` and ``cycle`` mode and on Brian2
(cached, see ``harness.py``).  Spike statistics must agree within the tolerances that
``docs/pynn.md`` derives: for a whole population the firing rate within ``RATE_TOL`` (relative)
and the mean CV of inter-spike intervals within ``CV_TOL`` (absolute).  Functional and cycle
engines run one image and must give identical spikes (DESIGN.md invariant 1).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.pynn.harness import reference, run_spikefab, stats

#: script -> populations compared, and tolerances (relative rate, absolute CV); docs/pynn.md
CASES = {
    "small_network": (["cells"], 0.15, 0.15),
    "va_cuba": (["Excitatory_Cells", "Inhibitory_Cells"], 0.20, 0.10),
}
MODES = ("float", "functional", "cycle")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    cache: dict[tuple[str, str], dict[str, np.ndarray]] = {}

    def get(script: str, mode: str) -> dict[str, np.ndarray]:
        if (script, mode) not in cache:
            out = tmp_path_factory.mktemp(f"{script}-{mode}")
            cache[script, mode] = run_spikefab(script, out, mode=mode)
        return cache[script, mode]
    return get


def _check(script: str, data: dict[str, np.ndarray]) -> None:
    pops, rate_tol, cv_tol = CASES[script]
    ref = reference(script)
    for pop in pops:
        ours, theirs = stats(data, pop), stats(ref, pop)
        assert theirs.rate_hz > 1.0 and theirs.active > 0.5 * theirs.neurons  # a live network
        assert abs(ours.rate_hz - theirs.rate_hz) <= rate_tol * theirs.rate_hz, (pop, ours, theirs)
        assert abs(ours.cv_isi - theirs.cv_isi) <= cv_tol, (pop, ours, theirs)


@pytest.mark.parametrize("mode", MODES)
def test_small_network_statistics_match_brian2(runs, mode: str) -> None:
    _check("small_network", runs("small_network", mode))


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_vogels_abbott_cuba_statistics_match_brian2(runs, mode: str) -> None:
    _check("va_cuba", runs("va_cuba", mode))


@pytest.mark.parametrize("script", ["small_network", pytest.param("va_cuba",
                                                                   marks=pytest.mark.slow)])
def test_functional_and_cycle_engines_spike_identically(runs, script: str) -> None:
    a, b = runs(script, "functional"), runs(script, "cycle")
    for pop in CASES[script][0]:
        np.testing.assert_array_equal(a[f"{pop}.times"], b[f"{pop}.times"])
        np.testing.assert_array_equal(a[f"{pop}.index"], b[f"{pop}.index"])
    np.testing.assert_array_equal(a["v"], b["v"])
