"""The training callbacks and their order: one owner for the protocol.

:func:`build_callbacks` makes the list every training net runs, in a fixed
order: train accuracy, the learning-rate schedule, the resumed schedule's
state, the stopping rule, the checkpoint, callbacks injected for tests, then
:class:`EpochEnd`, which rejects a diverged loss and marks the epoch complete
(what a Ctrl-C keeps), and only then the progress display (and skorch's
``PrintLog``, which skorch always runs last). So an epoch a user sees
reported is an epoch a Ctrl-C keeps. Nothing outside this module names a
callback.

Ending training uses skorch's public protocol: ``KeyboardInterrupt`` raised
in the loop makes ``partial_fit`` stop. When the stopping rule says so, the
net raises :class:`StopTraining`, a subclass, after every callback has seen
the epoch (:meth:`~digitnet._net.Net.notify`), so that a user's Ctrl-C (a
plain ``KeyboardInterrupt``) can be told apart.
"""

import contextlib
import copy
import math
import sys
import time

import numpy as np
import torch
from skorch.callbacks import Callback, EpochScoring
from skorch.utils import to_numpy

from ._optim import schedule_callback


class StopTraining(KeyboardInterrupt):
    """Raised by :class:`EpochEnd` when the stopping rule ends training."""


class TrainAccuracy(Callback):
    """Record ``train_acc``: accuracy of the training batches' predictions.

    Computed from the forward passes training already makes (a running
    accuracy, in training mode), so it costs no extra pass over the data.
    Counts stay on the device until the epoch ends.
    """

    def on_epoch_begin(self, net, **kwargs):
        self.correct_, self.seen_ = 0, 0

    def on_batch_end(self, net, batch, training, y_pred=None, **kwargs):
        if not training or y_pred is None:
            return
        y = batch[1][0] if isinstance(batch[1], (tuple, list)) else batch[1]
        self.correct_ = self.correct_ + (y_pred.argmax(dim=1) == y).sum()
        self.seen_ += len(y)

    def on_epoch_end(self, net, **kwargs):
        if self.seen_:
            correct = self.correct_
            if isinstance(correct, torch.Tensor):
                correct = correct.item()
            net.history.record("train_acc", correct / self.seen_)


def _labels(y):
    """The labels of a batch's targets (``(labels, weights)`` when weighted)."""
    return to_numpy(y[0] if isinstance(y, (tuple, list)) else y)


def _validation_accuracy(net, dataset, y):
    """Accuracy on the validation set, weighted by its sample weights."""
    pred = np.argmax(net.predict_proba(dataset), axis=1)
    weights = dataset.sample_weight
    if weights is None:
        return float(np.mean(pred == y))
    weights = to_numpy(weights).astype(np.float64)
    return float(np.sum(weights * (pred == y)) / np.sum(weights))


def validation_accuracy():
    """The ``valid_acc`` callback: skorch's, sample-weighted like the
    validation loss (``MLPClassifier`` weights its validation score too)."""
    return EpochScoring(
        _validation_accuracy,
        name="valid_acc",
        lower_is_better=False,
        on_train=False,
        target_extractor=_labels,
    )


class ProgressBar(Callback):
    """Show epochs and batches with running loss and accuracy.

    On a terminal, one line per epoch is redrawn after every few batches; on
    anything else (logs, pipes) one plain line is written per epoch.

    Parameters
    ----------
    stream : file-like, default=None
        Where to write; ``sys.stderr`` (looked up at each write) when None.
    """

    def __init__(self, stream=None):
        self.stream = stream

    def _out(self):
        # Resolved at each use (not stored) so that the net stays picklable.
        return self.stream or sys.stderr

    def on_train_begin(self, net, **kwargs):
        self.live_ = bool(getattr(self._out(), "isatty", lambda: False)())
        self.total_epochs_ = len(net.history) + net.max_epochs

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        self.epoch_ = len(net.history)
        self.n_batches_ = len(net.get_iterator(dataset_train, training=True))
        self.batch_, self.loss_, self.correct_, self.seen_ = 0, 0.0, 0, 0
        self.start_ = self.last_draw_ = time.perf_counter()

    def on_batch_end(self, net, batch, training, loss=None, y_pred=None, **kwargs):
        if not training:
            return
        self.batch_ += 1
        if not self.live_:
            return
        now = time.perf_counter()
        if now - self.last_draw_ < 0.1 and self.batch_ < self.n_batches_:
            return
        self.last_draw_ = now
        y = batch[1][0] if isinstance(batch[1], (tuple, list)) else batch[1]
        n = len(y)
        self.loss_ += loss.item() * n
        self.correct_ += (y_pred.argmax(dim=1) == y).sum().item()
        self.seen_ += n
        width = 24
        filled = width * self.batch_ // self.n_batches_
        bar = "#" * filled + "-" * (width - filled)
        out = self._out()
        out.write(
            f"\repoch {self.epoch_}/{self.total_epochs_} [{bar}] "
            f"{self.batch_}/{self.n_batches_} loss {self.loss_ / self.seen_:.4f} "
            f"acc {self.correct_ / self.seen_:.4f} {now - self.start_:5.1f}s"
        )
        out.flush()

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        parts = [f"epoch {self.epoch_}/{self.total_epochs_}"]
        for key in ("train_loss", "train_acc", "valid_loss", "valid_acc"):
            if key in row:
                parts.append(f"{key} {row[key]:.4f}")
        parts.append(f"{row.get('dur', 0.0):.1f}s")
        prefix = "\r" if self.live_ else ""
        clear = "\x1b[K" if self.live_ else ""
        out = self._out()
        out.write(prefix + "  ".join(parts) + clear + "\n")
        out.flush()


