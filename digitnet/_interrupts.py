"""Ctrl-C while digitnet has work worth keeping: hold it back, then honour it.

A first Ctrl-C stops training; the epochs completed are kept (see
:class:`~digitnet._net.Net`). A second press must not destroy them while
they are being restored or written: :func:`held_interrupts` holds SIGINT back
for the length of a block and reports whether one arrived. Signal handlers
can only be set from the main thread; elsewhere the block runs unprotected
(Python delivers SIGINT to the main thread only, so there is nothing to hold).
"""

import contextlib
import signal
import sys
import threading


class Held:
    """What :func:`held_interrupts` saw: ``count`` presses held back."""

    def __init__(self):
        self.count = 0

    @property
    def pending(self):
        """Whether Ctrl-C was pressed while the block ran."""
        return self.count > 0


@contextlib.contextmanager
def held_interrupts(note=None, stream=None):
    """Hold SIGINT back while the block runs; yield a :class:`Held`.

    ``note`` is written to ``stream`` (stderr by default) at the first press
    held back, so the user knows why nothing stops yet. On leaving, presses
    held back are passed on to the handler that was there before, unless
    that is Python's default one (which would raise ``KeyboardInterrupt``:
    the interruption already under way stands for them).
    """
    held = Held()
    if threading.current_thread() is not threading.main_thread():
        yield held
        return

    def hold(signum, frame):
        held.count += 1
        if note and held.count == 1:
            out = stream or sys.stderr
            out.write(note + "\n")
            out.flush()

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous)
        if callable(previous) and previous is not signal.default_int_handler:
            for _ in range(held.count):
                previous(signal.SIGINT, None)


class StopThenHold:
    """A SIGINT handler for work that trains and then saves what it trained.

    The first Ctrl-C raises ``KeyboardInterrupt`` (training stops and keeps
    its complete epochs); after it, or once :meth:`hold` is called (training
    is over), presses are only counted (:attr:`held`) and ``note`` is written
    at the first of them, so saving cannot be cut short. Use as a context
    manager in the main thread; elsewhere it changes nothing.
    """

    def __init__(self, note, stream=None):
        self.note = note
        self.stream = stream
        self.holding = False
        self.held = 0

    def hold(self):
        """From now on, hold every press back."""
        self.holding = True

    def _handle(self, signum, frame):
        if not self.holding:
            self.holding = True
            raise KeyboardInterrupt
        self.held += 1
        if self.held == 1:
            out = self.stream or sys.stderr
            out.write(self.note + "\n")
            out.flush()

    def __enter__(self):
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False
