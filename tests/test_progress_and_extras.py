"""Training progress display, and clear messages when optional extras are missing."""

import io
import sys

import pytest

from digitnet import DigitClassifier
from digitnet.cli._reports import evaluate, write_report
from digitnet.images import read_image


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_redraws_batches(small_digits, monkeypatch):
    X_train, _, y_train, _ = small_digits
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    DigitClassifier(max_iter=2, batch_size=32, random_state=0, verbose=2).fit(
        X_train, y_train
    )
    text = terminal.getvalue()
    assert "\r" in text
    assert "[########################] 13/13" in text  # 400 samples, 13 batches
    assert "loss " in text
    assert "acc " in text
    assert text.count("\n") == 2  # one final line per epoch


def test_progress_without_a_terminal_writes_plain_lines(small_digits, capsys):
    X_train, _, y_train, _ = small_digits
    DigitClassifier(max_iter=3, random_state=0, verbose=2).fit(X_train, y_train)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("epoch 1/3  train_loss ")
    assert "train_acc" in lines[0]
    assert "\r" not in err


def test_model_with_progress_bar_pickles(small_digits):
    import pickle

    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(max_iter=1, random_state=0, verbose=2).fit(X_train, y_train)
    assert pickle.loads(pickle.dumps(clf)).n_iter_ == 1


def test_missing_matplotlib_skips_pictures_with_install_hint(
    small_digits, tmp_path, monkeypatch
):
    X_train, X_test, y_train, y_test = small_digits
    clf = DigitClassifier(max_iter=1, random_state=0).fit(X_train, y_train)
    result = evaluate(clf, X_test, y_test)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    written, skipped = write_report(
        tmp_path, result, X_test.reshape(-1, 8, 8), y_test, clf.history_
    )
    assert [p.name for p in written] == ["metrics.json"]
    assert "pip install 'digitnet[plots]'" in skipped


def test_missing_pillow_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"needs Pillow; install the images extra"):
        read_image(tmp_path / "digit.png")


def test_cli_predict_without_pillow_says_how_to_install(
    tmp_path, monkeypatch, capsys, small_digits
):
    import joblib

    from digitnet.cli import main

    X_train, _, y_train, _ = small_digits
    path = tmp_path / "m.joblib"
    joblib.dump(DigitClassifier(max_iter=1).fit(X_train, y_train), path)
    monkeypatch.setitem(sys.modules, "PIL", None)
    argv = ["predict", str(path), str(tmp_path / "x.png"), "--trust-pickle"]
    assert main(argv) == 2
    assert "pip install 'digitnet[images]'" in capsys.readouterr().err
