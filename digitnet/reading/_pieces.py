"""The piece model: is a piece of a line of ink one whole digit, and which?

A digit model reads nearly anything confidently: half of a 0 as a 1, a 6
touching a 1 as a 4. So when :mod:`digitnet._reading` chooses where to cut
touching digits, the digit model's probabilities alone cannot tell a whole
digit from a fragment or a pair. The piece model can: a small CNN
(:class:`DigitClassifier`, the ``"fast"`` preset) that sees each candidate
piece at the line's scale, with the ink around it, and answers the digit
(0-9) when the piece is one whole digit, :data:`NOT_A_DIGIT` when it is part
of a digit, or several. Having learnt from cut pieces, it also reads a digit
whose edge a cut clipped, or that still carries a bit of its neighbour,
better than a digit model that never saw one.

It is trained by :func:`fit_piece_model` on numbers composed from MNIST's
training digits by :func:`~digitnet.datasets.make_numbers`, with the
candidate pieces of :mod:`digitnet._segment` labelled against the true
digit boxes, and ships with the package (``_data/piece_model.dnet``)::

    python scripts/train_piece_model.py
"""

import functools
from pathlib import Path

import numpy as np

from ..images._decode import load_gray, pil
from ..images._ink import keep_ink
from ._segment import SPLIT_ASPECT, candidate_pieces, segment

#: The bundled piece model.
PIECE_MODEL_PATH = Path(__file__).parents[1] / "_data" / "piece_model.dnet"
#: Side of the piece model's square input, per channel.
SIDE = 28
#: Height, in input pixels, that one line's digit height is drawn at.
LINE_HEIGHT = 16
#: The piece model's class for a piece that is not one whole digit.
NOT_A_DIGIT = 10
#: A candidate piece is one whole digit when both of its edges lie within
#: this many digit heights (plus one pixel) of a true digit box's edges.
EDGE_TOLERANCE = 0.1
#: Conditions of the composed training numbers: touching, and mixed.
TRAINING_CONDITIONS = (
    {"gap": (-0.1, 0.0)},
    {
        "gap": (-0.1, 0.4),
        "jitter": 0.1,
        "scale": (0.8, 1.2),
        "invert": 0.5,
        "noise": 0.05,
        "ruled_line": 0.5,
    },
)


def piece_view(page, piece):
    """The piece model's input: two channels of shape ``(SIDE, SIDE)``.

    A window centred on ``piece``, scaled so that the line's digit height is
    :data:`LINE_HEIGHT` pixels (a fragment stays narrow, a pair stays wide):
    channel 0 holds the piece's own ink, channel 1 all the ink in the window
    (so the model sees whether the piece goes on past its cut).
    """
    own = np.zeros(page.ink.shape, dtype=np.float32)  # widened within its box
    own[piece.rows, piece.cols] = keep_ink(page.ink[piece.rows, piece.cols], piece.mask)
    side = round(SIDE * page.height / LINE_HEIGHT)
    top = round((piece.rows.start + piece.rows.stop - side) / 2)
    left = round((piece.cols.start + piece.cols.stop - side) / 2)
    views = np.zeros((2, side, side), dtype=np.float32)
    rows = slice(max(0, top), min(page.ink.shape[0], top + side))
    cols = slice(max(0, left), min(page.ink.shape[1], left + side))
    window = page.ink[rows, cols]
    inside = (
        slice(rows.start - top, rows.stop - top),
        slice(cols.start - left, cols.stop - left),
    )
    views[0][inside] = own[rows, cols]
    views[1][inside] = window
    Image, _ = pil()
    out = np.stack(
        [
            np.asarray(
                Image.fromarray(v).resize((SIDE, SIDE), Image.Resampling.BILINEAR)
            )
            for v in views
        ]
    )
    peak = out.max()
    return out / peak if peak > 0 else out


