"""From a grayscale capture to its ink: bright ink on a flat dark background.

:func:`ink_map` finds which side is ink (either polarity), removes the
background (uneven light, shadows, paper grain) with a grey opening wider than
any stroke, and scales the ink so a solid stroke is 1. Salt-and-pepper noise
is filtered out first. Whether an image holds ink at all is decided here and
only here (:func:`require_ink`), by the same rule for a single digit and for
a line or a page: some pixels must stand out of the background's noise, and
some ink must remain once specks are set aside.

:func:`ink_mask` thresholds an ink map; :func:`keep_ink` keeps the ink under
a mask (slightly widened, for anti-aliased edges); :func:`stroke_width`
measures strokes; :func:`remove_ruling` takes printed lines out of an ink map.
"""

import numpy as np
from scipy import ndimage

from ..exceptions import BlankImageError

#: The message of every "blank" refusal.
BLANK = "the image holds no visible ink (it is blank)"
#: Ink must stand this far (in the image's [0, 1] range) above the background.
MIN_CONTRAST = 0.04
#: Isolated impulses above this share of all impulses mark salt-and-pepper
#: noise.
_SPECKLED = 0.6


def otsu(values):
    """Otsu's threshold of an image's values in [0, 1] (of a sample of a big one)."""
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
    return float(centers[np.argmax(between)])


