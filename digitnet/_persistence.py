"""A model file format that runs no code when loaded: safetensors + JSON.

Tensors (module weights, input scaling) are stored with safetensors; everything
else -- parameters, typed classes, geometry, history, versions -- is JSON in the
file's metadata. A SHA-256 of the tensor bytes detects corrupted or edited
weights (an integrity check, not a signature). Optimizer state is not stored:
``warm_start`` after loading starts a fresh optimizer.
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from ._fitting import build_fitted_module, make_net, place
from ._setup import device_on_load
from ._version import __version__

FORMAT = "digitnet-model"
FORMAT_VERSION = 1
SAFE_HINT = "install the safe-format extra: pip install 'digitnet[safe]'"

_FITTED = [
    "n_iter_",
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "history_",
    "input_range_",
]


def _safetensors():
    try:
        import safetensors.torch
    except ImportError as exc:
        raise ImportError(
            f"The safe model format needs safetensors; {SAFE_HINT}"
        ) from exc
    return safetensors


def _digest(tensors):
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name]
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def _jsonable(value):
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[_jsonable(k), _jsonable(v)] for k, v in value.items()]}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _restore(value):
    if isinstance(value, list):
        return tuple(_restore(v) for v in value)
    if isinstance(value, dict) and "__dict__" in value:
        return {_restore(k): _restore(v) for k, v in value["__dict__"]}
    return value


def save_model(est, path):
    """Write a fitted DigitClassifier to ``path`` (see :meth:`DigitClassifier.save`)."""
    check_is_fitted(est)
    safetensors = _safetensors()
    if not isinstance(est.architecture_, str):
        raise ValueError(
            f"This model uses the custom module class {est.architecture_.__name__}, "
            "whose code the safe format cannot store. Save it with pickle or joblib "
            "instead (and load such files only from sources you trust)."
        )
    if isinstance(est.random_state, np.random.RandomState):
        raise ValueError(
            "random_state is a RandomState instance, which the safe format cannot "
            "store; set random_state to an int or None before saving."
        )
    state = est.net_.module_.state_dict()
    tensors = {f"module.{k}": v.detach().cpu().contiguous() for k, v in state.items()}
    tensors["input_mean"] = torch.from_numpy(np.ascontiguousarray(est.input_mean_))
    tensors["input_scale"] = torch.from_numpy(np.ascontiguousarray(est.input_scale_))
    classes = est.classes_
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "digitnet_version": __version__,
        "torch_version": torch.__version__,
        "params": {k: _jsonable(v) for k, v in est.get_params(deep=False).items()},
        "classes": {"dtype": classes.dtype.str, "values": classes.tolist()},
        "input_shape": list(est.input_shape_),
        "architecture": est.architecture_,
        "n_features_in": est.n_features_in_,
        "feature_names_in": (
            est.feature_names_in_.tolist()
            if hasattr(est, "feature_names_in_")
            else None
        ),
        "device": est.device_,
        "batch_size": est.net_.batch_size,
        "fitted": {name: _jsonable(getattr(est, name)) for name in _FITTED},
        "sha256": _digest(tensors),
    }
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        safetensors.torch.save_file(
            tensors, str(tmp), metadata={"digitnet": json.dumps(meta)}
        )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read(path):
    safetensors = _safetensors()
    name = os.fspath(path)
    try:
        with safetensors.safe_open(name, framework="pt") as f:
            raw = (f.metadata() or {}).get("digitnet")
            tensors = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118
    except FileNotFoundError:
        raise
    except Exception as exc:  # safetensors raises its own error types
        raise ValueError(
            f"{name} is not a readable digitnet model file (truncated or not "
            f"safetensors): {exc}"
        ) from exc
    if raw is None:
        raise ValueError(f"{name} is a safetensors file but not a digitnet model.")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{name}: the model description is not valid JSON: {exc}"
        ) from exc
    if meta.get("format") != FORMAT:
        raise ValueError(
            f"{name} is not a digitnet model file (format {meta.get('format')!r})."
        )
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{name} was written by digitnet {meta.get('digitnet_version')} in model "
            f"format {meta['format_version']}; this digitnet ({__version__}) reads "
            f"format {FORMAT_VERSION} and older. Upgrade digitnet to load it."
        )
    found = _digest(tensors)
    if found != meta.get("sha256"):
        raise ValueError(
            f"{name} has been modified or corrupted: its tensors have SHA-256 "
            f"{found}, but the file records {meta.get('sha256')}."
        )
    return meta, tensors


def load_model(path, cls):
    """Read a model written by :func:`save_model` (see :func:`digitnet.load`)."""
    meta, tensors = _read(path)
    est = cls(**{k: _restore(v) for k, v in meta["params"].items()})
    classes = meta["classes"]
    est.classes_ = np.asarray(classes["values"], dtype=np.dtype(classes["dtype"]))
    est.input_shape_ = tuple(meta["input_shape"])
    est.architecture_ = meta["architecture"]
    est.n_features_in_ = meta["n_features_in"]
    if meta["feature_names_in"] is not None:
        est.feature_names_in_ = np.asarray(meta["feature_names_in"], dtype=object)
    est.input_mean_ = tensors.pop("input_mean").numpy()
    est.input_scale_ = tensors.pop("input_scale").numpy()
    for name, value in meta["fitted"].items():
        value = _restore(value)  # JSON lists come back as tuples
        if isinstance(value, tuple) and name != "input_range_":
            value = list(value)
        setattr(est, name, value)
    module = build_fitted_module(est)
    weights = {k.removeprefix("module."): v for k, v in tensors.items()}
    try:
        module.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        raise ValueError(
            f"{os.fspath(path)}: the stored weights do not fit the {est.architecture_} "
            f"architecture the file describes: {exc}"
        ) from exc
    net = make_net(
        est,
        n_train=meta["batch_size"],  # batch size = min(batch_size, n_train)
        valid_ds=None,
        generator=None,
        transform=None,
        device="cpu",
        incremental=False,
        module=module,
    )
    net.initialize()
    net.history_ = History(est.history_)
    est.net_ = net
    est.device_ = device_on_load(est.device, meta["device"])
    place(net, est.device_)
    return est
