"""Labelled digits rendered as people capture them: the image front end's yardstick.

:func:`make_captures` renders digits (MNIST's test set, say) under one named
condition of :data:`CAPTURE_CONDITIONS` at a time, as encoded image files
(PNG, JPEG, 16-bit PNG, transparent PNG), so that everything from decoding to
the model's input is measured. Each condition changes one thing from a base
capture -- a dark grey pen on white paper, a square crop of 64 pixels with a
margin of 10-20% of the digit's size -- or, for the sizes, only the size.
"""

import io
import math
from numbers import Integral

import numpy as np
from scipy import ndimage
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

#: The base capture every condition starts from.
BASE = {
    "side": 64,
    "margin": (0.1, 0.2),
    "square": True,
    "rotation": 0.0,
    "stroke": None,
    "binary": False,
    "stretch": False,
    "light_ink": False,
    "paper": False,
    "shadow": False,
    "ruling": None,
    "neighbour": False,
    "border_line": False,
    "specks": 0,
    "format": "png",
    "jpeg_quality": (85, 95),
}

#: Named conditions: what each changes from :data:`BASE`.
CAPTURE_CONDITIONS = {
    "clean": {"format": "mnist"},
    **{f"size-{s}": {"side": s} for s in (8, 12, 16, 20, 28, 64, 256, 2048)},
    "binary": {"binary": True},
    "light-ink": {"light_ink": True},
    "binary-light-ink": {"binary": True, "light_ink": True, "side": 16},
    "hairline": {"stroke": "hairline", "side": 256},
    "bold": {"stroke": "bold"},
    "stretched": {"stretch": True, "margin": (0.0, 0.0), "side": 16, "binary": True},
    "margin-0": {"margin": (0.0, 0.0)},
    "margin-wide": {"margin": (0.6, 1.2)},
    "rotated": {"rotation": 15.0},
    "paper-shadow-jpeg": {
        "paper": True,
        "shadow": True,
        "format": "jpeg",
        "side": 256,
    },
    "jpeg-low": {"format": "jpeg", "jpeg_quality": (25, 50)},
    "ruled": {"ruling": "ruled", "side": 128},
    "squared": {"ruling": "squared", "side": 128},
    "transparent": {"format": "rgba"},
    "16-bit": {"format": "png16", "side": 256},
    "neighbour": {"neighbour": True, "margin": (0.0, 0.1)},
    "border-line": {"border_line": True, "margin": (0.0, 0.1)},
    "specks": {"specks": 12, "side": 128},
}

#: Conditions no preprocessing can fully undo (the digit's shape changed, or
#: a part of another one is in the frame); their target is looser.
HARD_CONDITIONS = ("stretched", "neighbour", "size-8")

_PAPER, _PEN = 0.93, 0.15


def _ink_box(digit, level=0.1):
    rows = np.flatnonzero(digit.max(axis=1) > level)
    cols = np.flatnonzero(digit.max(axis=0) > level)
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def _crop(digit, rotation, rng):
    """The digit's ink crop, rotated by up to ``rotation`` degrees, at 4x."""
    big = np.clip(ndimage.zoom(digit, 4, order=3), 0, 1)
    if rotation:
        angle = rng.uniform(-rotation, rotation)
        big = np.clip(ndimage.rotate(big, angle, reshape=True, order=1), 0, 1)
    top, bottom, left, right = _ink_box(big)
    return big[top:bottom, left:right]


def _frame(crop, c, rng):
    """The crop with its margins, as a float canvas (bright ink)."""
    h, w = crop.shape
    if c["stretch"]:  # to the frame's shape when resized: solid ink to its edges
        top, bottom, left, right = _ink_box(crop, 0.5)
        return crop[top:bottom, left:right]
    size = max(h, w)
    low, high = c["margin"]
    pad = [round(rng.uniform(low, high) * size) for _ in range(4)]
    canvas = np.pad(crop, ((pad[0], pad[1]), (pad[2], pad[3])))
    if c["square"]:
        h, w = canvas.shape
        extra = abs(h - w)
        before = rng.randint(extra + 1)
        spec = ((0, 0), (before, extra - before))
        canvas = np.pad(canvas, spec if h > w else spec[::-1])
    return canvas


def _resize(array, shape):
    from PIL import Image

    img = Image.fromarray((np.clip(array, 0, 1) * 255).astype(np.uint8))
    img = img.resize((shape[1], shape[0]), Image.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.float64) / 255.0


