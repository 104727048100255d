"""digitnet: handwritten-digit recognition as a scikit-learn estimator.

:class:`DigitClassifier` trains PyTorch CNNs and MLPs through skorch and behaves
like any scikit-learn classifier.
"""

from ._classifier import DigitClassifier
from ._networks import CNN, MLP, LeNet5
from ._presets import PRESETS

__version__ = "0.1.0"

__all__ = ["CNN", "MLP", "PRESETS", "DigitClassifier", "LeNet5", "__version__"]
