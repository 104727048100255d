"""digitnet: handwritten-digit recognition as a scikit-learn estimator.

:class:`DigitClassifier` trains PyTorch CNNs and MLPs through skorch and behaves
like any scikit-learn classifier.

The names below are imported when first used (PEP 562), so ``import
digitnet`` and ``digitnet --help`` do not pay for torch, skorch and
scikit-learn until a name that needs them is touched.
"""

import importlib
from typing import TYPE_CHECKING

from ._version import __version__

#: Public name -> the module that defines it.
_LAZY = {
    "DigitClassifier": "._classifier",
    "CNN": "._modules",
    "MLP": "._modules",
    "Dropout": "._modules",
    "LeNet5": "._modules",
    "OnnxModel": "._onnx",
    "load": "._persistence",
    "PRESETS": "._presets",
    "InconsistentVersionWarning": ".exceptions",
    "TrainingInterruptedWarning": ".exceptions",
    "preprocess_image": ".images",
    "DigitRead": ".reading",
    "Line": ".reading",
    "Number": ".reading",
    "Reading": ".reading",
    "read_digits": ".reading",
}
#: Subpackages reachable as attributes (``digitnet.datasets``).
_SUBMODULES = {"cli", "datasets", "exceptions", "images", "reading", "serve"}

__all__ = [
    "CNN",
    "MLP",
    "PRESETS",
    "DigitClassifier",
    "DigitRead",
    "Dropout",
    "InconsistentVersionWarning",
    "LeNet5",
    "Line",
    "Number",
    "OnnxModel",
    "Reading",
    "TrainingInterruptedWarning",
    "__version__",
    "load",
    "preprocess_image",
    "read_digits",
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # the next access is a plain lookup
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'digitnet' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_LAZY, *_SUBMODULES})


if TYPE_CHECKING:  # for type checkers and editors: the same names, eagerly
    from ._classifier import DigitClassifier
    from ._modules import CNN, MLP, Dropout, LeNet5
    from ._onnx import OnnxModel
    from ._persistence import load
    from ._presets import PRESETS
    from .exceptions import InconsistentVersionWarning, TrainingInterruptedWarning
    from .images import preprocess_image
    from .reading import DigitRead, Line, Number, Reading, read_digits