class StoppingRule(Callback):
    """Stop when ``monitor`` fails to improve by ``tol`` for ``patience`` epochs.

    The rule of ``MLPClassifier`` (and skorch's ``EarlyStopping`` with an
    absolute threshold), with its whole state in :meth:`get_state` so a
    checkpoint can resume it. With ``load_best`` the best epoch's weights are
    restored when training ends.
    """

    def __init__(self, monitor, lower_is_better, patience, tol, load_best, state=None):
        self.monitor = monitor
        self.lower_is_better = lower_is_better
        self.patience = patience
        self.tol = tol
        self.load_best = load_best
        self.state = state

    def on_train_begin(self, net, **kwargs):
        self.best_score_ = math.inf if self.lower_is_better else -math.inf
        self.best_epoch_ = 0
        self.misses_ = 0
        self.best_weights_ = None
        self.stop_ = False
        if self.state is not None:
            vars(self).update(copy.deepcopy(self.state))
            self.state = None  # used once

    def _improved(self, score):
        if self.lower_is_better:
            return score < self.best_score_ - self.tol
        return score > self.best_score_ + self.tol

    def on_epoch_end(self, net, **kwargs):
        score = net.history[-1, self.monitor]
        if self._improved(score):
            self.best_score_, self.misses_ = score, 0
            self.best_epoch_ = net.history[-1, "epoch"]
            if self.load_best:
                self.best_weights_ = _clone_state(net.module_.state_dict())
        else:
            self.misses_ += 1
        self.stop_ = self.misses_ >= self.patience

    def get_state(self):
        """The rule's state after the last epoch it saw (plain values, tensors)."""
        names = ("best_score_", "best_epoch_", "misses_", "best_weights_", "stop_")
        return {name: getattr(self, name) for name in names}

    def on_train_end(self, net, **kwargs):
        if not len(net.history) or self.best_weights_ is None or not self.load_best:
            return
        if self.best_epoch_ != net.history[-1, "epoch"]:
            net.module_.load_state_dict(self.best_weights_)


def _clone_state(state):
    return {k: v.detach().clone() for k, v in state.items()}


class EpochEnd(Callback):
    """Marks an epoch complete, before anything reports it.

    Keeps a copy of the weights and optimizer state of the last complete
    epoch, so an interrupted epoch can be rolled back (:meth:`roll_back`),
    and says whether the stopping rule ends training (:attr:`stop_`; the net
    stops once every callback has seen the epoch). A non-finite training
    loss is an error (the fit fails and changes nothing) rather than a model
    that silently predicts nonsense.
    """

    def __init__(self, stopping=None):
        self.stopping = stopping

    def on_train_begin(self, net, **kwargs):
        self.first_epoch_ = len(net.history)
        self.snapshot_ = None
        self.stop_ = False

    @property
    def completed_(self):
        """Epochs completed in this training call."""
        return 0 if self.snapshot_ is None else self.snapshot_[0] - self.first_epoch_

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if not math.isfinite(loss):
            raise ValueError(
                f"training diverged: the training loss is {loss} at epoch "
                f"{len(net.history)}; lower learning_rate_init or check X and "
                "sample_weight for extreme values."
            )
        optimizer = getattr(net, "optimizer_", None)
        self.snapshot_ = (
            len(net.history),
            _clone_state(net.module_.state_dict()),
            None if optimizer is None else copy.deepcopy(optimizer.state_dict()),
        )
        self.stop_ = self.stopping is not None and self.stopping.stop_

    def on_train_end(self, net, **kwargs):
        # The roll-back copy is only needed while training: free its memory
        # (on a GPU) and keep the epoch count.
        if self.snapshot_ is not None:
            self.snapshot_ = (self.snapshot_[0], None, None)

    def roll_back(self, net):
        """Return ``net`` to the last complete epoch; False if there is none."""
        if self.snapshot_ is None:
            return False
        n_epochs, module_state, optimizer_state = self.snapshot_
        if module_state is None:
            return False  # training has ended: nothing to roll back
        del net.history[n_epochs:]
        net.module_.load_state_dict(module_state)
        if optimizer_state is not None:
            net.optimizer_.load_state_dict(optimizer_state)
        return True


