"""From the ink of one digit to model input, the way MNIST was made.

:func:`digit_crop` picks the digit's ink out of an ink map (printed lines,
specks and slices of neighbouring digits cut in at the border set aside) and
crops to it; :func:`crop_to_features` brings its strokes towards MNIST's width
where they are far from it, scales the crop into a 20x20 box keeping its
aspect ratio and centres it by centre of mass in 28x28 (or, for the 8x8
digits geometry, fills a 32x32 frame whose 4x4 blocks are summed into 0-16
values, the way those images were made).
"""

import numpy as np
from scipy import ndimage

from ._decode import pil
from ._ink import ink_mask, keep_ink, remove_ruling, require_ink, stroke_width

#: Stroke width as a fraction of the digit's box side (MNIST: ~2.5 px of 20).
STROKE_FRACTION = 2.5 / 20
#: Strokes thinner than this share of that width are thickened to it.
THIN = 0.5
#: Strokes wider than this many times that width are thinned to it.
BOLD = 1.8
#: Longer side, in pixels, of a digit's crop while its strokes are measured
#: and changed: 4x MNIST's 20-pixel box, whatever the capture's size.
WORK_SIDE = 80
#: Share of the peak under which an enlarged crop's ink is fringe.
FRINGE = 0.1


def _components(mask):
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    boxes = ndimage.find_objects(labels)
    sizes = ndimage.sum_labels(mask, labels, index=np.arange(1, n + 1))
    return labels, boxes, sizes


def _border_fragment(box, main, shape):
    """A component at the left or right border beside the digit, not under it:
    a slice of a neighbouring digit cut into the crop."""
    cols = box[1]
    at_side = cols.start == 0 or cols.stop == shape[1]
    shared = min(cols.stop, main[1].stop) - max(cols.start, main[1].start)
    return at_side and shared <= 0.2 * (cols.stop - cols.start)


def _belongs(box, size, main, main_size, shape):
    """Whether a component is part of the digit whose largest part is ``main``.

    Kept: components of a sizeable fraction (15%) of the largest, and smaller
    ones that share its columns and lie near it (a 5's bar, a stroke broken
    where a line was removed); not a slice of a neighbour at the border.
    """
    if _border_fragment(box, main, shape) and size < main_size:
        return False
    if size >= 0.15 * main_size:
        return True
    height = main[0].stop - main[0].start
    shared = min(box[1].stop, main[1].stop) - max(box[1].start, main[1].start)
    gap = max(box[0].start - main[0].stop, main[0].start - box[0].stop, 0)
    return size >= 0.02 * main_size and shared > 0 and gap <= 0.3 * height


def digit_crop(ink):
    """``(ink, mask)`` of the digit in ``ink`` (an ink map), cropped to it.

    Printed lines are removed first (:func:`~._ink.remove_ruling`);
    of the connected pieces of ink left, the largest is the digit's, and the
    others that belong to it (:func:`_belongs`) join it. The ink is kept
    under the mask, widened for anti-aliased edges.
    """
    ink = remove_ruling(ink)
    mask = require_ink(ink_mask(ink))
    labels, boxes, sizes = _components(mask)
    main = int(np.argmax(sizes))
    keep = [
        k + 1
        for k, (box, size) in enumerate(zip(boxes, sizes, strict=True))
        if k == main or _belongs(box, size, boxes[main], sizes[main], mask.shape)
    ]
    mask = np.isin(labels, keep)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    return keep_ink(ink, mask)[box], mask[box]


def _disk_dilation(mask, radius):
    return ndimage.distance_transform_edt(~mask) <= radius


def normalise_stroke(digit, mask, resolved=True):
    """Bring strokes far from MNIST's width towards it; others are left alone.

    Strokes thinner than :data:`THIN` of MNIST's width (a fine pen, 1-px
    canvas lines) are widened, and strokes wider than :data:`BOLD` times it
    (a broad marker) narrowed, both by a disk (round, as a pen's tip); the
    new strokes are solid ink with soft edges. Strokes near MNIST's width are
    kept as they are: evening them out costs accuracy
    (``benchmarks/stroke_rule.py``). ``resolved=False`` (a capture smaller
    than MNIST's box, enlarged) leaves wide strokes alone: there, width is
    blur, not a broad pen.
    """
    side = max(digit.shape)
    target = STROKE_FRACTION * side
    width = stroke_width(mask)
    if THIN * target <= width and (width <= BOLD * target or not resolved):
        return digit
    if width < target:
        new = _disk_dilation(mask, max(0.5, (target - width) / 2))
    else:
        distance = ndimage.distance_transform_edt(mask)
        new = distance > (width - target) / 2
        if not new.any():
            return digit
    soft = ndimage.gaussian_filter(new.astype(np.float32), max(0.5, 0.1 * target))
    return soft / max(float(soft.max()), 1e-6)


