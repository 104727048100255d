"""Choosing where to cut touching digits, from the two models' readings.

A group of touching digits has candidate pieces between pairs of cuts
(:func:`~._segment.candidate_pieces`). Each chain of pieces from the
group's left edge to its right one is a way to read it; :func:`choose_cut`
keeps the chain whose pieces the digit model and the piece model
(:mod:`._pieces`) together read best and find most likely to be whole
digits, and says how sure the count of digits is.
"""

import itertools

import numpy as np

from .._plain import builtin


def _best_path(n_seams, edges, scores):
    """Seam indices from the left edge (0) to the right one with the best score.

    ``edges`` are ``(i, j)`` pairs of seams, a piece each, ``scores`` their
    scores; a path's score is the sum of its pieces' scores.
    """
    best = np.full(n_seams, -np.inf)
    best[0], back = 0.0, {}
    for (i, j), score in sorted(zip(edges, scores, strict=True), key=lambda e: e[0][1]):
        if best[i] + score > best[j]:
            best[j], back[j] = best[i] + score, i
    path = [n_seams - 1]
    while path[-1]:
        path.append(back[path[-1]])
    return path[::-1]


def joint_reading(classes, proba, digits):
    """The digit model's and the piece model's readings of pieces, joined.

    The digit model sees a piece alone, as :func:`preprocess_image` makes
    it; the piece model learnt from cut pieces, seen with the ink around
    them, so it still reads a digit whose edge a cut clipped. Where the digit
    model's classes are digits (``0``-``9``, as numbers or strings), the two
    readings are multiplied and normalised; for other classes the digit
    model's reading is kept.
    """
    columns = [_digit_of(c) for c in classes]
    if None in columns:
        return proba
    joint = proba * digits[:, columns]
    total = joint.sum(axis=1, keepdims=True)
    return np.where(total > 0, joint / np.where(total > 0, total, 1.0), proba)


def _digit_of(label):
    """The digit 0-9 that a class label names, or None."""
    text = str(builtin(label))
    return int(text) if len(text) == 1 and text in "0123456789" else None


def _count_probability(n_seams, edges, scores, count):
    """The probability that a group holds ``count`` digits.

    Each chain of pieces (a path from seam 0 to the last one) gets the
    probability ``exp(score)``, normalised over all chains; the chains of
    ``count`` pieces are summed (a forward pass over ``(seam, pieces so
    far)``). Chains that differ only in where a cut runs have the same
    count, so they do not split its probability.
    """
    forward = np.full((n_seams, n_seams + 1), -np.inf)
    forward[0, 0] = 0.0
    for (i, j), score in sorted(zip(edges, scores, strict=True), key=lambda e: e[0][1]):
        forward[j, 1:] = np.logaddexp(forward[j, 1:], forward[i, :-1] + score)
    counts = forward[-1]
    return float(np.exp(counts[count] - np.logaddexp.reduce(counts)))


def choose_cut(n_seams, edges, proba, whole):
    """``(chosen, count probability)``: the best chain's piece indices.

    ``edges`` are the candidate pieces' ``(i, j)`` seam pairs, ``proba`` their
    joined label probabilities (:func:`joint_reading`) and ``whole`` the
    piece model's probability that each is one whole digit. A chain scores
    the sum, over its pieces, of the log-probability that the piece is whole
    and of its most probable label.
    """
    scores = np.log(np.maximum(proba.max(axis=1), 1e-12)) + np.log(
        np.maximum(whole, 1e-12)
    )
    path = _best_path(n_seams, edges, scores)
    chosen = [edges.index(edge) for edge in itertools.pairwise(path)]
    return chosen, _count_probability(n_seams, edges, scores, len(chosen))
