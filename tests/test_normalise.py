"""From one digit's ink to model input: the digit picked out of what else is
in the crop, strokes brought towards MNIST's width, MNIST's framing."""

import numpy as np
import pytest
from scipy import ndimage

from digitnet.images._ink import stroke_width
from digitnet.images._normalise import (
    STROKE_FRACTION,
    WORK_SIDE,
    at_work_scale,
    check_shape,
    crop_to_features,
    digit_crop,
    normalise_stroke,
    square_side,
    to_mnist,
)

from ._paper import draw_digit


def _tight(ink):
    rows, cols = np.flatnonzero(ink.max(1) > 0.5), np.flatnonzero(ink.max(0) > 0.5)
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def test_the_digit_is_cropped_to_its_ink():
    ink = np.pad(_tight(draw_digit(2, size=100, width=6)), ((10, 30), (25, 5)))
    digit, mask = digit_crop(ink)
    assert mask.shape == digit.shape == _tight(ink).shape
    assert mask[0].any()
    assert mask[-1].any()
    assert mask[:, 0].any()
    assert mask[:, -1].any()


def test_a_slice_of_a_neighbour_at_the_border_is_set_aside():
    seven = _tight(draw_digit(7, size=100, width=6))
    crop = np.pad(seven, ((5, 5), (30, 5)))
    crop[10:-10, 0:4] = 1.0  # the right edge of a neighbour's stroke, cut in
    digit, _ = digit_crop(crop)
    assert digit.shape == seven.shape


def test_a_five_keeps_its_detached_bar():
    five = draw_digit(5, size=100, width=6)
    five[:, 33:40] = 0  # the bar's stroke broken off the body
    _, mask = digit_crop(five)
    assert mask[:, : mask.shape[1] // 2].any()
    assert ndimage.label(mask, structure=np.ones((3, 3)))[1] >= 2


def test_specks_away_from_the_digit_are_set_aside():
    ink = np.pad(draw_digit(1, size=100, width=6), 20)
    ink[3:5, 3:5] = 1.0
    ink[-6:-4, -8:-6] = 1.0
    digit, _ = digit_crop(ink)
    assert digit.shape == _tight(draw_digit(1, size=100, width=6)).shape


@pytest.mark.parametrize(
    ("width", "changed"), [(2, True), (24, False), (36, False), (60, True)]
)
def test_strokes_far_from_mnist_width_are_brought_to_it(width, changed):
    digit = _tight(draw_digit(3, size=WORK_SIDE * 3, width=width))
    digit, mask, resolved = at_work_scale(digit, digit > 0.5)
    assert max(digit.shape) == WORK_SIDE
    assert resolved
    out = normalise_stroke(digit, mask, resolved)
    assert (out is not digit) == changed
    if changed:
        target = STROKE_FRACTION * WORK_SIDE
        assert stroke_width(out > 0.5) == pytest.approx(target, rel=0.5)


def test_a_small_blurred_capture_is_not_thinned():
    digit = _tight(draw_digit(3, size=40, width=8))  # wide only because small
    digit, mask, resolved = at_work_scale(digit, digit > 0.5)
    assert not resolved
    assert normalise_stroke(digit, mask, resolved) is digit


def test_to_mnist_fits_a_20_pixel_box_centred_by_mass():
    digit = _tight(draw_digit(0, size=200, width=12))
    out = to_mnist(digit, digit > 0.5)
    assert out.shape == (28, 28)
    assert out.max() == pytest.approx(255.0)
    rows, cols = np.flatnonzero(out.max(1) > 30), np.flatnonzero(out.max(0) > 30)
    assert 18 <= rows[-1] - rows[0] + 1 <= 22
    assert cols[-1] - cols[0] + 1 <= 22
    cy, cx = ndimage.center_of_mass(out)
    assert abs(cy - 14) < 1.5
    assert abs(cx - 14) < 1.5


def test_eight_by_eight_features_are_block_sums():
    digit = _tight(draw_digit(4, size=100, width=8))
    row = crop_to_features(digit, digit > 0.5, (1, 8, 8))
    assert row.shape == (64,)
    assert row.max() <= 16
    assert row.min() >= 0
    assert np.allclose(row, np.round(row))


@pytest.mark.parametrize(
    ("shape", "match"),
    [((3, 28, 28), "not square grayscale"), ((1, 28, 20), "not square grayscale")],
)
def test_models_without_square_grayscale_inputs_cannot_read_images(shape, match):
    with pytest.raises(ValueError, match=match):
        square_side(shape)


@pytest.mark.parametrize("bad", [(28, 28), "28", None, (1, "a", 2)])
def test_check_shape_names_what_it_needs(bad):
    with pytest.raises(ValueError, match="input_shape must be"):
        check_shape(bad)
