"""Warnings and exceptions raised by digitnet."""

__all__ = [
    "BlankImageError",
    "InconsistentVersionWarning",
    "TrainingInterruptedWarning",
]


class BlankImageError(ValueError):
    """An image holds no visible ink: nothing to classify.

    Raised by :func:`digitnet.preprocess_image` (and so by ``digitnet
    predict``) instead of guessing a digit for an empty page or canvas;
    ``digitnet serve`` answers it as a "no ink" result.

    Examples
    --------
    >>> import numpy as np, digitnet
    >>> from digitnet.exceptions import BlankImageError
    >>> try:
    ...     digitnet.preprocess_image(np.ones((50, 50)))
    ... except BlankImageError as exc:
    ...     print(exc)
    the image holds no visible ink (it is blank)
    """


class InconsistentVersionWarning(UserWarning):
    """A model is unpickled by another digitnet version than the one that saved it.

    Like scikit-learn's warning of the same name: the model may work, but is
    not guaranteed to. Retrain, or save and load it with
    :meth:`~digitnet.DigitClassifier.save` and :func:`~digitnet.load`.

    Parameters
    ----------
    estimator_name : str
        The class of the unpickled estimator.
    current_version : str
        The running digitnet version.
    original_version : str
        The version that pickled the model.
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self):
        return (
            f"Trying to unpickle {self.estimator_name} from digitnet version "
            f"{self.original_version} when using version {self.current_version}. "
            "This might lead to breaking code or invalid results. Use at your own risk."
        )


class TrainingInterruptedWarning(UserWarning):
    """Training was interrupted (Ctrl-C) and stopped early.

    The model is usable: it keeps the weights of the last completed epoch (the
    best validation epoch with ``early_stopping``), and ``n_iter_`` says how
    many epochs ran.
    """
