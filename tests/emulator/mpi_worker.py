"""Run under ``mpirun`` by test_emu_mpi.py: simulate cases on the ranks, pickle rank 0's Results.

``python mpi_worker.py CASES.pkl OUTDIR [--kill-rank R | --hang-rank R] [--link-timeout S]
[--api 1] [--errors 1]`` (``--api 1``: call ``spikefab.run`` instead of ``simulate_mpi``;
``--errors 1``: run every case and write each one's typed error, or "ok", to verdicts.json).
CASES.pkl holds a list of dicts (image path, target, inputs, steps, mode, probes).  The fault
options replace the distributed functional kernel on rank R by one that kills the process
(SIGKILL) or hangs on its third window: test-only fault injection, so the production code has
no hooks.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import sys
import time
from pathlib import Path

import spikefab
from spikefab.emulator.distributed import kernels as DK
from spikefab.emulator.distributed import simulate_mpi
from spikefab.emulator.distributed.comm import RankComm, install_sigterm_handler
from spikefab.emulator.distributed.simulate import last_timing
from spikefab.errors import LinkError, SpikefabError


def _inject_fault(kind: str) -> None:
    real = DK.functional_window
    calls = [0]

    def faulty(*args):
        calls[0] += 1
        if calls[0] == 3:
            if kind == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(600)
        return real(*args)

    DK.functional_window = faulty


def main(argv: list[str]) -> int:
    cases_path, out = Path(argv[0]), Path(argv[1])
    opts = dict(zip(argv[2::2], argv[3::2]))
    install_sigterm_handler()
    rank = RankComm().rank
    if "--kill-rank" in opts and int(opts["--kill-rank"]) == rank:
        _inject_fault("kill")
    if "--hang-rank" in opts and int(opts["--hang-rank"]) == rank:
        _inject_fault("hang")
    cases = pickle.loads(cases_path.read_bytes())
    if opts.get("--errors") == "1":
        return _verdicts(cases, out, rank)
    sent = 0
    windows = []                      # steps per exchange window of each case (functional)
    try:
        results = []
        for case in cases:
            if opts.get("--api") == "1":         # the public entry point, as a user calls it
                res = spikefab.run(case["image"], case["inputs"], case["steps"],
                                   mode=case["mode"], probes=case["probes"])
            else:
                res = simulate_mpi(case["image"], case["inputs"], case["steps"],
                                   mode=case["mode"], probes=case["probes"],
                                   target=case["target"],
                                   link_timeout_s=float(opts.get("--link-timeout", 60)))
            results.append(res)
            sent += last_timing["bytes_sent"]
            windows.append(last_timing.get("window_steps"))
    except SpikefabError as exc:
        if rank == 0:
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        if isinstance(exc, LinkError):
            os._exit(2)
        return 2
    (out / f"bytes_{rank}.json").write_text(json.dumps(sent))
    (out / f"windows_{rank}.json").write_text(json.dumps(windows))
    (out / f"none_{rank}.json").write_text(json.dumps([r is None for r in results]))
    if rank == 0:
        (out / "results.pkl").write_bytes(pickle.dumps(results))
    return 0


def _verdicts(cases: list[dict], out: Path, rank: int) -> int:
    """Run every case; rank 0 writes each one's typed error (class, where) or "ok"."""
    verdicts = []
    for case in cases:
        try:
            simulate_mpi(case["image"], case["inputs"], case["steps"], mode=case["mode"])
            verdicts.append("ok")
        except SpikefabError as exc:
            verdicts.append([type(exc).__name__, exc.where, str(exc)])
    if rank == 0:
        (out / "verdicts.json").write_text(json.dumps(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
