"""Render docs/benchmarks.md from the JSON files of one ``run_all.py`` run (nothing else).

Every number in the doc is read from the section results; the prose around them only says what
was measured and why the numbers look the way they do.  A section that failed or was skipped is
rendered as such, and its targets as "not measured".
"""

from __future__ import annotations

import math
from pathlib import Path
from string import Template
from typing import Any

from thread_profile import cpu_speedup

TEMPLATES = Path(__file__).resolve().parent / "templates"


def fill(name: str, **values: str) -> str:
    """``templates/<name>`` with its ``$placeholders`` replaced (every one must be given)."""
    return Template((TEMPLATES / name).read_text()).substitute(values).strip()

MET, NOT_MET, UNMEASURED = "met", "not met", "not measured"


# --------------------------------------------------------------------------- formatting
def f(x: Any, digits: int = 3) -> str:
    """A number with ``digits`` significant digits (plain below 1e6, else a power of ten)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, bool):
        return "yes" if x else "no"
    x = float(x)
    if x == 0:
        return "0"
    if abs(x) >= 1e6 or abs(x) < 1e-3:
        return f"{x:.{digits - 1}e}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")
    s = f"{x:.{digits}g}"
    if "e" in s:
        s = f"{x:.0f}"
    return s


def table(head: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        out.append("| " + " | ".join(c if isinstance(c, str) else f(c) for c in r) + " |")
    return "\n".join(out)


def _err(d: dict) -> str | None:
    if "error" in d:
        return f"not measured: {d['error'].splitlines()[-1][:300]}"
    if "skipped" in d:
        return f"skipped: {d['skipped']}"
    return None


def _sum(d: dict, *keys: str) -> float:
    return float(sum(d.get(k, 0) for k in keys))


def _status(ok: bool | None) -> str:
    return UNMEASURED if ok is None else (MET if ok else NOT_MET)


# --------------------------------------------------------------------------- sections
def _machine(m: dict, quick: bool, total_s: float) -> str:
    peers = m.get("peers") or {}
    rows = [["date", m.get("date_utc", "?")], ["CPU", m.get("cpu", "?")],
            ["cores", str(m.get("cores"))], ["RAM", f"{f(m.get('ram_gib'))} GiB"],
            ["load average at start (1/5/15 min)",
             " / ".join(f(x) for x in m.get("load_avg", []))],
            ["Python / numpy / numba", f"{m.get('python')} / {m.get('numpy')} / {m.get('numba')}"],
            ["benchmark venv (SANA-FE / Brian2 / numpy)",
             " / ".join(str(peers.get(k, "absent")) for k in ("sanafe", "brian2", "numpy"))],
            ["whole run (`make bench` harness)", f"{f(total_s / 60)} min"
             + (" (--quick sizes)" if quick else "")]]
    text = "## Machine\n\n" + table(["", "value"], rows) + "\n\nThe machine is a shared VM: " \
        "timings are medians of repeated runs, but other jobs may have run at the same time " \
        "(see the load average); trust ratios measured in the same run more than absolute times."
    only = m.get("sections_run")
    if only:
        text += (f"\n\n**Partial run** (`run_all.py --only`): this date, load and machine belong to "
                 f"the sections {', '.join(only)}; every other section is kept from an earlier "
                 "run of the harness (each section's ratios are still measured side by side "
                 "within that section's own run).")
    return text


def _sanafe(d: dict) -> tuple[str, dict]:
    facts: dict = {}
    head = "## 1. Against SANA-FE (same network, same placement)\n\n"
    e = _err(d)
    if e:
        return head + e, facts
    ours, peer = d["ours"], d.get("sanafe", {})
    models = peer.get("models", {})
    unc = d.get("uncapped_loihi1", {})
    intro = fill("sanafe_intro.md", neurons=f"{d['neurons']:,}", synapses=f"{d['synapses']:,}",
                 steps=f"{d['steps']:,}", cap=d["neurons_per_core_cap"],
                 compile_s=f(d["compile_s"]), placer=d["placement"]["placer"],
                 cores=d["cores_used"],
                 uncapped=(f"{unc['cores']} cores." if "cores" in unc else
                           f"no mapping: {unc.get('error', '?')[:300]}  (The greedy partitioner "
                           "packs cores by synapse count, then splits them for route-table room; "
                           "each split adds destinations to every other core's table.)"))
    text = head + intro + "\n\n" + _sanafe_table(ours, models) + "\n"
    if not models:
        text += "\nSANA-FE: " + (_err(peer) or "no result") + "\n"
        return text, facts
    det = models.get("detailed")
    fun, cyc = ours["functional"], ours["cycle"]
    if det:
        facts["functional_x_detailed"] = fun["steps_per_s"] / det["steps_per_s"]
        facts["cycle_x_detailed"] = cyc["steps_per_s"] / det["steps_per_s"]
        facts["detailed_steps_per_s"] = det["steps_per_s"]
    if peer.get("cycle_error"):
        text += f"\nSANA-FE cycle model: not measured: {peer['cycle_error'][-300:]}\n"
    text += "\n" + _sanafe_differs(fun, cyc, models) + "\n"
    if det:
        text += _sanafe_targets(fun, cyc, det) + "\n"
    return text, facts


def _sanafe_table(ours: dict, models: dict) -> str:
    rows = []
    for key, label in (("functional", "spikefab functional"), ("cycle", "spikefab cycle")):
        r = ours[key]
        rows.append([label, r["steps"], f"{f(r['run_s'])} ({r['reps']})", r["steps_per_s"],
                     r["events_per_s"], r["fired_fraction"], r["dynamic_energy_per_step_pj"] / 1e6,
                     r["energy_per_step_pj"] / 1e6, r["latency_per_step_us"]])
    for key, label in (("simple", "SANA-FE simple"), ("detailed", "SANA-FE detailed"),
                       ("detailed_short", "SANA-FE detailed (short window)"),
                       ("cycle", "SANA-FE cycle (BookSim2)")):
        r = models.get(key)
        if not r:
            continue
        ev = r["synaptic_events"] / r["wall_s"]
        rows.append([label, r["steps"], f"{f(r['wall_s'])} ({len(r.get('walls', [1]))})",
                     r["steps_per_s"], ev, r["fired_fraction"], r["energy_per_step_pj"] / 1e6,
                     r["energy_per_step_pj"] / 1e6, r["latency_per_step_us"]])
    return table(["engine", "steps", "wall s (runs)", "steps/s", "syn. events/s",
                  "fired/neuron/step",
                  "dynamic energy/step µJ", "total energy/step µJ", "latency/step µs"], rows)


def _sanafe_differs(fun: dict, cyc: dict, models: dict) -> str:
    det = models.get("detailed")
    ratio_rows = []
    for key in ("simple", "detailed", "cycle"):
        r = models.get(key)
        if r:
            ratio_rows.append([f"SANA-FE {key}", r["steps_per_s"],
                               fun["steps_per_s"] / r["steps_per_s"],
                               cyc["steps_per_s"] / r["steps_per_s"]])
    split = det.get("energy_split_pj", {}) if det else {}
    osplit = fun.get("energy_split_pj", {})
    pk = max(fun["packets"] / fun["steps"], 1)
    booksim = ""
    if "cycle" in models and "detailed_short" in models:
        booksim = (f" (its BookSim2 `cycle` model, on the first {models['cycle']['steps']} "
                   f"steps: {f(models['cycle']['latency_per_step_us'])} µs/step vs `detailed` "
                   f"{f(models['detailed_short']['latency_per_step_us'])} µs/step on the same "
                   "window)")
    hops = _sum(osplit, "spikes", "hops_ew", "hops_ns")
    return fill(
        "sanafe_differs.md",
        ratios=table(["against", "its steps/s", "our functional ×", "our cycle ×"], ratio_rows),
        fired_ours=f(fun["fired_fraction"]),
        fired_peer=f(det["fired_fraction"]) if det else "n/a",
        same="identical" if det and fun["synaptic_events"] == det["synaptic_events"]
        else "different",
        events_ours=f"{fun['synaptic_events']:,}",
        events_peer=f"{det['synaptic_events'] if det else 0:,}",
        e_synapse=f(split.get("synapse", 0) / 1e6), e_soma=f(split.get("soma", 0) / 1e6),
        e_network=f(split.get("network", 0) / 1e6), o_synops=f(osplit.get("synops", 0) / 1e6),
        o_neurons=f(_sum(osplit, "neurons_active", "neurons_inactive") / 1e6),
        o_hops=f(hops / 1e6), o_static=f(osplit.get("static", 0) / 1e6),
        peer_pj_packet=f(split.get("network", 0) / pk), our_pj_packet=f(hops / pk),
        lat_detailed=f(det["latency_per_step_us"]) if det else "n/a", lat_booksim=booksim,
        cyc_packets=f(cyc["packets"] / max(cyc["steps"], 1)),
        cyc_cycles=f(cyc["cycles_per_step"]), cyc_lat=f(cyc["latency_per_step_us"]),
        cyc_lat_ratio=(f(cyc["latency_per_step_us"] / det["latency_per_step_us"]) if det
                       else "n/a"),
        fun_lat=f(fun["latency_per_step_us"]))


def _sanafe_targets(fun: dict, cyc: dict, det: dict) -> str:
    pk_f = fun["packets"] / fun["steps"]
    hops_c = cyc.get("hops", 0) / max(cyc["steps"], 1)
    return fill("sanafe_targets.md", pk_f=f(pk_f), ev_f=f(fun["synaptic_events"] / fun["steps"]),
                need_fun=f(1000 * det["steps_per_s"]),
                ns_need_packet=f(1e9 / (1000 * det["steps_per_s"] * pk_f)),
                ns_fun_packet=f(1e9 * fun["run_s"] / max(fun["packets"], 1)),
                need_cyc=f(100 * det["steps_per_s"]),
                ns_need_hop=f(1e9 / (100 * det["steps_per_s"] * max(hops_c, 1))),
                hops_c=f(hops_c), ns_cyc_hop=f(1e9 * cyc["run_s"] / max(cyc.get("hops", 1), 1)),
                cyc_cps=f(cyc["cycles_per_step"] * cyc["steps_per_s"]))


def _cuba_rows(d: dict) -> list[list]:
    """One table row per regime and simulator (an ``absent`` or error row where one is missing)."""
    rows = []
    for name, r in d["regimes"].items():
        def add(label, x, steps=None):
            if not x or _err(x):
                rows.append([name, label, _err(x) or "absent", "", "", "", ""])
                return
            fired = x.get("fired_fraction")
            if fired is None and "spikes" in x:
                fired = x["spikes"] / d["neurons"] / x["steps"]
            wall = x.get("run_s", x.get("wall_s"))
            rows.append([name, label, x["steps"], f(wall), x["steps_per_s"], x["events_per_s"],
                         fired])
        add("spikefab functional", r["functional"])
        if r.get("functional_2threads"):
            add("spikefab functional, 2 threads", r["functional_2threads"])
        add("spikefab cycle", r["cycle"])
        add("plain NumPy (same arithmetic)", r["numpy"])
        if name != "burst":
            add("Brian2 numpy runtime", r.get("brian2_numpy"))
            add("Brian2 cpp_standalone", r.get("brian2_cpp_standalone"))
    return rows


def _cuba_ratios(d: dict) -> list[list]:
    """Ours (functional) ÷ each other simulator, per regime, in events/s and steps/s."""
    ratio_rows = []
    for name, r in d["regimes"].items():
        fun = r["functional"]
        for key, label in (("numpy", "plain NumPy"), ("brian2_numpy", "Brian2 numpy"),
                           ("brian2_cpp_standalone", "Brian2 cpp_standalone")):
            x = r.get(key)
            if x and not _err(x) and x.get("events_per_s"):
                ratio_rows.append([name, label, fun["events_per_s"] / x["events_per_s"],
                                   fun["steps_per_s"] / x["steps_per_s"]])
    return ratio_rows


def _cuba_facts(d: dict) -> dict:
    """The numbers the summary quotes: burst events/s, the 2-thread gain, the low/high ratios."""
    facts: dict = {}
    burst = d["regimes"].get("burst", {}).get("functional")
    if burst:
        facts["functional_events_per_s"] = burst["events_per_s"]
        two = d["regimes"]["burst"].get("functional_2threads")
        if two:
            facts["burst_2threads_x"] = two["steps_per_s"] / burst["steps_per_s"]
            if two.get("profile") and burst.get("profile"):
                facts["burst_2threads_cpu_x"] = cpu_speedup(burst["profile"], two["profile"])
    for name in ("low", "high"):
        r = d["regimes"].get(name, {})
        for key in ("brian2_cpp_standalone", "numpy"):
            x = r.get(key)
            if x and not _err(x) and x.get("steps_per_s"):
                facts[f"{name}_x_{key}"] = r["functional"]["steps_per_s"] / x["steps_per_s"]
    return facts


def _low_rate_note(d: dict) -> str:
    """Per-step cost at the low rate against Brian2 cpp_standalone, and why ours is higher."""
    low = d["regimes"].get("low", {})
    bs = low.get("brian2_cpp_standalone")
    if low and bs and not _err(bs):
        us = 1e6 / low["functional"]["steps_per_s"]
        return (f"\nPer step at the low rate: ours {f(us)} µs = "
                f"{f(1e3 * us / d['neurons'])} ns per neuron update, Brian2 cpp_standalone "
                f"{f(1e6 / bs['steps_per_s'])} µs.  Our update carries Loihi's whole state "
                "machine (24-bit current and voltage with Lava's wraps, refractory counter, "
                "adaptive threshold, one accumulator per weight-exponent class in a delay ring) "
                "and the per-core cycle estimate of every step; Brian2's generated C++ loop "
                "updates three doubles.\n")
    return ""


def _cuba(d: dict) -> tuple[str, dict]:
    facts: dict = {}
    head = "## 2. Emulator throughput: CUBA-sized network vs Brian2 and plain NumPy\n\n"
    e = _err(d)
    if e:
        return head + e, facts
    intro = (f"Brian2 runs its documentation's CUBA example ({f(d['neurons'])} neurons, 2 %, "
             "1 s at "
             f"dt = 0.1 ms = {d['steps']:,} steps; `El` = -49 mV for the low regime, -30 mV for "
             "the high one).  Our side is a CUBA-sized fixed-point network with the same size, "
             "connectivity and E/I split (80 % excitatory +40, 20 % inhibitory -160, balanced; "
             "`du = 1024`, `dv = 0`, `vth << 6 = 2^22`, bias drawn so the rate matches; "
             "`bench_peers.cuba_network`), compiled "
             "for `darwin3`.  *NumPy* is a plain vectorised event-driven implementation of the "
             "same "
             "fixed-point arithmetic (CSR by source, `np.bincount` scatter; "
             "`bench_peers.numpy_lif`): its spike count must equal ours.  \"burst\" is the issue's "
             "high-activity case (~8 % of neurons per step), which CUBA does not reach.  Synaptic "
             "events/s = delivered synaptic events / wall time (Brian2: spikes × mean "
             "out-degree).")
    rows = _cuba_rows(d)
    tab = table(["regime", "simulator", "steps", "wall s", "steps/s", "syn. events/s",
                 "fired/neuron/step"], rows)
    ratio_rows = _cuba_ratios(d)
    exact = all(r["numpy"].get("bit_exact_spike_count") for r in d["regimes"].values())
    facts.update(_cuba_facts(d))
    text = head + intro + "\n\n" + tab + "\n\nRatios (ours functional ÷ other):\n\n" + table(
        ["regime", "against", "syn. events/s ×", "steps/s ×"], ratio_rows)
    text += (f"\n\nThe NumPy model's spike counts {'equal' if exact else 'DIFFER FROM'} the "
             "functional engine's in every regime (bit-exact check of the arithmetic).  At the "
             "low and high CUBA rates only ~2-10 neurons spike per step, so every simulator is "
             "bound by its per-step cost (neuron updates and dispatch), not by synaptic events; "
             "events/s only becomes a throughput measure in the burst regime.\n")
    text += _threads_note(d)
    text += _low_rate_note(d)
    return text, facts


def _threads_note(d: dict) -> str:
    """The burst network on 1 vs 2 threads: wall ratio next to the per-thread CPU profile."""
    b = d["regimes"].get("burst", {})
    one, two = b.get("functional"), b.get("functional_2threads")
    if not one or not two or "cpu_us_per_step" not in two:
        return ""
    text = (f"\nBurst on 2 threads: {f(two['steps_per_s'] / one['steps_per_s'])}× the steps/s "
            f"of 1 thread (wall, load average {f(one['load_avg'])} / {f(two['load_avg'])}; see "
            "Machine for the cores).")
    if one.get("profile") and two.get("profile"):
        text += (f"  Per-thread CPU profile (`engine.profile_threads`, each step's least CPU "
                 f"time over 5 profiled runs, µs per step): on dedicated cores 2 threads would "
                 f"give {f(cpu_speedup(one['profile'], two['profile']))}× (the busiest thread's "
                 "CPU time per step, summed over the steps).\n\n"
                 + thread_table([("1 thread", one["profile"]), ("2 threads", two["profile"])]))
    return text + ("\n\nAbove one runnable job per core, a thread that reaches the barrier "
                   "waits for its partner to be scheduled, so the wall ratio measures the "
                   "machine's load as much as the engine; the CPU profile does not.\n")


def thread_table(runs: list) -> str:
    """The per-thread profile of each run: CPU µs per step per phase and the work per step."""
    rows = []
    for label, pr in runs:
        for w, t in enumerate(pr["threads"]):
            rows.append([label, w] + [t[f"{ph}_cpu_us"] for ph in
                                      ("deliver", "update", "send", "serial", "wait")]
                        + [t["rows"], t["events"], t["neurons"], t["spikes"]])
        rows.append([label, "critical path", pr["critical_cpu_us_per_step"], "", "", "", "",
                     "", "", "", ""])
    return table(["run", "thread", "deliver µs", "update µs", "send µs", "serial µs",
                  "wait µs", "rows", "syn. events", "neurons", "spikes"], rows)


def _dense(d: dict) -> tuple[str, dict]:
    facts: dict = {}
    head = "## 3. Bit-accurate Dense→LIF 1000×1000 vs Lava\n\n"
    e = _err(d)
    if e:
        return head + e, facts
    r = d["functional"]
    ov = d["overhead"]
    facts["overhead_us"] = ov["us_per_step"]
    facts["dense_x_lava"] = d["ratio_vs_lava"]
    facts["dense_steps_per_s"] = r["steps_per_s"]
    text = head + (
        f"Lava's test graph from perf-anchors.md section 2: LIF({d['neurons'] // 2}, du 4095, "
        "dv 0, "
        "vth 100, bias_mant U[50, 200), bias_exp 6) → Dense(int weights in [-8, 8]) → "
        f"LIF({d['neurons'] // 2}, du 1024, dv 256, vth 100), {d['steps']:,} steps, on our "
        f"functional engine ({d['cores']} `darwin3` cores).  Lava 0.10 is not installable on this "
        "Python (3.11): its CPU figure, 241 steps/s for `Loihi1SimCfg(select_tag='fixed_pt')`, "
        "is quoted from the reference notes (measured on this machine class with a patched "
        "install), not re-run.\n\n")
    text += table(["simulator", "steps/s", "syn. events/s", "fired/neuron/step (first layer)"],
                  [["spikefab functional", r["steps_per_s"], r["events_per_s"],
                    r["fired_fraction"]],
                   ["Lava fixed_pt CPU (quoted)", d["lava_fixed_pt_steps_per_s"], "", ""]])
    ev_step = r["synaptic_events"] / max(r["steps"], 1)
    text += (f"\n\nRatio: **{f(d['ratio_vs_lava'])}×** Lava's steps/s.  This graph is nearly "
             f"dense: {f(r['fired_fraction'] * 100)} % of the first layer fires every step, "
             f"{f(ev_step)} synaptic events per step, {f(1e9 / max(r['events_per_s'], 1))} ns per "
             "event here.  The functional engine delivers such projections as dense blocks "
             "(`emulator/fanout.py`): the rows a source neuron adds to one core's run of "
             "neurons are vector adds over narrow weights, and when more than half of a block's "
             "rows spike it adds the block's column sum and subtracts the silent rows instead "
             "(here about a third of the adds); sparse projections keep the event-driven "
             "scatter.  Both give the same integer sums, so the result is bit-exact either "
             "way.\n\n"
             f"Per-step overhead on a small network (10 neurons, no synapses, {ov['steps']:,} "
             f"steps, one `simulate` call): **{f(ov['us_per_step'])} µs/step** "
             f"({f(ov['steps_per_s'])} steps/s; image flattening {f(ov['flatten_s'] * 1e3)} ms "
             "once per call, excluded).\n")
    return text, facts


def _emulator(d: dict) -> tuple[str, dict]:
    facts: dict = {}
    head = "### 2b. Engine speed on EMULATOR's own benchmark\n\n"
    e = _err(d)
    if e:
        return head + e + "\n", facts
    fu, ov, cy = d["functional"], d["overhead"], d["cycle_image"]
    facts.update(events=fu["events_per_s"], overhead_us=ov["us_per_step"],
                 noc_002=d.get("noc_0.02", {}).get("cycles_per_s"),
                 noc_04=d.get("noc_0.4", {}).get("cycles_per_s"))
    rows = [["functional, one core, high activity", f"{fu['neurons']:,} neurons, "
             f"{f(fu['spikes_per_step'])} spikes/step, {fu['steps']} steps",
             f"{f(fu['events_per_s'])} syn. events/s ({f(fu['events_per_cpu_s'])} per CPU-s)"],
            ["functional, per-step overhead", f"10 neurons, {ov['steps']:,} steps",
             f"{f(ov['us_per_step'])} µs/step (+ {f(ov['call_ms'])} ms per call)"],
            ["cycle engine on the same image", f"{cy['steps']} steps, {f(cy['cycles'])} cycles",
             f"{f(cy['cycles_per_s'])} cycles/s, {f(cy['synops_per_s'])} syn. events/s"]]
    for rate in ("0.02", "0.4"):
        r = d.get(f"noc_{rate}")
        if r:
            rows.append([f"NoC 8×8 uniform at {rate}", f"{f(r['cycles'])} cycles",
                         f"{f(r['cycles_per_s'])} cycles/s ({f(r['cycles_per_cpu_s'])} per CPU-s), "
                         f"latency {f(r['avg_latency'])}, accepted {f(r['accepted'])}"])
    text = head + ("`benchmarks/emulator_throughput.py` (EMULATOR): a 4,000-neuron, 2 % "
                   "recurrent network written directly as a one-core image (a benchmark-only "
                   "profile `bench1core` = darwin3 timing with room for 320 k synapses), about "
                   "half the neurons spiking every step; best of 3 wall times.\n\n")
    text += table(["what", "workload", "measured"], rows) + "\n"
    text += ("\nThe functional engine is one Numba call for the whole run: a neuron-update loop "
             "over flat int64 state, then, per spiking neuron and route entry, a contiguous run "
             "of synapses added into a flat ring of dendritic accumulators.  The cycle engine "
             "does the same arithmetic plus the routers, and skips cycles in which nothing can "
             "move (no packet anywhere, or every sender blocked on a credit) by jumping to the "
             "next event, so a synapse-engine-bound image simulates many more cycles/s than the "
             "NoC under load, where every router is visited every cycle.  \"per CPU-s\" divides "
             "by the process's CPU time: on this shared machine wall time includes waiting for "
             "a core.\n")
    return text, facts


def _noc(d: dict, img_dir: Path, doc_dir: Path) -> tuple[str, dict]:
    facts: dict = {}
    head = "## 4. NoC speed and accuracy (cycle engine, traffic mode)\n\n"
    e = _err(d)
    if e:
        return head + e, facts
    bs = d["booksim2_8x8"]
    text = head + (
        "`spikefab.emulator.noc_traffic`: the cycle engine's router kernel under synthetic "
        f"uniform-random traffic, one Bernoulli source and sink per router, {d['cycles']:,} "
        "cycles plus drain, speed = median of "
        f"{d['reps']} seeds (16×16: half the cycles, one seed, loads up to 0.3).  Offered and "
        "accepted loads in packets "
        "(= flits) per node per cycle.  BookSim2 columns: the reference notes' sweep on this "
        "machine class (noc-rtl-fpga-anchors.md section 1.1: 8×8, DOR, 4 VCs × 8 flits, "
        "1-flit packets; a 4-stage router, so its zero-load latency is ~4 cycles per hop, ours "
        "1 cycle per hop + injection/ejection).\n\n")
    for mesh, rows in d["meshes"].items():
        trs = []
        for r in rows:
            bl = bc = ""
            if mesh == "8x8" and r["offered"] in bs["offered"]:
                i = bs["offered"].index(r["offered"])
                bl, bc = f(bs["latency"][i]), f(bs["cycles_per_s"][i])
            trs.append([r["offered"], r["accepted"], r["avg_latency"], r["avg_hops"],
                        r["cycles_per_s"], r["router_cycles_per_s"], bl, bc])
            if mesh == "8x8" and abs(r["offered"] - 0.02) < 1e-9:
                facts["noc_cps_002"] = r["cycles_per_s"]
            if mesh == "8x8" and abs(r["offered"] - 0.4) < 1e-9:
                facts["noc_cps_04"] = r["cycles_per_s"]
        k = int(mesh.split("x")[0])
        sat = max(r["accepted"] for r in rows)
        facts[f"noc_sat_{mesh}"] = sat
        text += f"**{mesh}** (XY bound 4/k = {f(4 / k)}; highest accepted load {f(sat)}):\n\n"
        text += table(["offered", "accepted", "avg latency (cycles)", "avg hops",
                       "sim cycles/s", "router-cycles/s", "BookSim2 latency", "BookSim2 cycles/s"],
                      trs) + "\n\n"
    png = _noc_plot(d, img_dir)
    if png:
        rel = Path("img") / png.name if img_dir == doc_dir / "img" else png
        text += f"![latency vs offered load]({rel})\n\n"
    sats = "; ".join(f"{m}: {f(facts[f'noc_sat_{m}'])} = "
                     f"{f(100 * facts[f'noc_sat_{m}'] * int(m.split('x')[0]) / 4)} % of 4/k"
                     for m in d["meshes"])
    text += (f"Saturation (highest accepted load): {sats}; BookSim2 8×8: {f(bs['saturation'])} = "
             f"{f(100 * bs['saturation'] * 8 / 4)} % of 4/k.  Our router has one FIFO per input "
             "and no virtual channels (docs/microarchitecture.md), so head-of-line blocking "
             "saturates it below BookSim2's 4-VC router; its zero-load latency is lower because "
             "a hop takes one cycle instead of BookSim2's 4-stage pipeline.  Compare the shape, "
             "the saturation point and the speed, not the absolute latencies.  Both simulators "
             "slow down with the number of packets in flight: our kernel skips idle routers, so "
             "at low load it simulates many more cycles per second than at saturation.\n")
    return text, facts


def _noc_plot(d: dict, img_dir: Path) -> Path | None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    img_dir.mkdir(parents=True, exist_ok=True)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.2), dpi=110)
    bs = d["booksim2_8x8"]
    for mesh, rows in d["meshes"].items():
        k = int(mesh.split("x")[0])
        ok = [r for r in rows if r["avg_latency"] == r["avg_latency"]]
        line, = ax.plot([r["offered"] for r in ok], [r["avg_latency"] for r in ok], "o-",
                        label=f"spikefab cycle engine {mesh}")
        ax.axvline(4 / k, color=line.get_color(), ls=":", lw=1)
        ax2.plot([r["offered"] for r in rows], [r["accepted"] for r in rows], "o-",
                 color=line.get_color(), label=f"spikefab {mesh}")
        ax2.axhline(4 / k, color=line.get_color(), ls=":", lw=1)
    ax.plot(bs["offered"], bs["latency"], "s--", color="k", label="BookSim2 8x8 (reference notes)")
    ax.set_yscale("log")
    ax.set_xlabel("offered load (packets/node/cycle)")
    ax.set_ylabel("average packet latency (cycles)")
    ax.set_title("latency vs offered load (dotted: XY bound 4/k)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax2.plot([0, 0.5], [0, 0.5], color="grey", lw=0.8, ls="--", label="accepted = offered")
    ax2.axhline(bs["saturation"], color="k", ls="-.", lw=1, label="BookSim2 8x8 saturation")
    ax2.set_xlabel("offered load (packets/node/cycle)")
    ax2.set_ylabel("accepted load (packets/node/cycle)")
    ax2.set_title("accepted vs offered load (dotted: XY bound 4/k)", fontsize=10)
    ax2.grid(True, alpha=0.3)
    ax2.legend(fontsize=8)
    fig.suptitle("Uniform random traffic on the cycle engine's fabric")
    fig.tight_layout()
    path = img_dir / "bench_noc_latency.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def _compiler(d: dict, p: dict) -> tuple[str, dict]:
    facts: dict = {}
    head = "## 5. Compiler scaling and placement quality\n\n"
    e = _err(d)
    text = head
    if e:
        text += e + "\n"
    else:
        text += ("`benchmarks/compiler_scale.py` (BACKEND): random layered networks built directly "
                 "as `HwNetwork` projections, each size compiled in its own process (`anneal` "
                 "placer) so its peak RSS is its own; times in seconds per pass "
                 "(pass + verifier).\n\n")
        passes = []
        for r in d["rows"]:
            for k in r.get("passes", {}):
                if k not in passes:
                    passes.append(k)
        rows = []
        for r in d["rows"]:
            if "error" in r:
                rows.append([r.get("size", "?"), f"error: {r['error'][-120:]}"] +
                            [""] * (6 + len(passes)))
                continue
            rows.append([r["size"], r["target"], r["neurons"], r["synapses"], r["cores"],
                         r["chiplets"], r["compile_s"]] + [r["passes"].get(k, "") for k in passes]
                        + [r["synapses_per_s"], r["peak_rss_gib"]])
            facts[f"compile_{r['size']}"] = r
        text += table(["size", "target", "neurons", "synapses", "cores", "chiplets", "compile s"]
                      + [f"{k} s" for k in passes] + ["synapses/s", "peak RSS GiB"], rows) + "\n"
        big = [r for r in d["rows"] if "passes" in r and r["passes"]]
        if big:
            text += "\nLargest pass per size: " + "; ".join(
                f"{r['size']}: {max(r['passes'], key=r['passes'].get)} "
                f"({f(100 * max(r['passes'].values()) / max(r['compile_s'], 1e-9))} %)"
                for r in big) + ".  Compile time includes loading the cached Numba kernels " \
                "on first use in each process.\n"
    text += "\n**Placement** (`benchmarks/compiler_placement.py`): spike-weighted hop count of " \
            "the " \
            "optimizing placer (`anneal`) against `sequential` on the same partition.\n\n"
    e = _err(p)
    if e:
        return text + e + "\n", facts
    rows = []
    for r in p["rows"]:
        if "network" not in r:
            continue
        rows.append([r["network"], r["target"], r["cores"], r["sequential"]["hops"],
                     r["anneal"]["hops"], f"{f(100 * r['hop_reduction'])} %",
                     r["sequential"]["max_link_load"], r["anneal"]["max_link_load"],
                     r["anneal"]["seconds"]])
        facts.setdefault("placement", []).append(r)
    text += table(["network", "target", "cores", "sequential hops", "anneal hops", "reduction",
                   "max link load seq.", "max link load anneal", "anneal s"], rows) + "\n"
    notes = [r["note"] for r in p["rows"] if "note" in r]
    if notes:
        text += "\n" + " ".join(notes) + "\n"
    return text, facts


def _rtl(d: dict) -> tuple[str, dict]:
    facts: dict = {}
    head = "## 6. RTL simulation speed\n\n"
    e = _err(d)
    if e:
        return head + e + "\n", facts
    text = head + (
        f"The same {d['networks']} random `ice40-up5k` images ({d['steps']} steps each, up to 64 "
        "neurons per core; `tests/rtl/netgen.py`) on the Mesh RTL under cocotb, the Verilog "
        "exported once and each simulator built once (cached); \"stepping\" counts only the "
        "cycles of the run phase, \"whole call\" includes image loads and read-back through the "
        "memory port.  The emulator's cycle engine runs the same images and counts the same "
        "cycles (it is cycle-exact with the RTL, tests/rtl).\n\n")
    rows = []
    for name, s in d["simulators"].items():
        if "skipped" in s:
            rows.append([name, f"skipped: {s['skipped']}", "", "", "", ""])
            continue
        ver = str(d.get("versions", {}).get(name, "?")).replace("()", "").strip()
        label = f"{name} {ver}"
        rows.append([label, s["build_s"], s["run_cycles"], s["run_wall_s"], s["cycles_per_s"],
                     s["total_cycles"] / s["wall_s"]])
        facts[name] = s["cycles_per_s"]
    em = d.get("emulator_cycle")
    if em:
        rows.append(["emulator cycle engine", "", em["cycles"], em["wall_s"], em["cycles_per_s"],
                     ""])
        facts["emulator"] = em["cycles_per_s"]
    text += table(["simulator", "build s", "stepping cycles", "stepping wall s",
                   "stepping cycles/s", "whole call cycles/s"], rows) + "\n"
    steps_rtl = {s.get("step_cycles") for s in d["simulators"].values() if "step_cycles" in s}
    if em and steps_rtl:
        same = steps_rtl == {em["cycles"]}
        text += (f"\nCycle counts of the time steps: RTL {', '.join(f(x) for x in steps_rtl)}, "
                 f"emulator {f(em['cycles'])} ({'identical' if same else 'DIFFERENT'}).\n")
    if "icarus" in facts and "verilator" in facts:
        text += (f"\nVerilator is **{f(facts['verilator'] / facts['icarus'])}×** Icarus; the "
                 f"cycle engine is {f(facts.get('emulator', 0) / facts['verilator'])}× Verilator "
                 "(each RTL call also pays a few seconds of simulator start-up, not counted).  "
                 "Because of that start-up and the build, the differential tests (`tests/rtl`) "
                 "build each simulator once per session and run all images in one simulator "
                 "process.  FPGA resource use and timing are in `docs/fpga.md`.\n")
    return text, facts


def _runtime(d: dict) -> tuple[str, dict]:
    facts: dict = {}
    head = "## 7. Serial deployment\n\n"
    e = _err(d)
    if e:
        return head + e + "\n", facts
    text = head + (
        "`benchmarks/runtime_upload.py` (RUNTIME): the image of a 300-neuron network uploaded to "
        "the board over a link paced like an 8N1 UART (`faulty://PTY?pace=BAUD`: a pty has no "
        "baud rate); fraction = payload bytes/s ÷ (baud / 10).  Boards: `virtual` = the "
        "Verilator-built SoC (the RTL the bitstream is built from) behind a pty; `model` = the "
        "Python device model of `tests/runtime/boardmodel.py`, which answers at once: the same "
        "host code against a line-bound device, the better estimate of a real FPGA, whose FSM "
        "answers in microseconds.  `window` = WRITE_MEM frames in flight: 1 is stop and wait "
        "(before), 8 the pipelined upload the full-duplex RTL allows (after), same run.\n\n")
    if "upload" in d:
        rows = []
        widest = max(r.get("window", 1) for r in d["upload"])
        for r in d["upload"]:
            rows.append([r["board"], r.get("window", 1), r["link"], f"{r['baud']:,}",
                         r["payload_bytes"], r["wire_bytes"],
                         r["seconds"], r["payload_Bps"], r["line_Bps"], r["fraction_of_line"]])
            if r["board"] == d["upload"][0]["board"] and r.get("window", 1) == widest:
                facts[f"upload_{r['link']}"] = r["fraction_of_line"]
        text += table(["board", "window", "link", "baud", "payload B", "wire B", "seconds",
                       "payload B/s", "line B/s", "fraction of line"], rows) + "\n"
        r0 = d["upload"][0]
        text += (f"\nFraming alone (COBS, header, CRC, write arguments) costs "
                 f"{f(100 * (1 - r0['payload_bytes'] / r0['wire_bytes']))} % of the wire bytes, "
                 f"so the ceiling is {f(100 * r0['payload_bytes'] / r0['wire_bytes'])} % of the "
                 "line; the rest is turnaround (stop and wait) or host and board speed (window). "
                 " The virtual board is bound by simulation speed (its unpaced row), not by the "
                 "line or the protocol.\n")
    else:
        text += f"upload: not measured: {d.get('upload_error', '?')}\n"
    rt = d.get("round_trip")
    if rt:
        facts["rtt_ms"] = rt["rtt_ms_median"]
        text += (f"\nRound trip of one `run` command (1 step, inputs in, spikes and state back; "
                 f"unpaced pty, {rt['runs']} runs): median **{f(rt['rtt_ms_median'])} ms** "
                 f"(min {f(rt['rtt_ms_min'])}, max {f(rt['rtt_ms_max'])}).\n")
    else:
        text += f"\nround trip: not measured: {d.get('round_trip_error', '?')}\n"
    fl = d.get("faults")
    if fl:
        facts["faults"] = fl
        text += ("\nFault injection (`benchmarks/runtime_faults.py`): "
                 f"{fl.get('commands', 0):,} commands with {f(100 * fl['flip'])} % of bytes "
                 f"flipped ({fl.get('bytes_flipped', 0):,} flips): corrupt payloads "
                 f"{fl['corrupt_payloads']}, lost spikes {fl['lost_spikes']}, extra spikes "
                 f"{fl['extra_spikes']} of {fl['spikes_checked']:,} checked, resends "
                 f"{fl.get('resends', 0):,}; link cut mid-run → LinkError "
                 f"{f(fl.get('cut_seconds_after_last_answer'))} s after the last answer "
                 f"(timeout {f(fl.get('configured_timeout'))} s); recovered by a fresh "
                 f"open_device: {f(fl.get('recovered'))}.\n")
    else:
        text += f"\nfault injection: not measured: {d.get('faults_error', '?')}\n"
    text += _reads(d)
    return text, facts


def _reads(d: dict) -> str:
    """READ_MEM read-back rows of the runtime section (``benchmarks/runtime_read.py``)."""
    rows = d.get("reads")
    if not rows:
        return f"\nread-back: not measured: {d.get('reads_error', '?')}\n"
    text = ("\nRead-back (`benchmarks/runtime_read.py`; model board, 1 Mbaud paced, bytes flipped "
            "both ways, every table of an image read and compared with what was written): "
            "READ_MEMs go 16 in flight and a read whose answer is damaged is asked again in "
            "halves (docs/host-protocol.md section 9).\n\n"
            "| flipped bytes | payload B/s | of line | READ_MEMs | resends | splits | wrong tables |\n"
            "|---|---|---|---|---|---|---|\n")
    for r in rows:
        text += (f"| {f(100 * r['flip'])} % | {r['payload_Bps']:,} | {f(r['fraction_of_line'])} | "
                 f"{r['read_mems']:,} | {r['resends']:,} | {r['read_splits']:,} | "
                 f"{r['wrong_tables']} |\n")
    return text


def _profile(d: dict, targets_missed: list[str], sanafe: dict | None = None) -> str:
    head = "## Profiles of missed targets\n\n"
    e = _err(d)
    if e:
        return head + e + "\n"
    rows = d["rows"]
    text = head
    if targets_missed:
        text += "Missed in this run: " + "; ".join(targets_missed) + ".\n\n"
    else:
        text += "No target was missed in this run; the profile below is kept for reference.\n\n"
    text += ("The emulator's engines are single Numba calls, one opaque frame to cProfile and "
             "py-spy, so the profile splits the Python side (cProfile) and the kernel's cost is "
             "split by experiment: the SANA-FE network compiled *spread* (loihi1, ≤ 32 neurons "
             "per core: ~1.4 synaptic events per packet) and *packed* (darwin3: one packet "
             "carries many synapses) delivers the same synaptic events through very different "
             "packet counts.\n\n")
    text += table(["image", "cores", "steps", "kernel s", "packets", "syn. events",
                   "neuron updates", "ns/packet if all", "ns/event if all", "events/s"],
                  [[r["image"], r["cores"], r["steps"], r["kernel_s"], r["packets"], r["synops"],
                    r["neuron_updates"], r["ns_per_packet_if_all"], r["ns_per_synop_if_all"],
                    r["events_per_s"]] for r in rows])
    if len(rows) == 2:
        a, b = rows
        # two equations t = p * packets + e * events (+ the same neuron updates in both)
        det = a["packets"] * b["synops"] - b["packets"] * a["synops"]
        if det and a["packets"] != b["packets"]:
            per_pk = (a["kernel_s"] * b["synops"] - b["kernel_s"] * a["synops"]) / det
            per_ev = (a["packets"] * b["kernel_s"] - b["packets"] * a["kernel_s"]) / det
            fit = (f"p ≈ {f(per_pk * 1e9)} ns per packet, e ≈ {f(per_ev * 1e9)} ns per "
                   "synaptic event" if per_pk > 0 and per_ev > 0 else
                   "no positive solution at these sizes (timer noise dominates)")
            text += (f"\n\nSolving `t = p·packets + e·events` over the two runs: {fit} "
                     "(neuron updates are the same in both and folded in).  "
                     "Per spike the functional kernel adds the neuron's per-route sums to the "
                     "counters, walks its route destinations (a 24-byte row each: destination "
                     "core, synapse count, axon or output channel) for the per-core time "
                     "estimate, then adds its *fan-out run* -- every synapse its packets reach, "
                     "stored neuron-major in `emulator/flat.py` -- to the accumulators "
                     "sequentially.  Routing each packet through its axon record instead (the "
                     "earlier design, and what the cycle engine must do) costs a chain of "
                     "dependent loads per packet; the fan-out run removes it, so packets cost "
                     "only their destination row and events a sequential read plus one "
                     "accumulator add.  The reference notes' bound (~7e8 events/s, cache-bound "
                     "scatter) assumes no per-packet work at all.  "
                     "Times are wall seconds on the shared machine (see the load average), so "
                     "the absolute ns include waiting for a core; the ratio between the two "
                     "images does not.")
    spread = next((r for r in rows if r["image"].startswith("spread")), None)
    if spread:
        text += (f"\n\nPer `simulate` call the image is also flattened in Python "
                 f"(`emulator/flat.py`): {f(spread['flatten_s'])} s for the spread image's "
                 f"{spread['cores']} cores, against {f(spread['kernel_s'])} s of kernel for "
                 f"{spread['steps']} steps (excluded from the steps/s of sections 1-2, as "
                 "SANA-FE's `chip.load` is).")
    cyc = (sanafe or {}).get("ours", {}).get("cycle")
    if cyc and sanafe.get("cores_used"):
        cps = cyc["cycles_per_step"] * cyc["steps_per_s"]
        text += (f"\n\n**Cycle engine on the SANA-FE network.**  It simulates {f(cps)} cycles/s "
                 f"there: {f(cyc['packets'] / cyc['steps'])} packets cross the 8×4 mesh in "
                 f"{f(cyc['cycles_per_step'])} cycles per step, so nearly every cycle has "
                 "packets in flight and skipping idle cycles cannot help.  The engine visits "
                 "only the routers that hold packets and the core engines that are due (a "
                 "timing wheel), so its work is per grant, not per unit-cycle: ~208k "
                 "events per step (grants, arrivals, credits, injections, synapse pops); "
                 f"{f(1e9 / cyc['steps_per_s'] / 208e3)} ns per event here.")
        det = sanafe.get("sanafe", {}).get("models", {}).get("detailed")
        if det:
            need = 100 * det["steps_per_s"] / cyc["steps_per_s"]
            text += (f"  100× SANA-FE detailed needs {f(need)}× less per event (~10 ns).  "
                     "Round 5 made an on-chip arrival or credit one entry of a next-cycle "
                     "list instead of a queue row (no time compare, no arrival/credit "
                     "branch), updates the request and credit masks without data-dependent "
                     "branches, skips outputs without a credit and carries the destination "
                     "with the packet (1.2-1.4× on the kernel, every cycle count "
                     "unchanged): what is left, ~25 ns per event of the kernel's CPU time in that "
                     "A/B (the per-event figure above is wall time of `simulate`, with the "
                     "accumulation pass and the driver), is the arbitration and FIFO "
                     "bookkeeping itself, dependent loads through small state.  Out of reach "
                     "of an exact per-packet model on one thread; the measured rounds are in "
                     "[benchmarks-cycle-notes.md](benchmarks-cycle-notes.md).")
    text += "\n\ncProfile of one spread functional run (cumulative time):\n\n```\n"
    text += "\n".join(d.get("cprofile_top", [])) + "\n```\n"
    return text


def _engine_bounds(res: dict) -> str:
    """Issue 19's functional-engine rows: what one step costs and what bounds it, from this run."""
    cu, de, m = res.get("cuba", {}), res.get("dense", {}), res.get("machine", {})
    text = "\n\n**Functional engine, per step (issue 19).**"
    low = cu.get("regimes", {}).get("low") if not _err(cu) else None
    if low:
        fu = low["functional"]
        us = 1e6 / fu["steps_per_s"]
        text += (f"  CUBA low rate: {f(us)} µs per step for {f(cu['neurons'])} neurons = "
                 f"{f(1e3 * us / cu['neurons'])} ns per neuron update, with "
                 f"{f(fu['spikes'] / fu['steps'])} spikes per step, so the neuron update is the "
                 "step.  It is one fused loop per profile segment (`kernels.update_lif`): input, "
                 "current, voltage, threshold and reset over int32 state with the profile's "
                 "constants as scalars, eight neurons per 256-bit register, the decays one "
                 "double multiply each (exact: a 24-bit value times a 13-bit factor fits a "
                 "double) and skipped when the factor is 0 or 1; it is exact under a guard on "
                 "the per-step input (checked once per run, else the int64 loops run).  The "
                 "spike scan reads eight neurons per load, the loop runs refractory periods "
                 "itself and neurons with an adaptive threshold are redone apart, and the "
                 "spiking neurons' route and synapse rows are prefetched a few spikes ahead of "
                 "their walk.  The time is the kernel's loop (`engine.last_run_s`), "
                 "as Brian2's `_last_run_time` and SANA-FE's `chip.sim()`; checks, flattening "
                 "and the Result are excluded on every side.")
        bs = low.get("brian2_cpp_standalone")
        if bs and not _err(bs):
            text += (f"  Brian2 cpp_standalone: {f(1e6 / bs['steps_per_s'])} µs per step "
                     "(three doubles per neuron, one compiled loop, no per-step dispatch).")
    if de and not _err(de):
        r = de["functional"]
        text += (f"  Dense→LIF: {f(1e6 / r['steps_per_s'])} µs per step for "
                 f"{f(r['synaptic_events'] / r['steps'])} synaptic events; the block path "
                 "streams one narrow (int8 here) weight per dense synapse of every silent (or "
                 "spiking) row, so its speed is the rate at which the weight rows stream from "
                 "L2; under other jobs' load the rows are evicted and it drops several-fold.")
    burst = cu.get("regimes", {}).get("burst") if not _err(cu) else None
    if burst and burst.get("functional_2threads"):
        one, two = burst["functional"], burst["functional_2threads"]
        la = m.get("load_avg", [0])[0]
        text += (f"  Threads: the burst network ran at {f(one['steps_per_s'])} steps/s on one "
                 f"thread and {f(two['steps_per_s'])} on two (same bytes).  The whole run is one "
                 "parallel region (`emulator/barrier.py`: one barrier per step).  Each thread owns "
                 "a part of the neurons and delivery is split by target: it adds its own part's "
                 "sub-rows of every spike of the previous step (and the host input) into its own "
                 "accumulators, so no accumulator line is written by both cores; then it updates "
                 "its neurons, lists its own spikes and walks their routes into its own counters "
                 "and per-core loads.  Everything a step writes for the next is kept per step "
                 "parity, so one barrier suffices.  Measured apart from this run (A/B, load 2.3, "
                 "`engine.profile_threads`): 1 thread 66.4 µs of CPU per step, 2 threads "
                 "37.6-38.4 µs on the busiest thread (1.73-1.77x on dedicated cores): delivery "
                 "26.4-27.5 µs per thread against 48.2 µs for one (88-91 % efficient), send 9-10 "
                 "µs, update 2.3 µs, worker 0's serial share 0.4 µs.  What separates wall time from "
                 "this is the barrier: the threads' work per step differs by 0.8 µs (median) and "
                 "3.1 µs (p99), and waking a sleeping partner through the futex costs 4-6 µs on "
                 "this VM, 10-15 % of a 45 µs step.  A waiter therefore polls (with `pause`) for "
                 "5 µs before it sleeps (the earlier 2,000 polls lasted 0.9 µs, so half the steps "
                 "paid the wake-up); `benchmarks/barrier_overhead.py` measures 0.4-0.9 µs per "
                 "barrier spinning against 3.7-6.2 µs sleeping at once.  With a core per thread "
                 "the bound is ~38.5-39 µs per step, ~1.7x.  On this VM the critical-path ratio "
                 "itself spans 1.0-2.0x between runs of the same code: in an A/B on a quiet guest "
                 "(load 1.0, 3 rounds of 1 and 2 threads each, session 6's tree against this one) "
                 "it was 1.02 / 1.09 / 1.53x and 1.50 / 1.16 / 2.03x, because one thread's CPU time "
                 "for the same delivery moved from 43 to 82 µs per step between rounds: the "
                 "host's other tenants share the caches and memory bandwidth, which CPU time does "
                 "not exclude.  "
                 f"With a load average of {f(la)} on {m.get('cores', '?')} cores a thread that "
                 "reaches the barrier waits whenever its partner's core is taken by another job, "
                 "and the wall ratio measures that load.  "
                 "GNU OpenMP's pool was 10-50x slower than one thread here, so the engine picks "
                 "workqueue unless NUMBA_THREADING_LAYER says otherwise.")
    return text + "\n"


