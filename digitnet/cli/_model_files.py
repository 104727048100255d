"""Model files of the command line: the safe format, or pickles by name.

``digitnet train`` writes the safe format (:meth:`DigitClassifier.save`) unless
the name ends in ``.joblib`` or ``.pkl``. ``evaluate`` and ``predict`` read
either, recognised by content, and warn that loading a pickle runs code.
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


def load_model_file(path):
    """A DigitClassifier from a safe file or (with a warning) a pickle."""
    with open(path, "rb") as f:
        head = f.read(_HEAD_BYTES)
    if not _looks_like_pickle(head):
        return load(path)
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
