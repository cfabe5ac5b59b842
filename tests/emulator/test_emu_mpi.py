"""The distributed emulator under a real ``mpirun``: 1, 2 and 4 ranks equal one process.

Random multi-chiplet images (darwinwafer, and the small tinywafer test target whose slow,
serialising chiplet links and shallow FIFOs exercise backpressure across ranks; one darwin3
image, split by routers) run in both engines; every output of rank 0's Result must equal the single-process run: spikes, probed
traces, final states, every counter (hops, link table, deepest FIFO, estimated cycles), cycles
per step, latency and energy.  Open MPI runs as root here only with --allow-run-as-root's
environment variables, and 4 ranks on 2 cores need --oversubscribe.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emu_images import random_image, random_inputs
from spikefab.arch.reference import ring_slots, run_reference
from spikefab.arch.target import load_target
from spikefab.emulator import simulate

BIN = Path(sys.executable).parent
MPIRUN = BIN / "mpirun"
WORKER = Path(__file__).with_name("mpi_worker.py")

pytestmark = [
    pytest.mark.mpi,
    pytest.mark.skipif(not MPIRUN.exists(), reason=f"no mpirun in {BIN} (make install puts "
                                                   f"Open MPI there)"),
]


def mpirun(n: int, *cmd, timeout: float = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONPATH=str(Path(__file__).parent))
    return subprocess.run([str(MPIRUN), "--oversubscribe", "-n", str(n), *map(str, cmd)],
                          capture_output=True, text=True, timeout=timeout, env=env)


def assert_same(a, b) -> None:
    assert a.spikes.keys() == b.spikes.keys()
    for k in a.spikes:
        np.testing.assert_array_equal(a.spikes[k], b.spikes[k])
    assert a.traces.keys() == b.traces.keys()
    for k in a.traces:
        np.testing.assert_array_equal(a.traces[k], b.traces[k])
    assert len(a.final_state) == len(b.final_state)
    for x, y in zip(a.final_state, b.final_state):
        np.testing.assert_array_equal(x, y)
    assert a.counters.keys() == b.counters.keys()
    for k in a.counters:
        np.testing.assert_array_equal(a.counters[k], b.counters[k], err_msg=k)
    if a.cycles_per_step is None:
        assert b.cycles_per_step is None
    else:
        np.testing.assert_array_equal(a.cycles_per_step, b.cycles_per_step)
    assert (a.latency_us, a.energy_pj, a.energy_breakdown, a.backend) == \
        (b.latency_us, b.energy_pj, b.energy_breakdown, b.backend)


@pytest.fixture(scope="module")
def cases(tmp_path_factory, tiny_wafer):
    """Random images on two multi-chiplet targets, both engines, with single-process results."""
    d = tmp_path_factory.mktemp("mpi")
    out, expected = [], []
    # darwin3 has one chiplet: ranks own contiguous router blocks (cycle lookahead = 1 link)
    for tname, seeds in (("darwinwafer", 3), (str(tiny_wafer), 3), ("darwin3", 1)):
        target = load_target(tname)
        for seed in range(seeds):
            rng = np.random.default_rng(1000 + seed)
            image = random_image(rng, target, max_cores=8, max_neurons=12)
            inputs = random_inputs(rng, image, 10)
            path = image.save(d / f"{target.name}_{seed}.sfi")
            for mode in ("functional", "cycle"):
                case = dict(image=str(path), target=tname, inputs=inputs, steps=10, mode=mode,
                            probes=["all.v", "all.s"])
                out.append(case)
                expected.append(simulate(image, inputs, 10, mode, probes=case["probes"],
                                         target=target))
    cases_file = d / "cases.pkl"
    cases_file.write_bytes(pickle.dumps(out))
    return cases_file, expected


@pytest.mark.parametrize("ranks", [1, 2, 4])
def test_ranks_equal_single_process(cases, ranks, tmp_path):
    cases_file, expected = cases
    proc = mpirun(ranks, sys.executable, WORKER, cases_file, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = pickle.loads((tmp_path / "results.pkl").read_bytes())
    assert len(results) == len(expected)
    for a, b in zip(expected, results):
        assert_same(a, b)
    sent = sum(json.loads((tmp_path / f"bytes_{r}.json").read_text()) for r in range(ranks))
    if ranks == 1:
        assert sent == 0
    else:
        assert sent > 0            # packets and credits really crossed ranks


def staged_image(rng: np.random.Generator, target, min_delay: int):
    """A random image on which staging (Lava's per-(source step, delay) flooring) matters.

    Every accumulator class gets a negative exponent and every synapse a delay of at least
    ``min_delay`` (so the functional engine's exchange window is ``min_delay + 1`` steps and
    several source steps are in flight at once); busy neurons make many sums meet in one slot.
    Draws until the image spreads over several chiplets and has synapses.
    """
    image = random_image(rng, target, max_cores=8, max_neurons=12, activity=3.0)
    while len({c.chiplet for c in image.cores}) < 2 or sum(len(c.synapses)
                                                           for c in image.cores) < 20:
        image = random_image(rng, target, max_cores=8, max_neurons=12, activity=3.0)
    for c in image.cores:
        c.acc_exps[:] = rng.integers(-4, 0, len(c.acc_exps))
        if len(c.synapses):
            c.synapses["delay"] = np.clip(c.synapses["delay"].astype(np.int64) + min_delay, 0,
                                          target.core.max_delay)
            c.synapses["weight"] = rng.integers(-256, 256, len(c.synapses))
    return image


@pytest.fixture(scope="module")
def staged_cases(tmp_path_factory, tiny_wafer):
    """Staged images (delays, negative exponents), both engines, single-process and reference."""
    d = tmp_path_factory.mktemp("mpi_staged")
    out, expected, reference = [], [], []
    for tname in ("darwinwafer", str(tiny_wafer)):
        target = load_target(tname)
        for seed in range(4):
            rng = np.random.default_rng(2000 + seed)
            image = staged_image(rng, target, min_delay=seed % 3)
            assert ring_slots(image) > 2 and min(int(c.acc_exps.min()) for c in image.cores) < 0
            inputs = random_inputs(rng, image, 16, p=0.5)
            path = image.save(d / f"{target.name}_{seed}.sfi")
            ref = run_reference(image, inputs, 16, probes=["all.v"])
            for mode in ("functional", "cycle"):
                case = dict(image=str(path), target=tname, inputs=inputs, steps=16, mode=mode,
                            probes=["all.v", "all.u"])
                out.append(case)
                expected.append(simulate(image, inputs, 16, mode, probes=case["probes"],
                                         target=target))
                reference.append(ref)
    cases_file = d / "cases.pkl"
    cases_file.write_bytes(pickle.dumps(out))
    return cases_file, out, expected, reference


@pytest.mark.parametrize("ranks", [1, 2, 4])
def test_staged_deliveries_equal_single_process_and_reference(staged_cases, ranks, tmp_path):
    """Deliveries with delays and negative exponents (issue #15): every contribution of a source
    step, local or imported from another rank, is summed before the floor, for any rank count,
    also when the exchange window holds several source steps."""
    cases_file, cases, expected, reference = staged_cases
    proc = mpirun(ranks, sys.executable, WORKER, cases_file, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = pickle.loads((tmp_path / "results.pkl").read_bytes())
    assert len(results) == len(expected)
    for case, a, b, ref in zip(cases, expected, results, reference):
        assert_same(a, b)
        assert b.same_behaviour(ref), case["image"]
        np.testing.assert_array_equal(b.traces["all.v"], ref.traces["all.v"])
    windows = json.loads((tmp_path / "windows_0.json").read_text())
    functional = [w for w, c in zip(windows, cases) if c["mode"] == "functional"]
    assert max(functional) >= 3 and min(functional) == 1     # multi-step windows were staged
    spiking = sum(int(r.counters["spikes"]) for r in results)
    assert spiking > 0


def test_spikefab_run_under_mpirun_returns_the_result_on_rank_0_only(tmp_path):
    target = load_target("darwinwafer")
    rng = np.random.default_rng(21)
    image = random_image(rng, target, max_cores=8, max_neurons=12)
    inputs = random_inputs(rng, image, 8)
    path = image.save(tmp_path / "net.sfi")
    case = dict(image=str(path), target="darwinwafer", inputs=inputs, steps=8, mode="cycle",
                probes=["all.theta"])
    (tmp_path / "cases.pkl").write_bytes(pickle.dumps([case]))
    proc = mpirun(2, sys.executable, WORKER, tmp_path / "cases.pkl", tmp_path, "--api", 1)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (got,) = pickle.loads((tmp_path / "results.pkl").read_bytes())
    assert_same(simulate(image, inputs, 8, "cycle", probes=["all.theta"]), got)
    assert json.loads((tmp_path / "none_1.json").read_text()) == [True]


def test_cli_under_mpirun_writes_the_single_process_output(tmp_path):
    target = load_target("darwinwafer")
    rng = np.random.default_rng(7)
    image = random_image(rng, target, max_cores=8, max_neurons=12)
    inputs = random_inputs(rng, image, 12)
    img = image.save(tmp_path / "net.sfi")
    np.savez(tmp_path / "in.npz", **inputs)
    expected = simulate(image, inputs, 12, "cycle", probes=["all.u"], target=target)
    expected.save_npz(tmp_path / "expected.npz")
    proc = mpirun(2, BIN / "spikefab", "run", img, "--input", tmp_path / "in.npz", "--steps", 12,
                  "--mode", "cycle", "--probe", "all.u", "-o", tmp_path / "out.npz")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("12 steps on emulator-cycle") == 1        # reported once
    with np.load(tmp_path / "out.npz") as got, np.load(tmp_path / "expected.npz") as want:
        assert sorted(got.files) == sorted(want.files)
        for k in want.files:
            np.testing.assert_array_equal(got[k], want[k])


def test_cli_error_is_reported_once(tmp_path):
    target = load_target("darwinwafer")
    image = random_image(np.random.default_rng(3), target, max_cores=4)
    img = image.save(tmp_path / "net.sfi")
    np.savez(tmp_path / "in.npz", nope=np.zeros((3, 1), np.uint8))
    proc = mpirun(2, BIN / "spikefab", "run", img, "--input", tmp_path / "in.npz", "--steps", 3)
    assert proc.returncode != 0
    assert proc.stderr.count("error: ") == 1
    assert "input 'nope' is not in the image" in proc.stderr


def test_a_device_run_under_several_ranks_is_refused_once(tmp_path):
    """`mpirun -n 2 spikefab run --device URI` drove one device from two host processes."""
    target = load_target("darwinwafer")
    img = random_image(np.random.default_rng(4), target, max_cores=2).save(tmp_path / "n.sfi")
    proc = mpirun(2, BIN / "spikefab", "run", img, "--steps", 3, "--device", "emu://",
                  "-o", tmp_path / "out.npz")
    assert proc.returncode != 0
    assert proc.stderr.count("error: ") == 1
    assert "spikefab run --device is one host process, not an MPI job of 2 ranks" in proc.stderr
    assert not (tmp_path / "out.npz").exists()


PYNN_SCRIPT = """
import sys
import spikefab.pynn as sim
sim.setup(timestep=0.1, target="darwinwafer")
s = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0, 2.0]), label="s")
c = sim.Population(2, sim.IF_curr_delta(), label="c")
sim.Projection(s, c, sim.OneToOneConnector(), sim.StaticSynapse(weight=20.0))
c.record("spikes")
sim.run(5.0)
times = [[round(float(t), 6) for t in st] for st in c.get_data().segments[0].spiketrains]
print("RANK", sim.rank(), sim.num_processes(), times)
c.write_data(sys.argv[1])
"""


def test_pynn_script_under_mpirun_gives_every_rank_the_result(tmp_path):
    """Rank 1 of a PyNN script under mpirun got None from the distributed run and died with
    AttributeError; now every rank holds the run's data and files are written by rank 0."""
    script = tmp_path / "net.py"
    script.write_text(PYNN_SCRIPT)
    proc = mpirun(2, sys.executable, script, tmp_path / "out.pkl")
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = sorted(x for x in proc.stdout.splitlines() if x.startswith("RANK"))
    assert lines == ["RANK 0 1 [[1.2, 2.2], [1.2, 2.2]]", "RANK 1 1 [[1.2, 2.2], [1.2, 2.2]]"]
    assert (tmp_path / "out.pkl").exists()


