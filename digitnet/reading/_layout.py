"""Page layout: the lines of handwriting on a page, top to bottom.

Lines are found from the connected pieces of ink, not from a projection
profile, so that slanted lines, a baseline that drifts and a digit written
high or low do not break them:

1. Connected ink stacked on other ink in the same columns (the bar of a 5,
   a 4 written in two strokes) is taken as one piece.
2. *Anchors*, pieces at least half a digit tall, are chained left to right:
   each to its nearest anchor on the right that shares at least half of the
   smaller one's rows and lies within :data:`LINK_GAP` digit heights (each
   anchor takes the nearest of the ones that chose it).
3. Chains are joined across wider gaps (two numbers far apart on one line)
   where one chain, carried on along its own slope, meets the next one within
   :data:`JOIN_OFFSET` digit heights.
4. Smaller pieces (the bar of a 5, a dot, a broken stroke) join the line whose
   band holds them; pieces outside every band are dropped as marks.

:func:`find_lines` returns each line as its own ink and mask, cropped, for
:func:`~._segment.segment_line` to group into digits.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from ..images._ink import keep_ink

#: Largest gap, in digit heights, between neighbours chained on one line.
LINK_GAP = 2.5
#: Share of the smaller piece's rows that two chained neighbours must share.
LINK_OVERLAP = 0.5
#: Largest distance, in digit heights, between a chain carried on along its
#: slope and the next chain on the same line.
JOIN_OFFSET = 0.5
#: Steepest slope (rows per column) a line is carried on along when chains
#: are joined (about 6 degrees).
MAX_SLOPE = 0.1
#: Chains at least this many digit heights long tell the lines' slope.
SLOPE_SPAN = 5.0
#: A component taller than this many digit heights holds two lines' ink.
TOO_TALL = 1.8
#: A piece this tall (in digit heights) or taller anchors a line.
ANCHOR_HEIGHT = 0.5
#: Largest vertical gap, in digit heights, between stacked parts of a digit.
STACK_GAP = 0.2
#: A smaller piece joins a line when its centre lies within the line's band
#: widened by this many digit heights above and below.
BAND_MARGIN = 0.3


@dataclass(frozen=True)
class Piece:
    """Ink that belongs together: its labels in the labelled mask and its box."""

    labels: tuple
    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self):
        return self.bottom - self.top

    @property
    def centre(self):
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2


def _stacked(boxes, height):
    """Which boxes are parts of one digit: a boolean matrix.

    Two boxes are when they share most of the narrower one's columns (a
    third, if one is less than half a digit tall: the bar of a 5) and lie
    one on the other, no more than :data:`STACK_GAP` digit heights apart,
    and together are no taller than :data:`TOO_TALL` digit heights (digits of
    two lines, one above the other, are).
    """
    top, left, bottom, right = boxes.T
    shared = np.minimum.outer(right, right) - np.maximum.outer(left, left)
    narrower = np.maximum(np.minimum.outer(right - left, right - left), 1)
    small = np.minimum.outer(bottom - top, bottom - top) < 0.5 * height
    columns = shared / narrower >= np.where(small, 0.3, 0.6)
    gap = np.maximum.outer(top, top) - np.minimum.outer(bottom, bottom)
    span = np.maximum.outer(bottom, bottom) - np.minimum.outer(top, top)
    return columns & (gap <= STACK_GAP * height) & (span <= TOO_TALL * height)


def _split_tall(labels, n, height):
    """Components taller than :data:`TOO_TALL` digit heights cut in two.

    Such a component is digits of two lines that touch (a 7's stem running
    into the 0 below it). It is cut across the row with the least ink in its
    middle two fifths; the part below gets a new label. Returns the number of
    labels and the ``(upper, lower)`` label pairs cut apart.
    """
    apart = []
    for i, box in enumerate(ndimage.find_objects(labels)):
        if box is None or box[0].stop - box[0].start <= TOO_TALL * height:
            continue
        own = labels[box] == i + 1
        rows = own.sum(axis=1)
        low, high = round(0.3 * len(rows)), round(0.7 * len(rows))
        cut = low + int(np.argmin(rows[low:high]))
        n += 1
        below = labels[box][cut:]
        below[own[cut:]] = n
        apart.append((i + 1, n))
    return n, apart


def _pieces(mask, height):
    """``(labels, pieces)``: the connected ink of ``mask``, stacked parts joined.

    Components of fewer than 4 pixels (noise) are left out.
    """
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    n, apart = _split_tall(labels, n, height)
    sizes = ndimage.sum_labels(mask, labels, index=np.arange(1, n + 1))
    found = [
        (i + 1, box)
        for i, box in enumerate(ndimage.find_objects(labels))
        if box is not None and sizes[i] >= 4
    ]
    if not found:
        return labels, []
    boxes = np.array([(r.start, c.start, r.stop, c.stop) for _, (r, c) in found])
    stacked = _stacked(boxes, height)
    index = {label: k for k, (label, _) in enumerate(found)}
    for upper, lower in apart:
        if upper in index and lower in index:
            stacked[index[upper], index[lower]] = stacked[
                index[lower], index[upper]
            ] = 0
    _, parts = connected_components(csr_matrix(stacked), directed=False)
    pieces = []
    for part in range(parts.max() + 1):
        members = np.flatnonzero(parts == part)
        own = boxes[members]
        pieces.append(
            Piece(
                tuple(found[m][0] for m in members),
                int(own[:, 0].min()),
                int(own[:, 1].min()),
                int(own[:, 2].max()),
                int(own[:, 3].max()),
            )
        )
    return labels, pieces


def _shared_rows(a, b):
    shared = min(a.bottom, b.bottom) - max(a.top, b.top)
    return shared / max(1, min(a.height, b.height))


def _chains(anchors, height):
    """Anchors chained left to right: a list of index lists."""
    best_right = {}
    for i, a in enumerate(anchors):
        options = [
            (max(0, b.left - a.right) + abs(b.centre[1] - a.centre[1]), j)
            for j, b in enumerate(anchors)
            if b.centre[0] > a.centre[0]
            and b.left - a.right <= LINK_GAP * height
            and _shared_rows(a, b) >= LINK_OVERLAP
        ]
        if options:
            best_right[i] = min(options)
    taken = {}
    for i, (cost, j) in best_right.items():
        if j not in taken or cost < taken[j][0]:
            taken[j] = (cost, i)
    after = {i: j for j, (_, i) in taken.items()}
    heads = set(range(len(anchors))) - set(after.values())
    chains = []
    for head in sorted(heads, key=lambda k: anchors[k].left):
        chain = [head]
        while chain[-1] in after:
            chain.append(after[chain[-1]])
        chains.append(chain)
    return chains


def _centre_line(pieces):
    """``(slope, intercept)`` of the pieces' centres (flat for one piece)."""
    x = np.array([p.centre[0] for p in pieces])
    y = np.array([p.centre[1] for p in pieces])
    if len(pieces) < 2 or np.ptp(x) == 0:
        return 0.0, float(np.mean(y))
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