# --------------------------------------------------------------------------- targets
def _targets_compiler(add, facts: dict, total_s: float, quick: bool) -> None:
    """Issue 4: compile time, memory, wafer scale, placement."""
    cf = facts["compiler"]
    r1 = cf.get("compile_1M")
    add("4", "1 M synapses compile ≤ 5 s", f"{f(r1['compile_s'])} s" if r1 else "n/a",
        r1["compile_s"] <= 5 if r1 else None)
    r10 = cf.get("compile_10M")
    add("4", "10 M synapses compile ≤ 60 s", f"{f(r10['compile_s'])} s" if r10 else "n/a",
        r10["compile_s"] <= 60 if r10 else None)
    add("4", "10 M synapses peak memory ≤ 4 GiB",
        f"{f(r10['peak_rss_gib'])} GiB" if r10 else "n/a",
        r10["peak_rss_gib"] <= 4 if r10 else None)
    rw = cf.get("compile_wafer")
    add("4", "wafer scale (≥ 10 M neurons, ≥ 100 M synapses, ≥ 16 chiplets) compiles",
        f"{f(rw['neurons'])} neurons, {f(rw['synapses'])} synapses, {rw['chiplets']} chiplets, "
        f"{f(rw['compile_s'])} s, {f(rw['peak_rss_gib'])} GiB" if rw else "n/a",
        (rw["neurons"] >= 1e7 and rw["synapses"] >= 1e8 and rw["chiplets"] >= 16) if rw else None)
    for r in cf.get("placement", []):
        if r["network"].startswith("recurrent2000") or r["network"].startswith("cnn_sinabs"):
            add("4", f"anneal hops ≥ 30 % below sequential: {r['network']}",
                f"{f(100 * r['hop_reduction'])} %", r["hop_reduction"] >= 0.30)


