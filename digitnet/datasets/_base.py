"""Where digitnet keeps data sets, and sklearn's 8x8 digits in the same form."""

import os
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits as _sk_load_digits
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params

#: Environment variable naming the data home.
DATA_HOME_ENV = "DIGITNET_DATA"


def get_data_home(data_home=None):
    """Folder where digitnet looks for (and downloads) data sets.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        The folder to use. When None: the ``DIGITNET_DATA`` environment
        variable if set, else ``~/digitnet_data``. ``~`` is expanded.

    Returns
    -------
    data_home : pathlib.Path
        The folder (not created here).

    Examples
    --------
    >>> from digitnet.datasets import get_data_home
    >>> get_data_home("/srv/data").as_posix()
    '/srv/data'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or Path("~") / "digitnet_data"
    return Path(data_home).expanduser()


def digits_bunch(data, target, side, descr, return_X_y):
    """``(data, target)`` or the Bunch both loaders return."""
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        images=data.reshape(-1, side, side),
        target=target,
        target_names=np.arange(10),
        DESCR=descr,
    )


#: Share of the 8x8 digits in the fixed test subset of :func:`load_digits`.
DIGITS_TEST_SIZE = 0.25


def _digits_subset(data, target, subset):
    """The rows of ``subset``: a fixed, stratified 75/25 split of the digits."""
    if subset == "all":
        return data, target
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(target))
    train, test = train_test_split(
        rows, test_size=DIGITS_TEST_SIZE, stratify=target, random_state=0
    )
    keep = train if subset == "train" else test
    return data[keep], target[keep]


@validate_params(
    {"subset": [StrOptions({"all", "train", "test"})], "return_X_y": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def load_digits(*, subset="all", return_X_y=False):
    """scikit-learn's bundled 8x8 digits, in the same form as :func:`fetch_mnist`.

    1,797 images of 8x8 pixels with values 0-16; offline. The digits come
    without a test set; ``subset`` gives them a fixed one, so that a model
    trained on ``"train"`` (whatever its seed) is never scored on its own
    training images.

    Parameters
    ----------
    subset : {"all", "train", "test"}, default="all"
        All 1,797 images, or one side of a fixed stratified split: 1,347
        training and 450 test images (the same every time, in the order of
        ``train_test_split(..., test_size=0.25, stratify=y, random_state=0)``).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch or tuple
        ``data`` (n, 64) uint8, ``images`` (n, 8, 8) uint8, ``target``
        (n,) int64, ``target_names``, ``DESCR``.

    Examples
    --------
    >>> from digitnet.datasets import load_digits
    >>> load_digits().images.shape
    (1797, 8, 8)
    >>> X_test, y_test = load_digits(subset="test", return_X_y=True)
    >>> X_test.shape
    (450, 64)
    """
    digits = _sk_load_digits()
    data = digits.data.astype(np.uint8)
    target = digits.target.astype(np.int64)
    data, target = _digits_subset(data, target, subset)
    return digits_bunch(data, target, 8, digits.DESCR, return_X_y)