def _stroke(ink, kind, rng):
    """Hairline strokes (the ridge of the strokes) or bold ones (dilated)."""
    if kind is None:
        return ink
    mask = ink > 0.5
    if kind == "hairline":  # the strokes' centre lines, about 1.5 px wide
        distance = ndimage.distance_transform_edt(mask)
        ridge = mask & (distance >= ndimage.maximum_filter(distance, 3) - 0.75)
        return ndimage.gaussian_filter(ridge.astype(float), 0.5).clip(0, 1) ** 0.5
    # A broad marker: strokes 2-3 times MNIST's width (about a tenth of the
    # digit's height), and the ink covering at most half the image.
    top, bottom, _, _ = _ink_box(ink)
    steps = round(rng.uniform(0.05, 0.1) * (bottom - top))
    for _ in range(steps):
        grown = ndimage.binary_dilation(mask)
        if grown.mean() > 0.5:
            break
        mask = grown
    return ndimage.gaussian_filter(mask.astype(float), 0.7)


def _neighbour(ink, other, rng):
    """A slice of another digit cut in at the left or right border."""
    h, w = ink.shape
    other = _resize(other, (h, max(1, round(other.shape[1] * h / other.shape[0]))))
    visible = max(1, round(rng.uniform(0.15, 0.35) * other.shape[1]))
    if rng.rand() < 0.5:
        part = other[:, -visible:]
        ink[:, :visible] = np.maximum(ink[:, :visible], part[:, : min(visible, w)])
    else:
        part = other[:, :visible]
        ink[:, -visible:] = np.maximum(ink[:, -visible:], part[:, -min(visible, w) :])
    return ink


def _border_line(ink, rng):
    """A ruled line running along the top or bottom border."""
    h = ink.shape[0]
    width = max(1, round(0.03 * h))
    row = rng.randint(0, max(1, round(0.06 * h)))
    line = (
        slice(row, row + width) if rng.rand() < 0.5 else slice(h - row - width, h - row)
    )
    ink[line] = np.maximum(ink[line], 0.8)
    return ink


def _ruling(shape, kind, rng):
    """Printed lines (pale blue-grey): ruled rows, or a grid of squares."""
    h, w = shape
    spacing = rng.uniform(0.25, 0.4) * h
    offset = rng.uniform(0, spacing)
    lines = np.zeros(shape)
    width = max(1, round(0.012 * h))
    for y in np.arange(offset, h, spacing):
        lines[int(y) : int(y) + width] = 1
    if kind == "squared":
        for x in np.arange(offset, w, spacing):
            lines[:, int(x) : int(x) + width] = 1
    return lines


def _paper(shape, c, rng):
    """Paper brightness: flat, or textured with a shadow falling across it."""
    paper = np.full(shape, _PAPER)
    if c["paper"]:
        grain = ndimage.gaussian_filter(rng.normal(0, 1, shape), 1.5)
        paper += 0.04 * grain / max(grain.std(), 1e-9)
    if c["shadow"]:
        h, w = shape
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w]
        ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h) + 0.5
        paper *= 1 - rng.uniform(0.3, 0.55) * np.clip(ramp, 0, 1)
    return paper


def _grey(ink, c, rng):
    """The capture's grey levels: ink laid on paper (or light ink on a board)."""
    if c["light_ink"]:
        board = rng.uniform(0.0, 0.15)
        return board + (rng.uniform(0.85, 1.0) - board) * ink
    paper = _paper(ink.shape, c, rng)
    if c["ruling"]:
        tone = rng.uniform(0.55, 0.75)
        paper = np.where(_ruling(ink.shape, c["ruling"], rng) > 0, tone * paper, paper)
    pen = rng.uniform(0.05, 0.3) if not c["binary"] else 0.0
    return paper - (paper - pen) * ink


def _specks(grey, count, rng, light_ink):
    h, w = grey.shape
    size = max(1, round(0.015 * h))
    for _ in range(count):
        y, x = rng.randint(h - size + 1), rng.randint(w - size + 1)
        grey[y : y + size, x : x + size] = 1.0 if light_ink else 0.05
    return grey


def _encode(grey, c, rng):
    from PIL import Image

    if c["format"] == "png16":
        img = Image.fromarray((np.clip(grey, 0, 1) * 65535).astype(np.uint16))
        fmt, options = "PNG", {}
    elif c["format"] == "rgba":
        ink = np.clip(1 - grey if not c["light_ink"] else grey, 0, 1)
        shade = 255 if c["light_ink"] else 0
        rgba = np.zeros((*grey.shape, 4), dtype=np.uint8)
        rgba[..., :3] = shade
        rgba[..., 3] = (ink / max(ink.max(), 1e-9) * 255).astype(np.uint8)
        img, fmt, options = Image.fromarray(rgba, "RGBA"), "PNG", {}
    else:
        img = Image.fromarray((np.clip(grey, 0, 1) * 255).round().astype(np.uint8))
        fmt, options = "PNG", {}
        if c["format"] == "jpeg":
            fmt, options = "JPEG", {"quality": int(rng.randint(*c["jpeg_quality"]))}
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def render_capture(digit, condition, rng, neighbour=None):
    """One digit (bright ink, e.g. an MNIST image) as a capture's encoded bytes."""
    c = {**BASE, **CAPTURE_CONDITIONS[condition]}
    digit = np.asarray(digit, dtype=np.float64)
    digit = digit / max(digit.max(), 1e-12)
    if c["format"] == "mnist":
        return _encode(1 - digit, {**c, "format": "png", "light_ink": False}, rng)
    framed = _frame(_crop(digit, c["rotation"], rng), c, rng)
    side = c["side"]
    if c["square"] or c["stretch"]:
        shape = (side, side)
    else:
        shape = (side, max(1, round(side * framed.shape[1] / framed.shape[0])))
    work = (max(shape[0], 128), max(shape[1], 128)) if c["stroke"] else shape
    ink = _resize(framed, work)
    ink = _stroke(ink, c["stroke"], rng)
    if work != shape:
        ink = _resize(ink, shape)
    if c["neighbour"]:
        ink = _neighbour(ink, _crop(neighbour, 0.0, rng), rng)
    if c["border_line"]:
        ink = _border_line(ink, rng)
    if c["binary"]:
        ink = (ink > 0.5).astype(float)
    grey = _grey(ink, c, rng)
    if c["specks"]:
        grey = _specks(grey, c["specks"], rng, c["light_ink"])
    return _encode(np.clip(grey, 0, 1), c, rng)


