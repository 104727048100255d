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
