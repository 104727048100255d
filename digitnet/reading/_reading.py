"""Reading a line of handwritten digits: segmentation, then the digit model.

:func:`read_digits` segments the image (:mod:`._segment`), turns each
piece into model input with the same MNIST-style preprocessing as
``digitnet predict``, and where a piece may hold several touching digits,
keeps the cut whose pieces the digit model and the piece model
(:mod:`._pieces`) together read best and find most likely to be
whole digits.
"""

import itertools
from dataclasses import dataclass
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, validate_params

from .._plain import builtin
from ..images._decode import load_gray
from ..images._ink import keep_ink
from ..images._normalise import check_shape, crop_to_features
from ._pieces import piece_proba, whole_probability
from ._segment import SPLIT_ASPECT, candidate_pieces, segment

#: A group the piece model finds whole with at least this probability is
#: not cut.
WHOLE_SURE = 0.95


@dataclass(frozen=True)
class DigitRead:
    """One digit of a :class:`Reading`.

    ``count_probability`` is the probability that the stretch of connected
    ink the digit was read from holds as many digits as were read from it:
    1 where it was not cut (narrow, or surely one digit), less where touching
    digits were cut apart and another cut was plausible. ``probability`` and
    the probabilities in ``top3`` are the label probabilities (the digit
    model's; for a cut piece, joined with the piece model's reading) times
    ``count_probability``. ``box`` is ``(left, top, right, bottom)`` in the image's
    pixels; ``flagged`` is True when ``probability`` is below the reading's
    ``min_confidence``.

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
class Reading:
    """The digits read from one image, left to right.

    Attributes
    ----------
    digits : tuple of DigitRead
        Label, probability, top-3, box and flag of each digit.
    text : str
        The labels joined, e.g. ``"4097"``.
    flagged : tuple of int
        Positions of the digits below ``min_confidence``, for a person to check.

    Examples
    --------
    >>> from digitnet import DigitRead, Reading
    >>> sure = DigitRead(4, 0.99, [(4, 0.99)], (0, 0, 20, 40), False)
    >>> unsure = DigitRead(9, 0.52, [(9, 0.52), (4, 0.41)], (24, 0, 44, 40), True)
    >>> reading = Reading((sure, unsure))
    >>> reading.text, reading.marked(), reading.flagged
    ('49', '4?', (1,))
    """

    digits: tuple

    @property
    def text(self):
        return "".join(str(d.label) for d in self.digits)

    @property
    def flagged(self):
        return tuple(i for i, d in enumerate(self.digits) if d.flagged)

    def marked(self, mark="?"):
        """``text`` with each flagged digit replaced by ``mark`` (``"40?7"``)."""
        return "".join(mark if d.flagged else str(d.label) for d in self.digits)

    def to_dict(self):
        """JSON-ready dict: ``text`` and ``digits``."""
        return {"text": self.text, "digits": [d.to_dict() for d in self.digits]}


def _features(page, part, shape):
    """Model input of one piece: its ink, masked to the piece's own pixels."""
    ink = keep_ink(page.ink[part.rows, part.cols], part.mask)
    return crop_to_features(ink, part.mask, shape)


def _best_path(n_seams, edges, scores):
    """Seam indices from the left edge (0) to the right one with the best score.

    ``edges`` are ``(i, j)`` pairs of seams, a piece each, ``scores`` their
    scores; a path's score is the sum of its pieces' scores.
    """
    best = np.full(n_seams, -np.inf)
    best[0], back = 0.0, {}
    for (i, j), score in sorted(zip(edges, scores, strict=True), key=lambda e: e[0][1]):
        if best[i] + score > best[j]:
            best[j], back[j] = best[i] + score, i
    path = [n_seams - 1]
    while path[-1]:
        path.append(back[path[-1]])
    return path[::-1]


def _cut(model, page, group, shape):
    """``(piece, digit probabilities, count probability)`` per digit of ``group``.

    The group is cut into the chain of candidate pieces
    (:func:`candidate_pieces`) that maximises the sum, over pieces, of the
    log-probability that the piece is one whole digit and of its most
    probable label (:func:`_joint_reading`). The count probability is
    :func:`_count_probability` of the chain's length.
    """
    n_seams, pieces = candidate_pieces(page, group)
    edges, parts = list(pieces), list(pieces.values())
    whole, digits = piece_proba(page, parts)
    proba = _joint_reading(
        model.classes_, _digit_proba(model, page, parts, shape), digits
    )
    scores = np.log(np.maximum(proba.max(axis=1), 1e-12)) + np.log(
        np.maximum(whole, 1e-12)
    )
    path = _best_path(n_seams, edges, scores)
    chosen = [edges.index(edge) for edge in itertools.pairwise(path)]
    count = _count_probability(n_seams, edges, scores, len(chosen))
    return [(parts[k], proba[k], count) for k in chosen]


def _joint_reading(classes, proba, digits):
    """The digit model's and the piece model's readings of cut pieces, joined.

    The digit model sees a piece alone, as :func:`preprocess_image` makes
    it; the piece model learnt from cut pieces, seen with the ink around
    them, so it still reads a digit whose edge a cut clipped. Where the digit
    model's classes are digits (``0``-``9``, as numbers or strings), the two
    readings are multiplied and normalised; for other classes the digit
    model's reading is kept.
    """
    columns = [_digit_of(c) for c in classes]
    if None in columns:
        return proba
    joint = proba * digits[:, columns]
    total = joint.sum(axis=1, keepdims=True)
    return np.where(total > 0, joint / np.where(total > 0, total, 1.0), proba)


