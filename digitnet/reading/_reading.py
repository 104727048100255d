"""Reading handwritten numbers: the page's lines, then each line's digits.

:func:`read_digits` finds the lines (:mod:`._layout`), groups each line's
ink into digits (:mod:`._segment`), and reads every piece with one call of
the digit model and at most two of the piece model (:mod:`._pieces`) for the
whole page: first to tell which wide groups are surely one digit, then to
read the candidate pieces of the groups that may hold touching digits, whose
cut :mod:`._cuts` chooses. Within a line, a gap wider than
:data:`NUMBER_GAP` digit heights separates two numbers.
"""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, validate_params

from .._plain import builtin
from ..exceptions import BlankImageError
from ..images._decode import load_gray
from ..images._ink import keep_ink, require_ink
from ..images._normalise import check_shape, crop_to_features
from ._cuts import choose_cut, joint_reading
from ._layout import find_lines
from ._pieces import piece_views, views_proba
from ._results import DigitRead, Line, Number, Reading
from ._segment import SPLIT_ASPECT, candidate_pieces, page_ink, segment_line

#: A group the piece model finds whole with at least this probability is
#: not cut.
WHOLE_SURE = 0.95
#: A cut piece the piece model finds whole with less than this probability
#: is not read by the digit model (it cannot be part of the chosen cut).
PLAUSIBLE = 0.01
#: A gap wider than this many digit heights separates two numbers.
NUMBER_GAP = 0.8


def _lines(gray):
    """The page's lines, top to bottom, each a :class:`~._segment.Page`."""
    ink, mask, height, stroke = page_ink(gray)
    pages = []
    for line in find_lines(ink, mask, height):
        try:
            pages.append(segment_line(line.ink, line.mask, stroke, line.origin))
        except BlankImageError:  # a line of specks only
            continue
    require_ink(bool(pages), "digit-sized ink")
    return pages


def _features(page, part, shape):
    """Model input of one piece: its ink, masked to the piece's own pixels."""
    ink = keep_ink(page.ink[part.rows, part.cols], part.mask)
    return crop_to_features(ink, part.mask, shape)


def _views(items):
    """The piece model's inputs for ``[(page, piece), ...]``, stacked."""
    return np.concatenate([piece_views(page, [piece]) for page, piece in items])


def _digit_likeness(pages, groups):
    """``(whole, cut)``: each group's probability of being one whole digit,
    and the indices of the groups that may hold touching digits.

    The piece model reads every group in one call. A group no wider than
    :data:`SPLIT_ASPECT` digit heights is one digit, and so is a wider one
    that the piece model finds whole with at least :data:`WHOLE_SURE`; any
    other group is cut. ``whole`` also says how much a group looks like a
    digit at all (a letter, a scribble: little); a digit's probability is
    times the ``whole`` of the piece it was read from.
    """
    whole, _ = views_proba(_views([(pages[k], g) for k, g in groups]))
    cut = {
        i
        for i, ((k, g), w) in enumerate(zip(groups, whole, strict=True))
        if g.width > SPLIT_ASPECT * pages[k].height and w < WHOLE_SURE
    }
    return whole, cut


def _read_pieces(model, items, cut_rows, shape):
    """Every piece read in one digit-model call: ``(proba, whole)``.

    ``items`` are ``(page, piece)`` pairs; the pieces at ``cut_rows`` are cut
    from wider groups, so the piece model reads them first (one call):
    ``whole`` holds the probability that each is one whole digit. A cut piece
    below :data:`PLAUSIBLE` cannot be in the chosen cut, so the digit model
    does not read it (its label probabilities are left at 0); the others'
    readings are joined (:func:`joint_reading`).
    """
    whole = np.ones(len(items))
    digits = None
    if cut_rows:
        whole[cut_rows], digits = views_proba(_views([items[r] for r in cut_rows]))
    read = [r for r in range(len(items)) if whole[r] >= PLAUSIBLE]
    features = np.stack([_features(*items[r], shape) for r in read])
    proba = np.zeros((len(items), len(model.classes_)))
    proba[read] = np.asarray(model.predict_proba(features))
    if cut_rows:
        proba[cut_rows] = joint_reading(model.classes_, proba[cut_rows], digits)
    return proba, whole


