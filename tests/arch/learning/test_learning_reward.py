"""Reward-modulated STDP: reward spikes feed the y2 trace that gates the weight change."""

from __future__ import annotations

import numpy as np
import pytest

import spikefab as sf
from spikefab.arch.learning import RewardModulatedSTDP
from spikefab.arch.reference import run_reference
from spikefab.compiler.ir.hardware import graph_from_hwnet, hwnet_from_graph
from spikefab.compiler.ir.text import parse_graph, print_graph
from spikefab.emulator import simulate
from spikefab.errors import ModelError


def rstdp_net(seed: int, reward_channels: int = 1, generator: str = "hardware") -> sf.Network:
    rng = np.random.default_rng(seed)
    n_in, n = int(rng.integers(3, 7)), int(rng.integers(2, 5))
    b = sf.Network()
    b.input("x", n_in)
    b.input("r", reward_channels if reward_channels == 1 else n)
    b.population("p", n, sf.LoihiLIF(du=int(rng.integers(0, 4096)), dv=1024,
                                     vth=int(rng.integers(20, 80))))
    rule = RewardModulatedSTDP(1, -1, int(rng.integers(2, 20)), int(rng.integers(2, 20)),
                               tau_eligibility=2 ** -int(rng.integers(1, 4)),
                               reward_impulse=float(rng.uniform(4, 60)),
                               reward_tau=int(rng.integers(0, 10)),
                               t_epoch=int(rng.integers(1, 5)), generator=generator,
                               sign_mode="excitatory")
    b.connect("x", "p", rng.integers(20, 100, size=(n, n_in)), learning=rule)
    b.reward("r", "x->p")
    b.output("y", "p")
    return b


def inputs(image, steps: int, seed: int) -> dict:
    rng = np.random.default_rng(seed + 1000)
    return {name: (rng.random((steps, int(s["size"]))) < (0.4 if name == "x" else 0.15))
            .astype(np.uint8) for name, s in image.inputs.items()}


@pytest.mark.parametrize("seed", range(8))
def test_reference_functional_cycle_agree(seed):
    image = sf.compile(rstdp_net(seed, reward_channels=1 + (seed % 2) * 5), "loihi1")
    x = inputs(image, 60, seed)
    ref = run_reference(image, x, 60, weight_every=6)
    for mode in ("functional", "cycle"):
        res = simulate(image, x, 60, mode=mode, weight_every=6)
        assert ref.same_behaviour(res)
        np.testing.assert_array_equal(res.weight_snapshots["x->p"], ref.weight_snapshots["x->p"])


def test_weights_move_only_with_reward():
    image = sf.compile(rstdp_net(3), "loihi1")
    x = inputs(image, 80, 3)
    w0 = np.array([p.weight for p in rstdp_net(3).projections if p.name == "x->p"][0])
    quiet = simulate(image, {"x": x["x"], "r": np.zeros_like(x["r"])}, 80)
    assert np.array_equal(quiet.weights["x->p"].ravel(), w0)       # dw = u0 * t * y2, y2 = 0
    rewarded = simulate(image, x, 80)
    assert not np.array_equal(rewarded.weights["x->p"].ravel(), w0)


def test_reward_needs_a_reward_rule_and_matching_size():
    b = sf.Network()
    b.input("x", 2)
    b.input("r", 3)
    b.population("p", 2)
    b.connect("x", "p", [[10, 10], [10, 10]], learning=sf.STDP(1, -1, 4, 4))
    with pytest.raises(ModelError, match="rule has a reward trace"):
        b.reward("r", "x->p")
    b.connect("x", "p", [[10, 10], [10, 10]], learning=RewardModulatedSTDP(1, -1, 4, 4, 0.5),
              name="rs")
    with pytest.raises(ModelError, match="source must have 1 or 2 channels"):
        b.reward("r", "rs")


def test_reward_projection_round_trips_the_text_ir():
    net = rstdp_net(5)
    text = print_graph(graph_from_hwnet(net))
    assert "HwRewardSynapses(" in text and "reward=1" in text
    again = hwnet_from_graph(parse_graph(text))
    assert sf.compile(again, "loihi1").to_bytes() == sf.compile(net, "loihi1").to_bytes()
