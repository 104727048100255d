"""A model file format that runs no code when loaded: safetensors + JSON.

The module's weights and the input scaling are safetensors tensors; the
parameters (typed, :mod:`digitnet._plain`), the fitted input
(:class:`~digitnet._state.FittedInput`), the history and versions are JSON in
the file's metadata. A SHA-256 over the metadata, the tensor index and the
tensor bytes detects any accidental change (an integrity check, not a
signature). Loading validates every field before it allocates anything: the
module is first built on torch's ``meta`` device and its shapes compared with
the file's, so a file never costs more memory than its weights. A loaded model
has an inference-only net (no optimizer, schedule or callbacks); ``warm_start``
after loading starts a fresh optimizer.
"""

import hashlib
import json
import os
import re
import struct

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._device import device_on_load, place
from ._files import atomic_write
from ._modules import build_fitted_module, check_layer_sizes
from ._net import make_inference_net
from ._plain import decode, encode
from ._state import FittedInput
from ._training import fitted_attributes, module_spec
from ._version import __version__

FORMAT = "digitnet-model"
FORMAT_VERSION = 2
_MAX_HEADER = 16 << 20  # bytes of JSON header accepted before parsing
DEVICE_NAME = re.compile(r"cpu|mps|cuda(:\d+)?")
_DTYPES = {"F64": torch.float64, "F32": torch.float32, "I64": torch.int64}


def _safetensors():
    """safetensors (a core dependency), imported when a model is saved or loaded."""
    import safetensors.torch

    return safetensors


def _digest(meta_json, index, payload):
    """SHA-256 of the description, the tensor index and the tensor bytes."""
    digest = hashlib.sha256(meta_json.encode("utf-8"))
    digest.update(json.dumps(index, sort_keys=True).encode("utf-8"))
    digest.update(payload)
    return digest.hexdigest()


def _description(est):
    if not isinstance(est.architecture_, str):
        raise ValueError(
            f"This model uses the custom module class {est.architecture_.__name__}, "
            "whose code the safe format cannot store. Save it with pickle or joblib "
            "instead (and load such files only from sources you trust)."
        )
    try:
        params = {k: encode(v) for k, v in est.get_params(deep=False).items()}
    except TypeError as exc:
        raise ValueError(
            f"A parameter cannot be stored in the safe format ({exc}); e.g. a "
            "RandomState random_state: set it to an int or None before saving."
        ) from exc
    description, arrays = est.fitted_input_.to_plain()
    try:  # write nothing that load() would refuse
        FittedInput.from_plain(description, arrays)
    except ValueError as exc:
        raise ValueError(
            f"This model cannot be stored in the safe format: {exc}. Save it with "
            "pickle or joblib instead."
        ) from exc
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "digitnet_version": __version__,
        "torch_version": torch.__version__,
        "params": params,
        "input": description,
        "device": est.device_,
        "history": encode(est.history_),
    }
    return meta, arrays


def save_model(est, path):
    """Write a fitted DigitClassifier to ``path`` (see :meth:`DigitClassifier.save`)."""
    check_is_fitted(est)
    safetensors = _safetensors()
    meta, arrays = _description(est)
    tensors = {
        f"module.{k}": v.detach().cpu().contiguous()
        for k, v in est.net_.module_.state_dict().items()
    }
    tensors.update(
        {k: torch.from_numpy(np.ascontiguousarray(a)) for k, a in arrays.items()}
    )
    meta_json = json.dumps(meta, sort_keys=True)
    unsigned = safetensors.torch.save(tensors, metadata={"digitnet": meta_json})
    header, payload = _split(unsigned, os.fspath(path))
    sha = _digest(meta_json, _index(header), payload)
    data = safetensors.torch.save(
        tensors, metadata={"digitnet": meta_json, "sha256": sha}
    )
    atomic_write(path, lambda f: f.write(data))