class ResumeSchedule(Callback):
    """Put a freshly started schedule back where a checkpointed run stopped."""

    def __init__(self, schedule_state, param_groups):
        self.schedule_state = schedule_state
        self.param_groups = param_groups

    def on_train_begin(self, net, **kwargs):
        schedule = dict(net.callbacks_).get("lr_schedule")
        if schedule is not None and self.schedule_state is not None:
            schedule.lr_scheduler_.load_state_dict(self.schedule_state)
        for group, saved in zip(
            net.optimizer_.param_groups, self.param_groups, strict=True
        ):
            for key in ("lr", "initial_lr", "betas", "momentum"):
                if key in saved:
                    group[key] = saved[key]


#: Callbacks added to every training net while :func:`injected` is active.
_INJECTED = []


@contextlib.contextmanager
def injected(*callbacks):
    """Add ``callbacks`` to the nets built inside the block (fault tests).

    They run after the checkpoint and before :class:`EpochEnd`, so a fault
    raised at an epoch's end lands after the stopping rule and checkpoint
    have seen the epoch, and before it is complete.
    """
    _INJECTED.extend(callbacks)
    try:
        yield
    finally:
        for cb in callbacks:
            _INJECTED.remove(cb)


def stopping_rule(est, state=None):
    """The stopping rule for ``est``'s parameters (``state``: resumed)."""
    if est.early_stopping:
        return StoppingRule(
            "valid_acc", False, est.n_iter_no_change, est.tol, True, state
        )
    return StoppingRule("train_loss", True, est.n_iter_no_change, est.tol, False, state)


def build_callbacks(
    est, *, n_batches, epochs, incremental, checkpoint=None, resume=None
):
    """The callbacks of a training net, named and in their fixed order.

    ``checkpoint``: an :class:`~digitnet._checkpoint.EpochCheckpoint`;
    ``resume``: the saved training state it resumes from (or None).
    """
    callbacks = [("train_acc", TrainAccuracy())]
    schedule = schedule_callback(est, n_batches, epochs, incremental)
    if schedule is not None:
        callbacks.append(("lr_schedule", schedule))
    if resume is not None:
        groups = resume["optimizer"]["param_groups"]
        callbacks.append(
            ("resume_schedule", ResumeSchedule(resume["schedule"], groups))
        )
    stopping = None
    if not incremental:
        stopping = stopping_rule(est, None if resume is None else resume["stopping"])
        callbacks.append(("stopping", stopping))
    if checkpoint is not None:
        callbacks.append(("checkpoint", checkpoint))
    callbacks += [(f"injected_{i}", cb) for i, cb in enumerate(_INJECTED)]
    callbacks.append(("epoch_end", EpochEnd(stopping)))
    if est.verbose >= 2:
        callbacks.append(("progress", ProgressBar()))
    return callbacks


def epoch_end(net):
    """The net's :class:`EpochEnd` callback."""
    return dict(net.callbacks_)["epoch_end"]


def stop_requested(net):
    """Whether the epoch just ended was the stopping rule's last."""
    end = dict(getattr(net, "callbacks_", ())).get("epoch_end")
    return end is not None and end.stop_


def schedule_state(net):
    """The learning-rate scheduler's state (for a checkpoint), or None."""
    schedule = dict(net.callbacks_).get("lr_schedule")
    return None if schedule is None else schedule.lr_scheduler_.state_dict()


def stopping_state(net):
    """The stopping rule's state after the epoch just ended, or None."""
    stopping = dict(net.callbacks_).get("stopping")
    return None if stopping is None else stopping.get_state()
