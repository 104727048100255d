"""Bad input gets a clear error (or warning) naming what was expected and what came."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digitnet import DigitClassifier
from digitnet.datasets import read_idx

X_OK = np.tile(np.arange(64.0) % 17, (20, 1))
Y_OK = np.arange(20) % 2


@pytest.fixture(scope="module")
def fitted(small_digits):
    X_train, _, y_train, _ = small_digits
    return DigitClassifier(max_iter=1, random_state=0).fit(X_train, y_train)


@pytest.mark.parametrize(
    ("X", "y", "error", "match"),
    [
        (
            np.where(np.eye(20, 64) > 0, np.nan, X_OK),
            Y_OK,
            ValueError,
            r"X contains NaN in 20 row\(s\) \(rows 0, 1, 2, 3, 4, ...\).*SimpleImputer",
        ),
        (
            np.where(np.eye(20, 64) > 0, np.inf, X_OK),
            Y_OK,
            ValueError,
            r"X contains infinity in 20 row\(s\)",
        ),
        (np.empty((0, 64)), [], ValueError, r"Found array with 0 sample\(s\)"),
        (X_OK[:1], Y_OK[:1], ValueError, "only one class"),
        (X_OK, np.zeros(20), ValueError, r"at least 2 classes.*only one class: 0"),
        (X_OK, np.c_[Y_OK, Y_OK], ValueError, "y should be a 1d array"),
        (X_OK, Y_OK + 0.5, ValueError, "Unknown label type: continuous"),
        (
            np.full((20, 64), "a", dtype=object),
            Y_OK,
            ValueError,
            "could not convert|strings",
        ),
        (
            sp.csr_matrix(X_OK),
            Y_OK,
            TypeError,
            "Sparse data was passed for X, but dense",
        ),
        (X_OK[:, :0], Y_OK, ValueError, r"0 feature\(s\)"),
        (X_OK, Y_OK[:10], ValueError, "inconsistent numbers of samples"),
    ],
    ids=[
        "nan",
        "inf",
        "empty",
        "one-sample",
        "one-class",
        "2d-y",
        "continuous-y",
        "strings",
        "sparse",
        "no-features",
        "length-mismatch",
    ],
)
def test_bad_training_input(X, y, error, match):
    with pytest.raises(error, match=match):
        DigitClassifier(max_iter=1).fit(X, y)


def test_bad_prediction_input(fitted, small_digits):
    X_test = small_digits[1]
    with pytest.raises(
        ValueError, match="X has 10 features, but DigitClassifier is expecting 64"
    ):
        fitted.predict(X_test[:, :10])
    with pytest.raises(ValueError, match=r"images of shape \(1, 28, 28\).*\(1, 8, 8\)"):
        fitted.predict(np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match=r"X contains NaN in 2 row\(s\)"):
        fitted.predict(np.full((2, 64), np.nan))
    with pytest.raises(TypeError, match="Sparse data was passed"):
        fitted.predict(sp.csr_matrix(X_test))


@pytest.mark.parametrize("scale", [255 / 16, -1.0])
def test_pixels_out_of_the_training_range_warn(fitted, small_digits, scale):
    X_test = small_digits[1]
    assert fitted.input_range_ == (0.0, 16.0)
    with pytest.warns(UserWarning, match=r"outside \[0, 16\], the range"):
        fitted.predict(X_test * scale)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted.predict(X_test)  # in range: silent
        outlier = X_test.copy()
        outlier[0, 0] = 100.0  # one stray value is no scale mismatch
        fitted.predict(outlier)


def test_pixel_range_is_counted_over_every_chunk(fitted, monkeypatch):
    from digitnet import _state

    # Count in chunks of 3 rows: the out-of-range pixels sit in the last one.
    chunks = _state.row_chunks
    monkeypatch.setattr(_state, "row_chunks", lambda X: chunks(X, size=3))
    X = np.zeros((7, 64))
    X[6] = 255.0
    with pytest.warns(UserWarning, match=r"14% of the pixel values in X lie outside"):
        fitted.predict(X)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"architecture": "resnet"}, "'architecture' parameter"),
        ({"learning_rate_init": -0.1}, "'learning_rate_init' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"max_iter": 0}, "'max_iter' parameter"),
        ({"dropout": 1.0}, "'dropout' parameter"),
        ({"validation_fraction": 1.5}, "'validation_fraction' parameter"),
        ({"activation": "swish"}, "'activation' parameter"),
        ({"device": "tpu"}, "'device' parameter of DigitClassifier must be"),
    ],
)
def test_invalid_parameters_name_the_parameter(params, match):
    with pytest.raises(ValueError, match=match):
        DigitClassifier(**params).fit(X_OK, Y_OK)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_make_the_idx_reader_raise_value_error_only(
    tmp_path_factory, data
):
    path = tmp_path_factory.mktemp("idx") / "random-idx"
    path.write_bytes(data)
    try:
        array = read_idx(path)
    except ValueError:
        return
    # Valid by chance: then it must agree with its own header.
    assert array.ndim == data[3]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    shape=st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=5),
)
def test_random_shapes_fit_or_fail_clearly(shape):
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 16, size=shape)
    n = shape[0]
    y = np.arange(n) % 2
    clf = DigitClassifier(max_iter=1, random_state=0, module_params=None)
    try:
        clf.fit(X, y)
    except ValueError as exc:
        message = str(exc)
        assert any(
            word in message
            for word in (
                "sample",
                "feature",
                "class",
                "dim",
                "shape",
                "images",
                "array",
            )
        ), message
        return
    proba = clf.predict_proba(X)
    assert proba.shape == (n, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


def test_a_failed_fit_leaves_a_fitted_model_as_it_was(small_digits):
    X_train, X_test, y_train, _ = small_digits
    clf = DigitClassifier(max_iter=1, random_state=0).fit(X_train, y_train)
    before = clf.predict_proba(X_test)
    state = {k: v for k, v in vars(clf).items() if k.endswith("_")}
    clf.set_params(module_params={"no_such_option": 1})
    labels = np.array(list("abcdefghij"))[y_train]  # would replace classes_
    with pytest.raises(
        ValueError, match=r"module_params has keys \['no_such_option'\]"
    ):
        clf.fit(X_train[:, :49], labels)
    assert {
        k: v for k, v in vars(clf).items() if k.endswith("_")
    }.keys() == state.keys()
    assert clf.n_features_in_ == 64
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)


def test_a_failed_first_fit_leaves_the_estimator_unfitted(small_digits):
    from sklearn.exceptions import NotFittedError

    X_train, X_test, y_train, _ = small_digits
    clf = DigitClassifier(module_params={"no_such_option": 1})
    with pytest.raises(ValueError, match="module_params"):
        clf.fit(X_train, y_train)
    with pytest.raises(NotFittedError):
        clf.predict(X_test)
