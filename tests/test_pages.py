"""make_pages: pages of handwritten numbers composed from single digits."""

import io
import itertools

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from digitnet.datasets import make_pages


@pytest.fixture(scope="module")
def digits8():
    X, y = load_digits(return_X_y=True)
    return X.reshape(-1, 8, 8), y


def _boxes(page_boxes):
    return [box for line in page_boxes for number in line for box in number]


def test_pages_have_the_requested_structure_and_are_reproducible(digits8):
    kwargs = {"n_pages": 6, "n_lines": (2, 4), "n_numbers": 2, "n_digits": 3}
    pages, texts, boxes = make_pages(*digits8, random_state=0, **kwargs)
    again, _, _ = make_pages(*digits8, random_state=0, **kwargs)
    assert pages == again
    for page, lines, page_boxes in zip(pages, texts, boxes, strict=True):
        assert 2 <= len(lines) <= 4
        assert all(len(line) == 2 for line in lines)
        assert all(
            len(number) == 3 and number.isdigit() for line in lines for number in line
        )
        with Image.open(io.BytesIO(page)) as img:
            width, height = img.size
        for left, top, right, bottom in _boxes(page_boxes):
            assert 0 <= left < right <= width
            assert 0 <= top < bottom <= height
        # Lines run top to bottom, numbers left to right with wide gaps.
        tops = [min(b[1] for number in line for b in number) for line in page_boxes]
        assert tops == sorted(tops)
        for line in page_boxes:
            for first, second in itertools.pairwise(line):
                assert second[0][0] - first[-1][2] >= 1.2 * 0.9 * 28


def test_touching_digits_touch_and_separated_ones_do_not(digits8):
    _, _, boxes = make_pages(*digits8, n_pages=3, touching=1.0, random_state=0)
    numbers = [n for page in boxes for line in page for n in line]
    assert all(b[0] <= a[2] for n in numbers for a, b in itertools.pairwise(n))
    _, _, boxes = make_pages(*digits8, n_pages=3, gap=(0.2, 0.4), random_state=0)
    numbers = [n for page in boxes for line in page for n in line]
    assert all(b[0] > a[2] for n in numbers for a, b in itertools.pairwise(n))


def test_photos_are_jpeg_on_textured_paper_and_size_extends_the_page(digits8):
    (photo,), _, _ = make_pages(*digits8, n_pages=1, photo=1.0, random_state=0)
    (flat,), _, _ = make_pages(
        *digits8, n_pages=1, photo=0.0, size=(900, 700), random_state=0
    )
    assert photo[:2] == b"\xff\xd8"
    assert flat[:4] == b"\x89PNG"
    with Image.open(io.BytesIO(flat)) as img:
        assert img.size[0] >= 900
        assert img.size[1] >= 700
        grey = np.asarray(img)
    assert np.median(grey) > 200  # dark ink on light paper


def test_make_pages_rejects_bad_arguments(digits8):
    with pytest.raises(ValueError, match="images must be"):
        make_pages(np.zeros((3, 8)), [1, 2, 3])
    with pytest.raises(ValueError, match="number_gap must be a"):
        make_pages(*digits8, number_gap=(3.0, 1.0))
    with pytest.raises(ValueError, match="size must be a"):
        make_pages(*digits8, size=(0, 10))
    with pytest.raises(ValueError, match="'slant' parameter"):
        make_pages(*digits8, slant=45)
