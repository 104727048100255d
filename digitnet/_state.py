"""The fitted input: what ``fit`` learns about X and y before any training.

:class:`FittedInput` holds the classes, the geometry of one sample, the
architecture resolved for it, the input scaling and the feature count/names.
It is learned from training data, turns ``X`` into the tensors a module sees,
checks ``X`` at predict time, and converts to and from plain data. Pickles,
checkpoints and the safe model format all store this one object.

Geometry
    ``X`` of shape ``(n, h, w)`` or ``(n, channels, h, w)`` keeps its image
    shape; ``(n, h, w, c)`` with ``c`` in 1, 3, 4 (and ``h, w > 4``) is a
    channels-last colour image and is transposed. A 2-D ``X`` whose
    ``n_features`` is ``s * s`` with ``s >= 8`` reads as ``(1, s, s)`` images
    (sklearn's 8x8 digits, 28x28 MNIST). Any other 2-D ``X`` is a table.

Scaling
    ``(X - mean) / scale`` with statistics learned from the (weighted)
    training data: one mean and standard deviation over all pixels for images,
    per feature for tables (like ``StandardScaler``).
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from ._modules import ARCHITECTURES

_CHUNK = 8192  # rows per chunk when computing statistics
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_CHANNEL_COUNTS = (1, 3, 4)


def split_images(X):
    """Flatten image-shaped arrays: ``(X_2d, image_shape)``.

    ``image_shape`` is None for anything that is not a 3-D or 4-D array; that
    is left for :func:`~sklearn.utils.validation.validate_data` to check.
    """
    ndim = getattr(X, "ndim", None)
    if sp.issparse(X) or hasattr(X, "columns") or ndim is None or ndim < 3:
        return X, None
    X = np.asarray(X)
    if X.ndim > 4:
        raise ValueError(
            f"X has {X.ndim} dimensions (shape {X.shape}); expected 2-D rows of "
            "pixels or features, (n, h, w) images or (n, channels, h, w) images."
        )
    if X.ndim == 3:
        shape = (1, *X.shape[1:])
    elif X.shape[3] in _CHANNEL_COUNTS and X.shape[1] not in _CHANNEL_COUNTS:
        X = np.ascontiguousarray(X.transpose(0, 3, 1, 2))  # (n, h, w, c)
        shape = X.shape[1:]
    else:
        shape = X.shape[1:]
    shape = tuple(int(s) for s in shape)
    return X.reshape(X.shape[0], math.prod(shape)), shape


def infer_geometry(n_features, image_shape=None):
    """Shape of one sample as the module receives it."""
    if image_shape is not None:
        return tuple(image_shape)
    side = math.isqrt(n_features)
    if side >= 8 and side * side == n_features:
        return (1, side, side)
    return (n_features,)


def resolve_architecture(architecture, geometry):
    """``(architecture, module input shape)`` for data of shape ``geometry``.

    ``"auto"`` is the CNN for images and the MLP for tables. Convolutional
    architectures given a table see each row as a ``1 x n_features`` image.
    """
    if architecture == "auto":
        architecture = "cnn" if len(geometry) == 3 else "mlp"
    if architecture in ("cnn", "lenet5") and len(geometry) == 1:
        return architecture, (1, 1, geometry[0])
    return architecture, tuple(geometry)


def row_chunks(X, size=_CHUNK):
    """Consecutive row slices of ``X`` (views), so temporaries stay bounded."""
    for start in range(0, X.shape[0], size):
        yield X[start : start + size]


def _moments(X, w, per_feature, dtype):
    total = w.sum()
    pairs = list(zip(row_chunks(w), row_chunks(X), strict=True))
    if per_feature:
        mean = sum(wc @ np.asarray(c, np.float64) for wc, c in pairs) / total
        var = sum(wc @ (np.asarray(c, np.float64) - mean) ** 2 for wc, c in pairs)
        return mean, var / total
    size = total * X.shape[1]
    value = sum(
        wc @ np.asarray(c, dtype).sum(axis=1, dtype=np.float64) for wc, c in pairs
    )
    center = dtype(value / size)
    spread = sum(
        wc @ np.square(np.asarray(c, dtype) - center).sum(axis=1, dtype=np.float64)
        for wc, c in pairs
    )
    return np.full(X.shape[1], value / size), np.full(X.shape[1], spread / size)


def fit_scaling(X, sample_weight, per_feature):
    """Weighted mean and scale of ``X``, each of shape ``(n_features,)``.

    Two passes over row chunks, so memory stays bounded and large offsets do
    not cancel. Images (small-range pixels) are summed in float32 chunks with
    float64 accumulation, in float64 when that overflows; tables in float64.

    Raises
    ------
    ValueError
        When the values are too large to scale (their spread overflows).
    """
    w = np.asarray(sample_weight, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        mean, var = _moments(X, w, per_feature, np.float32)
        if not (np.isfinite(mean).all() and np.isfinite(var).all()):
            mean, var = _moments(X, w, per_feature, np.float64)
    scale = np.sqrt(var)
    if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
        raise ValueError(
            "X holds values too large to scale: their spread overflows float64. "
            "Rescale X, e.g. to 0-255 or 0-1 pixels."
        )
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
    scale[scale <= tiny] = 1.0
    return mean, scale


def check_finite(X):
    """``ValueError`` naming the rows of ``X`` that hold NaN or infinity.

    Checked in row chunks after ``validate_data(..., ensure_all_finite=False)``,
    so the message can say what digitnet needs instead of scikit-learn's
    generic advice.
    """
    bad, start = [], 0
    for chunk in row_chunks(X):
        finite = np.isfinite(chunk).all(axis=1)
        if not finite.all():
            bad.extend((start + np.flatnonzero(~finite)).tolist())
        start += len(chunk)
    if not bad:
        return
    kinds = []
    rows = X[bad[:1000]]
    if np.isnan(rows).any():
        kinds.append("NaN")
    if np.isinf(rows).any():
        kinds.append("infinity")
    shown = ", ".join(map(str, bad[:5])) + (", ..." if len(bad) > 5 else "")
    raise ValueError(
        f"X contains {' and '.join(kinds)} in {len(bad)} row(s) (rows {shown}): "
        "every pixel or feature needs a finite value. Fill missing values in "
        "(e.g. sklearn.impute.SimpleImputer in a Pipeline) or drop those rows."
    )


def check_float32(X):
    """``(min, max)`` of ``X``; ``ValueError`` beyond float32's range, which the
    network computes in."""
    low, high = float(X.min()), float(X.max())  # one pass each
    if max(-low, high) > _FLOAT32_MAX:
        raise ValueError(
            f"X holds values up to {max(-low, high):g}, beyond float32 "
            f"(±{_FLOAT32_MAX:.3g}), which the network computes in; rescale X."
        )
    return low, high


def learn_classes(y, classes=None):
    """Sorted distinct labels of ``y`` (or ``classes``, which must cover y)."""
    try:
        found = np.unique(y)
        if classes is not None:
            classes = np.unique(classes)
            unseen = np.setdiff1d(found, classes)
    except TypeError as exc:  # e.g. ints mixed with strings
        kinds = sorted({type(v).__name__ for v in np.ravel(y)})
        raise ValueError(
            f"y mixes labels of different types ({', '.join(kinds)}); use labels "
            "of one type, e.g. all ints or all strings."
        ) from exc
    if classes is None:
        return found
    if unseen.size:
        raise ValueError(
            f"y contains classes {unseen.tolist()} that are not in "
            f"classes={classes.tolist()}."
        )
    return classes


@dataclass(frozen=True, eq=False)
class FittedInput:
    """What ``fit`` learned about the input (see the module docstring)."""

    classes: np.ndarray
    input_shape: tuple
    architecture: object
    mean: np.ndarray
    scale: np.ndarray
    range: tuple | None
    n_features_in: int
    feature_names_in: np.ndarray | None = None

    @classmethod
    def learn(cls, X, sample_weight, *, classes, image_shape, architecture):
        """Learn from training ``X`` (2-D) and the labels' ``classes``."""
        if len(classes) < 2:
            raise ValueError(
                "DigitClassifier needs samples of at least 2 classes in y, but "
                f"y contains only one class: {classes[0]}."
            )
        low, high = check_float32(X)
        geometry = infer_geometry(X.shape[1], image_shape)
        arch, input_shape = resolve_architecture(architecture, geometry)
        w = np.ones(len(X)) if sample_weight is None else sample_weight
        mean, scale = fit_scaling(X, w, per_feature=len(geometry) == 1)
        value_range = (low, high) if len(geometry) == 3 else None
        return cls(classes, input_shape, arch, mean, scale, value_range, X.shape[1])

    def with_feature_names(self, names):
        """A copy holding ``names`` (``feature_names_in_``)."""
        return FittedInput(**{**vars(self), "feature_names_in": names})

    # ------------------------------------------------------------ use
    def encode(self, y):
        """Indices of ``y``'s labels in ``classes`` (unseen labels: error)."""
        unseen = np.setdiff1d(learn_classes(y), self.classes)
        if unseen.size:
            raise ValueError(
                f"y contains classes {unseen.tolist()} that were not seen in the "
                f"first fit; expected a subset of {self.classes.tolist()}."
            )
        return np.searchsorted(self.classes, y)

    def to_tensor(self, X, device="cpu", copy=True):
        """Scaled float32 tensor of shape ``(n, *input_shape)`` on ``device``.

        ``copy=False`` lets a float32 ``X`` the caller owns be scaled in place.
        """
        out = np.array(X, dtype=np.float32, copy=copy or None)
        out -= self.mean.astype(np.float32)
        out /= self.scale.astype(np.float32)
        tensor = torch.from_numpy(out).reshape(out.shape[0], *self.input_shape)
        return tensor.to(device)

    def check_images(self, image_shape, owner="DigitClassifier"):
        """Images passed after fitting must have the fitted shape."""
        if image_shape is not None and tuple(image_shape) != self.input_shape:
            raise ValueError(
                f"X holds images of shape {tuple(image_shape)}, but {owner} was "
                f"fitted on inputs of shape {self.input_shape}."
            )

    def check_pixel_range(self, X, owner="DigitClassifier"):
        """Warn when over 1% of the pixels lie well outside the fitted range."""
        if X.size == 0:
            return
        check_float32(X)
        if self.range is None:
            return
        low, high = self.range
        margin = 0.05 * max(high - low, np.finfo(np.float64).tiny)
        outside = sum(
            np.count_nonzero((low - margin > chunk) | (high + margin < chunk))
            for chunk in row_chunks(X)
        )
        if outside > 0.01 * X.size:
            warnings.warn(
                f"{outside / X.size:.0%} of the pixel values in X lie outside "
                f"[{low:g}, {high:g}], the range {owner} was trained on (X holds "
                f"[{float(X.min()):g}, {float(X.max()):g}]); scale X like the "
                "training data (e.g. 0-255 vs 0-16 vs 0-1 pixels).",
                UserWarning,
                stacklevel=4,
            )

    # ----------------------------------------------------- plain data
    def to_plain(self):
        """``(description, arrays)``: JSON-ready dict and the scaling arrays."""
        description = {
            "classes": {
                "dtype": self.classes.dtype.str,
                "values": self.classes.tolist(),
            },
            "input_shape": list(self.input_shape),
            "architecture": self.architecture,
            "range": None if self.range is None else list(self.range),
            "n_features_in": self.n_features_in,
            "feature_names_in": None
            if self.feature_names_in is None
            else self.feature_names_in.tolist(),
        }
        arrays = {"input_mean": self.mean, "input_scale": self.scale}
        return description, arrays

    @classmethod
    def from_plain(cls, description, arrays):
        """Inverse of :meth:`to_plain`; ``ValueError`` naming any bad field.

        Every field's type and range is checked, and the geometry against the
        scaling arrays, before anything is built from them.
        """
        d = _require(description, dict, "the input description")
        classes = classes_from_plain(d.get("classes"))
        shape, n_features = geometry_from_plain(
            d.get("input_shape"), d.get("n_features_in")
        )
        arch = d.get("architecture")
        if arch not in ARCHITECTURES:
            raise ValueError(
                f"architecture must be one of {sorted(ARCHITECTURES)}, not {arch!r}"
            )
        mean, scale = (np.asarray(arrays.get(k)) for k in ("input_mean", "input_scale"))
        for name, a in (("input_mean", mean), ("input_scale", scale)):
            if a.shape != (n_features,) or a.dtype != np.float64:
                raise ValueError(
                    f"{name} must be {n_features} float64 values, not {a.size} "
                    f"of {a.dtype}"
                )
            if not np.isfinite(a).all():
                raise ValueError(f"{name} holds non-finite values")
        if not (scale > 0).all():
            raise ValueError("input_scale must be positive")
        return cls(
            classes=classes,
            input_shape=shape,
            architecture=arch,
            mean=mean,
            scale=scale,
            range=range_from_plain(d.get("range")),
            n_features_in=n_features,
            feature_names_in=_names_from(d.get("feature_names_in"), n_features),
        )