def _resize(array, shape, box=False):
    """``array`` (values in [0, 1]) resized: Lanczos, or block means (``box``)."""
    Image, _ = pil()
    img = Image.fromarray(np.clip(array, 0, 1).astype(np.float32), mode="F")
    method = Image.Resampling.BOX if box else Image.Resampling.LANCZOS
    img = img.resize((shape[1], shape[0]), method)
    return np.clip(np.asarray(img, dtype=np.float32), 0, 1)


def _fit_box(digit, box):
    """The digit scaled so its longer side is ``box`` pixels, with a margin."""
    h, w = digit.shape
    scale = box / max(h, w)
    shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    pad = max(h, w) // 4  # margin so resampling does not clip the strokes
    big = (shape[0] + 2 * round(pad * scale), shape[1] + 2 * round(pad * scale))
    return _resize(np.pad(digit, pad), big)


def at_work_scale(digit, mask):
    """``(digit, mask, resolved)``: the crop and its mask with the longer side
    :data:`WORK_SIDE` pixels, so that strokes are measured and changed alike
    in an 8-pixel crop and a 2,000-pixel one; ``resolved`` is False for a
    crop smaller than twice MNIST's box, whose strokes are blurred by the
    enlargement."""
    h, w = digit.shape
    resolved = max(h, w) >= 40
    scale = WORK_SIDE / max(h, w)
    shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    if shape == digit.shape:
        return digit, mask, resolved
    digit = _resize(digit / max(float(digit.max()), 1e-6), shape)
    if scale < 1:  # a block is ink where any of its pixels is: hairlines stay
        mask = _resize(mask.astype(np.float32), shape, box=True) > 0.05
    else:
        mask = ink_mask(digit) if digit.max() > 0 else digit > 0
    return digit, mask, resolved


def _sharpened(digit):
    """An enlarged crop's ink without the faint fringe enlargement spreads
    around its strokes: values under :data:`FRINGE` of the peak are dropped
    and the rest stretched back to [0, 1]."""
    return np.clip((digit - FRINGE) / (1 - FRINGE), 0, 1)


def to_mnist(digit, mask, side=28, box=20):
    """MNIST-style ``(side, side)`` 0-255 image from one digit's ink crop.

    A crop smaller than the ``box`` is enlarged, which spreads each stroke's
    edge over many pixels; its faint fringe is dropped
    (:func:`_sharpened`)."""
    enlarged = max(digit.shape) < box
    digit = normalise_stroke(*at_work_scale(digit, mask))
    if enlarged:
        digit = _sharpened(digit)
    digit = _fit_box(digit, box)
    canvas = np.zeros((side + 2 * digit.shape[0], side + 2 * digit.shape[1]))
    cy, cx = ndimage.center_of_mass(digit)
    top = round(canvas.shape[0] / 2 - cy)
    left = round(canvas.shape[1] / 2 - cx)
    canvas[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    oy, ox = (canvas.shape[0] - side) // 2, (canvas.shape[1] - side) // 2
    out = canvas[oy : oy + side, ox : ox + side]
    return np.clip(out / max(out.max(), 1e-12), 0, 1) * 255.0


def to_digits8(digit, mask):
    """sklearn-digits-style 8x8 image with values 0-16 from one digit's ink crop.

    Only thin strokes are widened: the 4x4 block sums of the 8x8 geometry
    keep little of a stroke's width, and thinning a blocky, enlarged 8x8
    digit breaks it."""
    digit, mask, _ = at_work_scale(digit, mask)
    digit = normalise_stroke(digit, mask, resolved=False)
    h, w = digit.shape
    scale = 32 / max(h, w)
    shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    resized = _resize(digit, shape)
    frame = np.zeros((32, 32))
    top, left = (32 - shape[0]) // 2, (32 - shape[1]) // 2
    frame[top : top + shape[0], left : left + shape[1]] = resized > 0.35
    return frame.reshape(8, 4, 8, 4).sum(axis=(1, 3))


def square_side(input_shape):
    """The side of a model's square grayscale input (else a ValueError)."""
    if len(input_shape) != 3 or input_shape[0] != 1 or input_shape[1] != input_shape[2]:
        raise ValueError(
            f"the model expects inputs of shape {tuple(input_shape)}, not square "
            "grayscale images; it cannot classify image files"
        )
    return input_shape[1]


def check_shape(input_shape):
    """``(channels, height, width)`` from a shape or a fitted model."""
    shape = getattr(input_shape, "input_shape_", input_shape)
    try:
        shape = tuple(int(v) for v in shape)
    except (TypeError, ValueError):
        shape = None
    if shape is None or len(shape) != 3:
        raise ValueError(
            "input_shape must be (channels, height, width) or a fitted model, "
            f"not {input_shape!r}"
        )
    return shape


def crop_to_features(digit, mask, input_shape):
    """Feature row from one digit's ink crop (bright ink) and its ink mask."""
    side = square_side(input_shape)
    if side == 8:
        return to_digits8(digit, mask).ravel()
    return to_mnist(digit, mask, side=side, box=round(side * 20 / 28)).ravel()
