"""Ctrl-C held back while work worth keeping is restored or written."""

import io
import os
import signal

import pytest

from digitnet._interrupts import StopThenHold, held_interrupts


def _ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)


def test_held_interrupts_hold_ctrl_c_until_the_block_ends():
    note = io.StringIO()
    with held_interrupts("saving first", stream=note) as held:
        _ctrl_c()
        _ctrl_c()
        assert held.count == 2
    assert held.pending
    assert note.getvalue() == "saving first\n"  # said once
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        _ctrl_c()


def test_held_presses_are_passed_on_to_a_handler_of_the_caller():
    outer = StopThenHold("held by the command", stream=io.StringIO())
    with outer:
        outer.hold()
        with held_interrupts():
            _ctrl_c()
        assert outer.held == 1  # the inner block's press reached the command


def test_stop_then_hold_stops_once_then_holds():
    note = io.StringIO()
    with StopThenHold("saving first", stream=note) as ctrl_c:
        with pytest.raises(KeyboardInterrupt):
            _ctrl_c()
        _ctrl_c()
        _ctrl_c()
    assert ctrl_c.held == 2
    assert note.getvalue() == "saving first\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_stop_then_hold_holds_every_press_once_told_to():
    with StopThenHold("x", stream=io.StringIO()) as ctrl_c:
        ctrl_c.hold()
        _ctrl_c()
    assert ctrl_c.held == 1
