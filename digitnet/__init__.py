"""digitnet: handwritten-digit recognition as a scikit-learn estimator.

:class:`DigitClassifier` trains PyTorch CNNs and MLPs through skorch and behaves
like any scikit-learn classifier.
"""

from ._classifier import DigitClassifier
from ._modules import CNN, MLP, Dropout, LeNet5
from ._persistence import load
from ._presets import PRESETS
from ._version import __version__
from .exceptions import InconsistentVersionWarning, TrainingInterruptedWarning

__all__ = [
    "CNN",
    "MLP",
    "PRESETS",
    "DigitClassifier",
    "Dropout",
    "InconsistentVersionWarning",
    "LeNet5",
    "TrainingInterruptedWarning",
    "__version__",
    "load",
]
