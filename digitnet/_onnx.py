"""ONNX export: the fitted model as one graph a service runs with onnxruntime.

The graph takes what the estimator takes, raw pixel rows (float32, shape
``(batch, n_features)``, any batch size), and holds everything ``fit``
learned: the input scaling, the network and the softmax (averaged over the
test-time copies when ``test_time_augment`` is set). It has two outputs,
following skl2onnx's convention: ``label`` (the class labels, strings
included) and ``probabilities`` (float32, columns in ``classes_`` order). The
model's metadata describes the input (``digitnet.input_shape``,
``digitnet.classes``, ``digitnet.range``), so a reader needs neither torch nor
digitnet to use it. :class:`OnnxModel` is that reader.

Integrity: the file ends with one more metadata entry, ``digitnet.sha256``,
the SHA-256 of every byte before it (graph, weights and the other metadata),
appended as a protobuf field so that any ONNX reader still sees a plain
model. :class:`OnnxModel` checks it from the raw bytes (no ``onnx`` package
needed) and validates the metadata before building anything from it, so a
damaged or edited file is a ``ValueError``, not wrong answers.
"""

import contextlib
import copy
import hashlib
import io
import json
import logging
import re
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from ._augment import prediction_thetas
from ._files import atomic_write
from ._state import classes_from_plain, geometry_from_plain, range_from_plain
from ._version import __version__

ONNX_HINT = "install the onnx extra: pip install 'digitnet[onnx]'"
#: ONNX operator set of exported graphs (onnxruntime >= 1.17 runs it).
OPSET = 18
_OPERATOR = re.compile(r"aten[.:]+\w+")
_FLOAT32_MAX = float(np.finfo(np.float32).max)
#: Key of the digest entry that ends every exported file.
DIGEST_KEY = b"digitnet.sha256"


def _digest_entry(hexdigest):
    """``ModelProto.metadata_props`` (field 14) entry ``DIGEST_KEY: hexdigest``.

    Protobuf merges fields appended to a message, so these bytes appended to
    a serialized model add one metadata entry.
    """
    entry = bytes([0x0A, len(DIGEST_KEY)]) + DIGEST_KEY
    entry += bytes([0x12, len(hexdigest)]) + hexdigest.encode("ascii")
    return bytes([(14 << 3) | 2, len(entry)]) + entry


_DIGEST_PREFIX = _digest_entry("0" * 64)[:-64]
_DIGEST_TAIL = len(_digest_entry("0" * 64))


def sign(model_bytes):
    """``model_bytes`` with the digest entry of their SHA-256 appended."""
    return model_bytes + _digest_entry(hashlib.sha256(model_bytes).hexdigest())


def check_signed(data, path):
    """The model bytes of a signed file; ``ValueError`` if they do not match."""
    body, tail = data[:-_DIGEST_TAIL], data[-_DIGEST_TAIL:]
    if len(data) <= _DIGEST_TAIL or not tail.startswith(_DIGEST_PREFIX):
        raise ValueError(
            f"{path} is not an ONNX file written by this digitnet (it carries no "
            "digitnet.sha256 digest at its end); export the model again with "
            "'digitnet export'."
        )
    recorded = tail[len(_DIGEST_PREFIX) :].decode("ascii", "replace")
    found = hashlib.sha256(body).hexdigest()
    if found != recorded:
        raise ValueError(
            f"{path} has been modified or corrupted: its content has SHA-256 "
            f"{found}, but the file records {recorded}."
        )
    return data


def _require(name):
    try:
        return __import__(name)
    except ImportError as exc:
        raise ImportError(
            f"ONNX export and inference need {name}; {ONNX_HINT}"
        ) from exc


class _Graph(torch.nn.Module):
    """The module to export: scaling, network, then argmax and softmax.

    With ``thetas`` (the estimator's test-time transforms), the probabilities
    are averaged over the image and its transformed copies, as
    ``predict_proba`` does: the sampling grids are constants of the graph.
    """

    def __init__(self, module, fitted, thetas=None):
        super().__init__()
        self.module = module
        self.register_buffer("mean", torch.as_tensor(fitted.mean).float())
        self.register_buffer("scale", torch.as_tensor(fitted.scale).float())
        self.shape = tuple(fitted.input_shape)
        grids = torch.zeros(0, *self.shape[1:], 2)
        if thetas is not None and len(self.shape) == 3:
            size = [len(thetas), *self.shape]
            grids = F.affine_grid(thetas.float(), size, align_corners=False)
        self.register_buffer("grids", grids)

    def forward(self, x):
        z = ((x - self.mean) / self.scale).reshape(x.shape[0], *self.shape)
        proba = torch.softmax(self.module(z), dim=1)
        for grid in self.grids:
            grid = grid.expand(x.shape[0], *grid.shape)
            moved = F.grid_sample(z, grid, padding_mode="border", align_corners=False)
            proba = proba + torch.softmax(self.module(moved), dim=1)
        proba = proba / (1 + len(self.grids))
        return proba.argmax(dim=1), proba