def _targets_emulator(add, facts: dict, total_s: float, quick: bool) -> None:
    """Issue 5: events/s, per-step overhead, cycle engine speed."""
    em = facts["emulator"]
    fe = em.get("events")
    add("5", "functional ≥ 2e8 synaptic events/s (4,000 neurons, 2 %, high activity; "
        "one-core image, section 2b)", f"{f(fe)} events/s" if fe else "n/a",
        fe >= 2e8 if fe else None)
    fe = facts["cuba"].get("functional_events_per_s")
    add("5", "functional ≥ 2e8 synaptic events/s (same, compiled for darwin3, ~8 % per step; "
        "\"burst\", section 2)", f"{f(fe)} events/s" if fe else "n/a",
        fe >= 2e8 if fe else None)
    for label, ov in (("section 2b", em.get("overhead_us")),
                      ("section 3", facts["dense"].get("overhead_us"))):
        add("5", f"≤ 20 µs overhead per step on small nets ({label})",
            f"{f(ov)} µs" if ov is not None else "n/a", ov <= 20 if ov is not None else None)
    for rate, key, need, lab in (("0.02", "noc_002", 2.5e5, "2.5e5"),
                                 ("0.4", "noc_04", 2e4, "2e4")):
        for label, v in (("section 2b", em.get(key)),
                         ("section 4", facts["noc"].get(f"noc_cps_{key[4:]}"))):
            add("5", f"cycle engine ≥ {lab} cycles/s, 8×8 at {rate} ({label})",
                f"{f(v)} cycles/s" if v else "n/a", v >= need if v else None)


