"""The command line under faults: outputs, model formats, Ctrl-C."""

import errno
import pathlib
import signal
import subprocess
import sys
import textwrap

import joblib
import pytest

import digitnet
from digitnet import DigitClassifier
from digitnet.cli import main
from digitnet.cli._model_files import load_model_file

from .faults import ROOT, run_script


def _train(tmp_path, *options):
    return main(["train", "--quiet", "--epochs", "1", *options])


def test_the_default_output_is_the_safe_format(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert _train(tmp_path, "--report-dir", "") == 0
    model = digitnet.load(tmp_path / "model.dnet")  # not a pickle
    assert model.n_iter_ == 1
    assert main(["evaluate", "model.dnet", "--report-dir", ""]) == 0
    assert "pickle" not in capsys.readouterr().err


def test_pickles_by_name_and_only_when_trusted(tmp_path, capsys):
    path = tmp_path / "m.joblib"
    assert _train(tmp_path, "--output", str(path), "--report-dir", "") == 0
    assert isinstance(joblib.load(path), DigitClassifier)
    assert main(["evaluate", str(path), "--report-dir", ""]) == 2
    assert "pass --trust-pickle for a pickle you made" in capsys.readouterr().err
    trusted = ["evaluate", str(path), "--report-dir", "", "--trust-pickle"]
    assert main(trusted) == 0
    assert "runs code from the file" in capsys.readouterr().err


class _RunsCode:
    """A pickle payload that leaves a mark when unpickled."""

    def __init__(self, mark):
        self.mark = str(mark)

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.mark),))


@pytest.mark.parametrize("command", ["evaluate", "predict", "read", "export", "serve"])
@pytest.mark.parametrize("trust", [False, True])
def test_a_pickle_under_a_safe_name_never_runs(tmp_path, capsys, command, trust):
    mark = tmp_path / "code-ran"
    model = tmp_path / "untrusted.dnet"
    joblib.dump(_RunsCode(mark), model)
    picture = tmp_path / "x.png"
    argv = {
        "evaluate": ["evaluate", str(model), "--report-dir", ""],
        "predict": ["predict", str(model), str(picture)],
        "read": ["read", str(model), str(picture)],
        "export": ["export", str(model), str(tmp_path / "m.onnx")],
        "serve": ["serve", str(model), "--port", "1"],
    }[command]
    assert main(argv + ["--trust-pickle"] * trust) == 2
    err = capsys.readouterr().err
    assert "looks like a pickle" in err
    assert "rename it and pass --trust-pickle" in err
    assert not mark.exists()


def test_a_safe_file_whose_header_starts_like_a_pickle_loads(tmp_path):
    from .model_edits import rewrite

    path = tmp_path / "m.dnet"
    assert _train(tmp_path, "--output", str(path), "--report-dir", "") == 0

    def pad(meta):
        meta["history"][0]["note"] = "x" * pad.n

    for pad.n in range(256):  # header sizes in 256 steps: one has low byte 0x80
        rewrite(path, pad)
        if path.read_bytes()[:1] == b"\x80":
            break
    assert path.read_bytes()[:1] == b"\x80"  # pickle protocol 2+ starts so
    assert load_model_file(path).n_iter_ == 1


@pytest.mark.parametrize("case", ["report-is-a-file", "missing-folder"])
def test_outputs_are_checked_before_training(tmp_path, capsys, case):
    if case == "report-is-a-file":
        (tmp_path / "report").write_text("x")
        options = [
            "--output",
            str(tmp_path / "m.dnet"),
            "--report-dir",
            str(tmp_path / "report"),
        ]
        match = "report: it exists and is not a folder"
    else:
        options = ["--output", str(tmp_path / "no" / "m.dnet"), "--report-dir", ""]
        match = "m.dnet: the folder"
    assert _train(tmp_path, *options) == 2
    err = capsys.readouterr().err
    assert match in err
    assert "training" not in err  # it stopped before training
    assert not (tmp_path / "m.dnet").exists()


def test_a_full_disk_keeps_the_old_model_and_names_the_file(
    tmp_path, monkeypatch, capsys
):
    path = tmp_path / "m.dnet"
    assert _train(tmp_path, "--output", str(path), "--report-dir", "") == 0
    old = path.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("digitnet._files.os.fsync", full)
    assert _train(tmp_path, "--output", str(path), "--report-dir", "") == 2
    assert f"cannot write {path}: No space left on device" in capsys.readouterr().err
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.dnet"]


