"""How raw ``X`` becomes the tensors a module sees: geometry and scaling.

Geometry
    ``X`` of shape ``(n, h, w)`` or ``(n, channels, h, w)`` keeps its image
    shape. A 2-D ``X`` whose ``n_features`` is ``s * s`` with ``s >= 8`` reads as
    ``(1, s, s)`` images (sklearn's 8x8 digits, 28x28 MNIST). Any other 2-D
    ``X`` is a table of ``n_features`` values.

Scaling
    Learned in ``fit`` from the (weighted) training data and applied before
    every forward pass: ``(X - mean) / scale``. Images use one mean and one
    standard deviation over all pixels, so raw 0-16 or 0-255 pixels work
    unchanged and spatial structure is kept; tables are standardised per
    feature, like :class:`~sklearn.preprocessing.StandardScaler`.
"""

import math

import numpy as np
import scipy.sparse as sp
import torch

_CHUNK = 8192  # rows per chunk when computing statistics in float64


def split_images(X):
    """Flatten image-shaped arrays.

    Returns ``(X_2d, image_shape)`` for arrays of shape ``(n, h, w)`` or
    ``(n, c, h, w)`` and ``(X, None)`` for anything else, which is left for
    :func:`~sklearn.utils.validation.validate_data` to check.
    """
    ndim = getattr(X, "ndim", None)
    if ndim in (3, 4) and not sp.issparse(X) and not hasattr(X, "columns"):
        X = np.asarray(X)
        shape = (1, *X.shape[1:]) if ndim == 3 else X.shape[1:]
        return X.reshape(X.shape[0], -1), tuple(int(s) for s in shape)
    return X, None


def infer_geometry(n_features, image_shape=None):
    """Shape of one sample as the module receives it."""
    if image_shape is not None:
        return tuple(image_shape)
    side = math.isqrt(n_features)
    if side >= 8 and side * side == n_features:
        return (1, side, side)
    return (n_features,)


def row_chunks(X, size=_CHUNK):
    """Consecutive row slices of ``X`` (views), so temporaries stay bounded."""
    for start in range(0, X.shape[0], size):
        yield X[start : start + size]


def fit_scaling(X, sample_weight, per_feature):
    """Weighted mean and scale of ``X``, each of shape ``(n_features,)``.

    One mean and scale over all values unless ``per_feature``. Two passes over
    row chunks, so memory stays bounded and large offsets do not cancel. Tables
    are computed in float64; images (small-range pixels) in float32 chunks with
    float64 accumulation of the row sums.
    """
    n_features = X.shape[1]
    w = np.asarray(sample_weight, dtype=np.float64)
    total = w.sum()

    def chunks(dtype):
        for wc, c in zip(row_chunks(w), row_chunks(X), strict=True):
            yield wc, np.asarray(c, dtype=dtype)

    if per_feature:
        mean = sum(wc @ c for wc, c in chunks(np.float64)) / total
        var = sum(wc @ (c - mean) ** 2 for wc, c in chunks(np.float64)) / total
    else:
        size = total * n_features
        value = sum(
            wc @ c.sum(axis=1, dtype=np.float64) for wc, c in chunks(np.float32)
        )
        center = np.float32(value / size)
        spread = sum(
            wc @ np.square(c - center).sum(axis=1, dtype=np.float64)
            for wc, c in chunks(np.float32)
        )
        mean = np.full(n_features, value / size)
        var = np.full(n_features, spread / size)
    scale = np.sqrt(var)
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
    scale[scale <= tiny] = 1.0
    return mean, scale


def to_tensor(X, mean, scale, input_shape, device="cpu", copy=True):
    """Scaled float32 tensor of shape ``(n, *input_shape)`` on ``device``.

    With ``copy=True`` ``X`` is never modified; ``copy=False`` lets a float32
    ``X`` that the caller owns be scaled in place (one copy less in memory).
    """
    out = np.array(X, dtype=np.float32, copy=copy or None)
    out -= mean.astype(np.float32)
    out /= scale.astype(np.float32)
    tensor = torch.from_numpy(out).reshape(out.shape[0], *input_shape)
    return tensor.to(device)
