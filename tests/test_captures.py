"""The capture generator: every condition renders decodable, labelled files
that change what the condition names, reproducibly."""

import io

import numpy as np
import pytest
from PIL import Image

from digitnet.datasets import CAPTURE_CONDITIONS, load_digits, make_captures
from digitnet.datasets._captures import HARD_CONDITIONS


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:12].reshape(-1, 8, 8), y[:12]


def _open(data):
    return Image.open(io.BytesIO(data))


def _grey(data):
    return np.asarray(_open(data).convert("L"), dtype=float) / 255


@pytest.mark.parametrize("condition", list(CAPTURE_CONDITIONS))
def test_every_condition_renders_labelled_image_files(digits, condition):
    X, y = digits
    captures, labels = make_captures(X, y, condition, n_captures=5)
    np.testing.assert_array_equal(labels, y[:5])
    assert len(captures) == 5
    for data in captures:
        with _open(data) as img:
            img.load()  # a complete, decodable file
            assert min(img.size) >= 8


def test_the_same_seed_gives_the_same_files_whatever_the_count(digits):
    X, y = digits
    three, _ = make_captures(X, y, "rotated", n_captures=3, random_state=7)
    five, _ = make_captures(X, y, "rotated", n_captures=5, random_state=7)
    other, _ = make_captures(X, y, "rotated", n_captures=3, random_state=8)
    assert three == five[:3]
    assert three != other


@pytest.mark.parametrize("side", [8, 12, 16, 20, 28, 64, 256])
def test_sizes_are_square_crops_of_that_many_pixels(digits, side):
    X, y = digits
    captures, _ = make_captures(X, y, f"size-{side}", n_captures=2)
    for data in captures:
        assert _open(data).size == (side, side)


def test_formats_are_what_the_condition_names(digits):
    X, y = digits
    modes = {
        "16-bit": ("PNG", ("I;16", "I")),
        "transparent": ("PNG", ("RGBA",)),
        "paper-shadow-jpeg": ("JPEG", ("L",)),
        "jpeg-low": ("JPEG", ("L",)),
        "clean": ("PNG", ("L",)),
    }
    for condition, (fmt, allowed) in modes.items():
        img = _open(make_captures(X, y, condition, n_captures=1)[0][0])
        assert img.format == fmt, condition
        assert img.mode in allowed, condition


def test_binary_and_polarity_conditions_change_the_grey_levels(digits):
    X, y = digits
    binary = _grey(make_captures(X, y, "binary", n_captures=1)[0][0])
    assert set(np.unique(np.round(binary * 255))) <= {0.0, 237.0}  # pen, paper
    light = _grey(make_captures(X, y, "light-ink", n_captures=1)[0][0])
    dark = _grey(make_captures(X, y, "clean", n_captures=1)[0][0])
    border = lambda g: np.median(np.r_[g[0], g[-1], g[:, 0], g[:, -1]])  # noqa: E731
    assert border(light) < 0.2 < 0.8 < border(dark)


def test_margins_zero_touch_the_frame_and_wide_ones_do_not(digits):
    X, y = digits
    for data in make_captures(X, y, "margin-0", n_captures=4)[0]:
        ink = _grey(data) < 0.5
        touched = [ink[0].any(), ink[-1].any(), ink[:, 0].any(), ink[:, -1].any()]
        assert sum(touched) >= 2  # the longer side spans the frame
    for data in make_captures(X, y, "margin-wide", n_captures=4)[0]:
        ink = _grey(data) < 0.5
        assert not (ink[0].any())
        assert not (ink[-1].any())
        assert not (ink[:, 0].any())
        assert not (ink[:, -1].any())


def test_stretched_digits_fill_their_square(digits):
    X, y = digits
    for data in make_captures(X, y, "stretched", n_captures=6)[0]:
        ink = _grey(data) < 0.5
        assert ink[0].any()
        assert ink[-1].any()
        assert ink[:, 0].any() or ink[:, -1].any()  # widened to the frame
        assert ink.any(axis=0).sum() >= 14  # of 16 columns


def test_bold_strokes_cover_more_and_hairlines_less(digits):
    X, y = digits

    def cover(condition):
        grey = _grey(make_captures(X, y, condition, n_captures=6)[0][0])
        return (grey < 0.5).mean()

    assert cover("hairline") < cover("size-256") < cover("bold") <= 0.55


def test_hard_conditions_are_conditions():
    assert set(HARD_CONDITIONS) <= set(CAPTURE_CONDITIONS)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"condition": "foggy"}, "condition"),
        ({"n_captures": 0}, "n_captures"),
        ({"images": np.zeros((3, 10))}, "square digits"),
        ({"labels": np.zeros(2)}, "one label per image"),
    ],
)
def test_bad_arguments_name_themselves(digits, kwargs, match):
    X, y = digits
    args = {"images": X, "labels": y, "condition": "clean", **kwargs}
    with pytest.raises(ValueError, match=match):
        make_captures(**args)
