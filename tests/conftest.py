import os

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


@pytest.fixture(scope="session")
def digits():
    """sklearn's 8x8 digits: (X_train, X_test, y_train, y_test), stratified."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


@pytest.fixture(scope="session")
def small_digits(digits):
    """400 training digits, for tests that only need a quick fit."""
    X_train, X_test, y_train, y_test = digits
    return X_train[:400], X_test[:200], y_train[:400], y_test[:200]


@pytest.fixture
def rng():
    return np.random.RandomState(0)


@pytest.fixture(scope="session")
def mnist_home():
    """Data home holding the real MNIST (``DIGITNET_DATA``).

    CI sets ``DIGITNET_REQUIRE_MNIST=1``: there missing data fails the tests.
    Elsewhere they are skipped with the reason.
    """
    from digitnet.datasets import get_data_home

    home = get_data_home()
    _require(home / "mnist" / "t10k-labels-idx1-ubyte.gz", "MNIST")
    return home


def _require(path, what):
    """Fail (in CI: ``DIGITNET_REQUIRE_MNIST=1``) or skip when ``path`` is missing."""
    if not path.is_file():
        message = f"{what} not found: no {path} (set DIGITNET_DATA)"
        if os.environ.get("DIGITNET_REQUIRE_MNIST"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def real_digits_home(mnist_home):
    """The development set of real digits, ``real_digits/`` in the data home."""
    folder = mnist_home / "real_digits"
    _require(folder / "LABELS.csv", "the real digits")
    return folder


@pytest.fixture(scope="session")
def mnist_data(mnist_home):
    """MNIST as ``(X_train, y_train, X_test, y_test)``: 784-pixel rows, 0-255."""
    from digitnet.datasets import fetch_mnist

    X_train, y_train = fetch_mnist(
        subset="train", data_home=mnist_home, return_X_y=True
    )
    X_test, y_test = fetch_mnist(subset="test", data_home=mnist_home, return_X_y=True)
    return X_train, y_train, X_test, y_test


@pytest.fixture(scope="session")
def mnist_fast_model(mnist_data):
    """The ``fast`` preset fitted on all of MNIST's training set (about 99%)."""
    from digitnet import PRESETS, DigitClassifier

    X_train, y_train, _, _ = mnist_data
    return DigitClassifier(**PRESETS["fast"], random_state=0, verbose=0).fit(
        X_train, y_train
    )
