"""The RTL learning engine (Amaranth simulator) against the reference CoreLearner, step by step.

Random plastic networks (random rules from the grammar with dw/dd/dt, random trace impulses and
taus, epochs 1-5, all sign modes, half with a plastic recurrent projection) are compiled with the
hardware generator; each plastic core's engine is driven with random axon hits (some twice in a
step) and neuron spikes, and after every step its synapses, traces and generator states must
equal the reference's, and the end-of-step phase must take :func:`epoch_cycles` cycles.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from amaranth.sim import Simulator

import spikefab as sf
from spikefab.arch.learning.tables import CoreLearner
from spikefab.rtl.learning.engine import LearningEngine
from spikefab.arch.learning.tables import synapse_axons
from spikefab.arch.learning.layout import engine_layout, reward_profile
from spikefab.arch.learning.words import (EngineCaps, load_writes, unpack_synapse, unpack_x,
                                         unpack_y)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "arch" / "learning"))
from plastic_nets import build, random_net  # noqa: E402
from test_learning_reward import rstdp_net  # noqa: E402

pytestmark = pytest.mark.rtl


def _plastic_cores(seed: int):
    net = random_net(seed)
    image = sf.compile(build(net, "hardware"), "loihi1")
    return [c for c in image.cores if c.plastic], net["steps"]


def _end_cycles(lay, kk: list[int]) -> int:
    ending = [p for p in range(lay.n_profiles) if kk[p] == lay.t_epoch[p]]
    if not ending:
        return 1
    return 1 + sum(lay.epoch_cycles(p) if p in ending else 1 for p in range(lay.n_profiles))


def _check_core(core, steps: int, seed: int, spare: int = 0) -> int:
    """Run and compare; returns how many weights and tag entries learning changed.

    ``spare`` > 0: the engine is built with that much room beyond the layout in every capacity
    and loaded through its memory port instead of by initial values.
    """
    rng = np.random.default_rng(seed)
    lay = engine_layout(core)
    c0 = lay.caps()
    caps = EngineCaps(c0.axons + spare, c0.neurons + spare, c0.profiles + (spare > 0),
                      c0.synapses + spare, c0.products + spare)
    dut = LearningEngine(caps, None if spare else lay)
    xi = [p * caps.axons + a for p in range(lay.n_profiles) for a in range(lay.n_axons)]
    yi = [p * caps.neurons + n for p in range(lay.n_profiles) for n in range(lay.n_neurons)]
    weights = core.synapses["weight"].astype(np.int64).copy()
    ref = CoreLearner(core, weights, "hardware")
    n_ax, n_n = lay.n_axons, lay.n_neurons
    failures = []
    axon = synapse_axons(core)
    rewards = [k for k in range(len(core.synapses)) if reward_profile(core, k) is not None]

    async def strobe(ctx, name, **kw):
        while not ctx.get(dut.ready):
            await ctx.tick()
        for k, v in kw.items():
            ctx.set(getattr(dut, k), v)
        ctx.set(getattr(dut, name), 1)
        await ctx.tick()
        ctx.set(getattr(dut, name), 0)

    async def bench(ctx):
        if spare:
            for table, index, word in load_writes(lay, caps):
                ctx.set(dut.mem_table, table)
                ctx.set(dut.mem_index, index)
                ctx.set(dut.mem_wdata, word)
                ctx.set(dut.mem_we, 1)
                await ctx.tick()
            ctx.set(dut.mem_we, 0)
        kk = [0] * lay.n_profiles
        for step in range(1, steps + 1):
            ax = rng.random(n_ax) < rng.uniform(0.1, 0.7)
            ne = rng.random(n_n) < rng.uniform(0.1, 0.7)
            await strobe(ctx, "step_begin")
            kk = [1 if k == lay.t_epoch[p] else k + 1 for p, k in enumerate(kk)]
            hits = list(np.flatnonzero(ax))
            hits += [a for a in hits if rng.random() < 0.3]        # some axons hit twice
            for a in rng.permutation(hits):
                await strobe(ctx, "pre", index=int(a))
            for n in np.flatnonzero(ne):
                await strobe(ctx, "post", index=int(n))
            for sidx in rewards:                               # reward synapses of hit axons
                if ax[axon[sidx]]:
                    await strobe(ctx, "reward", index=int(core.synapses["neuron"][sidx]),
                                 profile=reward_profile(core, sidx))
            while not ctx.get(dut.ready):
                await ctx.tick()
            ctx.set(dut.step_end, 1)
            await ctx.tick()
            ctx.set(dut.step_end, 0)
            cycles = 1
            while not ctx.get(dut.ready):
                await ctx.tick()
                cycles += 1
            ref.step(ax, ne, step)
            want = ref.tables()
            syn = [unpack_synapse(caps, ctx.get(dut.smem.data[k])) for k in range(len(lay.pre))]
            xs = [unpack_x(ctx.get(dut.xmem.data[k])) for k in xi]
            ys = [unpack_y(ctx.get(dut.ymem.data[k])) for k in yi]
            states = [[ctx.get(s) for s in row] for row in dut.rng[:lay.n_profiles]]
            got = lay.to_tables(core, [s[0] for s in syn], [s[1] for s in syn],
                                [s[2] for s in syn], xs, ys, states)
            checks = {"weights": np.array_equal(got["weights"], weights),
                      "learn_synapses": np.array_equal(got["learn_synapses"], want["learn_synapses"]),
                      "learn_x": np.array_equal(got["learn_x"], want["learn_x"]),
                      "learn_y": np.array_equal(got["learn_y"], want["learn_y"]),
                      "learn_rng": np.array_equal(got["learn_rng"], want["learn_rng"]),
                      "cycles": cycles == _end_cycles(lay, kk)}
            bad = [k for k, ok in checks.items() if not ok]
            if bad:
                failures.append((step, bad, cycles, _end_cycles(lay, kk)))
                return

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert not failures, failures
    tags = ref.tables()["learn_synapses"]
    return int(np.count_nonzero(weights != core.synapses["weight"])
               + np.count_nonzero(tags != core.learn_synapses))


@pytest.mark.parametrize("seed", range(3))
def test_engine_equals_core_learner(seed: int) -> None:
    cores, steps = _plastic_cores(seed)
    assert cores
    changed = sum(_check_core(c, min(steps, 16), seed) for c in cores)
    assert changed > 0                       # the rules did learn something


@pytest.mark.parametrize("seed", [4, pytest.param(5, marks=pytest.mark.slow)])
def test_engine_loaded_through_memory_port(seed: int) -> None:
    """An engine with spare capacity, loaded by load_writes, learns exactly like the reference."""
    cores, steps = _plastic_cores(seed)
    assert sum(_check_core(c, min(steps, 12), seed, spare=3) for c in cores) > 0


@pytest.mark.parametrize("seed", [0] + [pytest.param(s, marks=pytest.mark.slow) for s in (1, 2)])
def test_engine_reward_stdp(seed: int) -> None:
    """Reward-modulated STDP: reward synapses feed y2 through the reward strobe."""
    image = sf.compile(rstdp_net(seed, reward_channels=1 + (seed % 2) * 3), "loihi1")
    cores = [c for c in image.cores if c.plastic]
    assert any(reward_profile(c, k) is not None for c in cores for k in range(len(c.synapses)))
    changed = sum(_check_core(c, 40, seed) for c in cores)
    assert changed > 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3, 6))
def test_engine_equals_core_learner_many(seed: int) -> None:
    cores, steps = _plastic_cores(seed)
    for c in cores:
        _check_core(c, steps, seed)


def _cocotb_run(simulator: str, tmp_path, seeds, steps: int) -> None:
    """Every seed's first plastic core on one build of the bench engine (BENCH_CAPS)."""
    import json

    from spikefab.rtl.sim.driver import (TIMESCALE, _Env, _tool_env, icarus_safe,
                                         simulator_problem)
    problem = simulator_problem(simulator)
    if problem:
        pytest.skip(f"{simulator}: {problem}")
    from amaranth.back import verilog
    from cocotb_tools.runner import get_results, get_runner

    from .learning_bench import BENCH_CAPS, bench_config

    images = []
    for seed in seeds:
        cores, _ = _plastic_cores(seed)
        images += [bench_config(c, steps, seed) for c in cores]
    src = tmp_path / "learning.v"
    text = verilog.convert(LearningEngine(BENCH_CAPS), name="learning_engine", emit_src=False)
    src.write_text(icarus_safe(text) if simulator == "icarus" else text)
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"images": images}))
    here = Path(__file__).resolve().parent
    runner = get_runner(simulator)
    args = ["-Wno-fatal"] if simulator == "verilator" else []
    with _Env(_tool_env(tmp_path, simulator)):
        try:
            runner.build(sources=[src], hdl_toplevel="learning_engine", build_dir=tmp_path,
                         always=True, timescale=TIMESCALE, build_args=args,
                         log_file=tmp_path / "build.log")
        except (RuntimeError, SystemExit) as exc:
            if simulator != "verilator":
                raise
            pytest.skip(f"verilator cannot build the engine here: {exc}")
        xml = runner.test(hdl_toplevel="learning_engine", test_module="cocotb_learning",
                          build_dir=tmp_path, test_dir=here, timescale=TIMESCALE,
                          extra_env={"SPIKEFAB_LEARN_BENCH": str(bench),
                                     "PYTHONPATH": str(here)},
                          log_file=tmp_path / "test.log")
    n_tests, n_failed = get_results(xml)
    log = (tmp_path / "test.log").read_text(errors="replace")
    assert n_tests == 1 and n_failed == 0, log[-3000:]


def test_engine_cocotb_icarus(tmp_path) -> None:
    """The engine's Verilog on Icarus: two images' memories and cycles equal the reference."""
    _cocotb_run("icarus", tmp_path, [0, 2], 10)


@pytest.mark.slow
@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_engine_cocotb_many(simulator: str, tmp_path) -> None:
    """30 random plastic images (seeds 6-35, all their plastic cores) on one build each."""
    _cocotb_run(simulator, tmp_path, range(6, 36), 10)