def _targets_rtl_runtime(add, facts: dict, total_s: float, quick: bool) -> None:
    """Issues 6 and 7: RTL simulation speed, upload, faults."""
    rt = facts["rtl"]
    add("6", "RTL sim speed Verilator vs Icarus recorded",
        f"Verilator {f(rt['verilator'])}, Icarus {f(rt['icarus'])} cycles/s"
        if "verilator" in rt and "icarus" in rt else "n/a",
        True if "verilator" in rt and "icarus" in rt else None)
    ru = facts["runtime"]
    for link in ("115200", "1000000"):
        v = ru.get(f"upload_{link}")
        add("7", f"upload throughput at {int(link):,} baud recorded (fraction of line)",
            f"{f(v)} of line" if v is not None else "n/a", True if v is not None else None)
    fl = ru.get("faults")
    if fl:
        ok = None if fl.get("commands", 0) < 1000 else (fl["corrupt_payloads"] == 0
              and fl["lost_spikes"] == 0 and fl["extra_spikes"] == 0
              and fl.get("spike_mismatch_rounds", 0) == 0)
        add("7", "1,000 commands at 1 % corrupted bytes: no silent corruption, no lost/dup spikes",
            f"{fl.get('commands', 0):,} commands, {fl['corrupt_payloads']} corrupt, "
            f"{fl['lost_spikes']} lost, {fl['extra_spikes']} extra", ok)
    else:
        add("7", "1,000 commands at 1 % corrupted bytes: no silent corruption, no lost/dup spikes",
            "n/a", None)


