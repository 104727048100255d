"""The piece model: its input view, its labels and the bundled model."""

import numpy as np
import pytest

from digitnet.reading._pieces import (
    LINE_HEIGHT,
    NOT_A_DIGIT,
    PIECE_MODEL_PATH,
    SIDE,
    bundled_piece_model,
    fit_piece_model,
    make_piece_data,
    matching_box,
    piece_label,
    piece_proba,
    piece_view,
    whole_probability,
)
from digitnet.reading._segment import Group, Page


def _page_with_bars(height=40):
    """A page of two 40-px-tall bars, 6 and 24 px wide, far apart."""
    ink = np.zeros((80, 200))
    ink[20:60, 40:46] = 1.0
    ink[20:60, 120:144] = 1.0
    groups = [
        Group(slice(20, 60), slice(40, 46), np.ones((40, 6), dtype=bool)),
        Group(slice(20, 60), slice(120, 144), np.ones((40, 24), dtype=bool)),
    ]
    return Page(ink, float(height), 6.0, groups)


def test_piece_view_keeps_the_line_scale():
    page = _page_with_bars()
    narrow, wide = (piece_view(page, g) for g in page.groups)
    assert narrow.shape == wide.shape == (2, SIDE, SIDE)

    def width(view):
        return int((view[0] > 0.5).any(axis=0).sum())

    def height(view):
        return int((view[0] > 0.5).any(axis=1).sum())

    # A digit height is drawn LINE_HEIGHT px tall, widths in proportion.
    assert height(narrow) == pytest.approx(LINE_HEIGHT, abs=1)
    assert width(wide) == pytest.approx(4 * width(narrow), abs=2)


def test_piece_view_shows_the_ink_around_the_piece_only_in_channel_1():
    page = _page_with_bars()
    page.ink[20:60, 47:52] = 1.0  # ink beside the narrow bar, not in its piece
    view = piece_view(page, page.groups[0])
    right = slice(SIDE // 2 + 2, SIDE)
    assert view[0][:, right].max() < 0.1
    assert view[1][:, right].max() > 0.5


def _piece(start, stop):
    return Group(slice(0, 40), slice(start, stop), np.ones((40, stop - start)))


def test_matching_box_matches_a_true_box_and_no_other():
    boxes = [(10, 0, 40, 40), (38, 0, 60, 40)]
    assert matching_box(_piece(11, 39), boxes, 40.0) == 0
    assert matching_box(_piece(39, 60), boxes, 40.0) == 1
    assert matching_box(_piece(10, 25), boxes, 40.0) == -1  # half a digit
    assert matching_box(_piece(10, 60), boxes, 40.0) == -1  # both digits


def test_piece_label_is_the_matching_digit_or_not_a_digit():
    boxes = [(10, 0, 40, 40), (38, 0, 60, 40)]
    assert piece_label(_piece(11, 39), boxes, "47", 40.0) == 4
    assert piece_label(_piece(39, 60), boxes, "47", 40.0) == 7
    assert piece_label(_piece(10, 60), boxes, "47", 40.0) == NOT_A_DIGIT


@pytest.fixture(scope="module")
def held_out_pieces(mnist_data):
    """Candidate pieces of numbers composed from MNIST's test digits."""
    _, _, X_test, y_test = mnist_data
    return make_piece_data(
        X_test.reshape(-1, 28, 28), y_test, n_numbers=60, random_state=11
    )


def test_the_bundled_piece_model_tells_whole_digits_from_parts(held_out_pieces):
    assert PIECE_MODEL_PATH.is_file()
    X, y = held_out_pieces
    assert X.shape[1:] == (2, SIDE, SIDE)
    whole = y != NOT_A_DIGIT
    assert 0.05 < whole.mean() < 0.5  # both kinds of piece (about 11% whole)
    assert set(y[whole]) == set(range(10))  # whole pieces are labelled by digit
    model = bundled_piece_model()
    assert model is bundled_piece_model()  # loaded once
    predicted = model.predict(X)
    # On 200 numbers per condition (scripts/train_piece_model.py): 97.0% told
    # whole or not, 86.0% of the whole pieces read right.
    assert np.mean((predicted != NOT_A_DIGIT) == whole) >= 0.9
    assert np.mean(predicted[whole] == y[whole]) >= 0.8


def test_piece_proba_reads_the_digit_of_a_whole_piece(mnist_data):
    from digitnet.datasets import make_numbers
    from digitnet.reading._segment import segment

    _, _, X_test, y_test = mnist_data
    singles, texts, _ = make_numbers(
        X_test.reshape(-1, 28, 28), y_test, n_numbers=40, n_digits=1, random_state=1
    )
    right = []
    for image, text in zip(singles, texts, strict=True):
        page = segment(image.astype(float) / 255)
        whole, digits = piece_proba(page, page.groups)
        assert whole.shape == (len(page.groups),)
        assert digits.shape == (len(page.groups), 10)
        np.testing.assert_allclose(digits.sum(axis=1), 1.0)
        right.append(int(digits[0].argmax()) == int(text))
    assert np.mean(right) >= 0.9


def test_whole_probability_is_high_for_a_digit_and_low_for_two(mnist_data):
    from digitnet.datasets import make_numbers
    from digitnet.reading._segment import segment

    _, _, X_test, y_test = mnist_data
    images = X_test.reshape(-1, 28, 28)
    keep = np.isin(y_test, [0, 2, 3, 6, 8])  # wide digits: two never look like one
    singles, _, _ = make_numbers(
        images[keep], y_test[keep], n_numbers=20, n_digits=1, random_state=0
    )
    pairs, _, _ = make_numbers(
        images[keep],
        y_test[keep],
        n_numbers=20,
        n_digits=2,
        gap=(-0.05, 0.0),
        random_state=0,
    )

    def first_group_probability(image):
        page = segment(image.astype(float) / 255)
        widest = max(page.groups, key=lambda g: g.width)
        return whole_probability(page, [widest])[0]

    assert np.median([first_group_probability(i) for i in singles]) > 0.9
    assert np.median([first_group_probability(i) for i in pairs]) < 0.1


def test_fit_piece_model_learns_from_make_piece_data(held_out_pieces):
    X, y = held_out_pieces
    model = fit_piece_model(X, y, max_iter=1, verbose=0)
    assert list(model.classes_) == [*range(10), NOT_A_DIGIT]
    assert model.input_shape_ == (2, SIDE, SIDE)
    majority = np.bincount(y).max() / len(y)
    assert model.score(X, y) > majority
