"""The ``digitnet`` command: train, evaluate and predict from the shell.

A thin layer over the public API. Photo preprocessing (:mod:`._images`) and
evaluation reports (:mod:`._reports`) live here because only the command uses
them.
"""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
