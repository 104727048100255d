"""Training as one transaction: all or nothing, Ctrl-C, threads, warm starts."""

import textwrap
import threading

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits

from digitnet import DigitClassifier, TrainingInterruptedWarning
from digitnet._callbacks import injected

from .faults import FaultAt, run_script

X, Y = load_digits(return_X_y=True)
X_TRAIN, Y_TRAIN, X_TEST = X[:400], Y[:400], X[400:600]


def _snapshot(clf):
    return (
        clf.predict_proba(X_TEST),
        clf.n_iter_,
        len(clf.net_.history),
        clf.get_params(),
        sorted(vars(clf)),
    )


def _assert_unchanged(clf, before):
    after = _snapshot(clf)
    np.testing.assert_array_equal(after[0], before[0])  # bitwise
    assert after[1:] == before[1:]


@pytest.fixture
def fitted():
    return DigitClassifier(max_iter=2, random_state=0).fit(X_TRAIN, Y_TRAIN)


@pytest.mark.parametrize("path", ["fit", "warm", "partial"])
def test_a_failure_after_the_first_epoch_changes_nothing(fitted, path):
    before = _snapshot(fitted)
    first = 0 if path == "fit" else fitted.n_iter_  # epochs before this call
    fault = FaultAt(first + 1, batch="end", error=RuntimeError)
    fitted.set_params(warm_start=path == "warm")
    train = fitted.partial_fit if path == "partial" else fitted.fit
    with injected(fault), pytest.raises(RuntimeError, match="injected fault"):
        train(X_TRAIN, Y_TRAIN)
    fitted.set_params(warm_start=False)
    _assert_unchanged(fitted, before)


