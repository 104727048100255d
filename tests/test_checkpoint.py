"""checkpoint_dir: a killed training loses at most one epoch and resumes exactly."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from digitnet import DigitClassifier

X, Y = load_digits(return_X_y=True)
X_TRAIN, Y_TRAIN, X_TEST = X[:400], Y[:400], X[400:600]
PARAMS = dict(max_iter=4, random_state=0, early_stopping=True, augment=True)

KILLED_RUN = textwrap.dedent(
    """
    import os, sys
    from sklearn.datasets import load_digits
    from skorch.callbacks import Callback
    from digitnet import DigitClassifier
    from digitnet._callbacks import injected

    class Kill(Callback):
        def on_batch_end(self, net, training=False, **kwargs):
            if training and len(net.history) == 3:  # killed during epoch 3
                os._exit(3)

    X, y = load_digits(return_X_y=True)
    with injected(Kill()):
        DigitClassifier(
            max_iter=4, random_state=0, early_stopping=True, augment=True,
            checkpoint_dir=sys.argv[1],
        ).fit(X[:400], y[:400])
    """
)


@pytest.fixture(scope="module")
def uninterrupted():
    return DigitClassifier(**PARAMS).fit(X_TRAIN, Y_TRAIN)


def test_a_killed_run_resumes_exactly(tmp_path, uninterrupted):
    result = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 3, result.stderr
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert len(state["history"]) == 2  # at most one epoch (the 3rd) was lost
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no debris

    resumed = DigitClassifier(**PARAMS, checkpoint_dir=tmp_path).fit(X_TRAIN, Y_TRAIN)
    assert resumed.n_iter_ == 4
    assert resumed.loss_curve_ == uninterrupted.loss_curve_
    assert resumed.validation_scores_ == uninterrupted.validation_scores_
    np.testing.assert_array_equal(
        resumed.predict_proba(X_TEST), uninterrupted.predict_proba(X_TEST)
    )


def test_resume_keeps_the_stopping_rule_memory(tmp_path):
    """The best epoch before the kill still counts after resuming."""
    script = KILLED_RUN.replace("early_stopping=True", "early_stopping=True, tol=0.5")
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=False)
    params = {**PARAMS, "tol": 0.5}
    reference = DigitClassifier(**params).fit(X_TRAIN, Y_TRAIN)
    resumed = DigitClassifier(**params, checkpoint_dir=tmp_path).fit(X_TRAIN, Y_TRAIN)
    stopper = dict(resumed.net_.callbacks_)["stopping"]
    assert (
        stopper.get_state()["best_epoch_"]
        == (dict(reference.net_.callbacks_)["stopping"].get_state()["best_epoch_"])
    )
    np.testing.assert_array_equal(
        resumed.predict_proba(X_TEST), reference.predict_proba(X_TEST)
    )


def test_every_epoch_is_checkpointed(tmp_path):
    clf = DigitClassifier(max_iter=2, random_state=0, checkpoint_dir=tmp_path)
    clf.fit(X_TRAIN, Y_TRAIN)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert len(state["history"]) == 2
    # A finished run resumes to the finished model without training.
    again = DigitClassifier(max_iter=2, random_state=0, checkpoint_dir=tmp_path)
    again.fit(X_TRAIN, Y_TRAIN)
    assert again.n_iter_ == 2
    np.testing.assert_array_equal(
        again.predict_proba(X_TEST), clf.predict_proba(X_TEST)
    )


def test_checkpoint_from_other_parameters_is_a_clear_error(tmp_path):
    DigitClassifier(max_iter=1, random_state=0, checkpoint_dir=tmp_path).fit(
        X_TRAIN, Y_TRAIN
    )
    other = DigitClassifier(
        max_iter=1, random_state=0, alpha=0.1, checkpoint_dir=tmp_path
    )
    with pytest.raises(ValueError, match=r"other parameters \(alpha differ\)"):
        other.fit(X_TRAIN, Y_TRAIN)
    mismatch = DigitClassifier(max_iter=1, random_state=0, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="was written by a fit on other data"):
        mismatch.fit(X_TRAIN[Y_TRAIN < 5], Y_TRAIN[Y_TRAIN < 5])


def test_identity_is_by_value_not_by_repr(tmp_path):
    """A list equals a tuple, dicts in any order, a Path its text."""
    first = DigitClassifier(
        max_iter=1,
        random_state=0,
        hidden_layer_sizes=[32],
        class_weight={0: 1.0, 1: 2.0},
        checkpoint_dir=tmp_path,
    ).fit(X_TRAIN, Y_TRAIN)
    again = DigitClassifier(
        max_iter=1,
        random_state=0,
        hidden_layer_sizes=(32,),
        class_weight={1: 2.0, 0: 1.0},
        checkpoint_dir=str(tmp_path),
    ).fit(X_TRAIN, Y_TRAIN)
    np.testing.assert_array_equal(
        again.predict_proba(X_TEST), first.predict_proba(X_TEST)
    )


def test_a_random_state_instance_counts_by_its_state(tmp_path):
    params = dict(max_iter=2, checkpoint_dir=tmp_path)
    first = DigitClassifier(**params, random_state=np.random.RandomState(0))
    first.fit(X_TRAIN, Y_TRAIN)
    # A new RandomState(0) is the same state: the finished run is resumed.
    again = DigitClassifier(**params, random_state=np.random.RandomState(0))
    again.fit(X_TRAIN, Y_TRAIN)
    np.testing.assert_array_equal(
        again.predict_proba(X_TEST), first.predict_proba(X_TEST)
    )
    other = DigitClassifier(**params, random_state=np.random.RandomState(1))
    with pytest.raises(ValueError, match=r"\(random_state differ\)"):
        other.fit(X_TRAIN, Y_TRAIN)


def test_other_rows_of_the_same_shape_are_not_resumed(tmp_path):
    DigitClassifier(max_iter=1, random_state=0, checkpoint_dir=tmp_path).fit(
        X_TRAIN, Y_TRAIN
    )
    other = DigitClassifier(max_iter=1, random_state=0, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="was written by a fit on other data"):
        other.fit(X[400:800], Y[400:800])
    weighted = DigitClassifier(max_iter=1, random_state=0, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="other data"):
        weighted.fit(X_TRAIN, Y_TRAIN, sample_weight=np.linspace(1, 2, 400))


def test_without_a_seed_a_finished_run_is_trained_afresh(tmp_path):
    first = DigitClassifier(max_iter=1, checkpoint_dir=tmp_path).fit(X_TRAIN, Y_TRAIN)
    again = DigitClassifier(max_iter=1, checkpoint_dir=tmp_path).fit(X_TRAIN, Y_TRAIN)
    assert again.n_iter_ == 1
    # Trained anew: another random run, not the stored one.
    assert not np.array_equal(again.predict_proba(X_TEST), first.predict_proba(X_TEST))


def test_a_checkpoint_dir_that_is_a_file_fails_before_training(tmp_path):
    path = tmp_path / "not-a-folder"
    path.write_text("x")
    clf = DigitClassifier(max_iter=1, checkpoint_dir=path)
    with pytest.raises(NotADirectoryError, match="not-a-folder: it exists and is not"):
        clf.fit(X_TRAIN, Y_TRAIN)
    assert not hasattr(clf, "net_")


def test_a_model_with_a_path_checkpoint_dir_saves(tmp_path):
    import digitnet

    clf = DigitClassifier(max_iter=1, random_state=0, checkpoint_dir=tmp_path / "c")
    clf.fit(X_TRAIN, Y_TRAIN).save(tmp_path / "m.dnet")
    assert digitnet.load(tmp_path / "m.dnet").checkpoint_dir == tmp_path / "c"
