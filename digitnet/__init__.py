"""digitnet: handwritten-digit recognition as a scikit-learn estimator.

:class:`DigitClassifier` trains PyTorch CNNs and MLPs through skorch and behaves
like any scikit-learn classifier.
"""

from ._classifier import DigitClassifier
from ._networks import CNN, MLP, LeNet5
from ._presets import PRESETS
from ._version import __version__
from .exceptions import InconsistentVersionWarning, TrainingInterruptedWarning

__all__ = [
    "CNN",
    "MLP",
    "PRESETS",
    "DigitClassifier",
    "InconsistentVersionWarning",
    "LeNet5",
    "TrainingInterruptedWarning",
    "__version__",
    "load",
]


def load(path):
    """Load a model saved with :meth:`DigitClassifier.save`.

    Runs no code from the file: weights are read with safetensors and the rest
    is JSON. A modified, truncated or foreign file raises ``ValueError``; a
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
    """
    from ._persistence import load_model

    return load_model(path, DigitClassifier)
