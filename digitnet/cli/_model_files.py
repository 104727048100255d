"""Model files of the command line: the safe format, or pickles by name.

``digitnet train`` writes the safe format (:meth:`DigitClassifier.save`) unless
the name ends in ``.joblib``, ``.pkl`` or ``.pickle``. Every command that
reads a model (``evaluate``, ``predict``, ``read``, ``export``, ``serve``)
decides alike, by name *and* content: a pickle is loaded only when its name
says it is one and the user passed ``--trust-pickle`` (loading a pickle runs
code from the file). Any other name is read with :func:`digitnet.load`, which
runs no code; a pickle under such a name is refused with the way out.
``serve`` also reads ONNX files, by their ``.onnx`` ending.
"""

import sys
from pathlib import Path

from .._files import atomic_write

# joblib, the estimator and the safe format load when a model file is read or
# written, not when the parser is built (``digitnet --help`` answers at once).

#: File name endings that ask for a pickle (joblib) instead of the safe format.
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
_HEAD_BYTES = 8  # enough to tell a pickle from safetensors


def is_pickle_name(path):
    """Whether ``path`` names a pickle by its ending."""
    return Path(path).suffix.lower() in PICKLE_SUFFIXES


def add_model(parser):
    """The ``model`` argument of a command that reads a model file."""
    parser.add_argument(
        "model",
        type=Path,
        help="a model file: the safe format (.dnet, from digitnet train), or a "
        "pickle with --trust-pickle",
    )


def add_trust_pickle(parser):
    """The ``--trust-pickle`` option of a command that reads a model."""
    parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow a model pickled by name (.joblib, .pkl, .pickle); loading a "
        "pickle runs code from the file, so only for pickles you made yourself "
        "(default: refused)",
    )


def save_model_file(model, path):
    """Save ``model`` to ``path`` atomically, in the format its name asks for."""
    if is_pickle_name(path):
        import joblib

        atomic_write(path, lambda f: joblib.dump(model, f))
    else:
        model.save(path)


def _looks_like_pickle(head):
    # Pickle protocol 2+ starts with 0x80 and the protocol number; joblib's
    # compressed files start with a compressor's magic. Only used to explain
    # why a file that is not a safe model was refused.
    return (
        head[:1] == b"\x80" or head[:2] in (b"\x1f\x8b", b"x\x9c") or head[:3] == b"BZh"
    )


def _load_safe(path):
    """:func:`digitnet.load`; a refused pickle says how to load it on purpose."""
    try:
        from .._persistence import load

        return load(path)
    except ValueError as exc:
        with open(path, "rb") as f:
            head = f.read(_HEAD_BYTES)
        if not _looks_like_pickle(head):
            raise
        raise ValueError(
            f"{path} is not a safe model file; it looks like a pickle, and loading "
            "a pickle runs code from the file, so digitnet loads one only when its "
            f"name ends in {', '.join(PICKLE_SUFFIXES)} and --trust-pickle is "
            "given. If you made this file yourself, rename it and pass "
            "--trust-pickle."
        ) from exc


def _load_pickle(path, trust_pickle):
    if not trust_pickle:
        raise ValueError(
            f"{path} is named as a pickle, and loading a pickle runs code from the "
            "file; pass --trust-pickle for a pickle you made yourself, or use a "
            "safe model file (digitnet train's default, .dnet) or an ONNX file."
        )
    print(
        f"warning: loading the pickle {path} runs code from the file (allowed by "
        "--trust-pickle).",
        file=sys.stderr,
    )
    try:
        import joblib

        model = joblib.load(path)
    except ImportError:
        raise
    except Exception as exc:  # a damaged pickle fails in many ways
        raise ValueError(
            f"{path} could not be read as a pickled model ({type(exc).__name__}: "
            f"{exc}); it may be damaged, or not a model file."
        ) from exc
    from .._classifier import DigitClassifier

    if not isinstance(model, DigitClassifier):
        raise ValueError(
            f"{path} holds a {type(model).__name__}, not a DigitClassifier"
        )
    return model


def load_model_file(path, *, trust_pickle=False):
    """A DigitClassifier from a safe file, or a pickle by name and trust.

    A name ending in one of :data:`PICKLE_SUFFIXES` is a pickle, loaded only
    with ``trust_pickle``; any other name is the safe format.
    """
    if is_pickle_name(path):
        return _load_pickle(path, trust_pickle)
    return _load_safe(path)


def load_served_model(path, *, trust_pickle=False):
    """The model ``digitnet serve`` runs: ONNX by name (``.onnx``), else as above."""
    if Path(path).suffix.lower() == ".onnx":
        from .._onnx import OnnxModel

        return OnnxModel(path)
    return load_model_file(path, trust_pickle=trust_pickle)
