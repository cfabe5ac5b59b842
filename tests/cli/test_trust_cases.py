"""Hostile command lines, models and links: each gets a typed one-line error and exit 2 (#15).

Every case is checked through :func:`spikefab.cli.main` (exit status, one ``error:`` line, the
number or place that matters) or, for library entry points, through the typed exception.
"""

from __future__ import annotations

import os
import subprocess
import sys
import termios
from pathlib import Path

import numpy as np
import pytest

import spikefab as sf
from spikefab.cli import main
from spikefab.errors import InputError, LinkError, ResourceError

BUILDER = """
import numpy as np
import spikefab as sf

def build():
    net = sf.Network()
    net.input("x", 2)
    net.population("lif", 3, sf.LoihiLIF(du=2048, dv=256, vth=10))
    net.connect("x", "lif", weights=np.array([[120, 0], [0, 120], [80, 80]]))
    net.output("y", "lif")
    return net
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("trust")
    script = d / "net.py"
    script.write_text(BUILDER)
    image = d / "net.sfi"
    assert main(["compile", str(script), "--target", "loihi1", "-o", str(image)]) == 0
    x = np.zeros((20, 2), np.uint8)
    x[::2] = 1
    np.savez(d / "in.npz", x=x)
    np.save(d / "in.npy", x)
    return d


def one_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


@pytest.mark.parametrize("steps", ["1e12", str(2 ** 63), "-3"])
def test_steps_out_of_range(files, capsys, steps):
    msg = one_error(capsys, ["run", str(files / "net.sfi"), "--steps", steps])
    assert "steps must be an integer in [0, 2147483647]" in msg


@pytest.mark.parametrize("steps", ["ten", "2**63", "1.5", "nan"])
def test_steps_not_a_number_is_a_usage_error(files, capsys, steps):
    with pytest.raises(SystemExit) as info:
        main(["run", str(files / "net.sfi"), "--steps", steps])
    assert info.value.code == 2
    assert "--steps" in capsys.readouterr().err


def test_api_steps_beyond_32_bits_is_an_input_error(files):
    image = sf.load_image(files / "net.sfi")
    with pytest.raises(InputError, match=r"\[0, 2147483647\]"):
        sf.run(image, None, 2 ** 40)


def test_npy_input_is_refused(files, capsys):
    msg = one_error(capsys, ["run", str(files / "net.sfi"), "--input", str(files / "in.npy"),
                             "--steps", "5"])
    assert "must be an .npz" in msg


@pytest.mark.parametrize("out, why", [("missing/out.npz", "does not exist"),
                                      ("adir", "is a folder"), ("out.txt", "must end in .npz")])
def test_run_output_checked_before_the_run(files, capsys, out, why):
    (files / "adir").mkdir(exist_ok=True)
    msg = one_error(capsys, ["run", str(files / "net.sfi"), "--steps", "5", "-o",
                             str(files / out)])
    assert why in msg
    assert not (files / "adir.npz").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_unwritable_output_folder(files, capsys, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    msg = one_error(capsys, ["run", str(files / "net.sfi"), "--steps", "5", "-o",
                             str(ro / "o.npz")])
    assert "not writable" in msg


def test_compile_outputs_checked_before_compiling(files, capsys):
    msg = one_error(capsys, ["compile", str(files / "net.py"), "--target", "loihi1", "-o",
                             str(files / "nowhere" / "n.sfi")])
    assert "does not exist" in msg
    msg = one_error(capsys, ["compile", str(files / "net.py"), "--target", "loihi1", "-o",
                             str(files / "n.sfi"), "--report", str(files / "nowhere/r.json")])
    assert "--report" in msg and "does not exist" in msg


def test_report_into_an_existing_file(files, capsys):
    f = files / "taken.txt"
    f.write_text("x")
    msg = one_error(capsys, ["report", str(files / "net.sfi"), "--steps", "5", "-o", str(f)])
    assert "not a folder" in msg


def test_builder_syntax_error_names_the_users_line(tmp_path, capsys):
    script = tmp_path / "bad.py"
    script.write_text("import numpy\n\ndef build(:\n    pass\n")
    msg = one_error(capsys, ["compile", str(script), "-o", str(tmp_path / "b.sfi")])
    assert f"{script}:3" in msg and "syntax error" in msg


def test_builder_that_raises_names_the_users_line(tmp_path, capsys):
    script = tmp_path / "raises.py"
    script.write_text("def helper():\n    return 1 / 0\n\ndef build():\n    return helper()\n")
    msg = one_error(capsys, ["compile", str(script), "-o", str(tmp_path / "b.sfi")])
    assert f"{script}:2" in msg and "ZeroDivisionError" in msg


def test_string_in_rates_file(files, capsys, tmp_path):
    rates = tmp_path / "rates.json"
    rates.write_text('{"x": "fast"}')
    msg = one_error(capsys, ["compile", str(files / "net.py"), "--target", "loihi1", "-o",
                             str(tmp_path / "n.sfi"), "--rates", str(rates)])
    assert "'x'" in msg and "'fast'" in msg


def test_run_into_a_closed_pipe_exits_quietly(files):
    cmd = (f"{sys.executable} -m spikefab.cli run {files / 'net.sfi'} --input "
           f"{files / 'in.npz'} --steps 20 | head -c 1")
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True,
                          text=True, timeout=120)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 141)


def test_builder_network_without_output_is_refused(tmp_path, capsys):
    script = tmp_path / "noout.py"
    script.write_text(BUILDER.replace('    net.output("y", "lif")\n', ""))
    msg = one_error(capsys, ["compile", str(script), "-o", str(tmp_path / "n.sfi")])
    assert "has no output" in msg and str(script) in msg


def test_api_run_of_a_network_without_output_is_refused():
    """Compiling an output-less network stays allowed (probes can read it); running it with
    nothing to read back is refused at run time, as the CLI refuses it at compile time."""
    net = sf.Network()
    net.input("x", 2)
    net.population("lif", 3, sf.LoihiLIF(du=2048, dv=256, vth=10))
    net.connect("x", "lif", weights=np.array([[120, 0], [0, 120], [80, 80]]))
    image = sf.compile(net, "loihi1", progress=False)
    inputs = {"x": np.ones((5, 2), np.uint8)}
    with pytest.raises(InputError, match=r"no output \(populations: \['lif'\]\) and no probes"):
        sf.run(image, inputs, 5)
    probed = sf.run(image, inputs, 5, probes=["lif.u"])
    assert probed.traces["lif.u"].shape == (5, 3) and probed.traces["lif.u"].any()


def test_delay_beyond_the_target_names_the_targets_limit():
    net = sf.Network()
    net.input("x", 1)
    net.population("lif", 1, sf.LoihiLIF(du=0, dv=0, vth=10))
    net.connect("x", "lif", weights=np.array([[50]]), delay=300)
    net.output("y", "lif")
    with pytest.raises(ResourceError, match="delay 300 must be at most 15"):
        sf.compile(net, target="darwin3", progress=False)


def test_too_many_cores_names_the_binding_table():
    net = sf.Network()
    net.input("x", 4)
    for k in range(40):                         # 40 populations x 1 neuron, 40 profiles
        net.population(f"p{k}", 1, sf.LoihiLIF(du=k, dv=0, vth=10))
        net.connect("x", f"p{k}", weights=np.full((1, 4), 10))
        net.output(f"y{k}", f"p{k}")
    with pytest.raises(ResourceError, match="neuron profiles limit the cores"):
        sf.compile(net, target="ice40-up5k", progress=False)


def test_flaky_port_flush_is_a_link_error():
    from spikefab.runtime.link import Link

    class Vanishing:
        in_waiting = 0

        def write(self, data):
            return len(data)

        def flush(self):
            raise termios.error(5, "Input/output error")

    link = Link(Vanishing(), baud=115200, timeout=0.1, resend_after=0.05)
    with pytest.raises(LinkError, match="writing to the port failed"):
        link._write(b"x")