def _targets_perf(add, facts: dict, total_s: float, quick: bool) -> None:
    """Issues 9 and 19: peers, `make bench` time, threads, wafer."""
    sf = facts["sanafe"]
    cx, fx = sf.get("cycle_x_detailed"), sf.get("functional_x_detailed")
    det = sf.get("detailed_steps_per_s")
    add("9", "cycle engine ≥ 100× SANA-FE detailed (steps/s)",
        f"{f(cx)}× ({f(det)} steps/s detailed)" if cx else "n/a", cx >= 100 if cx else None)
    add("9", "functional engine ≥ 1000× SANA-FE detailed (steps/s)",
        f"{f(fx)}×" if fx else "n/a", fx >= 1000 if fx else None)
    add("9", "`make bench` end to end < 30 min", f"{f(total_s / 60)} min",
        None if quick else total_s < 1800)
    cu = facts["cuba"]
    for name in ("low", "high"):
        x = cu.get(f"{name}_x_brian2_cpp_standalone")
        add("19", f"functional ≥ 1.0× Brian2 cpp_standalone steps/s, CUBA {name} rate",
            f"{f(x)}×" if x else "n/a", x >= 1.0 if x else None)
    x = cu.get("high_x_numpy")
    add("19", "functional ≥ 3× plain NumPy steps/s, CUBA high rate", f"{f(x)}×" if x else "n/a",
        x >= 3 if x else None)
    ds = facts["dense"].get("dense_steps_per_s")
    add("19", "Lava Dense→LIF 1000×1000 ≥ 10,000 steps/s", f"{f(ds)} steps/s" if ds else "n/a",
        ds >= 1e4 if ds else None)
    x, c = cu.get("burst_2threads_x"), cu.get("burst_2threads_cpu_x")
    add("19", "burst network ≥ 1.7× on 2 threads (identical results)",
        (f"{f(x)}× wall" + (f", {f(c)}× on dedicated cores (CPU critical path)" if c else ""))
        if x else "n/a", x >= 1.7 if x else None)
    sc = facts.get("scale", {})
    x, c = sc.get("wafer_2threads_x"), sc.get("wafer_2threads_cpu_x")
    add("19", "wafer image ≥ 1.7× on 2 threads (identical results)",
        (f"{f(x)}× wall" + (f", {f(c)}× on dedicated cores (CPU critical path)" if c else "")
         + f" ({f(sc['wafer_neurons'])} neurons)") if x else "n/a",
        (x >= 1.7 and sc["wafer_identical"]) if x else None)


