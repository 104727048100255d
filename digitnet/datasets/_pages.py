"""Pages of handwritten numbers composed from single digits, to test page reading."""

import io
from numbers import Integral, Real

import numpy as np
from scipy import ndimage
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from ._captures import _paper
from ._numbers import _ink_crop, _scaled, check_digits


def _range(value):
    return value if isinstance(value, tuple) else (value, value)


def _digit(image, height, bold, rng):
    """One digit's ink at about ``height`` pixels, its strokes widened by ``bold``."""
    ink = _scaled(_ink_crop(image), height * rng.uniform(0.9, 1.1))
    if bold:
        ink = np.pad(ink, bold)
        yy, xx = np.mgrid[-bold : bold + 1, -bold : bold + 1]
        ink = ndimage.grey_dilation(ink, footprint=yy**2 + xx**2 <= bold**2)
    return ink


def _gaps(n, p, rng, height):
    """Gaps between the digits of one number, in pixels."""
    out = []
    for _ in range(n - 1):
        low, high = (-0.08, 0.0) if rng.uniform() < p["touching"] else p["gap"]
        out.append(round(rng.uniform(low, high) * height))
    return out


def _line(images, labels, p, rng, height, bold):
    """One line: ``(placed digits, texts)``; each placed digit ``(x, dy, ink, number)``.

    ``x`` is the digit's left edge from the line's start, ``dy`` its shift
    from the line's top (a digit written high or low, a drifting baseline).
    """
    placed, texts, x, drift = [], [], 0, 0.0
    for k in range(rng.randint(p["n_numbers"][0], p["n_numbers"][1] + 1)):
        if k:
            x += round(rng.uniform(*p["number_gap"]) * height)
        picks = rng.randint(len(images), size=rng.randint(*p["n_digits_range"]))
        gaps = [0, *_gaps(len(picks), p, rng, height)]
        for pick, gap in zip(picks, gaps, strict=True):
            ink = _digit(images[pick], height, bold, rng)
            drift = np.clip(drift + rng.normal(0, 0.3), -1, 1)
            dy = round((drift * p["drift"] + rng.uniform(-0.1, 0.1)) * height)
            x += gap
            placed.append((x, dy, ink, k))
            x += ink.shape[1]
        texts.append("".join(str(labels[i]) for i in picks))
    return placed, texts


def _compose(images, labels, p, rng):
    """One page's ink (bright on black), texts and digit boxes."""
    height = rng.uniform(*p["height"])
    bold = rng.randint(0, max(1, round(p["bold"] * height)) + 1)
    angle = np.tan(np.radians(rng.uniform(-p["slant"], p["slant"])))
    margin = round(height)
    lines, y = [], margin
    for _ in range(rng.randint(p["n_lines"][0], p["n_lines"][1] + 1)):
        indent = margin + round(rng.uniform(0, 2) * height)
        lines.append((indent, y, *_line(images, labels, p, rng, height, bold)))
        y += round(rng.uniform(*p["line_spacing"]) * height)
    width = max(i + d[-1][0] + d[-1][2].shape[1] for i, _, d, _ in lines) + margin
    rise = round(abs(angle) * width)
    canvas = np.zeros((y + 2 * margin + rise, width))
    texts, boxes = [], []
    for indent, top, placed, numbers in lines:
        line_boxes = [[] for _ in numbers]
        for x, dy, ink, k in placed:
            left = indent + x
            row = top + dy + round(angle * left) + (rise if angle < 0 else 0)
            region = canvas[row : row + ink.shape[0], left : left + ink.shape[1]]
            np.maximum(region, ink, out=region)
            line_boxes[k].append((left, row, left + ink.shape[1], row + ink.shape[0]))
        texts.append(numbers)
        boxes.append(line_boxes)
    return canvas, texts, boxes


def _capture(ink, photo, size, rng):
    """The page as encoded bytes: dark ink on paper, a photo's paper or a flat one."""
    from PIL import Image

    if size is not None:
        h, w = max(ink.shape[0], size[1]), max(ink.shape[1], size[0])
        ink = np.pad(ink, ((0, h - ink.shape[0]), (0, w - ink.shape[1])))
    conditions = {"paper": photo, "shadow": photo}
    paper = _paper(ink.shape, conditions, rng)
    pen = rng.uniform(0.05, 0.3)
    grey = np.clip(paper - (paper - pen) * np.clip(ink, 0, 1), 0, 1)
    img = Image.fromarray((grey * 255).round().astype(np.uint8))
    buffer = io.BytesIO()
    if photo:
        img.save(buffer, format="JPEG", quality=int(rng.randint(60, 95)))
    else:
        img.save(buffer, format="PNG")
    return buffer.getvalue()


_PAIR = [tuple]


