"""Digits drawn with Pillow strokes, and the capture conditions of real photos.

``draw_digit`` draws each digit 0-9 as pen strokes at any size and stroke
width; ``photo`` puts such an ink layer on paper under one named condition
(ruled or squared paper, shadow, paper texture, JPEG noise, ...). The tests
of the preprocessing use them to build every case it must handle.
"""

import io

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

# Strokes in unit coordinates (x right, y down): ("line", points),
# ("ellipse", box) or ("arc", box, start, end) with Pillow's angles.
STROKES = {
    0: [("ellipse", (0.27, 0.1, 0.73, 0.9))],
    1: [("line", [(0.38, 0.24), (0.52, 0.1), (0.52, 0.9)])],
    2: [
        ("arc", (0.27, 0.1, 0.73, 0.5), 180, 400),
        ("line", [(0.68, 0.41), (0.26, 0.9), (0.76, 0.9)]),
    ],
    3: [
        ("arc", (0.29, 0.1, 0.71, 0.5), -160, 90),
        ("arc", (0.26, 0.5, 0.74, 0.9), -90, 160),
    ],
    4: [
        ("line", [(0.58, 0.1), (0.22, 0.64), (0.8, 0.64)]),
        ("line", [(0.6, 0.1), (0.6, 0.9)]),
    ],
    5: [
        ("line", [(0.72, 0.1), (0.34, 0.1), (0.31, 0.46)]),
        ("arc", (0.27, 0.4, 0.73, 0.9), -150, 150),
    ],
    6: [
        ("line", [(0.66, 0.1), (0.32, 0.6)]),
        ("ellipse", (0.28, 0.5, 0.72, 0.9)),
    ],
    7: [("line", [(0.25, 0.12), (0.75, 0.12), (0.42, 0.9)])],
    8: [
        ("ellipse", (0.31, 0.1, 0.69, 0.49)),
        ("ellipse", (0.27, 0.49, 0.73, 0.9)),
    ],
    9: [
        ("ellipse", (0.28, 0.1, 0.72, 0.5)),
        ("line", [(0.72, 0.3), (0.68, 0.9)]),
    ],
}


def draw_digit(label, *, size=200, width=16):
    """Ink layer (float, 1 = ink) of ``label`` drawn with ``width``-pixel strokes."""
    image = Image.new("L", (size, size), 0)
    pen = ImageDraw.Draw(image)
    for kind, shape, *angles in STROKES[label]:
        if kind == "line":
            points = [(x * size, y * size) for x, y in shape]
            pen.line(points, fill=255, width=width, joint="curve")
            for x, y in points[:: len(points) - 1]:  # round pen ends
                r = width / 2
                pen.ellipse([x - r, y - r, x + r, y + r], fill=255)
        else:
            box = [v * size for v in shape]
            if kind == "ellipse":
                pen.ellipse(box, outline=255, width=width)
            else:
                pen.arc(box, *angles, fill=255, width=width)
    return np.asarray(image, dtype=np.float64) / 255.0


def _lines(shape, spacing, width, vertical):
    paper = np.zeros(shape)
    for row in range(spacing // 2, shape[0], spacing):
        paper[row : row + width] = 1.0
    if vertical:
        for col in range(spacing // 2, shape[1], spacing):
            paper[:, col : col + width] = 1.0
    return paper


def _texture(shape, rng):
    """Fibres and blotches: smoothed noise at two scales."""
    fine = ndimage.gaussian_filter(rng.normal(size=shape), 1.0)
    coarse = ndimage.gaussian_filter(rng.normal(size=shape), shape[0] / 12)
    return 0.6 * fine / fine.std() + coarse / coarse.std()


def photo(ink, condition, rng, *, margin=0.3):
    """A uint8 grayscale photo of dark ``ink`` on paper under ``condition``.

    Conditions: ``"plain"``, ``"ruled"`` (lines crossing the digit),
    ``"squared"`` (a grid), ``"shadow"`` (a dark, soft-edged shadow over part
    of the digit), ``"uneven-light"`` (a strong gradient), ``"texture"``
    (grainy, blotchy paper), ``"jpeg"`` (saved at quality 20),
    ``"border"`` (cropped so the digit touches the top and bottom edges),
    ``"light-on-dark"`` (white chalk on a dark board).
    """
    pad = int(ink.shape[0] * margin)
    ink = np.pad(ink, pad)
    if condition == "border":  # cropped to the top and bottom of the digit
        rows = np.flatnonzero(ink.max(axis=1) > 0.5)
        ink = ink[rows[0] : rows[-1] + 1]
    shape = ink.shape
    paper = np.full(shape, 0.88)
    if condition in ("ruled", "squared"):
        spacing = max(8, shape[0] // 7)
        lines = _lines(shape, spacing, max(1, shape[0] // 200), condition == "squared")
        paper -= 0.3 * lines
    if condition == "texture":
        paper += 0.04 * _texture(shape, rng)
    if condition == "uneven-light":
        ramp = (
            np.linspace(0, 1, shape[1])[None, :] + np.linspace(0, 1, shape[0])[:, None]
        )
        paper *= 0.45 + 0.3 * ramp
    if condition == "shadow":
        cols = np.arange(shape[1])[None, :] + 0.3 * np.arange(shape[0])[:, None]
        edge = 1 / (1 + np.exp(-(cols - 0.65 * shape[1]) / (shape[1] / 40)))
        paper *= 1 - 0.6 * edge
    image = paper * (1 - 0.85 * ink) + rng.normal(0, 0.02, shape)
    if condition == "light-on-dark":
        image = 0.15 + 0.7 * ink + rng.normal(0, 0.02, shape)
    image = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    if condition == "jpeg":
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=20)
        image = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
    return image


CONDITIONS = [
    "plain",
    "ruled",
    "squared",
    "shadow",
    "uneven-light",
    "texture",
    "jpeg",
    "border",
    "light-on-dark",
]