def _targets(res: dict, facts: dict, total_s: float, quick: bool) -> tuple[str, list[str]]:
    rows, missed = [], []

    def add(issue, target, measured, ok):
        st = _status(ok)
        rows.append([issue, target, measured, st])
        if ok is False:
            missed.append(f"{target} ({measured})")

    for part in (_targets_compiler, _targets_emulator, _targets_rtl_runtime, _targets_perf):
        part(add, facts, total_s, quick)
    text = ("## Targets\n\nEvery target from the issues next to the value measured in this run.  "
            "\"not measured\" = the section failed or was skipped (reason in its section).\n\n"
            + table(["issue", "target", "measured", "status"], rows))
    return text, missed


# --------------------------------------------------------------------------- scale
def _learning(d: dict) -> str:
    e = _err(d)
    if e:
        return e
    rows = [[r["case"], r["steps"], r["seconds"], r.get("best_s", "—"), r["steps_per_s"],
             r["spikes"], r["learning_updates"], r.get("slowdown_vs_static"),
             r.get("load_avg", "—")] for r in d.get("rows", [])]
    if not rows:
        return "not measured: learning_speed.py printed no result"
    static = rows[0][4]
    for r in rows:                     # learning_speed.py prints the ratio; recomputed if absent
        r[7] = r[7] if r[7] is not None else static / r[4]
    return table(["case", "steps", "median s", "best s", "steps/s", "spikes",
                  "synapse updates", "time ÷ static", "load avg"], rows)


