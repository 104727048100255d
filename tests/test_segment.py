"""Segmentation of a line of digits, on generated images."""

import numpy as np
import pytest

from digitnet.exceptions import BlankImageError
from digitnet.reading._segment import (
    Group,
    Page,
    candidate_pieces,
    cut_seams,
    remove_lines,
    segment,
)


def _bar(image, rows, cols):
    image[rows[0] : rows[1], cols[0] : cols[1]] = 1.0


def _two_ones(gap=20):
    """Two vertical strokes 40 px tall: two digit-sized groups."""
    image = np.zeros((80, 100 + gap))
    _bar(image, (20, 60), (40, 46))
    _bar(image, (20, 60), (46 + gap, 52 + gap))
    return image


def test_separate_strokes_are_separate_groups():
    page = segment(_two_ones())
    assert len(page.groups) == 2
    assert page.height == pytest.approx(40, abs=2)
    assert [g.cols.start for g in page.groups] == sorted(
        g.cols.start for g in page.groups
    )


def test_a_ruled_line_through_the_digits_is_removed():
    image = _two_ones()
    _bar(image, (58, 61), (0, image.shape[1]))  # a line across, touching both
    page = segment(image)
    assert len(page.groups) == 2
    assert all(g.width < 15 for g in page.groups)


def test_remove_lines_keeps_short_and_thick_strokes():
    mask = np.zeros((60, 200), dtype=bool)
    mask[30:33, :] = True  # a long thin line
    mask[10:50, 20:26] = True  # a stroke
    mask[10:14, 60:90] = True  # a bar shorter than 1.5 digit heights
    out = remove_lines(mask, height=40, stroke=4)
    assert not out[31, 150]
    assert out[10:29, 22].all()  # the stroke stays, cut only where the line was
    assert out[34:50, 22].all()
    assert out[10:14, 60:90].all()


def test_a_detached_bar_joins_its_digit_and_specks_are_dropped():
    image = np.zeros((80, 120))
    _bar(image, (25, 65), (40, 46))  # body
    _bar(image, (18, 22), (44, 70))  # bar above, apart, overlapping little
    _bar(image, (5, 7), (110, 112))  # a speck far away
    page = segment(image)
    assert len(page.groups) == 1
    assert page.groups[0].rows.start == 18


def _three_bars_joined():
    """Three 40-px strokes joined by a thin horizontal line: one group."""
    mask = np.zeros((40, 80), dtype=bool)
    mask[:, 5:11] = mask[:, 35:41] = mask[:, 65:71] = True
    mask[20:22, :] = True
    return Group(slice(0, 40), slice(0, 80), mask)


def test_seams_cut_touching_digits_through_their_thin_join():
    group = _three_bars_joined()
    seams, crossed = cut_seams(group, stroke=6)
    assert seams.shape[1] == group.height
    between = [
        k
        for k, seam in enumerate(seams)
        if (seam > 10).all() and (seam < 35).all() and crossed[k] == 2
    ]
    assert between  # a cut crossing only the 2-px join between bars 1 and 2
    assert (np.diff(seams, axis=1) ** 2 <= 1).all()  # one column per row at most
    assert (np.diff(seams[:, 0]) >= 0).all()  # left to right


def test_a_seam_passes_between_digits_that_overlap_in_columns():
    mask = np.zeros((40, 60), dtype=bool)
    for r in range(40):  # two parallel slanted strokes whose columns overlap
        mask[r, 10 + r // 4 : 14 + r // 4] = True
        mask[r, 20 + r // 4 : 24 + r // 4] = True
    group = Group(slice(0, 40), slice(0, 60), mask)
    seams, crossed = cut_seams(group, stroke=4)
    first = [group.between(np.full(40, -1), s) for s in seams[crossed == 0]]
    # No straight cut separates them (columns 20-23 hold both); a seam does.
    assert any(p is not None and p.mask.sum() == 40 * 4 for p in first)


def test_a_cut_parts_a_thin_one_pressed_against_its_neighbour():
    # A "3" of three bars whose back touches a thin "1" on its whole height:
    # every least-ink path near the 1 drifts round it into the empty columns
    # beyond, so only a straight cut leaves the 1 alone.
    mask = np.zeros((40, 60), dtype=bool)
    mask[0:4, 5:29] = mask[18:22, 5:29] = mask[36:40, 5:29] = True  # the 3
    mask[:, 25:29] = True  # its back
    mask[:, 29:33] = True  # the 1, pressed against it
    group = Group(slice(0, 40), slice(0, 60), mask)
    page = Page(np.zeros((40, 60)), height=40.0, stroke=4.0, groups=[group])
    _, pieces = candidate_pieces(page, group)
    spans = {(p.cols.start, p.cols.stop) for p in pieces.values()}
    assert (29, 33) in spans  # the 1 alone
    assert any(start == 5 and 27 <= stop <= 29 for start, stop in spans)  # the 3


def _holds_only(piece, bar, bars):
    """Whether ``piece`` holds all of ``bar``'s columns and none of the others."""
    left = piece.cols.start
    inside = [range(max(c0, left), min(c1, piece.cols.stop)) for c0, c1 in bars]
    full = left <= bar[0] and bar[1] <= piece.cols.stop
    full = full and all(piece.mask[:, c - left].all() for c in range(*bar))
    return full and all(
        len(r) == 0 for r, b in zip(inside, bars, strict=True) if b != bar
    )


def test_candidate_pieces_hold_each_digit_alone():
    group = _three_bars_joined()  # two digit heights wide
    page = Page(np.zeros((40, 80)), height=40.0, stroke=6.0, groups=[group])
    n_seams, pieces = candidate_pieces(page, group)
    bars = [(5, 11), (35, 41), (65, 71)]
    for bar in bars:
        assert any(_holds_only(p, bar, bars) for p in pieces.values())
    assert all(p.width <= 1.6 * 40 for p in pieces.values())
    assert (0, n_seams - 1) not in pieces  # too wide to be one digit
    narrow = Group(slice(0, 40), slice(0, 46), group.mask[:, :46])
    n_seams, pieces = candidate_pieces(page, narrow)
    assert pieces[(0, n_seams - 1)] is narrow  # may be one digit


def test_blank_images_raise():
    with pytest.raises(BlankImageError):
        segment(np.zeros((50, 50)))
