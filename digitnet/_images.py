"""Turn photos and scans of handwritten digits into model input, as MNIST was made.

Steps: grayscale (EXIF orientation applied); ink made bright on a dark
background whatever the polarity; uneven lighting and paper texture removed by
subtracting a smooth background estimate; specks and margins dropped (only
ink components of a sizeable fraction of the largest are kept); strokes
brought to MNIST's width; the ink's bounding box scaled into a 20x20 box
keeping its aspect ratio and centred by centre of mass in 28x28. For the 8x8
digits geometry the digit fills a 32x32 frame whose 4x4 blocks are averaged
into 0-16 values, the way those images were made.
"""

import io
import os

import numpy as np
from scipy import ndimage

from .exceptions import BlankImageError

IMAGES_HINT = "install the images extra: pip install 'digitnet[images]'"

#: Stroke width as a fraction of the digit's box side (MNIST: ~2.5 px of 20).
_STROKE_FRACTION = 2.5 / 20
#: Strokes thinner than this share of that width are thickened.
_THIN = 0.5


def _pil():
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:
        raise ImportError(f"Reading image files needs Pillow; {IMAGES_HINT}") from exc
    return Image, ImageOps


#: Longest side kept when reading an image: a digit needs no more to be read,
#: and a 48 MP photo or a 10000x10000 scan then costs a fraction of the memory.
MAX_SIDE = 1024