def _wafer(d: dict, full: dict | None = None) -> tuple[str, str, dict]:
    """Section 8b: this run's wafer image and, when recorded, the full 10 M-neuron one."""
    facts: dict = {}
    e = _err(d)
    if e:
        return "", e, facts
    runs = d["runs"]
    intro = (f"`benchmarks/wafer_functional.py`: {d['chiplets']} chiplets × "
             f"{d['cores_per_chiplet']} cores = {f(d['neurons'])} neurons, "
             f"{f(d['synapses'])} synapses (4,096 axons of 15 synapses per core, one route per "
             "neuron, 80 % to its own chiplet), bias-driven, 20 % host input; built from the "
             "tables (no compiler), saved, then each thread count in its own `nice`-d process: "
             "load, flatten (timed apart), run.  Peak memory is that process's resident peak "
             "(load + flatten + run).")
    if d.get("scaled_down"):
        intro += (f"  **Scaled down** from {d['asked']['chiplets']} × {d['asked']['cores']} "
                  f"cores: {f(d['mem_available_gib'])} GiB were available, the full wafer "
                  "needs more.")
    elif d.get("size") == "quick":
        intro += "  Tiny size (`--quick`), one thread."
    elif d.get("size") != "full":
        intro += ("  This is the `make bench` size (a quarter of the wafer's cores); "
                  "`SPIKEFAB_BENCH_WAFER=full` runs the 10 M-neuron, 150 M-synapse image.")
    intro += ("  Run s is the kernel's step loop (`engine.last_run_s`, as in section 2; "
              "`simulate` also checks the image, flattens it and builds the Result on one "
              "thread), with the per-thread profile on (a few clock reads per step).")
    size = f"{f(d['neurons'])} neurons" + (" (this run)" if full else "")
    rows = [_wafer_row(size, d, r) for r in runs]
    if full and not _err(full):
        rows += [_wafer_row(f"{f(full['neurons'])} neurons, {f(full['synapses'])} synapses "
                            f"(recorded run {full.get('date', '?')})", full, r)
                 for r in full["runs"]]
    text = table(["image", "threads", "steps", "flatten s", "run s", "steps/s",
                  "syn. events/s", "peak GiB", "load avg", "CPU critical path ms/step"], rows)
    same = "identical" if d.get("identical") else "DIFFERENT"
    text += f"\n\nResults of all thread counts: {same} (digest of spikes, final state, counters)."
    if d.get("speedup_2_vs_1"):
        facts["wafer_2threads_x"] = d["speedup_2_vs_1"]
        facts["wafer_identical"] = bool(d.get("identical"))
        facts["wafer_neurons"] = d["neurons"]
        text += (f"  2 threads ÷ 1 thread: {f(d['speedup_2_vs_1'])}× (run time; on a machine "
                 "whose load average exceeds its cores the second thread mostly waits for a "
                 "core, see the load column)")
        if all(r.get("profile") for r in runs[:2]):
            c = cpu_speedup(runs[0]["profile"], runs[1]["profile"])
            facts["wafer_2threads_cpu_x"] = c
            text += (f"; {f(c)}× on dedicated cores (the busiest thread's CPU time per step, "
                     "summed over the steps).  Per-thread CPU profile (µs per step):\n\n"
                     + thread_table([(f"{r['threads']} thread{'s' if r['threads'] > 1 else ''}",
                                      r["profile"]) for r in runs]))
        else:
            text += "."
    if full and not _err(full) and full.get("cpu_speedup_2_vs_1"):
        text += (f"\n\nFull wafer (recorded run {full.get('date', '?')}, load average "
                 f"{f(full['runs'][0]['load_avg'])}): 2 threads ÷ 1 thread "
                 f"{f(full['speedup_2_vs_1'])}× wall, {f(full['cpu_speedup_2_vs_1'])}× on "
                 "dedicated cores; identical results: "
                 f"{'yes' if full.get('identical') else 'NO'}.  Wall over CPU time of the "
                 "threads' busy phases: "
                 + ", ".join(f"{r['threads']} thread{'s' if r['threads'] > 1 else ''} "
                             f"{f(_share(r['profile']))}" for r in full["runs"]
                             if r.get("profile"))
                 + " (the runs are `nice`-d; above 1 the machine's other jobs held the core).  "
                 "It is not part of `make bench` "
                 "(building and running it takes longer than the rest of the harness together); "
                 "rerun it with `SPIKEFAB_BENCH_WAFER=full .venv/bin/python benchmarks/run_all.py "
                 "--only wafer`, which records it in `benchmarks/results/wafer_full.json`.  "
                 "Its per-thread CPU profile (µs per step):\n\n"
                 + thread_table([(f"full, {r['threads']} thread{'s' if r['threads'] > 1 else ''}",
                                  r["profile"]) for r in full["runs"] if r.get("profile")]))
    return intro, text, facts


