"""What :func:`~digitnet.read_digits` returns: a page of lines, numbers, digits.

Each level is a frozen dataclass with ``text``, ``box`` and ``to_dict`` (the
JSON of ``digitnet read --json`` and of ``digitnet serve``'s ``/read``), so
the structure a user sees on the page is the structure of the answer.
"""

from dataclasses import dataclass


def _union(boxes):
    boxes = list(boxes)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


@dataclass(frozen=True)
class DigitRead:
    """One digit of a :class:`Reading`.

    ``count_probability`` is the probability that the stretch of connected
    ink the digit was read from holds as many digits as were read from it:
    1 where it was not cut (narrow, or surely one digit), less where touching
    digits were cut apart and another cut was plausible. ``probability`` and
    the probabilities in ``top3`` are the label probabilities (the digit
    model's; for a cut piece, joined with the piece model's reading) times
    ``count_probability`` and times the piece model's probability that the
    piece is one whole digit, so that ink unlike any digit (a letter, a
    scribble) comes out with a low probability. ``box`` is ``(left, top,
    right, bottom)`` in the image's pixels; ``flagged`` is True when
    ``probability`` is below the reading's ``min_confidence``.

    Examples
    --------
    >>> from digitnet import DigitRead
    >>> digit = DigitRead(7, 0.52, [(7, 0.52), (1, 0.40), (9, 0.05)],
    ...                   (10, 4, 30, 44), True)
    >>> digit.to_dict()["top3"][1]
    [1, 0.4]
    """

    label: object
    probability: float
    top3: list
    box: tuple
    flagged: bool
    count_probability: float = 1.0

    def marked(self, mark="?"):
        """The label, or ``mark`` when the digit is flagged."""
        return mark if self.flagged else str(self.label)

    def to_dict(self):
        """JSON-ready dict."""
        return {
            "label": self.label,
            "probability": self.probability,
            "top3": [list(pair) for pair in self.top3],
            "box": list(self.box),
            "flagged": self.flagged,
            "count_probability": self.count_probability,
        }


@dataclass(frozen=True)
class Number:
    """Digits written together, with no wide gap between them (``"326"``).

    Examples
    --------
    >>> from digitnet import DigitRead, Number
    >>> number = Number((DigitRead(3, 0.99, [(3, 0.99)], (0, 0, 20, 40), False),
    ...                  DigitRead(2, 0.60, [(2, 0.60)], (24, 2, 44, 40), True)))
    >>> number.text, number.marked(), number.box
    ('32', '3?', (0, 0, 44, 40))
    """

    digits: tuple

    @property
    def text(self):
        return "".join(str(d.label) for d in self.digits)

    @property
    def box(self):
        return _union(d.box for d in self.digits)

    def marked(self, mark="?"):
        """``text`` with each flagged digit replaced by ``mark``."""
        return "".join(d.marked(mark) for d in self.digits)

    def to_dict(self):
        """JSON-ready dict: ``text``, ``box`` and ``digits``."""
        return {
            "text": self.text,
            "box": list(self.box),
            "digits": [d.to_dict() for d in self.digits],
        }


@dataclass(frozen=True)
class Line:
    """One line of handwriting: its numbers, left to right.

    Examples
    --------
    >>> from digitnet import DigitRead, Line, Number
    >>> one = Number((DigitRead(1, 0.9, [(1, 0.9)], (0, 0, 8, 40), False),))
    >>> two = Number((DigitRead(2, 0.9, [(2, 0.9)], (80, 0, 100, 40), False),))
    >>> Line((one, two)).text
    '1 2'
    """

    numbers: tuple

    @property
    def digits(self):
        return tuple(d for n in self.numbers for d in n.digits)

    @property
    def text(self):
        return " ".join(n.text for n in self.numbers)

    @property
    def box(self):
        return _union(n.box for n in self.numbers)

    def marked(self, mark="?"):
        """``text`` with each flagged digit replaced by ``mark``."""
        return " ".join(n.marked(mark) for n in self.numbers)

    def to_dict(self):
        """JSON-ready dict: ``text``, ``box`` and ``numbers``."""
        return {
            "text": self.text,
            "box": list(self.box),
            "numbers": [n.to_dict() for n in self.numbers],
        }


@dataclass(frozen=True)
class Reading:
    """What was read from one image: its lines, top to bottom.

    Attributes
    ----------
    lines : tuple of Line
        Each line's numbers; each number's digits (label, probability,
        top-3, box and flag).
    digits : tuple of DigitRead
        All digits, line by line, left to right.
    text : str
        Numbers joined with spaces, lines with newlines (``"326 751\\n42"``).
    flagged : tuple of int
        Positions in ``digits`` of those below ``min_confidence``, for a
        person to check.

    Examples
    --------
    >>> from digitnet import DigitRead, Line, Number, Reading
    >>> sure = DigitRead(4, 0.99, [(4, 0.99)], (0, 0, 20, 40), False)
    >>> unsure = DigitRead(9, 0.52, [(9, 0.52), (4, 0.41)], (24, 0, 44, 40), True)
    >>> other = DigitRead(7, 0.97, [(7, 0.97)], (0, 60, 20, 100), False)
    >>> reading = Reading((Line((Number((sure, unsure)),)), Line((Number((other,)),))))
    >>> reading.text, reading.marked(), reading.flagged
    ('49\\n7', '4?\\n7', (1,))
    """

    lines: tuple

    @property
    def digits(self):
        return tuple(d for line in self.lines for d in line.digits)

    @property
    def text(self):
        return "\n".join(line.text for line in self.lines)

    @property
    def flagged(self):
        return tuple(i for i, d in enumerate(self.digits) if d.flagged)

    def marked(self, mark="?"):
        """``text`` with each flagged digit replaced by ``mark`` (``"40?7"``)."""
        return "\n".join(line.marked(mark) for line in self.lines)

    def to_dict(self):
        """JSON-ready dict: ``text``, ``flagged`` and ``lines``."""
        return {
            "text": self.text,
            "flagged": list(self.flagged),
            "lines": [line.to_dict() for line in self.lines],
        }
