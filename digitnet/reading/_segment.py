"""Segmentation of one line of handwritten digits into single-digit pieces.

Steps, on the ink map of :mod:`digitnet.images` (either polarity, uneven
light removed): threshold; estimate the digit height and stroke width;
remove ruled lines and underlines (thin horizontal runs much longer than a
digit is tall; digits crossing them are rejoined below); drop specks; group
connected components that share columns into one digit (the bar of a 5 or a
7, a 4 written in two strokes, a stroke broken by a line); and for groups too
wide to be surely one digit, propose cuts (paths through the least ink, and
straight cuts) and the pieces between them. :mod:`digitnet._reading`
chooses among the pieces with the digit model and the piece model.
"""

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..exceptions import BlankImageError
from ..images._ink import ink_map, ink_mask, require_ink, stroke_width

#: A group wider than this many digit heights may hold several digits.
SPLIT_ASPECT = 0.6
#: Ink pixels a cut's path pays for each column it moves sideways.
SEAM_DRIFT = 0.7
#: Spacing, in digit heights, of the straight cuts tried besides the seams.
CUT_STEP = 0.1
#: A piece wider than this many digit heights is not one digit (MNIST's
#: widest digits are about 1.4 heights wide).
MAX_ASPECT = 1.6
#: A group up to this wide may also be one digit, whatever its cuts.
MAX_GROUP_ASPECT = 1.8
#: A group up to this wide holds at most two digits: only pieces that start
#: at its left edge or end at its right one are candidates.
PAIR_ASPECT = 1.2


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

    def between(self, left, right):
        """The ink right of seam ``left`` up to seam ``right``, trimmed; or None.

        Seams are per-row columns relative to the group (:func:`cut_seams`);
        ``-1`` and ``width - 1`` are its left and right edges.
        """
        cols = np.arange(self.width)
        keep = (cols > np.asarray(left)[:, None]) & (cols <= np.asarray(right)[:, None])
        return _trimmed(self.mask & keep, self.rows.start, self.cols.start)


@dataclass(frozen=True)
class Page:
    """One segmented line: ink, digit height, stroke width and the groups.

    ``origin`` is the ``(top, left)`` of ``ink`` in the whole image (a line
    cut from a page by :mod:`._layout`); the groups' slices are in ``ink``'s
    own pixels.
    """

    ink: np.ndarray
    height: float
    stroke: float
    groups: list
    origin: tuple = (0, 0)


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