def _end(pieces, x, slope):
    """The centre row of ``pieces`` carried on along ``slope`` to column ``x``."""
    cx = np.median([p.centre[0] for p in pieces])
    cy = np.median([p.centre[1] for p in pieces])
    return cy + slope * (x - cx)


def _page_slope(chains, anchors, height):
    """The lines' slope: the median of the chains :data:`SLOPE_SPAN` long.

    A short chain's own slope is too unsure to carry far (a 7 written high
    beside a 0 written low); the lines of one page share theirs. At most
    :data:`MAX_SLOPE` either way; 0 when no chain is long enough.
    """
    slopes = [
        _centre_line([anchors[k] for k in c])[0]
        for c in chains
        if anchors[c[-1]].right - anchors[c[0]].left >= SLOPE_SPAN * height
    ]
    slope = float(np.median(slopes)) if slopes else 0.0
    return float(np.clip(slope, -MAX_SLOPE, MAX_SLOPE))


def _joined(chains, anchors, height):
    """Chains joined where one, carried on along its slope, meets the next.

    The slope is the page's (:func:`_page_slope`), carried from the median
    centre of a chain's last three anchors to the first three of the chain
    that may follow; they join when the two centre rows lie within
    :data:`JOIN_OFFSET` digit heights.
    """
    chains = [list(c) for c in chains]
    slope = _page_slope(chains, anchors, height)
    while True:
        best = None
        for a, first in enumerate(chains):
            tail = [anchors[k] for k in first[-3:]]
            for b, second in enumerate(chains):
                head = [anchors[k] for k in second[:3]]
                if b == a or head[0].left < tail[-1].right:
                    continue
                x = np.median([p.centre[0] for p in head])
                y = np.median([p.centre[1] for p in head])
                off = abs(_end(tail, x, slope) - y)
                gap = head[0].left - tail[-1].right
                if off <= JOIN_OFFSET * height and (best is None or gap < best[0]):
                    best = (gap, a, b)
        if best is None:
            return chains
        _, a, b = best
        chains[a] = chains[a] + chains[b]
        del chains[b]


