"""Model files of the command line: the safe format, or pickles by name.

``digitnet train`` writes the safe format (:meth:`DigitClassifier.save`) unless
the name ends in ``.joblib`` or ``.pkl``. ``evaluate``, ``predict`` and
``export`` read either, recognised by content, and warn that loading a pickle
runs code; ``serve`` also reads ONNX files (by their ``.onnx`` ending) and
refuses pickles unless trusted.
"""

import sys
from pathlib import Path

import joblib

from .._classifier import DigitClassifier
from .._files import atomic_write
from .._persistence import load

#: File name endings that ask for a pickle (joblib) instead of the safe format.
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
_HEAD_BYTES = 8  # enough to tell a pickle from safetensors


def is_pickle_name(path):
    """Whether ``path`` names a pickle by its ending."""
    return Path(path).suffix.lower() in PICKLE_SUFFIXES


def save_model_file(model, path):
    """Save ``model`` to ``path`` atomically, in the format its name asks for."""
    if is_pickle_name(path):
        atomic_write(path, lambda f: joblib.dump(model, f))
    else:
        model.save(path)


def _looks_like_pickle(head):
    # Pickle protocol 2+ starts with 0x80 and the protocol number; joblib's
    # compressed files start with a compressor's magic.
    return (
        head[:1] == b"\x80" or head[:2] in (b"\x1f\x8b", b"x\x9c") or head[:3] == b"BZh"
    )


def load_model_file(path, *, trust_pickle=True):
    """A DigitClassifier from a safe file or (with a warning) a pickle.

    With ``trust_pickle=False`` a pickle is refused instead.
    """
    with open(path, "rb") as f:
        head = f.read(_HEAD_BYTES)
    if not _looks_like_pickle(head):
        return load(path)
    if not trust_pickle:
        raise ValueError(
            f"{path} is a pickle, and loading a pickle runs code from the file; "
            "serve a safe model file (digitnet train's default) or an ONNX file, "
            "or pass --trust-pickle for a pickle you made yourself."
        )
    print(
        f"warning: {path} is a pickle; loading it runs code from the file. Load "
        "only pickles you made yourself (the safe format, the default of "
        "'digitnet train', runs none).",
        file=sys.stderr,
    )
    try:
        model = joblib.load(path)
    except ImportError:
        raise
    except Exception as exc:  # a damaged pickle fails in many ways
        raise ValueError(
            f"{path} could not be read as a pickled model ({type(exc).__name__}: "
            f"{exc}); it may be damaged, or not a model file."
        ) from exc
    if not isinstance(model, DigitClassifier):
        raise ValueError(
            f"{path} holds a {type(model).__name__}, not a DigitClassifier"
        )
    return model


def load_served_model(path, *, trust_pickle=False):
    """The model ``digitnet serve`` runs: ONNX by name (``.onnx``), else as above."""
    if Path(path).suffix.lower() == ".onnx":
        from .._onnx import OnnxModel

        return OnnxModel(path)
    return load_model_file(path, trust_pickle=trust_pickle)
