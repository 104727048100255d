"""Parameter values as plain data.

Two forms, one home:

* :func:`encode` / :func:`decode`: an exact, typed JSON form. Lists stay lists,
  tuples stay tuples, dict keys keep their types, NumPy scalars and paths come
  back as what they were. The safe model format stores ``get_params()`` so.
* :func:`canonical`: a value-identity form for deciding whether two parameter
  sets train the same thing (checkpoints). Sequences compare by their items
  (a list equals a tuple of the same values), dicts by their items in any key
  order, paths by their text, and a ``RandomState`` by its state.
"""

import hashlib
import json
import math
import os
from pathlib import Path, PurePath

import numpy as np

__all__ = ["canonical", "decode", "encode", "fingerprint"]

_TAG = "__digitnet__"


def _float(value):
    if math.isfinite(value):
        return value
    return {_TAG: "float", "value": repr(value)}


def builtin(value):
    """``value`` as a Python built-in when it is a NumPy scalar (for JSON)."""
    return value.item() if isinstance(value, np.generic) else value


def encode(value):
    """Exact JSON-ready form of a parameter value.

    Raises
    ------
    TypeError
        For values with no plain-data form (classes, generators, objects).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, np.generic):
        return {_TAG: "numpy", "dtype": value.dtype.str, "value": encode(value.item())}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "items": [encode(v) for v in value]}
    if isinstance(value, dict):
        items = [[encode(k), encode(v)] for k, v in value.items()]
        return {_TAG: "dict", "items": items}
    if isinstance(value, PurePath):
        return {_TAG: "path", "value": os.fspath(value)}
    raise TypeError(f"{type(value).__name__} values have no plain-data form")


def _decode_tagged(value):
    kind = value.get(_TAG)
    if kind == "float" and value.get("value") in ("nan", "inf", "-inf"):
        return float(value["value"])
    if kind == "numpy" and isinstance(value.get("dtype"), str):
        dtype = np.dtype(value["dtype"])
        if dtype.kind not in "biuf":
            raise ValueError(f"unsupported NumPy scalar type {dtype}")
        return dtype.type(decode(value["value"]))
    if kind == "tuple" and isinstance(value.get("items"), list):
        return tuple(decode(v) for v in value["items"])
    if kind == "dict" and isinstance(value.get("items"), list):
        out = {}
        for pair in value["items"]:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ValueError(f"malformed dict item {pair!r}")
            out[_hashable(decode(pair[0]))] = decode(pair[1])
        return out
    if kind == "path" and isinstance(value.get("value"), str):
        return Path(value["value"])
    raise ValueError(f"malformed encoded value {value!r}")


def _hashable(key):
    try:
        hash(key)
    except TypeError as exc:
        raise ValueError(f"dict key {key!r} is not hashable") from exc
    return key


def decode(value):
    """Inverse of :func:`encode`; ``ValueError`` for anything malformed."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        return _decode_tagged(value)
    raise ValueError(f"malformed encoded value of type {type(value).__name__}")


def canonical(value):
    """Value-identity form (see the module docstring); JSON-ready and sorted."""
    if isinstance(value, np.random.RandomState):
        kind, keys, pos, has_gauss, gauss = value.get_state()
        digest = fingerprint(np.asarray(keys))
        return ["RandomState", kind, digest, int(pos), int(has_gauss), float(gauss)]
    if isinstance(value, np.generic):
        return canonical(value.item())
    if isinstance(value, list | tuple):
        return ["seq", [canonical(v) for v in value]]
    if isinstance(value, dict):
        items = [[canonical(k), canonical(v)] for k, v in value.items()]
        return ["dict", sorted(items, key=lambda kv: json.dumps(kv[0]))]
    if isinstance(value, PurePath):
        return os.fspath(value)
    if isinstance(value, float) and not math.isfinite(value):
        return ["float", repr(value)]
    if isinstance(value, type):
        return ["class", f"{value.__module__}.{value.__qualname__}"]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return ["repr", type(value).__qualname__]


def fingerprint(*arrays):
    """BLAKE2b digest of arrays' dtypes, shapes and bytes (data identity)."""
    digest = hashlib.blake2b(digest_size=16)
    for array in arrays:
        if array is None:
            digest.update(b"none")
            continue
        array = np.ascontiguousarray(array)
        if array.dtype == object:
            array = np.asarray([repr(v) for v in array.ravel()]).astype(str)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()
