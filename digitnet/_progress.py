"""skorch callbacks that report training as it happens."""

import sys
import time

import torch
from skorch.callbacks import Callback


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
