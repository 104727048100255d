"""The reading wing: pages of handwritten numbers, from the image wing's ink.

Data flows one way through one module per concept:

* :mod:`._layout` -- a page's ink into lines;
* :mod:`._segment` -- a line's ink into groups of connected ink, and the
  candidate cuts of groups that may hold touching digits;
* :mod:`._pieces` -- the piece model, which tells a whole digit from a
  fragment or a pair;
* :mod:`._cuts` -- the cut of touching digits chosen from both models;
* :mod:`._reading` -- :func:`read_digits`: every piece read, numbers split;
* :mod:`._results` -- what it returns: lines, numbers, digits.
"""

from ._reading import read_digits
from ._results import DigitRead, Line, Number, Reading

__all__ = ["DigitRead", "Line", "Number", "Reading", "read_digits"]
