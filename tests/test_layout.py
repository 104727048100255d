"""Page layout: lines of handwriting found on generated pages."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from digitnet.reading._layout import find_lines

H = 30  # digit height in the drawn pages
STROKE = 4


def _ring(page, top, left, height=H, width=20):
    """A digit-like ring (a 0) with its top-left corner at (top, left)."""
    page[top : top + height, left : left + width] = 1.0
    page[
        top + STROKE : top + height - STROKE, left + STROKE : left + width - STROKE
    ] = 0.0


def _page(lines, shape=(400, 900)):
    """``lines``: per line, the (top, left) of each ring. Returns mask and ink."""
    page = np.zeros(shape)
    for line in lines:
        for top, left in line:
            _ring(page, top, left)
    return page, page > 0.5


def _members(found, lines):
    """For each line found, the indices of the drawn lines whose rings it holds."""
    out = []
    for line in found:
        top, left = line.origin
        held = set()
        for k, rings in enumerate(lines):
            for r_top, r_left in rings:
                y, x = r_top + 1 - top, r_left + 1 - left  # a pixel of the ring
                inside = 0 <= y < line.mask.shape[0] and 0 <= x < line.mask.shape[1]
                if inside and line.mask[y, x]:
                    held.add(k)
        out.append(held)
    return out


def _slanted(top, lefts, slope):
    return [(round(top + slope * left), left) for left in lefts]


def test_slanted_lines_are_found_top_to_bottom():
    lefts = [40, 70, 100, 130, 240, 270]  # two numbers on each line
    lines = [_slanted(top, lefts, 0.06) for top in (40, 95, 150, 205)]
    ink, mask = _page(lines)
    found = find_lines(ink, mask, H)
    assert _members(found, lines) == [{0}, {1}, {2}, {3}]
    alone = np.zeros((H, 20))
    _ring(alone, 0, 0)
    ring = alone.sum()
    assert [line.mask.sum() for line in found] == [6 * ring] * 4


def test_a_digit_written_high_and_a_far_number_stay_on_their_line():
    lines = [
        [(60, 40), (50, 70), (60, 100), (60, 400), (62, 430)],  # 2nd high; far gap
        [(120, 40), (120, 70), (130, 100)],  # last one low
    ]
    ink, mask = _page(lines)
    assert _members(find_lines(ink, mask, H), lines) == [{0}, {1}]


def test_a_detached_bar_joins_its_digit_and_far_specks_are_dropped():
    ink, mask = _page([[(60, 40), (60, 70)]])
    ink[50:53, 72:88] = 1.0  # the bar of a 5, above the second digit
    ink[300:303, 600:603] = 1.0  # a speck far from any line
    mask = ink > 0.5
    (line,) = find_lines(ink, mask, H)
    top, left = line.origin
    assert line.mask[51 - top, 80 - left]
    assert line.mask.sum() == mask[:200].sum()


def test_digits_of_two_lines_that_touch_are_cut_apart():
    lines = [[(40, 40), (40, 70), (40, 100)], [(72, 40), (72, 70), (72, 100)]]
    ink, mask = _page(lines)
    ink[68:74, 75:80] = 1.0  # a stroke runs from a digit into the one below
    mask = ink > 0.5
    found = find_lines(ink, mask, H)
    assert len(found) == 2
    assert _members(found, lines) == [{0}, {1}]


def test_a_page_of_small_marks_only_is_one_line():
    ink = np.zeros((60, 60))
    ink[10:13, 10:13] = ink[40:43, 30:33] = 1.0
    (line,) = find_lines(ink, ink > 0.5, H)
    assert line.origin == (0, 0)
    assert line.mask.sum() == 18


@settings(max_examples=40, deadline=None)
@given(
    n_lines=st.integers(1, 5),
    spacing=st.floats(1.5, 2.5),
    slope=st.floats(-0.05, 0.05),
    digits=st.lists(st.integers(2, 7), min_size=5, max_size=5),
    gaps=st.lists(st.floats(0.1, 4.0), min_size=35, max_size=35),
)
def test_generated_pages_have_their_lines_found(n_lines, spacing, slope, digits, gaps):
    lines, g = [], iter(gaps)
    for k in range(n_lines):
        top, left, rings = 20 + round(k * spacing * H), 20, []
        for _ in range(digits[k]):
            rings.append((round(top + slope * left) + 30, left))
            left += 20 + round(next(g) * H)
        lines.append(rings)
    width = max(r[-1][1] for r in lines) + 60
    ink, mask = _page(lines, shape=(n_lines * 3 * H + 120, width))
    found = find_lines(ink, mask, H)
    assert _members(found, lines) == [{k} for k in range(n_lines)]


def test_each_line_crop_holds_its_ink_and_no_other_lines():
    lines = [[(30, 30), (30, 60)], [(80, 30)]]
    ink, mask = _page(lines)
    for line in find_lines(ink, mask, H):
        top, left = line.origin
        window = ink[top : top + line.mask.shape[0], left : left + line.mask.shape[1]]
        np.testing.assert_array_equal(line.ink[line.mask], window[line.mask])
        assert line.ink[~line.mask].max() == 0  # nothing of the other line