def _band(line, x):
    """The line's centre and half-height at column ``x``."""
    slope, intercept = _centre_line(line)
    x = min(max(x, line[0].left), line[-1].right)
    half = max(p.height for p in line) / 2
    return slope * x + intercept, half


def _attach(small, lines, height):
    """Each small piece's line index (-1: no line's band holds it)."""
    out = []
    for piece in small:
        x, y = piece.centre
        options = []
        for k, line in enumerate(lines):
            centre, half = _band(line, x)
            near = line[0].left - height <= x <= line[-1].right + height
            if near and abs(y - centre) <= half + BAND_MARGIN * height:
                options.append((abs(y - centre), k))
        out.append(min(options)[1] if options else -1)
    return out


@dataclass(frozen=True)
class LineInk:
    """One line of a page: its ink and ink pixels, cropped, and where from."""

    ink: np.ndarray
    mask: np.ndarray
    origin: tuple  # (top, left) of the crop in the page


def _crop(ink, labels, members, pad):
    top = max(0, min(p.top for p in members) - pad)
    left = max(0, min(p.left for p in members) - pad)
    bottom = min(ink.shape[0], max(p.bottom for p in members) + pad)
    right = min(ink.shape[1], max(p.right for p in members) + pad)
    window = labels[top:bottom, left:right]
    mask = np.isin(window, [k for p in members for k in p.labels])
    return LineInk(keep_ink(ink[top:bottom, left:right], mask), mask, (top, left))


def find_lines(ink, mask, height):
    """The lines of ``mask``'s ink, top to bottom, as :class:`LineInk`.

    ``ink`` is the page's ink map, ``mask`` its ink pixels (ruled lines
    removed) and ``height`` the digit height. A page with no piece tall
    enough to anchor a line is one line.
    """
    labels, pieces = _pieces(mask, height)
    anchors = [p for p in pieces if p.height >= ANCHOR_HEIGHT * height]
    if not anchors:
        return [LineInk(ink, mask, (0, 0))]
    chains = _joined(_chains(anchors, height), anchors, height)
    lines = [[anchors[k] for k in chain] for chain in chains]
    small = [p for p in pieces if p.height < ANCHOR_HEIGHT * height]
    members = [list(line) for line in lines]
    for piece, k in zip(small, _attach(small, lines, height), strict=True):
        if k >= 0:
            members[k].append(piece)
    middle = [np.median([p.centre[1] for p in line]) for line in lines]
    order = np.argsort(middle, kind="stable")
    pad = max(2, round(0.2 * height))
    return [_crop(ink, labels, members[k], pad) for k in order]
