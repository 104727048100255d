"""The fitted input: geometry, scaling, label encoding and its plain form."""

import copy
import json
import pickle

import numpy as np
import pytest

from digitnet import DigitClassifier
from digitnet._state import FittedInput, infer_geometry, learn_classes, split_images


def _learn(X, y, image_shape=None, architecture="auto"):
    return FittedInput.learn(
        X,
        None,
        classes=learn_classes(y),
        image_shape=image_shape,
        architecture=architecture,
    )


@pytest.mark.parametrize(
    ("shape", "expected_flat", "expected_image"),
    [
        ((5, 8, 8), (5, 64), (1, 8, 8)),
        ((5, 3, 8, 8), (5, 192), (3, 8, 8)),
        ((5, 28, 28, 3), (5, 2352), (3, 28, 28)),  # channels-last colour
        ((5, 28, 28, 1), (5, 784), (1, 28, 28)),
        ((0, 8, 8), (0, 64), (1, 8, 8)),
    ],
)
def test_image_arrays_are_read_as_images(shape, expected_flat, expected_image):
    X, image_shape = split_images(np.zeros(shape))
    assert X.shape == expected_flat
    assert image_shape == expected_image


def test_channels_last_pixels_keep_their_values():
    X = np.random.RandomState(0).rand(2, 9, 10, 3)
    flat, shape = split_images(X)
    np.testing.assert_array_equal(flat.reshape(2, *shape), X.transpose(0, 3, 1, 2))


def test_five_dimensional_X_is_refused():
    with pytest.raises(
        ValueError, match=r"X has 5 dimensions \(shape \(2, 1, 1, 8, 8\)"
    ):
        split_images(np.zeros((2, 1, 1, 8, 8)))


@pytest.mark.parametrize(
    ("n", "geometry"), [(64, (1, 8, 8)), (784, (1, 28, 28)), (49, (49,)), (10, (10,))]
)
def test_geometry_of_flat_rows(n, geometry):
    assert infer_geometry(n) == geometry


def test_scaling_of_images_is_global_and_of_tables_per_feature():
    rng = np.random.RandomState(0)
    images = _learn(rng.randint(0, 17, (50, 64)).astype(float), np.arange(50) % 2)
    assert np.ptp(images.mean) == 0
    assert images.range == (0.0, 16.0)
    table = _learn(rng.rand(50, 3) * [1, 10, 100], np.arange(50) % 2)
    assert np.ptp(table.scale) > 0
    assert table.range is None


def test_huge_pixel_values_scale_and_train(small_digits):
    """X * 1e30 used to give input_scale_ = inf and a model at chance level."""
    X_train, X_test, y_train, y_test = small_digits
    clf = DigitClassifier(max_iter=5, random_state=0).fit(X_train * 1e30, y_train)
    assert np.isfinite(clf.input_scale_).all()
    assert clf.score(X_test * 1e30, y_test) > 0.8


def test_values_beyond_float32_are_an_error():
    X = np.random.RandomState(0).rand(20, 64) * 1e200
    with pytest.raises(
        ValueError, match=r"values up to 9\.99809e\+199, beyond float32"
    ):
        _learn(X, np.arange(20) % 2)


def test_mixed_label_types_are_a_clear_error():
    y = np.array([1, "a", 2, "b"], dtype=object)
    with pytest.raises(
        ValueError, match=r"y mixes labels of different types \(int, str"
    ):
        learn_classes(y)


def test_unseen_labels_are_named():
    fitted = _learn(np.zeros((4, 64)), np.array([0, 1, 0, 1]))
    with pytest.raises(ValueError, match=r"classes \[7\] that were not seen"):
        fitted.encode(np.array([0, 7]))


@pytest.fixture(scope="module")
def fitted_input():
    rng = np.random.RandomState(0)
    fitted = _learn(rng.rand(30, 64) * 16, np.array(list("abc") * 10))
    return fitted.with_feature_names(np.array([f"p{i}" for i in range(64)], object))


def test_plain_form_round_trips(fitted_input):
    description, arrays = fitted_input.to_plain()
    back = FittedInput.from_plain(json.loads(json.dumps(description)), arrays)
    assert back.to_plain()[0] == description
    np.testing.assert_array_equal(back.classes, fitted_input.classes)
    assert back.classes.dtype == fitted_input.classes.dtype
    np.testing.assert_array_equal(back.mean, fitted_input.mean)
    assert pickle.loads(pickle.dumps(back)).to_plain()[0] == description


def _edit(description, key, value):
    edited = copy.deepcopy(description)
    edited[key] = value
    return edited


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("classes", {"dtype": "<U1", "values": ["c", "b", "a"]}, "sorted order"),
        ("classes", {"dtype": "<U1", "values": ["a"] * 3}, "distinct labels"),
        ("classes", {"dtype": "<i8", "values": ["a", "b"]}, "do not all have"),
        ("classes", {"dtype": "object", "values": [1, 2]}, "do not all have"),
        ("classes", {"dtype": "<c16", "values": [1, 2]}, "not a label type"),
        ("classes", [1, 2], "classes must be a dict"),
        # Same pixel count: a valid description on its own; the file's digest
        # is what catches such an edit (test_model_files).
        ("input_shape", [1, 4, 16], None),
        ("input_shape", [1, 8, -8], "positive ints"),
        ("input_shape", [1, 8], "1 or 3 positive ints"),
        ("input_shape", "1x8x8", "input_shape must be a list"),
        ("n_features_in", 63, "does not match input_shape"),
        ("architecture", "resnet", "architecture must be one of"),
        ("range", [16, 0], "range must be None or"),
        ("range", ["a", 1], "range must be None or"),
        ("feature_names_in", ["x"], "feature_names_in must be None or 64"),
    ],
)
def test_every_field_of_the_plain_form_is_checked(fitted_input, key, value, match):
    description, arrays = fitted_input.to_plain()
    edited = _edit(description, key, value)
    if match is None:
        FittedInput.from_plain(edited, arrays)
        return
    with pytest.raises(ValueError, match=match):
        FittedInput.from_plain(edited, arrays)


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        ({"input_mean": np.zeros(63), "input_scale": np.ones(64)}, "64 float64"),
        ({"input_mean": np.zeros(64), "input_scale": np.zeros(64)}, "positive"),
        ({"input_mean": np.full(64, np.nan), "input_scale": np.ones(64)}, "non-finite"),
    ],
)
def test_scaling_arrays_are_checked(fitted_input, arrays, match):
    with pytest.raises(ValueError, match=match):
        FittedInput.from_plain(fitted_input.to_plain()[0], arrays)


def test_the_estimator_exposes_the_fitted_input(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(max_iter=1, random_state=0).fit(X_train, y_train)
    fitted = clf.fitted_input_
    assert clf.classes_ is fitted.classes
    assert clf.input_shape_ == fitted.input_shape == (1, 8, 8)
    assert clf.input_mean_ is fitted.mean
    assert clf.input_range_ == fitted.range
    assert clf.n_features_in_ == fitted.n_features_in == 64
    with pytest.raises(AttributeError, match="not fitted yet"):
        _ = DigitClassifier().classes_