def _quiet_export(graph, example, batch):
    """``torch.onnx.export`` to bytes, its own warnings and log lines muted."""
    buffer = io.BytesIO()
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch")]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                graph,
                (example,),
                dynamo=True,
                input_names=["pixels"],
                output_names=["index", "probabilities"],
                dynamic_shapes=({0: batch},),
                opset_version=OPSET,
                verbose=False,
                report=False,
            )
            program.save(buffer)
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
    return buffer.getvalue()


def _export_error(module, exc):
    """A clear error for a module torch cannot express in ONNX."""
    text = str(exc)
    ops = sorted(set(_OPERATOR.findall(text)))
    what = (
        f"operator {', '.join(ops)} has no ONNX conversion"
        if ops
        else text.strip().splitlines()[-1]
    )
    return ValueError(
        f"The module {type(module).__name__} cannot be exported to ONNX: {what}. "
        "Use operators ONNX supports, or save the model with save() or pickle."
    )


def _labels_tensor(classes):
    """The class labels as an ONNX constant of the nearest ONNX type."""
    onnx = _require("onnx")
    kind = classes.dtype.kind
    if kind in "iub":
        values, dtype = classes.astype(np.int64), onnx.TensorProto.INT64
    elif kind == "f":
        values, dtype = classes.astype(np.float64), onnx.TensorProto.DOUBLE
    elif kind in "UO" and all(isinstance(c, str) for c in classes.tolist()):
        raw = [c.encode("utf-8") for c in classes.tolist()]
        dtype = onnx.TensorProto.STRING
        return onnx.helper.make_tensor("classes", dtype, [len(raw)], raw), dtype
    else:
        raise ValueError(
            f"Class labels of dtype {classes.dtype} cannot be stored in ONNX; "
            "use integer, float or string labels."
        )
    return onnx.numpy_helper.from_array(values, name="classes"), dtype


def _architecture_name(architecture):
    if isinstance(architecture, str):
        return architecture
    return getattr(architecture, "__qualname__", type(architecture).__name__)


def _add_labels(model_bytes, fitted):
    """Append ``label = classes[index]`` and the metadata to the exported graph."""
    onnx = _require("onnx")
    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    tensor, dtype = _labels_tensor(fitted.classes)
    graph.initializer.append(tensor)
    graph.node.append(
        onnx.helper.make_node("Gather", ["classes", "index"], ["label"], axis=0)
    )
    label = onnx.helper.make_tensor_value_info("label", dtype, ["batch"])
    probabilities = next(o for o in graph.output if o.name == "probabilities")
    del graph.output[:]
    graph.output.extend([label, probabilities])
    meta = {
        "digitnet.version": __version__,
        "digitnet.classes": json.dumps(
            {"dtype": fitted.classes.dtype.str, "values": fitted.classes.tolist()}
        ),
        "digitnet.input_shape": json.dumps(list(fitted.input_shape)),
        "digitnet.n_features_in": str(fitted.n_features_in),
        "digitnet.range": json.dumps(
            None if fitted.range is None else list(fitted.range)
        ),
        "digitnet.architecture": _architecture_name(fitted.architecture),
    }
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    model.producer_name = "digitnet"
    model.producer_version = __version__
    onnx.checker.check_model(model)
    return model.SerializeToString()


def export_onnx(est, path):
    """Write ``est`` (fitted) as an ONNX file at ``path``; see the module docstring."""
    _require("onnx")
    _require("onnxscript")
    fitted = est.fitted_input_
    module = copy.deepcopy(est.net_.module_).to("cpu").eval()
    copies = est.test_time_augment
    graph = _Graph(module, fitted, prediction_thetas(copies) if copies else None)
    example = torch.zeros(2, fitted.n_features_in)
    try:
        raw = _quiet_export(graph, example, torch.export.Dim("batch"))
    except Exception as exc:  # the exporter raises many kinds
        raise _export_error(module, exc) from exc
    data = sign(_add_labels(raw, fitted))
    atomic_write(path, lambda f: f.write(data))


