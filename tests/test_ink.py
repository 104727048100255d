"""The ink map: polarity, background, salt-and-pepper noise, the one "blank"
rule, stroke widths, straight runs and printed lines."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from digitnet.exceptions import BlankImageError
from digitnet.images._ink import (
    ink_map,
    ink_mask,
    keep_ink,
    otsu,
    polarity,
    require_ink,
    straight_runs,
    stroke_width,
)

from ._paper import draw_digit


def _page(ink, paper=0.9, pen=0.2, noise=0.02, seed=0):
    rng = np.random.RandomState(seed)
    return np.clip(paper - (paper - pen) * ink + rng.normal(0, noise, ink.shape), 0, 1)


@settings(max_examples=30, deadline=None)
@given(
    digit=st.integers(0, 9),
    width=st.sampled_from([1, 3, 8, 20]),
    paper=st.floats(0.35, 1.0),
    contrast=st.floats(0.25, 0.9),
    dark=st.booleans(),
)
def test_polarity_is_found_for_any_stroke_and_contrast(
    digit, width, paper, contrast, dark
):
    ink = np.pad(draw_digit(digit, size=120, width=width), 20)
    gray = _page(ink, paper=paper, pen=paper - contrast * paper, noise=0.01)
    if not dark:
        gray = 1.0 - gray
    assert polarity(gray)[0] == dark


@pytest.mark.parametrize("dark", [True, False])
def test_polarity_of_a_tight_crop_with_a_bold_marker(dark):
    ink = draw_digit(8, size=60, width=14)
    rows, cols = np.flatnonzero(ink.max(1) > 0.5), np.flatnonzero(ink.max(0) > 0.5)
    gray = _page(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    assert polarity(gray if dark else 1 - gray)[0] == dark


def test_a_shadow_over_the_border_does_not_flip_polarity():
    ink = np.pad(draw_digit(5, size=160, width=6), 40)
    gray = _page(ink)
    yy, xx = np.mgrid[: gray.shape[0], : gray.shape[1]]
    shadowed = gray * np.where(xx + 0.5 * yy > 0.6 * gray.shape[1], 0.4, 1.0)
    assert polarity(shadowed)[0]


def test_the_ink_map_is_bright_ink_scaled_to_one_on_a_flat_background():
    ink = np.pad(draw_digit(3, size=100, width=8), 30)
    yy = np.linspace(0.5, 1.0, ink.shape[0])[:, None]  # light falling off
    out = ink_map(_page(ink) * yy)
    assert out.max() == pytest.approx(1.0)
    assert np.median(out[ink > 0.9]) > 0.8
    assert np.percentile(out[ink == 0], 99) < 0.3


@pytest.mark.parametrize(
    "gray",
    [
        np.full((60, 60), 0.7),
        np.random.RandomState(0).normal(0.6, 0.01, (80, 80)),
    ],
)
def test_images_without_ink_are_refused_as_blank(gray):
    with pytest.raises(BlankImageError, match="no visible ink"):
        ink_map(np.clip(gray, 0, 1))


def test_salt_and_pepper_noise_is_filtered_and_the_digit_kept():
    rng = np.random.RandomState(0)
    ink = np.pad(draw_digit(4, size=120, width=8), 30)
    gray = _page(ink)
    noisy = gray.copy()
    salt = rng.rand(*gray.shape) < 0.03
    noisy[salt] = rng.randint(0, 2, salt.sum())
    mask = ink_mask(ink_map(noisy))
    truth = ink > 0.5
    assert (mask & truth).sum() > 0.8 * truth.sum()
    assert (mask & ~truth).sum() < 0.02 * truth.sum()


def test_pure_salt_and_pepper_is_blank():
    rng = np.random.RandomState(1)
    gray = np.full((100, 100), 0.9)
    gray[rng.rand(100, 100) < 0.05] = 0.0
    with pytest.raises(BlankImageError):
        ink_map(gray)


@pytest.mark.parametrize("width", [2, 4, 8, 16, 30])
def test_stroke_width_measures_drawn_strokes(width):
    mask = draw_digit(7, size=300, width=width) > 0.5
    assert stroke_width(mask) == pytest.approx(width, rel=0.3, abs=1.0)


def test_stroke_width_of_a_big_mask_is_measured_pooled_within_the_step():
    mask = draw_digit(0, size=1600, width=40) > 0.5
    assert stroke_width(mask) == pytest.approx(40, rel=0.25)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    shape=st.tuples(st.integers(1, 20), st.integers(1, 40)),
    length=st.integers(1, 12),
    density=st.floats(0.2, 0.95),
)
def test_straight_runs_is_the_opening_by_a_horizontal_line(
    seed, shape, length, density
):
    mask = np.random.RandomState(seed).rand(*shape) < density
    expected = ndimage.binary_opening(
        np.pad(mask, ((0, 0), (length, length))), structure=np.ones((1, length))
    )[:, length:-length]
    np.testing.assert_array_equal(straight_runs(mask, length), expected)


def test_keep_ink_keeps_the_edges_under_a_widened_mask():
    ink = np.zeros((9, 9))
    ink[2:7, 2:7] = 0.5
    ink[4, 4] = 1.0
    kept = keep_ink(ink, ink == 1.0, widen=2)
    assert kept[4, 2] == kept[2, 4] == 0.5  # two pixels away: an edge
    assert kept[2, 2] == 0.0  # beyond the widened mask
    assert kept[0, 0] == 0.0
    assert (keep_ink(ink, ink == 1.0, widen=0) > 0).sum() == 1


def test_require_ink_names_what_is_missing():
    empty = np.zeros((4, 4), bool)
    with pytest.raises(BlankImageError, match="no visible ink"):
        require_ink(empty)
    with pytest.raises(BlankImageError, match="no digit-sized ink"):
        require_ink(empty, "digit-sized ink")
    full = np.ones((4, 4), bool)
    assert require_ink(full) is full


def test_otsu_splits_two_levels():
    values = np.r_[np.full(500, 0.1), np.full(50, 0.8)]
    assert 0.1 < otsu(values) < 0.8
