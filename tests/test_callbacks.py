"""The callback owner: order, the stopping rule and the end of an epoch."""

import numpy as np
import pytest
import torch

from digitnet import DigitClassifier
from digitnet._callbacks import (
    EpochEnd,
    StoppingRule,
    build_callbacks,
    epoch_end,
    injected,
)

from .faults import FaultAt


def _names(**params):
    est = DigitClassifier(**params)
    return [
        name
        for name, _ in build_callbacks(est, n_batches=4, epochs=3, incremental=False)
    ]


def test_callbacks_come_in_a_fixed_order():
    assert _names() == ["train_acc", "lr_schedule", "stopping", "epoch_end"]
    # The progress line comes after the epoch is marked complete: an epoch a
    # user sees reported is one that Ctrl-C keeps.
    assert _names(verbose=2, learning_rate="constant") == [
        "train_acc",
        "stopping",
        "epoch_end",
        "progress",
    ]
    est = DigitClassifier()
    names = [
        n for n, _ in build_callbacks(est, n_batches=4, epochs=1, incremental=True)
    ]
    assert names == ["train_acc", "epoch_end"]  # partial_fit: no schedule, no stop
    fault = FaultAt(1)
    with injected(fault):
        names = [
            n for n, _ in build_callbacks(est, n_batches=4, epochs=1, incremental=True)
        ]
    assert names == ["train_acc", "injected_0", "epoch_end"]


class _Net:
    """Just enough of a skorch net for a stopping rule."""

    def __init__(self, rows=()):
        self.history = _History(rows)
        self.module_ = torch.nn.Linear(2, 2)


class _History(list):
    def __getitem__(self, key):
        if isinstance(key, tuple):
            return list.__getitem__(self, key[0])[key[1]]
        return list.__getitem__(self, key)


@pytest.mark.parametrize(
    ("losses", "tol", "patience", "stops_after"),
    [
        ([1.0, 0.9, 0.8, 0.7], 0.0, 2, None),
        ([1.0, 1.0, 1.0, 1.0], 0.0, 2, 3),
        ([1.0, 0.99, 0.98, 0.97], 0.05, 2, 3),
        ([1.0, 2.0, 0.5, 2.0, 2.0], 0.0, 2, 5),
    ],
)
def test_the_stopping_rule_is_mlpclassifiers(losses, tol, patience, stops_after):
    net = _Net()
    rule = StoppingRule("train_loss", True, patience, tol, load_best=False)
    rule.on_train_begin(net)
    stopped = None
    for loss in losses:
        net.history.append({"epoch": len(net.history) + 1, "train_loss": loss})
        rule.on_epoch_end(net)
        if rule.stop_ and stopped is None:
            stopped = len(net.history)
    assert stopped == stops_after


def test_the_stopping_rule_resumes_from_its_state():
    net = _Net([{"epoch": 1, "valid_acc": 0.5}])
    rule = StoppingRule("valid_acc", False, 3, 0.0, load_best=True)
    rule.on_train_begin(net)
    rule.on_epoch_end(net)
    state = rule.get_state()
    resumed = StoppingRule("valid_acc", False, 3, 0.0, load_best=True, state=state)
    resumed.on_train_begin(net)
    assert resumed.get_state()["best_epoch_"] == 1
    assert resumed.best_weights_ is not state["best_weights_"]  # a copy


def test_epoch_end_rolls_back_to_the_last_complete_epoch(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(max_iter=3, random_state=0).fit(X_train, y_train)
    end = EpochEnd()
    end.on_train_begin(clf.net_)
    assert end.roll_back(clf.net_) is False  # nothing complete yet
    end.on_epoch_end(clf.net_)
    weights = {k: v.clone() for k, v in clf.net_.module_.state_dict().items()}
    with torch.no_grad():
        for p in clf.net_.module_.parameters():
            p.add_(1.0)
    clf.net_.history.new_epoch()
    assert end.roll_back(clf.net_) is True
    assert len(clf.net_.history) == 3
    for k, v in clf.net_.module_.state_dict().items():
        assert torch.equal(v, weights[k])


def test_a_fitted_model_keeps_no_roll_back_copy(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(max_iter=2, random_state=0).fit(X_train, y_train)
    end = epoch_end(clf.net_)
    assert end.snapshot_[1:] == (None, None)  # weights and optimizer state freed
    assert end.completed_ == 2
    assert end.roll_back(clf.net_) is False


def test_a_non_finite_loss_ends_training_with_an_error():
    end = EpochEnd()
    net = _Net()
    end.on_train_begin(net)
    net.history.append({"epoch": 1, "train_loss": float("nan")})
    with pytest.raises(ValueError, match="training diverged: the training loss is nan"):
        end.on_epoch_end(net)


def test_injected_callbacks_are_removed_after_the_block(small_digits):
    X_train, _, y_train, _ = small_digits
    with injected(FaultAt(1, batch=1)), pytest.raises(RuntimeError):
        DigitClassifier(max_iter=1).fit(X_train, y_train)
    clf = DigitClassifier(max_iter=1).fit(X_train, y_train)  # no fault any more
    assert "injected_0" not in dict(clf.net_.callbacks_)
    assert np.isfinite(clf.best_loss_)
