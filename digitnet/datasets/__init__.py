"""Data sets and the IDX file format.

* :func:`fetch_mnist` -- MNIST (28x28), from the data home or downloaded.
* :func:`load_digits` -- scikit-learn's bundled 8x8 digits, offline.
* :func:`make_numbers` -- images of multi-digit numbers composed from digits.
* :func:`make_pages` -- pages of lines of numbers composed from digits.
* :func:`make_captures` -- digits rendered under named capture conditions.
* :func:`read_idx` / :func:`write_idx` -- the IDX format of the MNIST files.
* :func:`get_data_home` -- where data sets live (``DIGITNET_DATA``).
"""

from ._base import DATA_HOME_ENV, get_data_home, load_digits
from ._captures import CAPTURE_CONDITIONS, HARD_CONDITIONS, make_captures
from ._idx import read_idx, write_idx
from ._mnist import fetch_mnist
from ._numbers import make_numbers
from ._pages import make_pages

__all__ = [
    "CAPTURE_CONDITIONS",
    "DATA_HOME_ENV",
    "HARD_CONDITIONS",
    "fetch_mnist",
    "get_data_home",
    "load_digits",
    "make_captures",
    "make_numbers",
    "make_pages",
    "read_idx",
    "write_idx",
]