def _reduced(gray, side=256):
    """``gray`` block-averaged to about ``side`` pixels on its shorter side
    (a thin line survives averaging, fainter; it would vanish in a
    subsample)."""
    step = max(1, min(gray.shape) // side)
    if step == 1:
        return gray
    h, w = (gray.shape[0] // step) * step, (gray.shape[1] // step) * step
    return gray[:h, :w].reshape(h // step, step, w // step, step).mean(axis=(1, 3))


def _enlarged(small, shape):
    """``small`` (a reduced copy's estimate) brought back to ``shape`` by
    linear interpolation, its last rows and columns repeated where the
    reduction dropped a remainder."""
    if small.shape == shape:
        return small
    zoom = (shape[0] / small.shape[0], shape[1] / small.shape[1])
    big = ndimage.zoom(small, zoom, order=1, grid_mode=True, mode="nearest")
    big = big[: shape[0], : shape[1]]
    missing = [(0, max(0, a - b)) for a, b in zip(shape, big.shape, strict=True)]
    return np.pad(big, missing, mode="edge") if any(m for _, m in missing) else big


def _detrended(small):
    """``small`` less a wide blur of it (a Gaussian of a quarter of its
    shorter side, computed on a copy of about 64 pixels a side): what varies
    slowly (shadows, gradients of the light) is taken out, strokes stay."""
    coarse = _reduced(small, 64)
    blur = ndimage.gaussian_filter(coarse, min(coarse.shape) / 4, mode="nearest")
    return small - _enlarged(blur, small.shape)


def polarity(gray):
    """``(dark_ink, background_level)`` of a grayscale image.

    The border is mostly background, even in a tight crop or under a bold
    marker: ink is dark when the median of a band along the border (6% of
    the shorter side, so that a printed line along the edge does not
    decide) lies nearer the image's
    brightest value than its darkest one (robust extremes: the 0.05th and
    99.95th percentiles, which a one-pixel line still reaches and a few noisy
    pixels do not). This is judged on the image less a wide blur of it (a
    quarter of its shorter side), so that a shadow across the border or a
    gradient of the light does not decide. The level returned is the median
    of the image's own border.
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    small = _reduced(gray)
    flat = _detrended(small)
    band = max(1, round(0.06 * min(flat.shape)))
    edge = np.concatenate(
        [
            flat[:band].ravel(),
            flat[-band:].ravel(),
            flat[:, :band].ravel(),
            flat[:, -band:].ravel(),
        ]
    )
    middle = float(np.median(edge))
    low, high = np.percentile(flat, [0.05, 99.95])
    low, high = min(float(low), middle), max(float(high), middle)
    return bool(middle - low > high - middle), float(np.median(border))


def stroke_width(mask, percentile=50):
    """Typical stroke width in pixels: twice the median ridge distance to the
    edge (another ``percentile`` of it: 90 for the widest strokes), ridges
    under a quarter of the widest left out.

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
    if not ridge.size:
        return float(step)
    # Bumps on a ragged edge are ridges one pixel deep: beside strokes four
    # times as wide they are noise, not strokes.
    ridge = ridge[ridge >= 0.25 * np.percentile(ridge, 90)]
    return step * 2.0 * float(np.percentile(ridge, percentile))


def _despeckled(gray):
    """``gray`` median-filtered when it holds salt-and-pepper noise.

    Salt-and-pepper noise (a bad sensor, a fax) is impulses: pixels far
    (0.25) from the median of their 3x3 neighbourhood, scattered at random.
    When they are many (0.2% of the pixels) and as many of them are isolated
    (no impulse among their 8 neighbours) as random scattering leaves (60% of
    it, whatever the density), a 3x3 median removes them (5x5 when they
    are a tenth of the pixels or more); a stroke's pixels,
    even a one-pixel line's, have impulse neighbours along the stroke, and
    Gaussian grain makes no impulses, so other images are returned
    unchanged.
    """
    median = ndimage.median_filter(gray, size=3)
    impulses = np.abs(gray - median) > 0.25
    count = int(impulses.sum())
    if count < max(20, 0.002 * gray.size):
        return gray
    neighbours = ndimage.convolve(
        impulses.astype(np.uint8), np.ones((3, 3), np.uint8), mode="constant"
    )
    # Spread at random, impulses of density d are isolated with probability
    # (1 - d) ** 8; a stroke's are almost never isolated.
    isolated = int((impulses & (neighbours <= 1)).sum())
    density = count / gray.size
    if isolated < _SPECKLED * (1.0 - density) ** 8 * count:
        return gray
    return median if density < 0.1 else ndimage.median_filter(gray, size=5)


def _background(gray, size, fill):
    """Background brightness: a grey opening wider than any stroke.

    The opening removes bright strokes and keeps lighting gradients, shadows
    (whose edges an opening preserves) and paper texture. The image is padded
    with ``fill`` first, so that a stroke along an edge is not taken for
    background. Big images are estimated on a reduced copy.
    """
    small = max(1, min(gray.shape) // 256)
    pad, window = max(1, size // small), max(3, size // small)
    reduced = np.pad(gray[::small, ::small], pad, constant_values=fill)
    background = ndimage.grey_opening(reduced, size=window)[pad:-pad, pad:-pad]
    return _enlarged(background, gray.shape)


def _window(ink):
    """Width of the background window: three of the widest strokes (the 98th
    percentile of widths along the strokes, which long thin printed lines do
    not pull down) of a first, rough mask, and at least an eighth of the
    shorter side (the light of a photo varies slowly).

    The rough mask is Otsu's on the image less a wide blur of it (a quarter
    of the shorter side), so that shadows and gradients, smooth over that
    scale, are not taken for ink; a big image is measured on a copy reduced
    to about 256 pixels a side. Capped at a third of the shorter side;
    None for a small image (under 96 pixels) whose strokes fill it (a tight
    crop, a bold marker): its background is taken as flat.
    """
    short = min(ink.shape)
    small = _reduced(ink)
    step = short / min(small.shape)
    detrended = _detrended(small)
    detrended -= detrended.min()
    detrended /= max(float(detrended.max()), 1e-6)
    mask = detrended > otsu(detrended)
    size = max(3, short // 8)
    if mask.any():
        widest = step * stroke_width(mask, percentile=98)
        size = max(size, round(3 * widest) + 1)
    if 2 * size < short:
        return size
    return None if short < 96 else max(3, short // 3)


def _level(ink):
    """``(centre, noise)`` of the background of an ink map: robust estimates
    (median, median absolute deviation) over the pixels away from a rough
    ink mask (Otsu's threshold, widened by two pixels); in a tight crop with
    little background left, over the pixels below the threshold."""
    rough = ink > max(otsu(np.clip(ink, 0, 1)), MIN_CONTRAST)
    away = ~ndimage.binary_dilation(rough, iterations=2)
    if away.sum() >= 16:
        background = ink[away]
    elif (~rough).sum() >= 4:
        background = ink[~rough]
    else:
        background = np.sort(ink.ravel())[: max(1, ink.size // 10)]
    centre = float(np.median(background))
    return centre, 1.4826 * float(np.median(np.abs(background - centre)))


def _peak(ink):
    """``(peak, contrast)``: the ink value of a solid stroke, a high percentile
    of what stands out of the background's noise (:func:`_level`), and how
    far it stands above the background (0 when nothing does)."""
    centre, noise = _level(ink)
    above = ink[ink > centre + max(6 * noise, MIN_CONTRAST)]
    if not above.size:
        return 0.0, 0.0
    peak = float(np.percentile(above, 98))
    return peak, peak - centre


def _divided(ink, light):
    """``ink`` divided by the paper's brightness ``light``, less the noise
    that the division raises where the light is lower than is typical of the
    image (a shadow): three times the background's noise, times the extra
    gain."""
    gain = 1.0 / light
    _, noise = _level(ink)
    extra = np.clip(gain - float(np.median(gain)), 0, None)
    return np.clip(ink * gain - 3.0 * noise * extra, 0, None)


def ink_map(gray, window="auto"):
    """Ink intensity in [0, 1]: bright ink on a flat dark background.

    ``window``: width of the background estimate's window, which must exceed
    any stroke (``"auto"``: :func:`_window`; None: a flat background). Dark
    ink on light paper is divided by the paper's brightness, since its
    contrast falls with the light (shadows); light ink on a dark board is
    measured above the board. Raises :class:`BlankImageError` when no pixel
    stands out of the background.
    """
    gray = _despeckled(np.asarray(gray, dtype=np.float32))
    paper, fill = polarity(gray)
    if paper:
        gray, fill = 1.0 - gray, 1.0 - fill
    if window == "auto":
        window = _window(gray - gray.min())
    if window is None:
        rough = gray > max(otsu(gray), float(gray.min()) + MIN_CONTRAST)
        spread = ndimage.binary_dilation(rough, iterations=2)
        level = float(np.median(gray[~spread])) if (~spread).any() else fill
        background = np.full(gray.shape, min(level, fill), dtype=np.float32)
    else:
        background = _background(gray, window, fill)
    ink = np.clip(gray - background, 0, None)
    if paper:
        ink = _divided(ink, np.clip(1.0 - background, 0.05, None))
    peak, contrast = _peak(ink)
    if contrast < MIN_CONTRAST:
        raise BlankImageError(BLANK)
    return np.clip(ink / peak, 0, 1)


def ink_mask(ink):
    """The ink pixels of an ink map: above Otsu's threshold, and at least 0.2."""
    return ink > max(otsu(ink), 0.2)


def keep_ink(ink, mask, widen=2):
    """``ink`` where ``mask`` is, widened by ``widen`` pixels (anti-aliased
    edges of the strokes belong to them); 0 elsewhere."""
    keep = ndimage.binary_dilation(mask, iterations=widen) if widen else mask
    return np.where(keep, ink, 0.0)


def require_ink(mask, what="visible ink"):
    """``mask`` if it holds any ink, else :class:`BlankImageError` saying the
    image holds no ``what``."""
    if not np.any(mask):
        message = BLANK if what == "visible ink" else f"the image holds no {what}"
        raise BlankImageError(message)
    return mask


def straight_runs(mask, length):
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


def _line_bands(mask):
    """Bands of rows of ``mask`` that may be printed lines running along them.

    A line is long and thin: a band of rows covered at least 60% by ink, at
    most 3% of the image (or 2 pixels) thick, with much less ink (40 points
    less) just beyond it on both sides. One such band must cover 90% of the
    image; two or more (ruled or squared paper) 60%. Coverage, not one
    unbroken run, so that a line is found where strokes crowd it. Below 32
    pixels, none: a line and a stroke are too alike there.
    """
    height = mask.shape[0]
    cover = mask.mean(axis=1)
    thick = max(2, round(0.03 * height))
    if height < 32:
        return []  # a line and a stroke are a pixel or two alike
    bands, n = ndimage.label(cover >= 0.6)
    kept = []
    for band in range(1, n + 1):
        rows = np.flatnonzero(bands == band)
        if len(rows) > thick:
            continue
        beyond = [cover[r] for r in (rows[0] - 2, rows[-1] + 2) if 0 <= r < height]
        if cover[rows].max() - max(beyond, default=0.0) >= 0.4:
            kept.append(rows)
    if len(kept) == 1 and cover[kept[0]].max() < 0.9:
        return []  # one shorter straight stroke: a digit's
    return kept


def _rows(bands, size):
    rows = np.concatenate([np.r_[b - 1, b, b + 1] for b in bands])
    return np.clip(rows, 0, size - 1)


def _lines(ink, mask):
    """``(rows, columns)`` of the printed lines of an ink map and its mask.

    Candidate bands (:func:`_line_bands`) are lines when they are thinner
    than the pen (3/4 of the width of the ink left once all candidates are
    set aside) and either lighter than it (their ink under 90% of the pen's)
    or three or more (ruled or squared paper, whose lines may be as dark as
    a pale pen): printed rulings are fine and pale beside what is written on
    them. A handwritten stroke as long (a 7's bar in a tight crop) is as
    thick and as dark as the digit's other strokes (the darker quarter of the
    pen's ink, at its 75th percentile), and a digit has at most two.
    """
    across, down = _line_bands(mask), _line_bands(mask.T)
    if not across and not down:
        return [], []
    rest = mask.copy()
    if across:
        rest[_rows(across, mask.shape[0])] = False
    if down:
        rest[:, _rows(down, mask.shape[1])] = False
    if not rest.any():
        return [], []  # nothing but "lines": they are the digit
    pen = stroke_width(rest, percentile=75)
    dark = float(np.percentile(ink[rest], 75))

    ruled = len(across) + len(down) >= 3

    def printed(band, axis):
        inside = mask[band] if axis == 0 else mask[:, band]
        values = ink[band] if axis == 0 else ink[:, band]
        light = np.median(values[inside]) < 0.9 * dark
        return len(band) < 0.75 * pen and (light or ruled)

    return (
        [b for b in across if printed(b, 0)],
        [b for b in down if printed(b, 1)],
    )


def _fill_bands(ink, rows):
    """``ink`` with each band of ``rows`` (and a row either side) replaced by
    the lesser of the ink just above and just below it: a stroke crossing
    the band continues through it, a line with nothing beyond it vanishes.
    Pixels much darker than the line (a third above its median ink) are a
    stroke drawn along it, and stay."""
    out = ink.copy()
    bands, n = ndimage.label(np.isin(np.arange(ink.shape[0]), rows))
    for band in range(1, n + 1):
        found = np.flatnonzero(bands == band)
        top, bottom = max(0, found[0] - 1), min(ink.shape[0] - 1, found[-1] + 1)
        above = ink[top - 1] if top > 0 else np.zeros(ink.shape[1])
        below = ink[bottom + 1] if bottom + 1 < ink.shape[0] else np.zeros(ink.shape[1])
        line = float(np.median(ink[found].max(axis=0)))
        here = ink[top : bottom + 1]
        out[top : bottom + 1] = np.where(
            here > 1.33 * line, here, np.minimum(above, below)
        )
    return out


def remove_ruling(ink):
    """``ink`` without printed lines, horizontal or vertical (:func:`_lines`):
    their rows (columns) are filled from either side (:func:`_fill_bands`),
    so strokes that cross them stay whole."""
    across, down = _lines(ink, ink_mask(ink))
    if across:
        ink = _fill_bands(ink, np.concatenate(across))
    if down:
        ink = _fill_bands(ink.T, np.concatenate(down)).T
    return ink