SIGINT_TRAIN = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    from digitnet._callbacks import injected
    from digitnet.cli import main
    from tests.faults import FaultAt

    with injected(FaultAt(3, batch=3, error="SIGINT")):  # a real Ctrl-C
        status = main(["train", "--quiet", "--epochs", "6", "--output", sys.argv[2],
                       "--report-dir", sys.argv[3]])
    sys.exit(status)
    """
)


def test_ctrl_c_saves_the_model_and_report_and_exits_130(tmp_path):
    model, report = tmp_path / "m.dnet", tmp_path / "report"
    result = run_script(SIGINT_TRAIN, str(model), str(report))
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    assert "interrupted" in result.stderr
    assert "2 complete epoch(s)" in result.stderr
    assert digitnet.load(model).n_iter_ == 2
    assert (report / "metrics.json").is_file()


def test_ctrl_c_before_the_first_epoch_saves_nothing(tmp_path):
    script = SIGINT_TRAIN.replace("FaultAt(3, batch=3", "FaultAt(1, batch=2")
    model = tmp_path / "m.dnet"
    result = run_script(script, str(model), str(tmp_path / "r"))
    assert result.returncode == 130
    assert "before the first epoch finished: nothing to save" in result.stderr
    assert not model.exists()


def test_a_safe_file_is_read_whatever_its_name(tmp_path, capsys):
    from PIL import Image

    model = tmp_path / "m.safetensors"
    assert _train(tmp_path, "--output", str(model), "--report-dir", "") == 0
    digitnet.load(model)  # the safe format, despite the generic name
    picture = tmp_path / "seven.png"
    Image.new("L", (40, 40), 255).save(picture)
    assert main(["predict", str(model), str(picture)]) == 1  # blank: per-file error
    captured = capsys.readouterr()
    assert "no visible ink" in captured.err
    assert "pickle" not in captured.err


def test_a_damaged_pickle_is_a_clear_error(tmp_path, capsys):
    import gzip

    path = tmp_path / "m.joblib"
    path.write_bytes(gzip.compress(b"not a model at all"))
    assert main(["evaluate", str(path), "--report-dir", "", "--trust-pickle"]) == 2
    err = capsys.readouterr().err
    assert "could not be read as a pickled model" in err
    assert "Traceback" not in err


def test_ctrl_c_as_the_epoch_line_appears_keeps_that_epoch(tmp_path):
    """A real Ctrl-C sent the moment ``digitnet train`` prints an epoch's line."""
    model = tmp_path / "m.dnet"
    command = [sys.executable, "-m", "digitnet", "train", "--epochs", "30"]
    command += ["--output", str(model), "--report-dir", ""]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    shown = 0
    for line in process.stderr:
        if line.startswith("epoch "):
            shown += 1
            process.send_signal(signal.SIGINT)
            break
    _, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert digitnet.load(model).n_iter_ >= shown == 1


SECOND_CTRL_C = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, sys.argv[1])
    from digitnet._callbacks import injected
    from digitnet.cli import _main, _model_files
    from tests.faults import FaultAt

    save = _model_files.save_model_file

    def ctrl_c_again_while_saving(model, path):
        os.kill(os.getpid(), signal.SIGINT)  # held back until the file is written
        save(model, path)

    _model_files.save_model_file = ctrl_c_again_while_saving
    with injected(FaultAt(2, batch=2, error="SIGINT")):  # the first Ctrl-C
        status = _main.main(["train", "--quiet", "--epochs", "6", "--output",
                             sys.argv[2], "--report-dir", sys.argv[3]])
    sys.exit(status)
    """
)


def test_a_second_ctrl_c_while_saving_still_saves(tmp_path):
    model, report = tmp_path / "m.dnet", tmp_path / "report"
    result = run_script(SECOND_CTRL_C, str(model), str(report))
    assert result.returncode == 130, result.stderr
    assert "saving the epochs completed first" in result.stderr
    assert "the report was skipped" in result.stderr
    assert digitnet.load(model).n_iter_ == 1
    assert not (report / "metrics.json").exists()


def test_the_safe_format_needs_no_extra():
    """``pip install digitnet`` alone can save what ``digitnet train`` trains."""
    from importlib.metadata import requires

    core = [r for r in requires("digitnet") if "extra ==" not in r]
    assert any(r.startswith("safetensors") for r in core)


def test_an_onnx_output_name_is_refused_before_training(tmp_path, capsys):
    assert _train(tmp_path, "--output", str(tmp_path / "m.onnx")) == 2
    err = capsys.readouterr().err
    assert "write ONNX from it with 'digitnet export'" in err
    assert "training" not in err


def test_evaluate_never_scores_a_model_on_its_training_images(tmp_path, capsys):
    from digitnet.datasets import load_digits

    path = tmp_path / "m.dnet"
    assert (
        _train(tmp_path, "--seed", "5", "--output", str(path), "--report-dir", "") == 0
    )
    trained = capsys.readouterr().out
    assert main(["evaluate", str(path), "--report-dir", ""]) == 0
    evaluated = capsys.readouterr().out
    line = next(ln for ln in trained.splitlines() if ln.startswith("test accuracy"))
    assert line in evaluated  # the same 450 held-out images, whatever the seed
    X_train, _ = load_digits(subset="train", return_X_y=True)
    X_test, _ = load_digits(subset="test", return_X_y=True)
    seen = {row.tobytes() for row in X_train}
    assert not any(row.tobytes() in seen for row in X_test)