def _read_meta(meta, path):
    """``(classes, input_shape, n_features, range)`` from digitnet's metadata,
    each checked before any array is made from it."""
    try:
        classes = classes_from_plain(json.loads(meta["digitnet.classes"]))
        shape, n_features = geometry_from_plain(
            json.loads(meta["digitnet.input_shape"]),
            json.loads(meta["digitnet.n_features_in"]),
        )
        value_range = range_from_plain(json.loads(meta.get("digitnet.range", "null")))
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        raise ValueError(
            f"{path} is not an ONNX file written by digitnet: its metadata needs "
            "valid digitnet.classes, digitnet.input_shape and "
            f"digitnet.n_features_in ({type(exc).__name__}: {exc})"
        ) from exc
    return classes, shape, n_features, value_range


def _check_outputs(session, n_classes, path):
    """The graph must answer one probability per class the metadata names."""
    outputs = {o.name: o.shape for o in session.get_outputs()}
    width = (outputs.get("probabilities") or [None, None])[-1]
    if "label" not in outputs or (isinstance(width, int) and width != n_classes):
        raise ValueError(
            f"{path}: the graph's outputs {sorted(outputs)} (probabilities of "
            f"width {width}) do not match the {n_classes} classes of its metadata."
        )


class OnnxModel:
    """An exported model run by onnxruntime, with the estimator's predict API.

    Needs only onnxruntime and numpy. Reads the metadata that
    :meth:`DigitClassifier.to_onnx` writes (classes, geometry, pixel range).

    Parameters
    ----------
    path : str or os.PathLike
        An ONNX file written by :meth:`DigitClassifier.to_onnx` or
        ``digitnet export``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, in the columns' order of :meth:`predict_proba`.
    input_shape_ : tuple of int
        ``(channels, height, width)`` of one sample.
    n_features_in_ : int
        Pixels per sample (row length).
    range_ : tuple of float or None
        Pixel value range of the training images.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> import digitnet, tempfile, os
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = digitnet.DigitClassifier(max_iter=2, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "digits.onnx")
    >>> clf.to_onnx(path)
    >>> served = digitnet.OnnxModel(path)
    >>> (served.predict(X) == clf.predict(X)).mean() > 0.99
    np.True_
    """

    def __init__(self, path):
        ort = _require("onnxruntime")
        with open(path, "rb") as f:  # one read: what is checked is what runs
            data = check_signed(f.read(), path)
        options = ort.SessionOptions()
        try:
            self.session_ = ort.InferenceSession(
                data, options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own kinds
            raise ValueError(
                f"{path} could not be read as an ONNX model: {exc}"
            ) from exc
        meta = self.session_.get_modelmeta().custom_metadata_map
        (self.classes_, self.input_shape_, self.n_features_in_, self.range_) = (
            _read_meta(meta, path)
        )
        _check_outputs(self.session_, len(self.classes_), path)
        self.version_ = meta.get("digitnet.version")

    def _rows(self, X):
        X = np.asarray(X)
        if X.ndim > 2:
            X = X.reshape(len(X), -1)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has shape {X.shape}, but the model takes rows of "
                f"{self.n_features_in_} pixels (images of shape {self.input_shape_})."
            )
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X must hold numbers, not values of dtype {X.dtype}.")
        with np.errstate(over="ignore", invalid="ignore"):
            rows = np.ascontiguousarray(X, dtype=np.float32)  # what the graph sees
        if not np.isfinite(rows).all():
            raise ValueError(
                "X contains NaN, infinity or values beyond float32's range "
                f"(±{_FLOAT32_MAX:.3g}), which the model computes in."
            )
        return rows

    def _run(self, X):
        return self.session_.run(None, {"pixels": self._rows(X)})

    def predict_proba(self, X):
        """Probability of each class per row (float32, columns follow ``classes_``)."""
        return self._run(X)[1]

    def predict(self, X):
        """Class label per row (the graph's ``label`` output)."""
        return np.asarray(self._run(X)[0]).astype(self.classes_.dtype)
