"""Outside-in audit of the command line: timeouts that never expire and folders given as
files are one-line errors, exit 2, before any work."""

from __future__ import annotations

import pytest

import spikefab as sf
from spikefab.cli import main


@pytest.fixture
def tiny_image(tmp_path):
    net = sf.Network()
    net.input("x", 1)
    net.population("lif", 1, sf.LoihiLIF(du=2048, dv=256, vth=10))
    net.connect("x", "lif", weights=[[120]])
    net.output("y", "lif")
    return sf.compile(net, target="loihi1").save(tmp_path / "net.sfi")


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "0", "soon"])
def test_run_link_timeout_must_be_positive_and_finite(value: str, tmp_path, capsys) -> None:
    """nan compares false with every elapsed time: a lost rank would hang the others."""
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(tmp_path / "x.sfi"), "--steps", "1", "--link-timeout", value])
    assert exit_.value.code == 2
    assert "--link-timeout: must be a positive finite number of seconds" in \
        capsys.readouterr().err


def test_an_input_folder_is_named_as_a_folder(tmp_path, capsys, tiny_image) -> None:
    assert main(["run", str(tiny_image), "--input", str(tmp_path), "--steps", "1"]) == 2
    assert f"input file '{tmp_path}' is a folder; give an .npz file" in capsys.readouterr().err


def test_distributed_link_timeout_is_checked_before_any_collective() -> None:
    from spikefab.emulator.distributed.comm import RankComm
    from spikefab.errors import InputError
    for bad in (float("nan"), float("inf"), 0.0, -1.0, "60"):
        with pytest.raises(InputError, match="link timeout must be a positive finite number"):
            RankComm(timeout_s=bad)


def test_export_onto_a_file_or_a_missing_folder_is_one_line(tmp_path, capsys,
                                                           tiny_image) -> None:
    """-o naming an existing file was a FileExistsError traceback from mkdir."""
    clash = tmp_path / "taken"
    clash.write_text("x")
    for out, text in ((clash, "exists and is not a folder"),
                      (tmp_path / "no" / "dir", "does not exist")):
        assert main(["export", "sanafe", str(tiny_image), "-o", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and text in err[0], err


@pytest.mark.parametrize("call, error, text", [
    (lambda img: sf.run(img, [1, 2], 5), "InputError", "inputs must be a mapping"),
    (lambda img: sf.run(img, None, 5, probes=[3]), "InputError",
     "probe must be a 'population.variable' string, not 3"),
    (lambda img: sf.run(None, None, 5), "ImageError", "image must be an Image or the path"),
    (lambda img: sf.run(42, None, 5), "ImageError", "not int"),
])
def test_python_api_wrong_types_are_typed_errors(call, error, text, tiny_image) -> None:
    """A list of inputs, an int probe or a None image were TypeError/AttributeError."""
    from spikefab import errors
    with pytest.raises(getattr(errors, error), match=text):
        call(tiny_image)


def test_running_out_of_memory_is_one_line(monkeypatch, capsys, tiny_image) -> None:
    """A model that fits the target but not the machine (a 60 M-neuron wafer compile under a
    4 GB limit) ended in a numpy MemoryError traceback."""
    import spikefab.commands.run as run_cmd

    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 458. MiB")

    monkeypatch.setattr(run_cmd, "run_image", no_memory)
    assert main(["run", str(tiny_image), "--steps", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: spikefab run ran out of memory (Unable to allocate 458. MiB); give it "
                   "more memory or a smaller model"]


@pytest.mark.parametrize("body", ["import sys\nsys.exit(0)\n", "raise SystemExit('bye')\n"])
def test_a_builder_script_that_exits_is_an_error_not_success(body: str, tmp_path,
                                                            capsys) -> None:
    """sys.exit(0) in a builder made `spikefab compile` exit 0 without writing the image."""
    script = tmp_path / "net.py"
    script.write_text(body)
    out = tmp_path / "net.sfi"
    assert main(["compile", str(script), "--target", "loihi1", "-o", str(out)]) == 2
    assert "the builder script called sys.exit(" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("argv_tail, what", [(["--device", "emu://"], "spikefab run --device"),
                                             (None, "spikefab estimate")])
def test_commands_that_are_not_distributed_refuse_several_ranks(argv_tail, what, monkeypatch,
                                                                capsys, tiny_image) -> None:
    """Under mpirun -n 2, `run --device` drove one board from two hosts and `estimate`/`report`
    ran twice, both writing the same output files."""
    argv = (["run", str(tiny_image), "--steps", "2", *argv_tail] if argv_tail
            else ["estimate", str(tiny_image), "--steps", "2"])
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    for rank, printed in (("0", True), ("1", False)):
        monkeypatch.setenv("OMPI_COMM_WORLD_RANK", rank)
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert (f"error: {what} is one host process, not an MPI job of 2 ranks" in err) \
            == printed
        assert printed or err == ""


def test_api_device_run_refuses_several_ranks(monkeypatch, tiny_image) -> None:
    from spikefab.errors import InputError
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "3")
    with pytest.raises(InputError, match="is one host process, not an MPI job of 3 ranks"):
        sf.run(tiny_image, None, 2, device="emu://")


BUILDER_SCRIPT = ("import spikefab as sf\nnet = sf.Network()\nnet.input('x', 2)\n"
                  "net.population('lif', 3, sf.LoihiLIF(du=2048, dv=256, vth=10))\n"
                  "net.connect('x', 'lif', weights=[[120, 0], [0, 120], [80, 80]])\n"
                  "net.output('y', 'lif')\n")


def test_inspect_reads_builder_scripts_as_the_conventions_promise(tmp_path, capsys) -> None:
    """docs/cli.md: models are .nir, .sfir or builder .py files; inspect refused .py."""
    script = tmp_path / "net.py"
    script.write_text(BUILDER_SCRIPT)
    assert main(["inspect", str(script)]) == 0
    out = capsys.readouterr().out
    assert "4 nodes, 3 edges, 3 neurons, 4 synapses (fixed point)" in out
    assert main(["inspect", str(script), "--ir"]) == 0
    ir = tmp_path / "net.sfir"
    ir.write_text(capsys.readouterr().out)
    assert main(["compile", str(ir), "--target", "loihi1", "-o", str(tmp_path / "n.sfi")]) == 0


def test_estimate_also_recompiles_a_builder_script(tmp_path, capsys) -> None:
    """``estimate --also`` reads ``--model`` as compile does (it called the NIR/.sfir loader,
    which refused a builder .py): one row per target, each with its cycles."""
    script = tmp_path / "net.py"
    script.write_text(BUILDER_SCRIPT)
    image = tmp_path / "net.sfi"
    assert main(["compile", str(script), "--target", "loihi1", "-o", str(image)]) == 0
    capsys.readouterr()
    assert main(["estimate", str(image), "--steps", "4", "--model", str(script),
                 "--also", "darwin3"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()
            if line.split() and line.split()[0] in ("loihi1", "darwin3")}
    assert set(rows) == {"loihi1", "darwin3"}
    assert "not available" not in rows["darwin3"]
