"""Where digitnet keeps data sets, and sklearn's 8x8 digits in the same form."""

import os
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits as _sk_load_digits
from sklearn.utils import Bunch

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


def load_digits(*, return_X_y=False):
    """scikit-learn's bundled 8x8 digits, in the same form as :func:`fetch_mnist`.

    1,797 images of 8x8 pixels with values 0-16; offline.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch or tuple
        ``data`` (1797, 64) uint8, ``images`` (1797, 8, 8) uint8, ``target``
        (1797,) int64, ``target_names``, ``DESCR``.

    Examples
    --------
    >>> from digitnet.datasets import load_digits
    >>> load_digits().images.shape
    (1797, 8, 8)
    """
    digits = _sk_load_digits()
    data = digits.data.astype(np.uint8)
    target = digits.target.astype(np.int64)
    return digits_bunch(data, target, 8, digits.DESCR, return_X_y)