def test_bad_input_leaves_a_fitted_model_as_it_was(fitted):
    before = _snapshot(fitted)
    with_nan = X_TRAIN.copy()
    with_nan[5, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.fit(with_nan, Y_TRAIN)
    with pytest.raises(ValueError, match="10 features"):
        fitted.set_params(warm_start=True).fit(X_TRAIN[:, :10], Y_TRAIN)
    with pytest.raises(ValueError, match="not seen in the first fit"):
        fitted.partial_fit(X_TRAIN, Y_TRAIN + 100)
    fitted.set_params(warm_start=False)
    _assert_unchanged(fitted, before)


def test_ctrl_c_mid_epoch_keeps_the_last_complete_epoch():
    clf = DigitClassifier(max_iter=5, random_state=0)
    reference = DigitClassifier(max_iter=5, random_state=0)
    # The reference stops cleanly after 2 epochs: the same weights must be kept.
    with (
        injected(FaultAt(3, error=KeyboardInterrupt)),
        pytest.warns(TrainingInterruptedWarning),
    ):
        reference.fit(X_TRAIN, Y_TRAIN)
    with (
        injected(FaultAt(3, batch=2, error=KeyboardInterrupt)),
        pytest.warns(TrainingInterruptedWarning, match=r"after 2 complete"),
    ):
        clf.fit(X_TRAIN, Y_TRAIN)
    assert clf.n_iter_ == 2
    assert len(clf.history_) == 2
    assert all("train_loss" in row for row in clf.history_)
    np.testing.assert_array_equal(
        clf.predict_proba(X_TEST), reference.predict_proba(X_TEST)
    )


def test_ctrl_c_in_the_first_epoch_changes_nothing(fitted):
    before = _snapshot(fitted)
    with (
        injected(FaultAt(1, batch=1, error=KeyboardInterrupt)),
        pytest.raises(KeyboardInterrupt),
    ):
        fitted.fit(X_TRAIN, Y_TRAIN)
    _assert_unchanged(fitted, before)
    fresh = DigitClassifier(max_iter=2)
    with (
        injected(FaultAt(1, batch=1, error=KeyboardInterrupt)),
        pytest.raises(KeyboardInterrupt),
    ):
        fresh.fit(X_TRAIN, Y_TRAIN)
    assert not hasattr(fresh, "net_")


def test_ctrl_c_on_a_warm_start_keeps_earlier_training(fitted):
    fitted.set_params(warm_start=True, max_iter=4)
    with (
        injected(FaultAt(fitted.n_iter_ + 2, batch=3, error=KeyboardInterrupt)),
        pytest.warns(TrainingInterruptedWarning, match="after 1 complete"),
    ):
        fitted.fit(X_TRAIN, Y_TRAIN)
    assert fitted.n_iter_ == 3
    assert len(fitted.net_.history) == 3


SIGINT_RUN = textwrap.dedent(
    """
    import sys, warnings
    from sklearn.datasets import load_digits
    from digitnet import DigitClassifier
    from digitnet._callbacks import injected
    sys.path.insert(0, sys.argv[1])
    from tests.faults import FaultAt

    X, y = load_digits(return_X_y=True)
    clf = DigitClassifier(max_iter=6, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with injected(FaultAt(3, batch=4, error="SIGINT")):  # a real signal
            clf.fit(X[:600], y[:600])
    print("n_iter", clf.n_iter_, "rows", len(clf.history_))
    print("warned", [type(w.message).__name__ for w in caught])
    print("score", clf.score(X[600:], y[600:]))
    """
)


def test_a_real_sigint_mid_epoch_keeps_a_usable_model(tmp_path):
    result = run_script(SIGINT_RUN)
    assert result.returncode == 0, result.stderr
    assert "n_iter 2 rows 2" in result.stdout
    assert "TrainingInterruptedWarning" in result.stdout
    score = float(result.stdout.split("score")[1])
    assert score > 0.5


def test_clones_fitted_in_threads_equal_a_solo_fit():
    params = dict(max_iter=2, random_state=0, dropout=0.3, augment=True)
    solo = DigitClassifier(**params).fit(X_TRAIN, Y_TRAIN).predict_proba(X_TEST)
    clones = [DigitClassifier(**params) for _ in range(4)]
    threads = [threading.Thread(target=c.fit, args=(X_TRAIN, Y_TRAIN)) for c in clones]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for clf in clones:
        np.testing.assert_array_equal(clf.predict_proba(X_TEST), solo)


def test_fit_leaves_torch_global_random_state_alone():
    import torch

    state = torch.get_rng_state()
    DigitClassifier(max_iter=1, random_state=0, dropout=0.5).fit(X_TRAIN, Y_TRAIN)
    assert torch.equal(torch.get_rng_state(), state)


def test_warm_start_refuses_a_changed_architecture(fitted):
    fitted.set_params(warm_start=True, hidden_layer_sizes=(64,))
    with pytest.raises(
        ValueError, match=r"hidden_layer_sizes \(fitted with None, now \(64,\)\)"
    ):
        fitted.fit(X_TRAIN, Y_TRAIN)
    fitted.set_params(architecture="mlp", hidden_layer_sizes=None)
    with pytest.raises(
        ValueError, match=r"architecture \(fitted with 'auto', now 'mlp'\)"
    ):
        fitted.fit(X_TRAIN, Y_TRAIN)
    fitted.set_params(warm_start=False)
    assert fitted.fit(X_TRAIN, Y_TRAIN).architecture_ == "mlp"


def test_warm_start_honours_new_optimizer_settings(fitted):
    warm = clone(fitted).set_params(warm_start=True)
    warm.fit(X_TRAIN, Y_TRAIN)
    warm.set_params(alpha=0.5, max_iter=1).fit(X_TRAIN, Y_TRAIN)
    assert warm.net_.optimizer_.param_groups[0]["weight_decay"] == 0.5
    warm.set_params(solver="sgd").fit(X_TRAIN, Y_TRAIN)  # fresh optimizer state
    assert type(warm.net_.optimizer_).__name__ == "SGD"
    assert warm.n_iter_ == 4


def test_a_diverged_training_is_an_error_not_a_model():
    clf = DigitClassifier(max_iter=2, learning_rate_init=1e6, solver="sgd")
    with pytest.raises(ValueError, match="training diverged"):
        clf.fit(X_TRAIN * 1e6, Y_TRAIN)
    assert not hasattr(clf, "net_")


def test_cross_validation_in_threads_equals_the_serial_run():
    import joblib
    from sklearn.model_selection import cross_val_score

    clf = DigitClassifier(max_iter=1, random_state=0, dropout=0.3)
    serial = cross_val_score(clf, X[:600], Y[:600], cv=3)
    with joblib.parallel_backend("threading", n_jobs=3):
        threaded = cross_val_score(clf, X[:600], Y[:600], cv=3, n_jobs=3)
    np.testing.assert_array_equal(threaded, serial)


@pytest.mark.parametrize("architecture", ["mlp", "cnn"])
def test_sample_weight_with_early_stopping_weights_the_validation_accuracy(
    small_digits, architecture
):
    from digitnet._training import draw_seeds, split

    X_train, _, y_train, _ = small_digits
    weights = np.random.RandomState(0).rand(len(y_train))
    clf = DigitClassifier(
        max_iter=1, early_stopping=True, architecture=architecture, random_state=0
    ).fit(X_train, y_train, sample_weight=weights)
    valid = split(clf, np.searchsorted(clf.classes_, y_train), draw_seeds(0)["split"])
    right = clf.predict(X_train[valid]) == y_train[valid]
    expected = np.sum(weights[valid] * right) / np.sum(weights[valid])
    assert clf.validation_scores_[0] == pytest.approx(expected, abs=1e-6)  # float32
    assert expected != pytest.approx(right.mean(), abs=1e-6)  # weights matter