def _shrink(img):
    """Reduce ``img`` early: JPEG decodes at a lower scale, others by blocks."""
    factor = max(img.size) // MAX_SIDE
    if factor < 2:
        return img
    if img.format == "JPEG":
        img.draft(img.mode, (img.size[0] // factor, img.size[1] // factor))
        factor = max(img.size) // MAX_SIDE
    if factor >= 2 and img.mode not in ("I;16", "I;16B", "I;16L"):
        img = img.reduce(factor)
    return img


def _gray_array(img):
    """Luminance in [0, 1]; 16-bit and 32-bit images keep their full range."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") else max(values.max(), 1.0)
        if img.mode in ("I", "F") and values.max() <= 255:
            top = 255.0
        return np.clip(values / top, 0, 1)
    return np.asarray(img.convert("L"), dtype=np.float32).astype(np.float64) / 255.0


def _flatten_alpha(img, Image):
    """Lay a transparent image on a background that contrasts with its ink.

    Canvas exports draw opaque strokes on a transparent background: dark
    strokes (light mode) or light ones (dark mode). The strokes' own
    brightness picks the background, so neither kind reads as blank. Where
    the opaque part holds both dark and light pixels (strokes on an opaque
    backdrop, framed by transparency), the transparency continues the
    backdrop: the opaque part's majority shade.
    """
    rgba = img.convert("RGBA")
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
    if alpha.min() > 0.99:  # opaque after all
        return rgba.convert("RGB")
    lum = np.asarray(rgba.convert("L"), dtype=np.float32) / 255.0
    opaque = lum[alpha > 0.5]
    light = float((opaque > 0.5).mean()) if opaque.size else 0.0
    if 0.02 < light < 0.98:  # a backdrop and strokes
        shade = 255 if light > 0.5 else 0
    else:  # strokes alone: the contrasting shade
        shade = 0 if light > 0.5 else 255
    background = Image.new("RGBA", rgba.size, (shade, shade, shade, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _gray_from_pil(img, Image, ImageOps):
    img = _shrink(img)
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        img = _flatten_alpha(img, Image)
    gray = _gray_array(img)
    if max(gray.shape) > 2 * MAX_SIDE:  # 16-bit files are reduced here
        step = max(gray.shape) // MAX_SIDE
        gray = gray[: gray.shape[0] // step * step, : gray.shape[1] // step * step]
        gray = gray.reshape(gray.shape[0] // step, step, -1, step).mean(axis=(1, 3))
    return gray


def read_image(source, *, with_scale=False):
    """Grayscale float image in [0, 1] from an image file, its bytes or a PIL image.

    ``source`` is a path, a binary file object, ``bytes`` or a
    ``PIL.Image.Image``. EXIF orientation is applied; images larger than
    :data:`MAX_SIDE` pixels are reduced while they are decoded (bounded memory
    and time); transparent canvases get a background that contrasts with their
    strokes; 16-bit files keep their range. ``with_scale=True`` also returns
    the original size over the returned one (1.0 unless the image was reduced).
    """
    Image, ImageOps = _pil()
    if isinstance(source, Image.Image):
        gray = _gray_from_pil(source, Image, ImageOps)
        return (gray, max(source.size) / max(gray.shape)) if with_scale else gray
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    named = isinstance(source, str | os.PathLike)
    try:
        img = Image.open(source)
    except Image.UnidentifiedImageError as exc:
        if named:  # Pillow's message names the file
            raise ValueError(str(exc)) from exc
        raise ValueError(
            "cannot identify image file: the data is not an image Pillow can read"
        ) from exc
    except Image.DecompressionBombError as exc:
        raise ValueError(f"{source if named else 'the image'}: {exc}") from exc
    with img:
        try:
            gray = _gray_from_pil(img, Image, ImageOps)
            return (gray, max(img.size) / max(gray.shape)) if with_scale else gray
        except (OSError, Image.DecompressionBombError) as exc:  # truncated, bombs
            what = source if named else "the data"
            raise ValueError(f"{what} could not be decoded as an image: {exc}") from exc


def _gray_from_array(array):
    """Grayscale [0, 1] image from a 2-D gray or 3-D RGB(A) array."""
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"image must hold numbers, not values of dtype {array.dtype}")
    if array.ndim == 3 and array.shape[2] in (3, 4):
        Image, _ = _pil()
        if array.dtype.kind == "f":
            array = np.clip(array * (255.0 if array.max() <= 1 else 1.0), 0, 255)
        return read_image(Image.fromarray(array.astype(np.uint8)))
    if array.ndim != 2:
        raise ValueError(
            "image must be a 2-D grayscale array or an (height, width, 3 or 4) "
            f"colour array, not an array of shape {array.shape}"
        )
    if not np.isfinite(array).all():
        raise ValueError("image contains NaN or infinity")
    if min(array.shape) < 2:
        raise ValueError(f"image of shape {array.shape} is too small to hold a digit")
    top = 1.0 if array.max() <= 1 else (65535.0 if array.max() > 255 else 255.0)
    return np.clip(array.astype(np.float64) / top, 0, 1)


def _background(gray, size, fill):
    """Background brightness: a grey opening wider than any stroke.

    The opening removes bright strokes and keeps lighting gradients, shadows
    (whose edges an opening preserves) and paper texture. The image is padded
    with ``fill`` first, so that a stroke along an edge is not taken for
    background. Big photos are estimated on a reduced copy.
    """
    small = max(1, min(gray.shape) // 256)
    pad, window = max(1, size // small), max(3, size // small)
    reduced = np.pad(gray[::small, ::small], pad, constant_values=fill)
    background = ndimage.grey_opening(reduced, size=window)[pad:-pad, pad:-pad]
    if small > 1:
        Image, _ = _pil()
        img = Image.fromarray(background.astype(np.float32), mode="F")
        img = img.resize(gray.shape[::-1], Image.Resampling.BILINEAR)
        background = np.asarray(img, dtype=np.float64)
    return background


def _ink_peak(ink):
    """Ink value of a solid stroke: a high percentile of what stands above noise.

    The noise level is a robust (median absolute deviation) estimate, so thin
    strokes covering a tiny share of a big image still set the scale.
    """
    sample = ink[:: max(1, ink.shape[0] // 256), :: max(1, ink.shape[1] // 256)]
    centre = np.median(sample)
    noise = 1.4826 * np.median(np.abs(sample - centre))
    above = ink[ink > centre + max(6 * noise, 0.02)]
    return float(np.percentile(above, 98)) if above.size else 0.0


def _polarity(gray):
    """``(dark_ink, background_level)`` of a grayscale image.

    The image's border is mostly background: ink is dark when the border's
    median lies nearer the brightest value than the darkest one, which holds
    for dim photos as for bright scans.
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    level = float(np.median(border))
    return bool(level - gray.min() > gray.max() - level), level


def _ink_map(gray, size=None):
    """Ink intensity in [0, 1], bright ink on a flat dark background.

    ``size``: width of the background estimate's window, which must exceed
    any stroke (default: an eighth of the image's shorter side). Dark ink on
    light paper is divided by the paper's brightness, since its contrast
    falls with the light (shadows); light ink on a dark board is measured
    above the board.
    """
    size = max(3, min(gray.shape) // 8 if size is None else size)
    paper, fill = _polarity(gray)
    if paper:
        gray, fill = 1.0 - gray, 1.0 - fill
    background = _background(gray, size, fill)
    ink = np.clip(gray - background, 0, None)
    if paper:
        ink /= np.clip(1.0 - background, 0.05, None)
    peak = _ink_peak(ink)
    if peak <= 0:
        raise BlankImageError("the image holds no visible ink (it is blank)")
    return np.clip(ink / peak, 0, 1)


def ink_mask(ink):
    """The ink pixels of an ink map: above Otsu's threshold, and at least 0.2."""
    return ink > max(_otsu(ink), 0.2)


def _digit_ink(gray):
    """Ink map and ink mask of a one-digit image, with a background window
    wider than its strokes.

    The default window (an eighth of the image) can be as narrow as a marker
    stroke in a tight crop, which would then count partly as background: when
    the first map's strokes are wider than a third of it, the map is made
    again with a window three strokes wide.
    """
    ink = _ink_map(gray)
    mask = ink_mask(ink)
    size = round(3 * _stroke_width(mask))
    if size > min(gray.shape) // 8:
        ink = _ink_map(gray, size=size)
        mask = ink_mask(ink)
    return ink, mask


def _otsu(values):
    """Otsu's threshold of an image's values (of a sample of a big one)."""
    step = max(1, int(np.sqrt(values.size / 250_000)))
    sample = values[::step, ::step] if values.ndim == 2 else values[::step]
    hist, edges = np.histogram(sample, bins=64, range=(0, 1))
    centers = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(hist)
    total = weight[-1]
    mean = np.cumsum(hist * centers)
    between = (mean[-1] * weight - mean * total) ** 2 / np.maximum(
        weight * (total - weight), 1
    )
    return centers[np.argmax(between)]


def _straight_runs(mask, length):
    """Pixels of horizontal runs of at least ``length`` ink pixels.

    The binary opening of ``mask`` by a ``(1, length)`` line, found from run
    starts and ends, in time independent of ``length``.
    """
    rows, width = mask.shape
    padded = np.zeros((rows, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    flat = padded.ravel()
    change = np.diff(flat)
    starts, ends = np.flatnonzero(change == 1) + 1, np.flatnonzero(change == -1) + 1
    long = (ends - starts) >= length
    events = np.zeros(flat.size + 1, dtype=np.int32)
    events[starts[long]] += 1  # unique: a run ends on a 0, starts on a 1
    events[ends[long]] -= 1
    runs = np.cumsum(events[:-1]).reshape(rows, width + 2) > 0
    return runs[:, 1:-1]


def _ruling(mask, axis):
    """Lines of ruled or squared paper in ``mask``: horizontal (axis 0) or vertical.

    Straight runs across 60% of the image, when there are at least two
    parallel ones: a digit has at most one stroke that long and straight (a
    7's bar, a 1 in a tight crop), paper ruling repeats.
    """
    length = max(3, round(0.6 * mask.shape[1 - axis]))
    lines = _straight_runs(mask if axis == 0 else mask.T, length)
    lines = lines if axis == 0 else lines.T
    _, n = ndimage.label(lines)
    if n < 2:
        return np.zeros_like(mask)
    across = (3, 1) if axis == 0 else (1, 3)  # and their blurred edges
    return ndimage.binary_dilation(lines, structure=np.ones(across)) & mask


def _digit_crop(ink, mask):
    """Crop to the digit: drop paper ruling and specks from the ink ``mask``,
    then take the bounding box of what is left."""
    mask = mask & ~(_ruling(mask, 0) | _ruling(mask, 1))
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if n == 0:
        raise BlankImageError("the image holds no visible ink (it is blank)")
    sizes = ndimage.sum_labels(mask, labels, index=np.arange(1, n + 1))
    keep = np.flatnonzero(sizes >= 0.15 * sizes.max()) + 1
    mask = np.isin(labels, keep)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    digit = np.where(ndimage.binary_dilation(mask, iterations=2), ink, 0)[box]
    return digit, mask[box]


def _stroke_width(mask):
    """Typical stroke width in pixels: twice the mean ridge distance to the edge.

    Masks over 512 pixels on their shorter side are measured on a max-pooled
    copy (a stroke survives pooling, whatever its width), which overstates
    the width by at most the pooling step.
    """
    step = max(1, min(mask.shape) // 512)
    if step > 1:
        h, w = (mask.shape[0] // step) * step, (mask.shape[1] // step) * step
        mask = mask[:h, :w].reshape(h // step, step, w // step, step).any(axis=(1, 3))
    distance = ndimage.distance_transform_edt(mask)
    ridge = distance[(distance > 0) & (distance >= ndimage.maximum_filter(distance, 3))]
    return step * (2.0 * float(np.mean(ridge)) if ridge.size else 1.0)


def _normalise_stroke(digit, mask):
    """Thicken thin pen lines and 1-px canvas strokes towards MNIST's width.

    Only strokes thinner than half of MNIST's width are changed: evening out
    strokes that are already near it (or thick marker, which the resampling
    to 20x20 thins anyway) costs accuracy. Measured with the fast preset on
    1,000 MNIST test digits put through this preprocessing: 98.9% with this
    rule, 88.6% when every stroke was brought to the target width
    (``benchmarks/stroke_rule.py``).
    """
    side = max(digit.shape)
    target = _STROKE_FRACTION * side
    width = _stroke_width(mask)
    if width >= _THIN * target:
        return digit
    steps = round((target - width) / 2)
    if steps > 0:
        digit = ndimage.grey_dilation(digit, size=(2 * steps + 1, 2 * steps + 1))
    return digit


def _resize(array, shape):
    Image, _ = _pil()
    img = Image.fromarray((np.clip(array, 0, 1) * 255).astype(np.uint8))
    img = img.resize((shape[1], shape[0]), Image.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.float64) / 255.0


def _fit_box(digit, box):
    h, w = digit.shape
    scale = box / max(h, w)
    shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    pad = max(h, w) // 4  # margin so resampling does not clip the strokes
    padded = np.pad(digit, pad)
    big = (shape[0] + 2 * round(pad * scale), shape[1] + 2 * round(pad * scale))
    out = _resize(padded, big)
    return out


def _mnist_from_crop(digit, mask, side=28, box=20):
    """MNIST-style ``(side, side)`` 0-255 image from one digit's ink crop."""
    digit = _normalise_stroke(digit, mask)
    digit = _fit_box(digit, box)
    canvas = np.zeros((side + 2 * digit.shape[0], side + 2 * digit.shape[1]))
    cy, cx = ndimage.center_of_mass(digit)
    top = round(canvas.shape[0] / 2 - cy)
    left = round(canvas.shape[1] / 2 - cx)
    canvas[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    oy, ox = (canvas.shape[0] - side) // 2, (canvas.shape[1] - side) // 2
    out = canvas[oy : oy + side, ox : ox + side]
    return np.clip(out / max(out.max(), 1e-12), 0, 1) * 255.0


def _digits8_from_crop(digit, mask):
    """sklearn-digits-style 8x8 image with values 0-16 from one digit's ink crop."""
    digit = _normalise_stroke(digit, mask)
    h, w = digit.shape
    scale = 32 / max(h, w)
    shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    resized = _resize(digit, shape)
    frame = np.zeros((32, 32))
    top, left = (32 - shape[0]) // 2, (32 - shape[1]) // 2
    frame[top : top + shape[0], left : left + shape[1]] = resized > 0.35
    return frame.reshape(8, 4, 8, 4).sum(axis=(1, 3))


def to_mnist(gray, side=28, box=20):
    """MNIST-style ``(side, side)`` image with values 0-255 from a grayscale image."""
    return _mnist_from_crop(*_digit_crop(*_digit_ink(gray)), side=side, box=box)


def to_digits8(gray):
    """sklearn-digits-style 8x8 image with values 0-16 from a grayscale image."""
    return _digits8_from_crop(*_digit_crop(*_digit_ink(gray)))


def _square_side(input_shape):
    if len(input_shape) != 3 or input_shape[0] != 1 or input_shape[1] != input_shape[2]:
        raise ValueError(
            f"the model expects inputs of shape {tuple(input_shape)}, not square "
            "grayscale images; it cannot classify image files"
        )
    return input_shape[1]


def crop_to_features(digit, mask, input_shape):
    """Feature row from one digit's ink crop (bright ink) and its ink mask."""
    side = _square_side(input_shape)
    if side == 8:
        return _digits8_from_crop(digit, mask).ravel()
    return _mnist_from_crop(digit, mask, side=side, box=round(side * 20 / 28)).ravel()


def image_to_features(gray, input_shape):
    """Flat feature vector for a model whose samples have ``input_shape``."""
    side = _square_side(input_shape)
    if side == 8:
        return to_digits8(gray).ravel()
    return to_mnist(gray, side=side, box=round(side * 20 / 28)).ravel()


def load_gray(image, *, with_scale=False):
    """Grayscale [0, 1] image from anything :func:`preprocess_image` accepts.

    ``with_scale=True`` also returns the original size over the returned one.
    """
    if isinstance(image, np.ndarray):
        gray = _gray_from_array(image)
        return (gray, 1.0) if with_scale else gray
    return read_image(image, with_scale=with_scale)


def check_shape(input_shape):
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


def preprocess_image(image, input_shape=(1, 28, 28)):
    """Turn a photo, scan or drawing of one digit into a model's input row.

    The same preprocessing as ``digitnet predict`` and ``digitnet serve``:
    grayscale (EXIF orientation applied), either polarity made bright ink on
    a dark background, uneven light and paper texture removed, specks and
    margins dropped, strokes brought to MNIST's width, then the digit scaled
    into a 20x20 box centred by its centre of mass in 28x28, as MNIST was
    made (for 8x8 models: 0-16 block averages, as sklearn's digits were made).
    Transparent canvas exports, 16-bit scans and large photos (reduced while
    decoded) are handled.

    Parameters
    ----------
    image : str, os.PathLike, bytes, file object, PIL.Image.Image or ndarray
        An image file (path, its bytes or an open binary file), a PIL image, a
        2-D grayscale array (0-1 floats or 0-255 / 0-65535 integers) or an
        ``(height, width, 3 or 4)`` colour array.
    input_shape : tuple of int or fitted model, default=(1, 28, 28)
        ``(1, side, side)`` of the model's samples, or the model itself (its
        ``input_shape_`` is used).

    Returns
    -------
    features : ndarray of shape (side * side,)
        One row for ``model.predict``: 0-255 for MNIST-sized inputs, 0-16 for
        8x8 ones.

    Raises
    ------
    ValueError
        If the image holds no visible ink, cannot be read as an image, or the
        model does not take square grayscale images.

    Examples
    --------
    >>> import numpy as np
    >>> import digitnet
    >>> canvas = np.zeros((200, 200))
    >>> canvas[40:160, 95:105] = 1.0  # a "1" drawn as a white bar on black
    >>> row = digitnet.preprocess_image(canvas)
    >>> row.shape, float(row.max())
    ((784,), 255.0)
    """
    return image_to_features(load_gray(image), check_shape(input_shape))
