"""Segmentation of one line of handwritten digits into single-digit pieces.

Steps, on the ink map of :mod:`digitnet._images` (either polarity, uneven
light removed): threshold; estimate the digit height and stroke width;
remove ruled lines and underlines (thin horizontal runs much longer than a
digit is tall; digits crossing them are rejoined below); drop specks; group
connected components that share columns into one digit (the bar of a 5 or a
7, a 4 written in two strokes, a stroke broken by a line); and for groups too
wide for one digit, propose cut columns where the ink is thinnest (touching
digits). :mod:`digitnet._reading` chooses among the cuts with the model.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ._images import _ink_map, _stroke_width, ink_mask
from .exceptions import BlankImageError

#: A group wider than this many digit heights may hold several digits.
SPLIT_ASPECT = 1.0
#: Typical width of one digit, in digit heights, for the number of cuts.
DIGIT_ASPECT = 0.7


@dataclass(frozen=True)
class Group:
    """Ink that belongs together: ``mask`` is the group's pixels in the image."""

    rows: slice
    cols: slice
    mask: np.ndarray  # boolean, the shape of (rows, cols)

    @property
    def height(self):
        return self.rows.stop - self.rows.start

    @property
    def width(self):
        return self.cols.stop - self.cols.start

    def part(self, start, stop):
        """The sub-group of columns ``[start, stop)`` (relative), trimmed to its ink."""
        mask = np.zeros_like(self.mask)
        mask[:, start:stop] = self.mask[:, start:stop]
        return _trimmed(mask, self.rows.start, self.cols.start)


@dataclass(frozen=True)
class Page:
    """The segmented image: ink, digit height, stroke width and the groups."""

    ink: np.ndarray
    height: float
    stroke: float
    groups: list


def _trimmed(mask, top, left):
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    r, c = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
    return Group(
        slice(top + r.start, top + r.stop),
        slice(left + c.start, left + c.stop),
        mask[r, c],
    )


def _ink_mask(ink):
    mask = ink_mask(ink)
    if not mask.any():
        raise BlankImageError("the image holds no visible ink (it is blank)")
    return mask


def _components(mask):
    labels, _n = ndimage.label(mask, structure=np.ones((3, 3)))
    boxes = ndimage.find_objects(labels)
    return labels, [(i + 1, box) for i, box in enumerate(boxes) if box is not None]


def _digit_height(mask, stroke):
    """Median height of the components that are more than a stroke tall."""
    _, comps = _components(mask)
    heights = [b[0].stop - b[0].start for _, b in comps]
    tall = [h for h in heights if h > 3 * stroke]
    return float(np.median(tall)) if tall else float(max(heights))


def remove_lines(mask, height, stroke):
    """``mask`` without thin horizontal runs longer than 1.5 digit heights."""
    length = max(10, round(1.5 * height))
    if length >= mask.shape[1]:
        return mask
    lines = ndimage.binary_opening(mask, structure=np.ones((1, length)))
    thick = max(3, round(2.5 * stroke) + 2)
    if thick < mask.shape[0]:
        lines &= ~ndimage.binary_opening(lines, structure=np.ones((thick, 1)))
    lines = ndimage.binary_dilation(lines, structure=np.ones((3, 1))) & mask
    return mask & ~lines


def _overlap(a, b):
    """Shared columns of two groups over the narrower one's width."""
    shared = min(a.cols.stop, b.cols.stop) - max(a.cols.start, b.cols.start)
    return shared / max(1, min(a.width, b.width))


def _merge(a, b):
    rows = slice(min(a.rows.start, b.rows.start), max(a.rows.stop, b.rows.stop))
    cols = slice(min(a.cols.start, b.cols.start), max(a.cols.stop, b.cols.stop))
    mask = np.zeros((rows.stop - rows.start, cols.stop - cols.start), dtype=bool)
    for g in (a, b):
        r0, c0 = g.rows.start - rows.start, g.cols.start - cols.start
        mask[r0 : r0 + g.height, c0 : c0 + g.width] |= g.mask
    return Group(rows, cols, mask)