def matching_box(piece, boxes, height):
    """Index of the true box that ``piece`` is, or -1.

    The piece is box ``k`` when both of its edges lie within
    :data:`EDGE_TOLERANCE` digit heights (plus one pixel) of the box's, and
    it covers less than 30% of any other box.
    """
    start, stop = piece.cols.start, piece.cols.stop
    tolerance = EDGE_TOLERANCE * height + 1
    for k, box in enumerate(boxes):
        if abs(start - box[0]) <= tolerance and abs(stop - box[2]) <= tolerance:
            covered = [
                max(0, min(stop, b[2]) - max(start, b[0])) / max(1, b[2] - b[0])
                for j, b in enumerate(boxes)
                if j != k
            ]
            return k if max(covered, default=0.0) < 0.3 else -1
    return -1


def piece_label(piece, boxes, text, height):
    """The piece model's target: the digit ``piece`` is, or :data:`NOT_A_DIGIT`."""
    k = matching_box(piece, boxes, height)
    return int(text[k]) if k >= 0 else NOT_A_DIGIT


def page_pieces(page):
    """Every candidate piece of a page: narrow groups whole, wide ones cut."""
    pieces = []
    for group in page.groups:
        if group.width <= SPLIT_ASPECT * page.height:
            pieces.append(group)
        else:
            pieces.extend(candidate_pieces(page, group)[1].values())
    return pieces


def make_piece_data(images, labels, *, n_numbers, random_state=0):
    """Piece-model training data from single digits: ``(X, y)``.

    ``X`` has shape ``(n_pieces, 2, SIDE, SIDE)``; ``y`` is the digit of a
    whole-digit piece, :data:`NOT_A_DIGIT` for any other. ``n_numbers``
    numbers of 2-6 digits are composed under each of
    :data:`TRAINING_CONDITIONS`.
    """
    from ..datasets import make_numbers

    X, y = [], []
    for k, conditions in enumerate(TRAINING_CONDITIONS):
        numbers, texts, boxes = make_numbers(
            images,
            labels,
            n_numbers=n_numbers,
            n_digits=(2, 6),
            random_state=random_state + k,
            **conditions,
        )
        for number, text, true_boxes in zip(numbers, texts, boxes, strict=True):
            page = segment(load_gray(number))
            for piece in page_pieces(page):
                X.append(piece_view(page, piece))
                y.append(piece_label(piece, true_boxes, text, page.height))
    return np.stack(X), np.asarray(y)


def fit_piece_model(X, y, **params):
    """A piece model fitted on :func:`make_piece_data`'s ``(X, y)``.

    The ``"fast"`` preset for 5 epochs, with dropout 0.2 in the dense head
    (the pieces of one number are much alike; without it a model that only
    told whole digits from the rest fitted them by heart: 98.9% on its
    training pieces, 96.0% on held-out ones);
    ``params`` override these parameters.
    """
    from .._classifier import DigitClassifier
    from .._presets import PRESETS

    params = {
        **PRESETS["fast"],
        "max_iter": 5,
        "dropout": 0.2,
        "random_state": 0,
        **params,
    }
    return DigitClassifier(**params).fit(X, y)


@functools.cache
def bundled_piece_model():
    """The piece model that ships with the package (loaded once)."""
    from .._persistence import load

    return load(PIECE_MODEL_PATH)


def piece_views(page, pieces):
    """The piece model's inputs for ``pieces`` of ``page``, stacked."""
    return np.stack([piece_view(page, p) for p in pieces])


def views_proba(views, model=None):
    """The piece model's reading of stacked views: ``(whole, digits)``.

    ``whole[i]`` is the probability that piece ``i`` is one whole digit;
    ``digits[i, d]`` the probability that it is digit ``d`` (0-9), if it is
    one.
    """
    model = bundled_piece_model() if model is None else model
    proba = np.asarray(model.predict_proba(views))
    classes = list(model.classes_)
    whole = 1.0 - proba[:, classes.index(NOT_A_DIGIT)]
    digits = proba[:, [classes.index(d) for d in range(NOT_A_DIGIT)]]
    return whole, digits / np.maximum(digits.sum(axis=1, keepdims=True), 1e-12)


def piece_proba(page, pieces, model=None):
    """The piece model's reading of ``pieces`` of ``page`` (:func:`views_proba`)."""
    return views_proba(piece_views(page, pieces), model)


def whole_probability(page, pieces, model=None):
    """For each piece, the probability that it is one whole digit."""
    return piece_proba(page, pieces, model)[0]