@pytest.mark.parametrize("fault", ["kill", "hang"])
def test_lost_rank_stops_the_others_with_a_typed_error(tmp_path, fault):
    target = load_target("darwinwafer")
    rng = np.random.default_rng(11)
    image = random_image(rng, target, max_cores=8, max_neurons=12)
    path = image.save(tmp_path / "net.sfi")
    cases_file = tmp_path / "cases.pkl"
    cases_file.write_bytes(pickle.dumps([dict(image=str(path), target="darwinwafer",
                                              inputs=random_inputs(rng, image, 50), steps=50,
                                              mode="functional", probes=[])]))
    # a killed rank: the launcher stops the job and the survivors report it; a hung rank: the
    # survivors give up after the link timeout.  Either way, no hang (the subprocess timeout).
    proc = mpirun(2, sys.executable, WORKER, cases_file, tmp_path, f"--{fault}-rank", 1,
                  "--link-timeout", 5, timeout=120)
    assert proc.returncode != 0
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, proc.stderr[-3000:]
    assert errors[0].startswith("error: LinkError: ")
    if fault == "hang":
        assert "within the link timeout (5 s)" in errors[0]
    assert not (tmp_path / "results.pkl").exists()


def test_corrupted_section_read_by_one_rank_is_reported_once(tmp_path):
    from spikefab.arch.image import index_image
    target = load_target("darwinwafer")
    image = random_image(np.random.default_rng(5), target, max_cores=8)
    img = image.save(tmp_path / "net.sfi")
    last = len(image.cores) - 1
    off, nbytes, _ = index_image(img).sections[f"core/{last}/state"]
    data = bytearray(img.read_bytes())
    data[off] ^= 0xFF
    img.write_bytes(bytes(data))
    proc = mpirun(2, BIN / "spikefab", "run", img, "--steps", 3)
    assert proc.returncode == 2
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, proc.stderr[-3000:]
    assert f"CRC mismatch in section 'core/{last}/state'" in errors[0]