def group_components(mask, height):
    """Components merged while two of them share most of their columns.

    Components of fewer than 4 pixels (noise) are dropped first: a noisy photo
    has thousands, and merging compares groups pairwise. Larger specks are
    dropped after grouping, since small pieces of a digit join it there.
    """
    labels, comps = _components(mask)
    groups = [Group(r, c, labels[r, c] == i) for i, (r, c) in comps]
    groups = [g for g in groups if g.mask.sum() >= 4]
    groups.sort(key=lambda g: g.cols.start)
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                a, b = groups[i], groups[j]
                small = min(a.height, b.height) < 0.5 * height
                if _overlap(a, b) >= (0.3 if small else 0.6):
                    groups[i] = _merge(a, b)
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return groups


def _gap(a, b):
    """Horizontal distance between two groups (0 when their columns overlap)."""
    return max(0, max(a.cols.start, b.cols.start) - min(a.cols.stop, b.cols.stop))


def attach_fragments(groups, height):
    """Join pieces too short to be a digit to their nearest neighbour.

    Broken strokes (the bar of a 5 beside its body, a stroke cut by a ruled
    line) are shorter than any digit; pieces with no neighbour within half a
    digit height are dropped as marks.
    """
    groups = sorted(groups, key=lambda g: g.cols.start)
    while True:
        short = [i for i, g in enumerate(groups) if g.height < 0.6 * height]
        if not short or len(groups) == 1:
            return groups
        i = min(short, key=lambda k: groups[k].height)
        others = [j for j in range(len(groups)) if j != i]
        j = min(others, key=lambda k: _gap(groups[i], groups[k]))
        if _gap(groups[i], groups[j]) > 0.5 * height:
            del groups[i]
            continue
        merged = _merge(groups[i], groups[j])
        groups = [g for k, g in enumerate(groups) if k not in (i, j)] + [merged]
        groups.sort(key=lambda g: g.cols.start)


def _is_speck(group, height, stroke):
    """Too small in both directions to be a digit or a part of one."""
    small = max(group.height, group.width) < 0.3 * height
    return small or group.mask.sum() < stroke * stroke


def segment(gray):
    """A :class:`Page` of ``gray`` (a 2-D [0, 1] image); no ink: BlankImageError."""
    mask = _ink_mask(_ink_map(gray))
    height = _digit_height(mask, _stroke_width(mask))
    # Again with a background window wider than any stroke of digits this tall.
    ink = _ink_map(gray, size=round(height))
    mask = _ink_mask(ink)
    stroke = _stroke_width(mask)
    height = _digit_height(mask, stroke)
    mask = remove_lines(mask, height, stroke)
    groups = [
        g for g in group_components(mask, height) if not _is_speck(g, height, stroke)
    ]
    if not groups:
        raise BlankImageError("the image holds no digit-sized ink")
    groups = attach_fragments(groups, height)
    height = float(np.median([g.height for g in groups]))
    return Page(ink, height, stroke, groups)


def cut_options(group, height):
    """Ways to cut ``group`` into digits: lists of column cuts, uncut first.

    Every group is offered uncut; one wider than :data:`SPLIT_ASPECT` digit
    heights is also offered cut into each plausible number of digits, at the
    columns with the least ink near evenly spaced positions.
    """
    width = group.width
    options = [[]]
    if width <= SPLIT_ASPECT * height:
        return options
    profile = ndimage.uniform_filter1d(group.mask.sum(axis=0).astype(float), size=3)
    most = max(2, round(width / (DIGIT_ASPECT * height)) + 1)
    for k in range(2, most + 1):
        if width / k < 0.2 * height:
            break
        cuts = []
        for i in range(1, k):
            centre = i * width / k
            lo = max(1, int(centre - 0.35 * width / k))
            hi = min(width - 1, int(centre + 0.35 * width / k) + 1)
            if hi <= lo:
                break
            offset = np.abs(np.arange(lo, hi) - centre) / width
            cuts.append(lo + int(np.argmin(profile[lo:hi] + offset)))
        if len(cuts) == k - 1 and cuts == sorted(set(cuts)):
            options.append(cuts)
    return options
