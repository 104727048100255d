"""Segmentation of a line of digits, on generated images."""

import numpy as np
import pytest

from digitnet._segment import Group, cut_options, remove_lines, segment
from digitnet.exceptions import BlankImageError


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


def test_a_wide_group_is_offered_cuts_between_touching_digits():
    mask = np.zeros((40, 80), dtype=bool)
    mask[:, 5:11] = mask[:, 35:41] = mask[:, 65:71] = True
    mask[20:22, :] = True  # touching through a thin join
    group = Group(slice(0, 40), slice(0, 80), mask)
    options = cut_options(group, height=40)
    assert options[0] == []  # uncut is always an option
    assert any(len(o) == 2 and 12 <= o[0] <= 34 and 42 <= o[1] <= 64 for o in options)
    narrow = Group(slice(0, 40), slice(0, 30), mask[:, :30])
    assert cut_options(narrow, height=40) == [[]]


def test_blank_images_raise():
    with pytest.raises(BlankImageError):
        segment(np.zeros((50, 50)))
