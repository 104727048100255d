"""Synthetic photos of handwritten digits for the predict tests."""

import numpy as np
from PIL import Image


def render(digit, *, size, canvas, offset, dark_ink, rng, lighting=0.0, specks=0):
    """Draw a small grayscale digit (ink = high values) as a photo-like image.

    The digit is enlarged to ``size`` pixels, placed at ``offset`` (row, col) in
    a ``canvas`` x ``canvas`` image, on paper (dark ink on light) or a canvas
    (white on black), with an optional lighting gradient, noise and specks.
    Returns a uint8 array.
    """
    ink = np.asarray(digit, dtype=np.float64)
    ink = ink / ink.max()
    big = Image.fromarray((ink * 255).astype(np.uint8)).resize(
        (size, size), Image.BILINEAR
    )
    layer = np.zeros((canvas, canvas))
    r, c = offset
    layer[r : r + size, c : c + size] = np.asarray(big) / 255.0
    for _ in range(specks):
        y, x = rng.randint(0, canvas - 2, size=2)
        layer[y : y + 2, x : x + 2] = 1.0
    ramp = np.linspace(-lighting, lighting, canvas)[None, :]
    noise = rng.normal(0, 0.03, size=(canvas, canvas))
    if dark_ink:
        image = 0.9 - 0.75 * layer + ramp + noise
    else:
        image = 0.05 + 0.9 * layer + ramp + noise
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


def save(array, path):
    Image.fromarray(array).save(path)
    return path
