"""Interrupted training, partial_fit, and version-stamped pickles."""

import os
import pickle
import signal
import sys
import warnings

import numpy as np
import pytest

from digitnet import (
    DigitClassifier,
    InconsistentVersionWarning,
    TrainingInterruptedWarning,
    __version__,
)
from digitnet._callbacks import injected

from .faults import FaultAt


@pytest.fixture
def ctrl_c_at_epoch():
    """Ctrl-C in the middle of the epoch after ``epoch`` (at its 2nd batch)."""
    stack = []

    def arm(epoch):
        context = injected(FaultAt(epoch + 1, batch=2, error=KeyboardInterrupt))
        context.__enter__()
        stack.append(context)

    yield arm
    for context in stack:
        context.__exit__(None, None, None)


def test_ctrl_c_leaves_a_usable_model_and_says_so(small_digits, ctrl_c_at_epoch):
    X_train, X_test, y_train, y_test = small_digits
    ctrl_c_at_epoch(3)
    clf = DigitClassifier(max_iter=10, random_state=0)
    with pytest.warns(TrainingInterruptedWarning, match=r"after 3 complete epoch"):
        clf.fit(X_train, y_train)
    assert clf.n_iter_ == 3
    assert len(clf.loss_curve_) == 3
    assert clf.score(X_test, y_test) > 0.5


def test_ctrl_c_with_validation_keeps_the_best_epoch(small_digits, ctrl_c_at_epoch):
    X_train, _, y_train, _ = small_digits
    ctrl_c_at_epoch(4)
    clf = DigitClassifier(max_iter=10, early_stopping=True, random_state=0)
    with pytest.warns(TrainingInterruptedWarning, match="best validation epoch"):
        clf.fit(X_train, y_train)
    assert clf.n_iter_ == 4
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_training_continues_after_an_interruption(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(max_iter=5, warm_start=True, random_state=0)
    with (
        injected(FaultAt(3, batch=2, error=KeyboardInterrupt)),
        pytest.warns(TrainingInterruptedWarning),
    ):
        clf.fit(X_train, y_train)
    assert clf.n_iter_ == 2
    clf.fit(X_train, y_train)
    assert clf.n_iter_ == 2 + 5


def test_a_stopping_rule_is_not_an_interruption(small_digits):
    X_train, _, y_train, _ = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingInterruptedWarning)
        clf = DigitClassifier(tol=100.0, n_iter_no_change=2, max_iter=20).fit(
            X_train, y_train
        )
    assert clf.n_iter_ == 3
    assert not clf.net_.interrupted_


def test_partial_fit_learns_from_chunks(digits):
    X_train, X_test, y_train, y_test = digits
    clf = DigitClassifier(random_state=0)
    for _ in range(4):
        for chunk in np.array_split(np.arange(len(y_train)), 3):
            clf.partial_fit(X_train[chunk], y_train[chunk], classes=np.arange(10))
    assert clf.n_iter_ == 12
    assert clf.score(X_test, y_test) > 0.9
    lrs = {
        b["event_lr"] for e in clf.net_.history for b in e["batches"] if "event_lr" in b
    }
    assert lrs == set()  # no schedule: the constant learning_rate_init
    assert clf.net_.optimizer_.param_groups[0]["lr"] == clf.learning_rate_init


def test_partial_fit_first_call_needs_classes(small_digits):
    X_train, _, y_train, _ = small_digits
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        DigitClassifier().partial_fit(X_train, y_train)


def test_partial_fit_checks_classes(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier()
    with pytest.raises(ValueError, match=r"y contains classes \[9\] that are not in"):
        clf.partial_fit(X_train, y_train, classes=np.arange(9))
    clf.partial_fit(X_train[y_train < 5], y_train[y_train < 5], classes=np.arange(10))
    assert list(clf.classes_) == list(range(10))
    clf.partial_fit(X_train[y_train >= 5], y_train[y_train >= 5])  # later classes
    with pytest.raises(ValueError, match="differs from the classes of the first"):
        clf.partial_fit(X_train, y_train, classes=np.arange(11))


def test_pickles_carry_the_digitnet_version(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(max_iter=1).fit(X_train, y_train)
    state = clf.__getstate__()
    assert state["_digitnet_version"] == __version__
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        pickle.loads(pickle.dumps(clf))  # same version: silent
    restored = DigitClassifier.__new__(DigitClassifier)
    with pytest.warns(
        InconsistentVersionWarning, match="from digitnet version 0.0.1 when"
    ):
        restored.__setstate__({**state, "_digitnet_version": "0.0.1"})
    np.testing.assert_array_equal(restored.predict(X_train), clf.predict(X_train))


class _CtrlCAtEpochLine:
    """stderr that sends a real SIGINT the moment epoch ``epoch``'s line appears."""

    def __init__(self, epoch):
        self.marker = f"epoch {epoch}/"
        self.text = ""

    def write(self, text):
        self.text += text
        if self.marker in text and text.endswith("\n"):
            os.kill(os.getpid(), signal.SIGINT)
        return len(text)

    def flush(self):
        pass


@pytest.mark.parametrize("epoch", [1, 2])
def test_ctrl_c_as_an_epoch_line_appears_keeps_that_epoch(
    small_digits, monkeypatch, epoch
):
    X_train, _, y_train, _ = small_digits
    stderr = _CtrlCAtEpochLine(epoch)
    monkeypatch.setattr(sys, "stderr", stderr)
    clf = DigitClassifier(max_iter=4, verbose=2, random_state=0)
    with pytest.warns(TrainingInterruptedWarning, match=f"after {epoch} complete"):
        clf.fit(X_train, y_train)
    assert clf.n_iter_ == epoch  # every epoch reported is kept
    assert stderr.text.count("epoch ") == epoch


class _CtrlCAtLogRow:
    """stdout that sends a real SIGINT once skorch's table shows epoch 1's row."""

    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text
        rows = [ln for ln in self.text.splitlines() if ln.strip()[:1].isdigit()]
        if text.endswith("\n") and len(rows) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return len(text)

    def flush(self):
        pass


def test_ctrl_c_after_a_printed_log_row_keeps_that_epoch(small_digits, monkeypatch):
    X_train, _, y_train, _ = small_digits
    monkeypatch.setattr(sys, "stdout", _CtrlCAtLogRow())
    clf = DigitClassifier(max_iter=4, verbose=1, random_state=0)
    with pytest.warns(TrainingInterruptedWarning, match="after 1 complete"):
        clf.fit(X_train, y_train)
    assert clf.n_iter_ == 1