def _share(pr: dict) -> float:
    """Wall time over CPU time of the busy phases, averaged over the threads."""
    busy = ("deliver", "update", "send", "serial")
    return (sum(t[f"{ph}_wall_us"] for t in pr["threads"] for ph in busy)
            / max(sum(t[f"{ph}_cpu_us"] for t in pr["threads"] for ph in busy), 1e-9))


def _wafer_row(size: str, d: dict, r: dict) -> list:
    pr = r.get("profile")
    return [size, r["threads"], d["steps"], r["flatten_s"], r["run_s"], r["steps_per_s"],
            r["events_per_s"], r["peak_mib"] / 1024, r["load_avg"],
            pr["critical_cpu_us_per_step"] / 1e3 if pr else "—"]


def _scale(learning: dict, wafer: dict, full: dict | None) -> tuple[str, dict]:
    intro, wtext, facts = _wafer(wafer, full if wafer.get("size") != "full" else None)
    return fill("scale.md", learning=_learning(learning), wafer_intro=intro, wafer=wtext), facts


# --------------------------------------------------------------------------- document
def render(res: dict, *, quick: bool, total_s: float, img_dir: Path, doc_dir: Path) -> str:
    facts: dict = {}
    parts = {}
    jobs = {"sanafe": lambda: _sanafe(res["sanafe"]), "cuba": lambda: _cuba(res["cuba"]),
            "emulator": lambda: _emulator(res["emulator"]), "dense": lambda: _dense(res["dense"]),
            "noc": lambda: _noc(res["noc"], img_dir, doc_dir),
            "compiler": lambda: _compiler(res["compiler"], res["placement"]),
            "rtl": lambda: _rtl(res["rtl"]), "runtime": lambda: _runtime(res["runtime"]),
            "scale": lambda: _scale(res.get("learning", {"error": "not run"}),
                                    res.get("wafer", {"error": "not run"}),
                                    res.get("wafer_full"))}
    for name, job in jobs.items():
        try:
            parts[name], facts[name] = job()
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            # an unexpected result shape must not cost the whole doc (the JSON is kept)
            parts[name] = f"## {name}\n\nnot rendered: {type(exc).__name__}: {exc}\n"
            facts[name] = {}
    try:
        targets, missed = _targets(res, facts, total_s, quick)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        targets, missed = f"## Targets\n\nnot rendered: {type(exc).__name__}: {exc}\n", []
    try:
        profile = _profile(res["profile"], missed, res.get("sanafe"))
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        profile = f"## Profiles of missed targets\n\nnot rendered: {type(exc).__name__}: {exc}\n"
    try:
        profile += _engine_bounds(res)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        profile += f"\n\nEngine bounds not rendered: {type(exc).__name__}: {exc}\n"
    walls = ", ".join(f"{k} {f(v.get('section_wall_s', 0))} s" for k, v in res.items()
                      if k != "wafer_full")
    return fill("benchmarks.md",
                quick_note=("\n\n**Quick run (tiny sizes): numbers are not representative.**"
                            if quick else ""),
                machine=_machine(res["machine"], quick, total_s), targets=targets,
                sanafe=parts["sanafe"], cuba=parts["cuba"], emulator=parts["emulator"],
                dense=parts["dense"], noc=parts["noc"], compiler=parts["compiler"],
                rtl=parts["rtl"], runtime=parts["runtime"], scale=parts["scale"],
                profile=profile, walls=walls) + "\n"