@validate_params(
    {
        "images": ["array-like"],
        "labels": ["array-like"],
        "condition": [StrOptions(set(CAPTURE_CONDITIONS))],
        "n_captures": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_captures(images, labels, condition, *, n_captures=None, random_state=0):
    """Render labelled digits as captured under one named condition.

    A yardstick for an image front end (:func:`~digitnet.preprocess_image`):
    the same digits under each condition of :data:`CAPTURE_CONDITIONS`, whose
    accuracy can be set beside that of the clean digits. Every condition
    starts from a base capture (dark grey pen on white paper, a square crop
    of 64 pixels, margins of 10-20% of the digit) and changes one thing:

    * ``size-8`` ... ``size-2048``: tight crops of that many pixels;
    * ``binary``, ``light-ink`` (bright ink on a dark board, as canvas
      drawings), ``binary-light-ink`` (16 px);
    * ``hairline`` (one-pixel pen lines at 256 px), ``bold`` (a broad marker:
      strokes 2-3 times as wide, the ink covering up to half the image);
    * ``stretched``: the digit stretched to fill a 16 px square (binary);
    * ``margin-0`` (ink touching the frame), ``margin-wide``;
    * ``rotated`` (up to 15 degrees either way);
    * ``paper-shadow-jpeg`` (paper grain, a shadow across the page, JPEG),
      ``jpeg-low`` (quality 25-50);
    * ``ruled``, ``squared`` (printed lines behind the digit);
    * ``transparent`` (a canvas export: opaque strokes on transparency),
      ``16-bit`` (a 16-bit grey PNG);
    * ``neighbour`` (a slice of another digit cut in at the border),
      ``border-line`` (a ruled line cut in at the top or bottom);
    * ``specks`` (dark dots of dust);
    * ``clean``: the digit as it is (a 28x28 PNG, dark ink on white).

    Parameters
    ----------
    images : array-like of shape (n, h, w) or (n, h * w) with h == w
        Digits as bright ink on a dark background (MNIST's form).
    labels : array-like of shape (n,)
        Their labels.
    condition : str
        A key of :data:`CAPTURE_CONDITIONS`.
    n_captures : int, default=None
        How many of the digits to render (the first ones); all when None.
    random_state : int, RandomState instance or None, default=0
        Seeds margins, tones, rotations and the other random choices.

    Returns
    -------
    captures : list of bytes
        Encoded image files (PNG or JPEG), one per digit.
    labels : ndarray of shape (n_captures,)
        Their labels.

    Examples
    --------
    >>> from digitnet.datasets import load_digits, make_captures
    >>> X, y = load_digits(return_X_y=True)
    >>> captures, labels = make_captures(X.reshape(-1, 8, 8), y, "light-ink",
    ...                                  n_captures=3)
    >>> len(captures), captures[0][:4] == b"\\x89PNG"
    (3, True)
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 2 and math.isqrt(images.shape[1]) ** 2 == images.shape[1]:
        side = math.isqrt(images.shape[1])
        images = images.reshape(len(images), side, side)
    if images.ndim != 3 or images.shape[1] != images.shape[2] or not len(images):
        raise ValueError(
            "images must be square digits, of shape (n, h, h) or (n, h * h); "
            f"got shape {images.shape}."
        )
    labels = np.asarray(labels)
    if len(labels) != len(images):
        raise ValueError(
            f"labels must have one label per image ({len(images)}); got {len(labels)}."
        )
    n = len(images) if n_captures is None else min(n_captures, len(images))
    rng = check_random_state(random_state)
    captures = []
    for i in range(n):
        # A draw independent of the number of images: the first k captures
        # are the same whatever n_captures is.
        neighbour = images[(i + 1 + rng.randint(1 << 30)) % len(images)]
        captures.append(render_capture(images[i], condition, rng, neighbour))
    return captures, labels[:n]
