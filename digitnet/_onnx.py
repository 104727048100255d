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
"""

import contextlib
import copy
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
from ._version import __version__

ONNX_HINT = "install the onnx extra: pip install 'digitnet[onnx]'"
#: ONNX operator set of exported graphs (onnxruntime >= 1.17 runs it).
OPSET = 18
_OPERATOR = re.compile(r"aten[.:]+\w+")


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
    data = _add_labels(raw, fitted)
    atomic_write(path, lambda f: f.write(data))


def _read_meta(meta, path):
    """``(classes, input_shape, n_features, range)`` from digitnet's metadata."""
    try:
        spec = json.loads(meta["digitnet.classes"])
        classes = np.asarray(spec["values"], dtype=np.dtype(spec["dtype"]))
        shape = tuple(int(v) for v in json.loads(meta["digitnet.input_shape"]))
        n_features = int(meta["digitnet.n_features_in"])
        value_range = json.loads(meta.get("digitnet.range", "null"))
        value_range = None if value_range is None else tuple(map(float, value_range))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{path} is not an ONNX file written by digitnet: its metadata needs "
            "digitnet.classes, digitnet.input_shape and digitnet.n_features_in "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    return classes, shape, n_features, value_range


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
        options = ort.SessionOptions()
        try:
            self.session_ = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own kinds
            raise ValueError(
                f"{path} could not be read as an ONNX model: {exc}"
            ) from exc
        meta = self.session_.get_modelmeta().custom_metadata_map
        (self.classes_, self.input_shape_, self.n_features_in_, self.range_) = (
            _read_meta(meta, path)
        )
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
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or infinity.")
        return np.ascontiguousarray(X, dtype=np.float32)

    def _run(self, X):
        return self.session_.run(None, {"pixels": self._rows(X)})

    def predict_proba(self, X):
        """Probability of each class per row (float32, columns follow ``classes_``)."""
        return self._run(X)[1]

    def predict(self, X):
        """Class label per row (the graph's ``label`` output)."""
        return np.asarray(self._run(X)[0]).astype(self.classes_.dtype)
