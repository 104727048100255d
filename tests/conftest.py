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

    CI sets ``DIGITNET_REQUIRE_MNIST=1``: there a missing copy fails the tests.
    Elsewhere they are skipped with the reason.
    """
    from digitnet.datasets import get_data_home

    home = get_data_home()
    if not (home / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file():
        message = f"MNIST not found in {home}/mnist (set DIGITNET_DATA)"
        if os.environ.get("DIGITNET_REQUIRE_MNIST"):
            pytest.fail(message)
        pytest.skip(message)
    return home
