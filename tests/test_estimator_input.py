"""Estimator input a hostile but realistic user passes: never silent nonsense."""

import numpy as np
import pytest
import torch
from torch import nn

from digitnet import DigitClassifier

from .test_classifier import TinyNet


class WideNet(nn.Module):
    """Returns 15 logits whatever the number of classes."""

    def __init__(self, n_features):
        super().__init__()
        self.linear = nn.Linear(n_features, 15)

    def forward(self, x):
        return self.linear(x.flatten(1))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"class_weight": {1: float("nan")}}, "finite, non-negative numbers"),
        ({"class_weight": {1: -5.0}}, "finite, non-negative numbers"),
        ({"class_weight": {1: "heavy"}}, "finite, non-negative numbers"),
        ({"class_weight": dict.fromkeys(range(10), 0.0)}, "every class weight 0"),
        ({"hidden_layer_sizes": (0,)}, "positive int or a sequence of positive"),
        ({"hidden_layer_sizes": (-5,)}, "positive int or a sequence of positive"),
        ({"hidden_layer_sizes": (32, "wide")}, "positive int or a sequence"),
        ({"augment": {"rotation": "a lot"}}, r"augment\['rotation'\] must be a number"),
        ({"augment": {"shift": 5.0}}, r"augment\['shift'\] must be a number in"),
        ({"augment": {"spin": 1}}, r"augment has keys \['spin'\]"),
        ({"module_params": {"channels": "abc"}}, "channels must be a sequence of pos"),
        ({"module_params": {"kernel_size": 2.5}}, "kernel_size must be a positive int"),
        (
            {"module_params": {"channels": (8,), "pool": (True, True)}},
            "could not be built",
        ),
        ({"module_params": {"depth": 3}}, r"keys \['depth'\] that cnn does not accept"),
        ({"architecture": WideNet}, "returns outputs of shape .15,. per sample"),
        ({"architecture": dict}, "torch.nn.Module subclass; got the class dict"),
        ({"device": "gpu"}, "'device' parameter of DigitClassifier must be"),
        ({"test_time_augment": 10**6}, r"'test_time_augment'.*range \[0, 100\]"),
    ],
)
def test_bad_parameters_are_named_before_training(small_digits, params, match):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(max_iter=1, **params)
    with pytest.raises(ValueError, match=match):
        clf.fit(X_train, y_train)
    assert not hasattr(clf, "net_")


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.zeros((0, 8, 8)), np.zeros(0), r"0 sample\(s\)"),
        (np.zeros((4, 1, 1, 8, 8)), np.arange(4) % 2, "X has 5 dimensions"),
        (np.ones((4, 64)), np.array([1, "a", 2, "b"], dtype=object), "mixes labels"),
    ],
    ids=["empty-images", "5-d", "mixed-labels"],
)
def test_bad_arrays_are_named(X, y, match):
    with pytest.raises(ValueError, match=match):
        DigitClassifier(max_iter=1).fit(X, y)


def test_sample_weights_must_be_finite(small_digits):
    X_train, _, y_train, _ = small_digits
    weights = np.ones(len(y_train))
    weights[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        DigitClassifier(max_iter=1).fit(X_train, y_train, sample_weight=weights)
    with pytest.raises(ValueError, match="at least one non-zero"):  # sklearn's
        DigitClassifier(max_iter=1).fit(X_train, y_train, sample_weight=0 * y_train)


def test_channels_last_colour_images_are_read_as_colour(small_digits):
    X_train, X_test, y_train, _ = small_digits
    rgb = np.repeat(X_train.reshape(-1, 8, 8, 1), 3, axis=3)  # (n, 8, 8, 3)
    clf = DigitClassifier(max_iter=1, random_state=0).fit(rgb, y_train)
    assert clf.input_shape_ == (3, 8, 8)
    test_rgb = np.repeat(X_test.reshape(-1, 8, 8, 1), 3, axis=3)
    assert clf.predict(test_rgb).shape == (len(X_test),)


def test_nullable_integer_labels_stay_integers(small_digits):
    pd = pytest.importorskip("pandas")
    X_train, X_test, y_train, _ = small_digits
    y = pd.Series(y_train, dtype="Int64")
    clf = DigitClassifier(max_iter=1, random_state=0).fit(X_train, y)
    assert clf.classes_.dtype.kind == "i"
    assert clf.predict(X_test).dtype.kind == "i"
    with pytest.raises(ValueError, match="missing labels"):
        DigitClassifier(max_iter=1).fit(X_train, y.where(y != 3))


def test_non_finite_outputs_are_an_error_not_class_0(small_digits):
    X_train, X_test, y_train, _ = small_digits
    clf = DigitClassifier(max_iter=1, random_state=0).fit(X_train, y_train)
    with torch.no_grad():
        next(clf.net_.module_.parameters()).fill_(float("nan"))
    with pytest.raises(ValueError, match=r"outputs are not finite for 200 sample"):
        clf.predict(X_test)


def test_a_custom_module_with_the_right_width_trains(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(architecture=TinyNet, max_iter=1).fit(X_train, y_train)
    assert clf.n_iter_ == 1
    assert clf.predict_proba(X_train[:3]).shape == (3, 10)


def test_a_validation_split_too_small_to_stratify_still_trains(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(max_iter=1, early_stopping=True, validation_fraction=0.99)
    assert clf.fit(X_train, y_train).n_iter_ == 1


def test_class_weights_that_zero_every_present_class_are_refused(small_digits):
    X_train, _, y_train, _ = small_digits
    keep = y_train < 2
    weights = {0: 0.0, 1: 0.0, **dict.fromkeys(range(2, 10), 1.0)}
    clf = DigitClassifier(max_iter=1, class_weight=weights)
    with pytest.raises(ValueError, match="give every sample weight 0"):
        clf.fit(X_train[keep], y_train[keep])