def _require(value, kind, name):
    if not isinstance(value, kind):
        raise ValueError(f"{name} must be a {kind.__name__}, not {value!r:.80}")
    return value


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


#: Python types the stored labels of each NumPy kind must have. Object arrays
#: hold strings only (pandas' default for text labels).
_LABEL_TYPES = {"b": bool, "i": int, "u": int, "f": (int, float), "U": str, "O": str}


def geometry_from_plain(shape, n_features):
    """``(input_shape, n_features_in)`` checked: 1 or 3 positive ints, and as
    many features as the shape holds."""
    shape = _require(shape, list, "input_shape")
    if len(shape) not in (1, 3) or not all(_is_count(s) for s in shape):
        raise ValueError(f"input_shape must be 1 or 3 positive ints, not {shape}")
    if not _is_count(n_features) or n_features != math.prod(shape):
        raise ValueError(
            f"n_features_in={n_features!r} does not match input_shape {shape}"
        )
    return tuple(shape), n_features


def classes_from_plain(spec):
    """The class labels from ``{"dtype", "values"}``, checked before any array
    is made: a label type, values of that type, sorted and distinct."""
    spec = _require(spec, dict, "classes")
    dtype = spec.get("dtype")
    values = _require(spec.get("values"), list, "classes.values")
    try:
        dtype = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(f"classes.dtype {dtype!r} is not a NumPy type") from exc
    if dtype.kind not in _LABEL_TYPES:
        raise ValueError(f"classes.dtype {dtype} is not a label type")
    kinds = _LABEL_TYPES[dtype.kind]
    if not all(
        isinstance(v, kinds) and (dtype.kind == "b" or not isinstance(v, bool))
        for v in values
    ):
        raise ValueError(f"classes.values do not all have the type {dtype}")
    if dtype.kind == "U":  # as long as the longest label, whatever was stored
        dtype = np.dtype(str)
    classes = np.asarray(values, dtype=dtype)
    if len(classes) < 2 or not np.array_equal(np.unique(classes), classes):
        raise ValueError(
            f"classes must be 2 or more distinct labels in sorted order, not {values}"
        )
    return classes


def range_from_plain(value):
    """The training pixel range ``(low, high)`` or None, checked."""
    if value is None:
        return None
    ok = isinstance(value, list) and len(value) == 2
    ok = ok and all(isinstance(v, int | float) and math.isfinite(v) for v in value)
    if not ok or value[0] > value[1]:
        raise ValueError(f"range must be None or [low, high], not {value!r}")
    return (float(value[0]), float(value[1]))


def _names_from(value, n_features):
    if value is None:
        return None
    ok = isinstance(value, list) and len(value) == n_features
    if not ok or not all(isinstance(v, str) for v in value):
        raise ValueError(f"feature_names_in must be None or {n_features} strings")
    return np.asarray(value, dtype=object)