# ---------------------------------------------------------------- whole-image checks under mpirun
def _single_verdict(path: Path):
    """What one process says about an image file: "ok" or (error class, where)."""
    from spikefab.arch.image import load_image
    from spikefab.errors import SpikefabError
    try:
        simulate(load_image(path), {}, 3, "functional")
    except SpikefabError as exc:
        return [type(exc).__name__, exc.where]
    return "ok"


def test_hostile_images_get_the_single_process_error_under_mpirun(tmp_path):
    """Fuzz mutations (spikefab.fuzz) refused by one process are refused alike on 2 ranks.

    Each rank reads only its cores, so the whole-image checks (manifest, section list, fan-out
    bound) run from the index on every rank; a manifest that drops a core, whose sections one
    process refuses as unexpected, must not run as a smaller image.
    """
    import json as _json
    from spikefab.fuzz import mutate, seed_image
    target = load_target("darwinwafer")
    rng = np.random.default_rng(2024)
    picked: dict[str, list] = {"manifest": [], "table": []}
    paths, want = [], []
    while len(picked["manifest"]) < 3 or len(picked["table"]) < 2:
        image = seed_image(rng, target)
        kind, data = mutate(image, rng)
        group = "manifest" if kind == "manifest" else "table"
        if len(picked[group]) >= (3 if group == "manifest" else 2):
            continue
        path = tmp_path / f"m{len(paths)}.sfi"
        path.write_bytes(data)
        verdict = _single_verdict(path)
        if verdict == "ok":
            continue
        picked[group].append(path)
        paths.append(path)
        want.append(verdict)
    # a manifest whose core list drops the last core (its sections are left over)
    image = seed_image(np.random.default_rng(7), target)
    while len(image.cores) < 2:
        image = seed_image(rng, target)
    sections = image.sections()
    m = _json.loads(sections[0][1])
    m["cores"] = m["cores"][:-1]
    from spikefab.fuzz import encode
    path = tmp_path / "dropped_core.sfi"
    path.write_bytes(encode([("manifest", _json.dumps(m).encode())] + sections[1:]))
    paths.append(path)
    want.append(_single_verdict(path))
    assert want[-1][0] == "ImageError"
    # manifest errors no rank's part shows: overlapping outputs, a population its slices miss
    for name, edit in (("overlap", lambda m: m["outputs"].update(
            twin=dict(next(iter(m["outputs"].values()))))),
                       ("population", lambda m: next(iter(m["populations"].values())).update(
                           size=next(iter(m["populations"].values()))["size"] + 1))):
        m = _json.loads(sections[0][1])
        edit(m)
        path = tmp_path / f"{name}.sfi"
        path.write_bytes(encode([("manifest", _json.dumps(m).encode())] + sections[1:]))
        paths.append(path)
        want.append(_single_verdict(path))
        assert want[-1][0] == "ImageError", name
    # the fan-out bound is the whole image's: routes exported by rank 1 count on rank 0's axon
    # (over the bound), and a part may use more than its own cores' share (within the bound)
    from emu_images import build_image
    big = {"address": (0, 0, 0, 0), "n": 1, "axons": [target.core.synapses]}
    for name, a_routes, b_routes, verdict in (("over", {}, {i: [(0, 0)] for i in range(3)},
                                               "ImageError"),
                                              ("share", {0: [(0, 0), (0, 0)]}, {}, "ok")):
        image = build_image("darwinwafer", [dict(big, routes=a_routes),
                                            {"address": (1, 0, 0, 0), "n": 3,
                                             "routes": b_routes}], [])
        path = tmp_path / f"fanout_{name}.sfi"
        path.write_bytes(image.to_bytes())
        paths.append(path)
        want.append(_single_verdict(path))
        assert (want[-1] if want[-1] == "ok" else want[-1][0]) == verdict, name
    # on-chip learning runs in one process: the distributed engines refuse it, typed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "arch" / "learning"))
    from plastic_nets import small_stdp_net
    import spikefab as sf
    path = sf.compile(small_stdp_net(), "loihi1").save(tmp_path / "plastic.sfi")
    paths.append(path)
    want.append(["InputError"])
    cases = tmp_path / "cases.pkl"
    cases.write_bytes(pickle.dumps([dict(image=str(p), target="darwinwafer", inputs={},
                                         steps=3, mode="functional") for p in paths]))
    proc = mpirun(2, sys.executable, WORKER, cases, tmp_path, "--errors", 1)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = _json.loads((tmp_path / "verdicts.json").read_text())
    assert [g if g == "ok" else g[0] for g in got] == [w if w == "ok" else w[0] for w in want], \
        (got, want)