@validate_params(
    {
        "images": ["array-like"],
        "labels": ["array-like"],
        "n_pages": [Interval(Integral, 1, None, closed="left")],
        "n_lines": [Interval(Integral, 1, None, closed="left"), tuple],
        "n_numbers": [Interval(Integral, 1, None, closed="left"), tuple],
        "n_digits": [Interval(Integral, 1, None, closed="left"), tuple],
        "gap": _PAIR,
        "touching": [Interval(Real, 0, 1, closed="both")],
        "number_gap": _PAIR,
        "line_spacing": _PAIR,
        "slant": [Interval(Real, 0, 30, closed="both")],
        "drift": [Interval(Real, 0, 1, closed="both")],
        "bold": [Interval(Real, 0, 0.5, closed="both")],
        "height": [Interval(Real, 8, None, closed="left"), tuple],
        "photo": [Interval(Real, 0, 1, closed="both")],
        "size": [tuple, None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_pages(
    images,
    labels,
    *,
    n_pages=10,
    n_lines=(2, 5),
    n_numbers=(1, 3),
    n_digits=(2, 6),
    gap=(0.05, 0.4),
    touching=0.0,
    number_gap=(1.2, 3.0),
    line_spacing=(1.5, 2.2),
    slant=3.0,
    drift=0.1,
    bold=0.06,
    height=(28, 48),
    photo=0.5,
    size=None,
    random_state=None,
):
    """Compose pages of handwritten numbers from images of single digits.

    Each page has lines of numbers; each number random digits from
    ``images``, cropped to their ink and laid left to right. Lines slant,
    their baselines drift and single digits sit high or low; stroke widths
    vary from page to page; a share of the pages is captured like a phone
    photo (paper texture, a shadow across it, JPEG), the others on flat paper
    (PNG). Ink is dark on light paper.

    Parameters
    ----------
    images : array-like of shape (n_samples, h, w)
        Single digits, bright ink on a dark background (e.g. MNIST).
    labels : array-like of shape (n_samples,)
        Their labels (joined with ``str`` into the numbers' text).
    n_pages : int, default=10
        Number of pages to make.
    n_lines, n_numbers, n_digits : int or (min, max) tuple
        Lines per page (default 2-5), numbers per line (1-3) and digits per
        number (2-6).
    gap : (low, high) tuple of float, default=(0.05, 0.4)
        Space between the digits of a number, in digit heights.
    touching : float in [0, 1], default=0.0
        Share of neighbouring digits that touch or overlap (gaps of -0.08 to
        0 heights) instead.
    number_gap : (low, high) tuple of float, default=(1.2, 3.0)
        Space between the numbers of a line, in digit heights.
    line_spacing : (low, high) tuple of float, default=(1.5, 2.2)
        Distance from one line's top to the next one's, in digit heights.
    slant : float in [0, 30], default=3.0
        Largest slope of a page's lines, in degrees.
    drift : float in [0, 1], default=0.1
        Largest wander of a line's baseline, in digit heights.
    bold : float in [0, 0.5], default=0.06
        Largest widening of a page's strokes, in digit heights (each page
        draws its own, from none up to this).
    height : float or (low, high) tuple, default=(28, 48)
        Digit height in pixels (each page draws its own).
    photo : float in [0, 1], default=0.5
        Share of pages captured like a phone photo.
    size : (width, height) tuple or None, default=None
        Smallest page size in pixels; the paper extends right and down.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    pages : list of bytes
        The encoded images (PNG, or JPEG for photos).
    texts : list of list of list of str
        Per page, per line, its numbers' digits, left to right.
    boxes : list of list of list of list of tuple
        Per page, per line, per number, each digit's ``(left, top, right,
        bottom)`` box.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from digitnet.datasets import make_pages
    >>> X, y = load_digits(return_X_y=True)
    >>> pages, texts, boxes = make_pages(X.reshape(-1, 8, 8), y, n_pages=2,
    ...                                  n_lines=3, random_state=0)
    >>> [len(lines) for lines in texts], pages[0][:4]
    ([3, 3], b'\\x89PNG')
    """
    named = {"n_lines": n_lines, "n_numbers": n_numbers, "n_digits": n_digits}
    pairs = {"gap": gap, "number_gap": number_gap, "line_spacing": line_spacing}
    pairs["height"] = height
    images, labels = check_digits(images, labels, {**named, **pairs})
    if size is not None and (len(size) != 2 or min(size) < 1):
        raise ValueError(f"size must be a (width, height) tuple, not {size!r}")
    p = {name: _range(v) for name, v in {**named, **pairs}.items()}
    p["n_digits_range"] = (p["n_digits"][0], p["n_digits"][1] + 1)
    p.update(touching=touching, slant=slant, drift=drift, bold=bold)
    rng = check_random_state(random_state)
    pages, texts, boxes = [], [], []
    for _ in range(n_pages):
        canvas, page_texts, page_boxes = _compose(images, labels, p, rng)
        pages.append(_capture(canvas, rng.uniform() < photo, size, rng))
        texts.append(page_texts)
        boxes.append(page_boxes)
    return pages, texts, boxes