def _split(data, name):
    """``(header dict, tensor bytes)`` of a safetensors file's bytes."""
    if len(data) < 8:
        raise ValueError(f"{name} is not a readable digitnet model file (truncated).")
    (size,) = struct.unpack("<Q", data[:8])
    if size > min(_MAX_HEADER, len(data) - 8):
        raise ValueError(
            f"{name} is not a readable digitnet model file (truncated or not "
            "safetensors: bad header size)."
        )
    try:
        header = json.loads(data[8 : 8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(
            f"{name} is not a readable digitnet model file (not safetensors): {exc}"
        ) from exc
    if not isinstance(header, dict):
        raise ValueError(f"{name} is not a readable digitnet model file.")
    return header, memoryview(data)[8 + size :]


def _index(header):
    return {k: v for k, v in header.items() if k != "__metadata__"}


def _check_index(index, payload_size, name):
    """Tensor entries must be well-formed and tile the payload exactly."""
    spans = []
    for key, entry in index.items():
        ok = isinstance(entry, dict) and entry.get("dtype") in _DTYPES
        shape, offsets = (
            (entry.get("shape"), entry.get("data_offsets")) if ok else (0, 0)
        )
        ok = ok and isinstance(shape, list) and isinstance(offsets, list)
        ok = ok and all(isinstance(d, int) and d >= 0 for d in [*shape, *offsets])
        ok = ok and len(offsets) == 2
        if ok:
            size = _DTYPES[entry["dtype"]].itemsize * int(
                np.prod(shape, dtype=np.int64)
            )
            ok = offsets[1] - offsets[0] == size
        if not ok:
            raise ValueError(f"{name}: malformed tensor entry {key!r}.")
        spans.append(tuple(offsets))
    end = 0
    for start, stop in sorted(spans):
        if start != end:
            raise ValueError(f"{name}: tensor data overlaps or leaves gaps.")
        end = stop
    if end != payload_size:
        raise ValueError(f"{name} is truncated or has trailing data.")


def read_file(path):
    """``(description, tensor index, file bytes, tensor bytes)``, checked."""
    name = os.fspath(path)
    with open(path, "rb") as f:  # one read: a concurrent save cannot tear it
        data = f.read()
    header, payload = _split(data, name)
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or "digitnet" not in meta:
        raise ValueError(f"{name} is a safetensors file but not a digitnet model.")
    index = _index(header)
    _check_index(index, len(payload), name)
    found = _digest(meta["digitnet"], index, payload)
    if found != meta.get("sha256"):
        raise ValueError(
            f"{name} has been modified or corrupted: its content has SHA-256 "
            f"{found}, but the file records {meta.get('sha256')}."
        )
    try:
        description = json.loads(meta["digitnet"])
    except (TypeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{name}: the model description is not JSON: {exc}") from exc
    _check_format(description, name)
    return description, index, data, payload


def _check_format(description, name):
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        found = description.get("format") if isinstance(description, dict) else None
        raise ValueError(f"{name} is not a digitnet model file (format {found!r}).")
    version = description.get("format_version")
    if not isinstance(version, int) or version < FORMAT_VERSION:
        raise ValueError(
            f"{name} is in model format {version!r}; this digitnet ({__version__}) "
            f"reads format {FORMAT_VERSION}. Re-save it with the digitnet that "
            "wrote it, or retrain."
        )
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{name} was written by digitnet {description.get('digitnet_version')} "
            f"in model format {version}; this digitnet ({__version__}) reads format "
            f"{FORMAT_VERSION}. Upgrade digitnet to load it."
        )


#: The tensors holding the input scaling (the rest are the module's).
_SCALING = ("input_mean", "input_scale")


def _small_array(index, payload, key):
    """A float64 array read from the tensor bytes (the index is validated)."""
    entry = index.get(key)
    if not isinstance(entry, dict) or entry.get("dtype") != "F64":
        raise ValueError(f"{key} is missing or not float64")
    start, stop = entry["data_offsets"]
    raw = payload[start:stop]
    return np.frombuffer(raw, dtype="<f8").reshape(entry["shape"]).copy()


def _estimator(cls, description, name):
    """The unfitted estimator with the stored parameters, validated."""
    params = description.get("params")
    if not isinstance(params, dict):
        raise ValueError(f"{name}: params must be a dict, not {type(params).__name__}.")
    try:
        params = {k: decode(v) for k, v in params.items()}
        est = cls(**params)
        est._validate_params()
        if est.hidden_layer_sizes is not None:
            check_layer_sizes(est.hidden_layer_sizes)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: invalid stored parameters: {exc}") from exc
    return est


def _module_for(est, fitted, index, name):
    """The module built on the meta device, checked against the file's tensors."""
    with torch.device("meta"):
        module = build_fitted_module(est, fitted)
    expected = {f"module.{k}": tuple(v.shape) for k, v in module.state_dict().items()}
    stored = {k: tuple(v["shape"]) for k, v in index.items() if k not in _SCALING}
    if expected != stored:
        wrong = sorted(set(expected.items()) ^ set(stored.items()), key=str)[:3]
        raise ValueError(
            f"{name}: the stored weights do not fit the {fitted.architecture} "
            f"architecture the file describes (e.g. {wrong})."
        )
    return module


def load(path):
    """Load a model saved with :meth:`DigitClassifier.save`.

    Runs no code from the file: weights are read with safetensors and the rest
    is JSON. A modified, truncated or foreign file, or one whose description
    is malformed, raises ``ValueError`` before anything is built from it; a
    file from a newer model format says which digitnet it needs. A model saved
    on a GPU loads on a CPU-only machine (``device="auto"`` re-resolves).

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :meth:`DigitClassifier.save`.

    Returns
    -------
    model : DigitClassifier
        The fitted model, ready to predict (its optimizer state is fresh).

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_digits
    >>> import digitnet
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = digitnet.DigitClassifier(max_iter=1, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "digits.dnet")
    >>> clf.save(path)
    >>> (digitnet.load(path).predict(X) == clf.predict(X)).all()
    np.True_
    """
    name = os.fspath(path)
    try:
        return _load(path, name)
    except RecursionError as exc:  # JSON nested deeper than Python can follow
        raise ValueError(
            f"{name}: the model description is nested too deeply."
        ) from exc


def _load(path, name):
    from ._classifier import DigitClassifier

    safetensors = _safetensors()
    description, index, data, payload = read_file(path)
    est = _estimator(DigitClassifier, description, name)
    try:
        arrays = {k: _small_array(index, payload, k) for k in _SCALING}
        fitted = FittedInput.from_plain(description.get("input"), arrays)
    except ValueError as exc:
        raise ValueError(f"{name}: invalid input description: {exc}") from exc
    module = _module_for(est, fitted, index, name)  # shapes checked on "meta"
    tensors = safetensors.torch.load(data)
    module = module.to_empty(device="cpu")
    module.load_state_dict(
        {k.removeprefix("module."): v for k, v in tensors.items() if k not in _SCALING}
    )
    return _assemble(est, fitted, module, description, name)


def _assemble(est, fitted, module, description, name):
    from skorch.history import History

    try:
        history = decode(description.get("history"))
        if not isinstance(history, list) or not all(
            isinstance(row, dict) and isinstance(row.get("train_loss"), float)
            for row in history
        ):
            raise ValueError("history must be a list of epoch dicts with train_loss")
    except ValueError as exc:
        raise ValueError(f"{name}: invalid history: {exc}") from exc
    device = description.get("device")
    if not isinstance(device, str) or not DEVICE_NAME.fullmatch(device):
        raise ValueError(f"{name}: device must be a device name, not {device!r}.")
    net = make_inference_net(module)
    net.history_ = History(history)
    net.module_spec_ = module_spec(est)
    net.interrupted_ = False
    device = device_on_load(est.device, device)
    place(net, device)
    vars(est).update(fitted_attributes(net, device, fitted, est.early_stopping))
    return est
