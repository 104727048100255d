"""Faults injected into training through the callback owner."""

import os
import pathlib
import signal
import subprocess
import sys

from skorch.callbacks import Callback


class FaultAt(Callback):
    """Raise ``error`` (or send a real SIGINT) at a batch of an epoch.

    ``epoch`` counts the net's history (1-based, earlier fits included);
    ``batch`` is the batch within it (1-based); ``batch=None`` raises at the
    epoch's start, ``batch="end"`` at its end (after every other callback but
    the one that marks it complete). ``error="SIGINT"`` delivers a real signal
    to this process.
    """

    def __init__(self, epoch, batch=None, error=RuntimeError):
        self.epoch = epoch
        self.batch = batch
        self.error = error

    def on_epoch_end(self, net, **kwargs):
        if self.batch == "end" and len(net.history) == self.epoch:
            self._fire()

    def on_epoch_begin(self, net, **kwargs):
        self.seen_ = 0
        if self.batch is None and len(net.history) == self.epoch:
            self._fire()

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        self.seen_ += 1
        if len(net.history) == self.epoch and self.seen_ == self.batch:
            self._fire()

    def _fire(self):
        if self.error == "SIGINT":
            os.kill(os.getpid(), signal.SIGINT)
            return
        raise self.error("injected fault")


#: The repository root, for scripts run in a child process to import ``tests``.
ROOT = str(pathlib.Path(__file__).resolve().parents[1])


def run_script(script, *args, timeout=300):
    """Run ``script`` with ``python -c`` in a fresh process, the repository
    root as its first argument and ``args`` after it; return the completed
    process (text output captured)."""
    return subprocess.run(
        [sys.executable, "-c", script, ROOT, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
