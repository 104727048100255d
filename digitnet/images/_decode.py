"""Decoding: any image a user has, as a small grayscale array, at bounded cost.

:func:`load_gray` takes a path, bytes, a file object, a PIL image or an array
and returns luminance in [0, 1] (float32), EXIF orientation applied. An image
larger than :data:`MAX_SIDE` pixels is reduced while it is decoded, still in
its own integer mode (JPEG decodes at a lower scale; 8-bit and 16-bit images
are box-averaged by Pillow), so no float copy of the full image is ever made.
Transparent canvases get a background that contrasts with their strokes.
"""

import io
import os

import numpy as np

IMAGES_HINT = "install the images extra: pip install 'digitnet[images]'"

#: Longest side kept when reading an image: a digit needs no more to be read,
#: and a 48 MP photo or a 9400x9400 scan then costs a fraction of the memory.
MAX_SIDE = 1024
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L")


def pil():
    """Pillow's ``(Image, ImageOps)``, or an ImportError that says what to install."""
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:
        raise ImportError(f"Reading image files needs Pillow; {IMAGES_HINT}") from exc
    return Image, ImageOps


def _reduced(img, Image):
    """``img`` reduced to at most :data:`MAX_SIDE` pixels a side, in its own mode.

    JPEG decodes at a lower scale (``draft``); other images are box-averaged:
    ``reduce`` for 8-bit modes, ``resize`` with a box filter for 16-bit and
    32-bit ones (which ``reduce`` does not take).
    """
    if max(img.size) <= MAX_SIDE:
        return img
    if img.format == "JPEG":
        factor = max(img.size) // MAX_SIDE
        img.draft(img.mode, (img.size[0] // factor, img.size[1] // factor))
    if max(img.size) <= MAX_SIDE:
        return img
    scale = MAX_SIDE / max(img.size)
    size = (max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale)))
    if img.mode in (*_SIXTEEN_BIT, "I", "F"):
        return img.resize(size, Image.Resampling.BOX)
    factor = -(-max(img.size) // MAX_SIDE)
    return img.reduce(factor)


def _gray_array(img):
    """Luminance in [0, 1] (float32); 16-bit and 32-bit images keep their range."""
    if img.mode in (*_SIXTEEN_BIT, "I", "F"):
        values = np.asarray(img, dtype=np.float32)
        top = 65535.0 if img.mode in _SIXTEEN_BIT else max(float(values.max()), 1.0)
        if img.mode in ("I", "F") and values.max() <= 255:
            top = 255.0
        return np.clip(values / top, 0, 1)
    return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


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
    img = ImageOps.exif_transpose(_reduced(img, Image))
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        img = _flatten_alpha(img, Image)
    return _gray_array(img)


def read_image(source, *, with_scale=False):
    """Grayscale image in [0, 1] from an image file, its bytes or a PIL image.

    ``source`` is a path, a binary file object, ``bytes`` or a
    ``PIL.Image.Image``. ``with_scale=True`` also returns the original size
    over the returned one (1.0 unless the image was reduced).
    """
    Image, ImageOps = pil()
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


def gray_from_array(array):
    """Grayscale [0, 1] image from a 2-D gray or 3-D RGB(A) array."""
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"image must hold numbers, not values of dtype {array.dtype}")
    if array.ndim == 3 and array.shape[2] in (3, 4):
        Image, _ = pil()
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
    step = -(-max(array.shape) // MAX_SIDE)
    if step > 1:  # block means, in row bands so no float copy of it all is made
        h, w = array.shape[0] // step * step, array.shape[1] // step * step
        array = np.concatenate(
            [
                array[r : min(r + step * 64, h), :w]
                .reshape(-1, step, w // step, step)
                .mean(axis=(1, 3), dtype=np.float32)
                for r in range(0, h, step * 64)
            ]
        )
    top = 1.0 if array.max() <= 1 else (65535.0 if array.max() > 255 else 255.0)
    return np.clip(array.astype(np.float32) / np.float32(top), 0, 1)


def load_gray(image, *, with_scale=False):
    """Grayscale [0, 1] image from anything :func:`preprocess_image` accepts.

    ``with_scale=True`` also returns the original size over the returned one.
    """
    if isinstance(image, np.ndarray):
        gray = gray_from_array(image)
        scale = max(image.shape[:2]) / max(gray.shape)
        return (gray, scale) if with_scale else gray
    return read_image(image, with_scale=with_scale)