def _read_groups(model, pages, shape):
    """``(line, group, [(piece, digit probabilities, count probability)])``.

    Groups come line by line, left to right; the pieces of a cut group in the
    order of its cuts, not of their boxes: a cut that runs slantwise under a
    digit can give the piece after it a box that starts further left.
    """
    groups = [
        (k, g)
        for k, page in enumerate(pages)
        for g in sorted(page.groups, key=lambda g: g.cols.start)
    ]
    likeness, cut = _digit_likeness(pages, groups)
    candidates = {i: candidate_pieces(pages[groups[i][0]], groups[i][1]) for i in cut}
    items, rows_of = [], []  # every piece the digit model reads; rows per group
    for i, (k, g) in enumerate(groups):
        parts = list(candidates[i][1].values()) if i in cut else [g]
        rows_of.append(list(range(len(items), len(items) + len(parts))))
        items.extend((pages[k], p) for p in parts)
    cut_rows = [r for i in sorted(cut) for r in rows_of[i]]
    proba, whole = _read_pieces(model, items, cut_rows, shape)
    out = []
    for i, (k, g) in enumerate(groups):
        rows = rows_of[i]
        if i not in cut:
            out.append((k, g, [(g, proba[rows[0]] * likeness[i], 1.0)]))
            continue
        n_seams, pieces = candidates[i]
        chosen, count = choose_cut(n_seams, list(pieces), proba[rows], whole[rows])
        picked = [
            (items[rows[c]][1], proba[rows[c]] * whole[rows[c]], count) for c in chosen
        ]
        out.append((k, g, picked))
    return out


def _digit_read(model, part, proba, count, place, min_confidence):
    """The :class:`DigitRead` of one piece, its box in the image's pixels.

    ``place`` is ``(top, left, scale)``: where the piece's line lies in the
    decoded image, and the image's pixels per decoded pixel.
    """
    top, left, scale = place
    p = count * proba
    order = np.argsort(-p, kind="stable")[:3]
    box = (
        left + part.cols.start,
        top + part.rows.start,
        left + part.cols.stop,
        top + part.rows.stop,
    )
    best = float(p[order[0]])
    return DigitRead(
        label=builtin(model.classes_[order[0]]),
        probability=best,
        top3=[(builtin(model.classes_[i]), float(p[i])) for i in order],
        box=tuple(round(v * scale) for v in box),
        flagged=min_confidence is not None and best < min_confidence,
        count_probability=float(count),
    )


def _assemble(model, pages, read, scale, min_confidence):
    """The :class:`Reading`: a line per page, numbers split at wide gaps."""
    lines = []
    for k, page in enumerate(pages):
        place = (*page.origin, scale)
        numbers, current, right = [], [], None
        for _, group, pieces in (r for r in read if r[0] == k):
            gap = None if right is None else group.cols.start - right
            if gap is not None and gap > NUMBER_GAP * page.height:
                numbers.append(Number(tuple(current)))
                current = []
            current.extend(
                _digit_read(model, part, proba, count, place, min_confidence)
                for part, proba, count in pieces
            )
            right = max(right or 0, group.cols.stop)
        numbers.append(Number(tuple(current)))
        lines.append(Line(tuple(numbers)))
    return Reading(tuple(lines))


@validate_params(
    {
        "model": [HasMethods(["predict_proba"])],
        "image": "no_validation",
        "min_confidence": [Interval(Real, 0, 1, closed="both"), None],
    },
    prefer_skip_nested_validation=True,
)
def read_digits(model, image, *, min_confidence=None):
    """Read handwritten numbers: a postcode, an amount, a page of them.

    The image's lines are found (slanted or drifting lines, digits written
    high or low), each line is segmented into digits (either polarity; uneven
    light, specks, ruled lines and underlines ignored; strokes of one digit
    that are broken apart, such as the bar of a 5, kept together; touching
    digits cut where the models read the pieces best) and split into numbers
    at wide gaps, and each digit goes through the preprocessing of
    :func:`preprocess_image` and ``model`` (one call for the whole page).
    See the user guide's "Reading numbers" for the method.

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
        ``reading.lines`` (each line's ``numbers``, each number's
        ``digits``: label, probability, top-3, box, flagged),
        ``reading.text`` (e.g. ``"326 751\\n4097"``), ``reading.digits``
        (all of them, in reading order) and ``reading.flagged``.

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
    >>> page = np.zeros((100, 200))  # the line, and a number under it
    >>> page[:40, :120] = line
    >>> page[56:96, 40:160] = line
    >>> reading = digitnet.read_digits(clf, page)
    >>> reading.text, [len(line.numbers) for line in reading.lines]
    ('017\\n017', [1, 1])
    """
    shape = check_shape(model)
    gray, scale = load_gray(image, with_scale=True)
    pages = _lines(gray)
    read = _read_groups(model, pages, shape)
    return _assemble(model, pages, read, scale, min_confidence)