def _digit_of(label):
    """The digit 0-9 that a class label names, or None."""
    text = str(builtin(label))
    return int(text) if len(text) == 1 and text in "0123456789" else None


def _count_probability(n_seams, edges, scores, count):
    """The probability that a group holds ``count`` digits.

    Each chain of pieces (a path from seam 0 to the last one) gets the
    probability ``exp(score)``, normalised over all chains; the chains of
    ``count`` pieces are summed (a forward pass over ``(seam, pieces so
    far)``). Chains that differ only in where a cut runs have the same
    count, so they do not split its probability.
    """
    forward = np.full((n_seams, n_seams + 1), -np.inf)
    forward[0, 0] = 0.0
    for (i, j), score in sorted(zip(edges, scores, strict=True), key=lambda e: e[0][1]):
        forward[j, 1:] = np.logaddexp(forward[j, 1:], forward[i, :-1] + score)
    counts = forward[-1]
    return float(np.exp(counts[count] - np.logaddexp.reduce(counts)))


def _read_groups(model, page, shape):
    """``(piece, digit probabilities, count probability)`` per digit, in order.

    Groups come left to right, and the pieces of a cut group in the order of
    its cuts, not of their boxes: a cut that runs slantwise under a digit can
    give the piece after it a box that starts further left.

    A group no wider than :data:`SPLIT_ASPECT` digit heights is one digit, and
    so is a wider one that the piece model finds whole with at least
    :data:`WHOLE_SURE` (count probability 1); any other group may be touching
    digits and is cut (:func:`_cut`).
    """
    groups = sorted(page.groups, key=lambda g: g.cols.start)
    kept = [g.width <= SPLIT_ASPECT * page.height for g in groups]
    wide = [k for k, keep in enumerate(kept) if not keep]
    if wide:
        whole = whole_probability(page, [groups[k] for k in wide])
        for k, w in zip(wide, whole, strict=True):
            kept[k] = w >= WHOLE_SURE
    uncut = [g for g, keep in zip(groups, kept, strict=True) if keep]
    proba = iter(_digit_proba(model, page, uncut, shape) if uncut else ())
    digits = []
    for group, keep in zip(groups, kept, strict=True):
        if keep:
            digits.append((group, next(proba), 1.0))
        else:
            digits.extend(_cut(model, page, group, shape))
    return digits


def _digit_proba(model, page, parts, shape):
    features = np.stack([_features(page, p, shape) for p in parts])
    return np.asarray(model.predict_proba(features))


def _digit_read(model, part, proba, count, scale, min_confidence):
    """The :class:`DigitRead` of one piece, its box in the image's pixels."""
    p = count * proba
    order = np.argsort(-p, kind="stable")[:3]
    box = (part.cols.start, part.rows.start, part.cols.stop, part.rows.stop)
    best = float(p[order[0]])
    return DigitRead(
        label=builtin(model.classes_[order[0]]),
        probability=best,
        top3=[(builtin(model.classes_[i]), float(p[i])) for i in order],
        box=tuple(round(v * scale) for v in box),
        flagged=min_confidence is not None and best < min_confidence,
        count_probability=float(count),
    )


@validate_params(
    {
        "model": [HasMethods(["predict_proba"])],
        "image": "no_validation",
        "min_confidence": [Interval(Real, 0, 1, closed="both"), None],
    },
    prefer_skip_nested_validation=True,
)
def read_digits(model, image, *, min_confidence=None):
    """Read a line of handwritten digits: a postcode, an amount, a meter reading.

    The image is segmented into digits (either polarity; uneven light, specks,
    ruled lines and underlines ignored; strokes of one digit that are broken
    apart, such as the bar of a 5, kept together; touching digits cut where
    the model reads the pieces best), and each digit goes through the
    preprocessing of :func:`preprocess_image` and ``model``.

    Parameters
    ----------
    model : DigitClassifier or OnnxModel
        A fitted digit model taking square grayscale images (``input_shape_``).
    image : str, os.PathLike, bytes, file object, PIL.Image.Image or ndarray
        The image, as for :func:`preprocess_image`.
    min_confidence : float in [0, 1], default=None
        Digits read with a lower probability are flagged for review.

    Returns
    -------
    reading : Reading
        ``reading.text`` (e.g. ``"4097"``), ``reading.digits`` (label,
        probability, top-3, box, flagged) and ``reading.flagged``.

    Raises
    ------
    digitnet.exceptions.BlankImageError
        If the image holds no digit-sized ink.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> import digitnet
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = digitnet.DigitClassifier(random_state=0).fit(X, y)
    >>> line = np.zeros((40, 120))  # three digits side by side, with gaps
    >>> for i, k in enumerate([0, 1, 7]):
    ...     digit = X[y == k][0].reshape(8, 8) / 16
    ...     line[4:36, 8 + 38 * i : 40 + 38 * i] = np.kron(digit, np.ones((4, 4)))
    >>> digitnet.read_digits(clf, line).text
    '017'
    """
    shape = check_shape(model)
    gray, scale = load_gray(image, with_scale=True)
    page = segment(gray)
    digits = [  # in reading order (see _read_groups), not sorted by box
        _digit_read(model, part, proba, count, scale, min_confidence)
        for part, proba, count in _read_groups(model, page, shape)
    ]
    return Reading(tuple(digits))
