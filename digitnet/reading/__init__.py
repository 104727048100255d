"""The reading wing: numbers of several digits, from the image wing's ink.

Data flows one way through one module per concept:

* :mod:`._segment` -- a line's ink into groups of connected ink, and the
  candidate cuts of groups that may hold touching digits;
* :mod:`._pieces` -- the piece model, which tells a whole digit from a
  fragment or a pair;
* :mod:`._reading` -- :func:`read_digits`: the cut chosen, each digit read.
"""

from ._reading import DigitRead, Reading, read_digits

__all__ = ["DigitRead", "Reading", "read_digits"]
