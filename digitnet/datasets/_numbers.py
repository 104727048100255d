"""Multi-digit images composed from single digits, to test a number reader."""

from numbers import Integral, Real

import numpy as np
from scipy import ndimage
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params


def check_digits(images, labels, ranges):
    """``(images, labels)`` as arrays, checked, and each ``(low, high)`` range.

    ``ranges`` maps a parameter's name to its value; a tuple must be two
    values, low first. Anything else: ValueError naming what arrived.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or len(images) != len(labels):
        raise ValueError(
            "images must be (n_samples, h, w) with one label each; got images of "
            f"shape {images.shape} and {len(labels)} labels"
        )
    for name, pair in ranges.items():
        if isinstance(pair, tuple) and (len(pair) != 2 or pair[0] > pair[1]):
            raise ValueError(f"{name} must be a (low, high) tuple, not {pair!r}")
    return images, labels


def _ink_crop(image):
    """The digit cropped to its ink, as bright ink in [0, 1]."""
    image = np.asarray(image, dtype=np.float64)
    image = image / max(image.max(), 1e-12)
    rows, cols = (
        np.flatnonzero(image.max(axis=1) > 0.1),
        np.flatnonzero(image.max(axis=0) > 0.1),
    )
    if rows.size == 0:
        raise ValueError("images holds a blank image (no ink to compose)")
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _scaled(crop, height):
    factor = height / crop.shape[0]
    return np.clip(ndimage.zoom(crop, factor, order=1), 0, 1)


def _place(pieces, gaps, offsets, margin):
    """Paste ``pieces`` left to right (max-blended where they overlap)."""
    top = margin + max(0, -min(offsets))
    height = max(o + p.shape[0] for o, p in zip(offsets, pieces, strict=True))
    width = sum(p.shape[1] for p in pieces) + sum(gaps)
    canvas = np.zeros((top + height + margin, width + 2 * margin + 2))
    x, boxes = margin, []
    for piece, gap, offset in zip(pieces, [0, *gaps], offsets, strict=True):
        x += gap
        y = top + offset
        region = canvas[y : y + piece.shape[0], x : x + piece.shape[1]]
        np.maximum(region, piece, out=region)
        boxes.append((x, y, x + piece.shape[1], y + piece.shape[0]))
        x += piece.shape[1]
    return canvas, boxes


def _one_number(images, labels, n, rng, params):
    picks = rng.randint(len(images), size=n)
    base = params["height"]
    pieces = [
        _scaled(_ink_crop(images[i]), base * rng.uniform(*params["scale"]))
        for i in picks
    ]
    low, high = params["gap"]
    gaps = [round(rng.uniform(low, high) * base) for _ in range(n - 1)]
    offsets = [round(rng.uniform(-1, 1) * params["jitter"] * base) for _ in range(n)]
    canvas, boxes = _place(pieces, gaps, offsets, margin=round(0.4 * base))
    text = "".join(str(labels[i]) for i in picks)
    return canvas, text, boxes


def _finish(canvas, boxes, rng, invert, noise, ruled_line):
    if ruled_line:
        bottom = max(b[3] for b in boxes)
        y = min(canvas.shape[0] - 2, bottom + rng.randint(-1, 3))
        canvas[y : y + 2, :] = np.maximum(canvas[y : y + 2, :], 0.8)
    if noise:
        canvas = canvas + rng.normal(0, noise, canvas.shape)
    canvas = np.clip(canvas, 0, 1)
    if invert:
        canvas = 1 - canvas
    return (canvas * 255).round().astype(np.uint8)


@validate_params(
    {
        "images": ["array-like"],
        "labels": ["array-like"],
        "n_numbers": [Interval(Integral, 1, None, closed="left")],
        "n_digits": [Interval(Integral, 1, None, closed="left"), tuple],
        "gap": [tuple],
        "jitter": [Interval(Real, 0, None, closed="left")],
        "scale": [tuple],
        "invert": ["boolean", Interval(Real, 0, 1, closed="both")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "ruled_line": ["boolean", Interval(Real, 0, 1, closed="both")],
        "height": [Interval(Integral, 8, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_numbers(
    images,
    labels,
    *,
    n_numbers=100,
    n_digits=5,
    gap=(0.1, 0.4),
    jitter=0.0,
    scale=(1.0, 1.0),
    invert=False,
    noise=0.0,
    ruled_line=False,
    height=40,
    random_state=None,
):
    """Compose images of handwritten numbers from images of single digits.

    Each number takes random digits from ``images``, crops each to its ink,
    scales it to ``height`` pixels times a factor drawn from ``scale``, and
    lays them left to right with gaps drawn from ``gap`` (in digit heights;
    negative gaps make neighbours touch or overlap), shifted up or down by up
    to ``jitter`` heights.

    Parameters
    ----------
    images : array-like of shape (n_samples, h, w)
        Single digits, bright ink on a dark background (e.g. MNIST).
    labels : array-like of shape (n_samples,)
        Their labels (joined with ``str`` into the numbers' text).
    n_numbers : int, default=100
        Number of images to make.
    n_digits : int or (min, max) tuple, default=5
        Digits per number; a tuple draws each count from ``min..max``.
    gap : (low, high) tuple of float, default=(0.1, 0.4)
        Space between neighbours in digit heights; e.g. ``(-0.08, 0.0)``
        makes them touch.
    jitter : float, default=0.0
        Largest baseline shift, in digit heights.
    scale : (low, high) tuple of float, default=(1.0, 1.0)
        Range of each digit's height factor.
    invert : bool or float, default=False
        Dark ink on light paper; a float is the share of images inverted.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to [0, 1] pixels.
    ruled_line : bool or float, default=False
        Draw a ruled line under the digits (touching some); a float is the
        share of images that get one.
    height : int, default=40
        Digit height in pixels before ``scale``.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    numbers : list of ndarray of uint8
        The images (each its own width).
    texts : list of str
        The digits of each image, left to right.
    boxes : list of list of tuple
        Each digit's ``(left, top, right, bottom)`` box.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from digitnet.datasets import make_numbers
    >>> X, y = load_digits(return_X_y=True)
    >>> numbers, texts, boxes = make_numbers(X.reshape(-1, 8, 8), y, n_numbers=2,
    ...                                      random_state=0)
    >>> [len(t) for t in texts], numbers[0].dtype, numbers[0].shape[0]
    ([5, 5], dtype('uint8'), 72)
    """
    images, labels = check_digits(
        images, labels, {"n_digits": n_digits, "gap": gap, "scale": scale}
    )
    rng = check_random_state(random_state)
    low, high = n_digits if isinstance(n_digits, tuple) else (n_digits, n_digits)
    params = {"gap": gap, "jitter": jitter, "scale": scale, "height": height}
    numbers, texts, all_boxes = [], [], []
    for _ in range(n_numbers):
        canvas, text, boxes = _one_number(
            images, labels, rng.randint(low, high + 1), rng, params
        )
        image = _finish(
            canvas,
            boxes,
            rng,
            invert=rng.uniform() < float(invert),
            noise=noise,
            ruled_line=rng.uniform() < float(ruled_line),
        )
        numbers.append(image)
        texts.append(text)
        all_boxes.append(boxes)
    return numbers, texts, all_boxes
