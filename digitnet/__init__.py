"""digitnet: handwritten-digit recognition as a scikit-learn estimator.

:class:`DigitClassifier` trains PyTorch CNNs and MLPs through skorch and behaves
like any scikit-learn classifier.
"""

from ._classifier import DigitClassifier
from ._modules import CNN, MLP, Dropout, LeNet5
from ._onnx import OnnxModel
from ._persistence import load
from ._presets import PRESETS
from ._version import __version__
from .exceptions import InconsistentVersionWarning, TrainingInterruptedWarning
from .images import preprocess_image
from .reading import DigitRead, Line, Number, Reading, read_digits

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