def _rough_height(gray):
    """The digit height on a first ink map, for the second one's window.

    Images of 512 pixels a side or more are measured at half size (2x2
    means, so that hairlines fade rather than vanish), a quarter of the work;
    if no ink is left there, at full size.
    """
    if min(gray.shape) >= 512:
        h, w = (gray.shape[0] // 2) * 2, (gray.shape[1] // 2) * 2
        half = gray[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        try:
            mask = require_ink(ink_mask(ink_map(half)))
            return 2 * _digit_height(mask, stroke_width(mask))
        except BlankImageError:
            pass
    mask = require_ink(ink_mask(ink_map(gray)))
    return _digit_height(mask, stroke_width(mask))


def page_ink(gray):
    """``(ink, mask, height, stroke)`` of ``gray`` (a 2-D [0, 1] image).

    The ink map (:func:`~digitnet.images._ink.ink_map`, with a background
    window wider than any stroke of digits this tall), its ink pixels without
    ruled lines, the digit height and the stroke width. No ink:
    BlankImageError.
    """
    height = _rough_height(gray)
    ink = ink_map(gray, window=max(3, round(height)))
    mask = require_ink(ink_mask(ink))
    stroke = stroke_width(mask)
    height = _digit_height(mask, stroke)
    return ink, remove_lines(mask, height, stroke), height, stroke


def segment_line(ink, mask, stroke, origin=(0, 0)):
    """A :class:`Page` of one line: ``mask``'s ink grouped into digits.

    ``mask`` holds the line's ink pixels only (ruled lines removed); no
    digit-sized ink in it: BlankImageError.
    """
    height = _digit_height(require_ink(mask), stroke)
    groups = [
        g for g in group_components(mask, height) if not _is_speck(g, height, stroke)
    ]
    require_ink(bool(groups), "digit-sized ink")
    groups = attach_fragments(groups, height)
    height = float(np.median([g.height for g in groups]))
    return Page(ink, height, stroke, groups, origin)


def segment(gray):
    """A :class:`Page` of ``gray`` read as one line; no ink: BlankImageError."""
    ink, mask, _height, stroke = page_ink(gray)
    return segment_line(ink, mask, stroke)


def _lowest_ends(total, stroke):
    """Columns where ``total`` is lowest within a stroke width (a run: its middle)."""
    radius = max(1, round(stroke))
    low = np.flatnonzero(
        total <= ndimage.minimum_filter1d(total, 2 * radius + 1, mode="nearest")
    )
    runs = np.split(low, np.flatnonzero(np.diff(low) > 1) + 1)
    return {int(np.mean(run)) for run in runs if run.size}


def _least_ink_seams(mask, stroke):
    """Top-to-bottom paths through the least ink, one per minimum of the cost.

    Each path (a seam, as in seam carving) moves at most one column per row,
    each move costing :data:`SEAM_DRIFT` ink pixels, so it can pass between
    digits that overlap a little instead of cutting straight through one.
    Returns an int array of shape ``(n, rows)``: each seam's column per row.
    """
    rows, width = mask.shape
    total, moves = mask[0].astype(float), np.zeros((rows, width), dtype=np.intp)
    for r in range(1, rows):
        left = np.r_[np.inf, total[:-1]] + SEAM_DRIFT
        right = np.r_[total[1:], np.inf] + SEAM_DRIFT
        choices = np.stack([left, total, right])
        best = np.argmin(choices, axis=0)
        moves[r] = best - 1
        total = mask[r] + choices[best, np.arange(width)]
    cols = np.asarray(sorted(_lowest_ends(total, stroke)), dtype=np.intp)
    seams = np.empty((len(cols), rows), dtype=np.intp)
    for r in range(rows - 1, -1, -1):
        seams[:, r] = cols
        cols = cols + moves[r, cols]
    return seams


def cut_seams(group, stroke):
    """Candidate cuts of ``group``: seams through the least ink, and straight cuts.

    The seams (:func:`_least_ink_seams`) part digits that overlap a little.
    They cannot part a thin digit pressed against its neighbour, a 1 beside a
    3: every path near the 1 drifts around it into the gap beyond, so the 1
    stays with the 3. Straight cuts every :data:`CUT_STEP` digit heights
    can; the pieces they clip are for the piece model to reject. Of the cuts
    that leave the same ink on their left, one is kept. Returns ``(seams,
    crossed)``: an int array of shape ``(n, group.height)``, each cut's
    column per row, ordered by the ink on their left (left to right, where
    two cuts do not cross), and the ink pixels each one crosses.
    """
    mask = group.mask
    rows, width = mask.shape
    step = max(1, round(CUT_STEP * rows))
    straight = np.arange(step, width - 1, step)
    seams = np.concatenate(
        [
            _least_ink_seams(mask, stroke),
            np.repeat(straight[:, None], rows, axis=1),
        ]
    )
    left_ink = (mask & (np.arange(width) <= seams[:, :, None])).sum(axis=(1, 2))
    _, first = np.unique(left_ink, return_index=True)
    seams = seams[first]  # ordered by the ink on their left
    return seams, mask[np.arange(rows), seams].sum(axis=1)


def _chained(pieces, n_seams):
    """Whether the pieces chain from the left edge (seam 0) to the right one."""
    reached = {0}
    for i, j in sorted(pieces, key=lambda edge: edge[1]):
        if i in reached:
            reached.add(j)
    return n_seams - 1 in reached


def candidate_pieces(page, group):
    """Pieces between pairs of cut seams that could each be one digit.

    Returns ``(n_seams, pieces)``: a dict mapping ``(i, j)``, seam indices
    with ``i < j`` (0 and ``n_seams - 1`` are the group's edges), to the
    piece between them. A piece must be at least half a digit tall and at
    most :data:`MAX_ASPECT` digit heights wide. The whole group is a piece
    too when it is no wider than :data:`MAX_GROUP_ASPECT` digit heights or
    when no chain of pieces spans it. In a group no wider than
    :data:`PAIR_ASPECT` digit heights (one digit, or two), only pieces at an
    edge are kept: a middle piece would make three digits.
    """
    inner, _ = cut_seams(group, page.stroke)
    seams = [
        np.full(group.height, -1),
        *inner,
        np.full(group.height, group.width - 1),
    ]
    last = len(seams) - 1
    pair = group.width <= PAIR_ASPECT * page.height
    pieces = {}
    for i, j in itertools.combinations(range(len(seams)), 2):
        if (pair and i > 0 and j < last) or np.any(seams[i] > seams[j]):
            continue
        piece = group.between(seams[i], seams[j])
        if (
            piece is not None
            and piece.height >= 0.5 * page.height
            and piece.width <= MAX_ASPECT * page.height
        ):
            pieces[(i, j)] = piece
    if group.width <= MAX_GROUP_ASPECT * page.height or not _chained(
        pieces, len(seams)
    ):
        pieces[(0, last)] = group
    return len(seams), pieces
