"""Batch augmentation, test-time augmentation and label smoothing."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from digitnet import DigitClassifier
from digitnet._augment import (
    BatchAugmentation,
    RandomAffine,
    check_augment,
    prediction_thetas,
    resolve_augment,
    transform_images,
)


def test_zero_strength_affine_is_the_identity():
    x = torch.rand(4, 1, 28, 28)
    out = BatchAugmentation(rotation=0, shift=0, scale=0)(x)
    torch.testing.assert_close(out, x, atol=1e-5, rtol=0)


def test_shift_moves_the_centre_of_mass_by_at_most_the_bound():
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 12:16, 12:16] = 1.0
    gen = torch.Generator().manual_seed(0)
    out = BatchAugmentation(rotation=0, shift=0.1, scale=0, generator=gen)(x)
    grid = torch.arange(28.0)
    mass = out.sum(dim=(1, 2, 3))
    cy = (out.sum(dim=3).squeeze(1) * grid).sum(1) / mass
    cx = (out.sum(dim=2).squeeze(1) * grid).sum(1) / mass
    moved = torch.maximum((cy - 13.5).abs(), (cx - 13.5).abs())
    assert moved.max() <= 0.1 * 28 + 0.5
    assert moved.max() > 1.0  # it does move
    assert out.shape == x.shape


def test_tables_are_left_alone():
    x = torch.rand(8, 5)
    assert BatchAugmentation(elastic=0.1, thickness=0.5)(x) is x


def test_shape_strengths_of_zero_transform_exactly_as_the_affine():
    x = torch.rand(16, 1, 28, 28)
    affine = RandomAffine(generator=torch.Generator().manual_seed(3))
    batch = BatchAugmentation(generator=torch.Generator().manual_seed(3))
    for _ in range(2):  # the same random draws, batch after batch
        expected = transform_images(x, affine.thetas(16))
        torch.testing.assert_close(batch(x), expected, atol=0, rtol=0)


def _ink_square(n):
    x = torch.zeros(n, 1, 28, 28)
    x[:, :, 10:18, 12:16] = 1.0
    return x


def test_thickness_thickens_some_images_and_thins_others():
    x = _ink_square(64)
    gen = torch.Generator().manual_seed(0)
    still = dict(rotation=0, shift=0, scale=0)
    out = BatchAugmentation(**still, thickness=0.5, generator=gen)(x)
    mass = out.sum(dim=(1, 2, 3)) / x[0].sum()
    assert (mass > 1.05).any()
    assert (mass < 0.95).any()
    # Half-way at most towards the 3x3 dilation (10x6 ink, 60 pixels) or
    # erosion (6x2, 12 pixels) of the 8x4 square (32 pixels).
    assert mass.max() <= (32 + 0.5 * 28) / 32 + 1e-4
    assert mass.min() >= (32 - 0.5 * 20) / 32 - 1e-4
    assert out.min() >= 0
    assert out.max() <= 1


def test_elastic_bends_the_image_smoothly_within_its_bound():
    x = _ink_square(64)
    aug = BatchAugmentation(
        rotation=0, shift=0, scale=0, elastic=0.05, generator=torch.Generator()
    )
    field = aug._displacement(x) * 28 / 2  # in pixels
    assert field.shape == (64, 28, 28, 2)
    assert 0.5 < field.abs().max() <= 1.3 * 0.05 * 28
    # Smooth: neighbours move together, half a pixel apart at most (pixel
    # noise of this strength would put them up to 2.8 pixels apart).
    assert (field[:, 1:] - field[:, :-1]).abs().max() < 0.5
    out = aug(x)
    assert (out - x).abs().max() > 0.5  # strokes move
    # Local stretches change the ink by a factor 0.5-1.7 at most (a slope of
    # 0.31 per axis): strokes are bent, not lost.
    mass = out.sum(dim=(1, 2, 3)) / 32
    assert mass.min() > 0.5
    assert mass.max() < 1.7


def test_augment_strengths_are_checked_per_entry():
    check_augment({"elastic": 0.5, "thickness": 1.0})
    with pytest.raises(ValueError, match=r"augment\['elastic'\] must be .*0\.5"):
        check_augment({"elastic": 0.6})
    with pytest.raises(ValueError, match=r"augment\['thickness'\] must be .*1\]"):
        check_augment({"thickness": -0.1})


def test_augmented_training_is_seeded_and_differs(small_digits):
    X_train, X_test, y_train, y_test = small_digits
    params = dict(max_iter=4, random_state=0)
    a = DigitClassifier(augment=True, **params).fit(X_train, y_train)
    b = DigitClassifier(augment=True, **params).fit(X_train, y_train)
    plain = DigitClassifier(augment=False, **params).fit(X_train, y_train)
    np.testing.assert_array_equal(a.predict_proba(X_test), b.predict_proba(X_test))
    assert a.loss_curve_ != plain.loss_curve_
    assert a.score(X_test, y_test) > 0.85
    auto = DigitClassifier(**params).fit(X_train, y_train)  # augment="auto"
    assert auto.loss_curve_ == a.loss_curve_  # the CNN: augmented


def test_auto_augments_the_cnn_outside_partial_fit_only():
    assert resolve_augment("auto", "cnn") is True
    assert resolve_augment("auto", "cnn", incremental=True) is False
    assert resolve_augment("auto", "lenet5") is False
    assert resolve_augment("auto", "mlp") is False
    assert resolve_augment(False, "cnn") is False
    assert resolve_augment({"shift": 0.05}, "mlp") == {"shift": 0.05}


def test_auto_leaves_partial_fit_unaugmented(small_digits):
    X_train, _, y_train, _ = small_digits
    classes = np.unique(y_train)
    params = dict(random_state=0, batch_size=64)
    auto = DigitClassifier(**params).partial_fit(X_train, y_train, classes=classes)
    off = DigitClassifier(augment=False, **params)
    off.partial_fit(X_train, y_train, classes=classes)
    np.testing.assert_array_equal(
        auto.predict_proba(X_train), off.predict_proba(X_train)
    )


def test_augment_dict_sets_strengths_and_rejects_unknown_keys(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(augment={"rotation": 5.0}, max_iter=1).fit(X_train, y_train)
    transform = clf.net_.iterator_train__transform
    assert (transform.affine.rotation, transform.affine.shift) == (5.0, 0.1)
    assert (transform.elastic, transform.thickness) == (0.0, 0.0)
    shaped = DigitClassifier(augment={"elastic": 0.05, "thickness": 0.3}, max_iter=1)
    transform = shaped.fit(X_train, y_train).net_.iterator_train__transform
    assert (transform.elastic, transform.thickness) == (0.05, 0.3)
    with pytest.raises(ValueError, match=r"augment has keys \['shear'\]"):
        DigitClassifier(augment={"shear": 3}, max_iter=1).fit(X_train, y_train)


def test_label_smoothing_reaches_the_loss(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(label_smoothing=0.2, max_iter=6, random_state=0)
    clf.fit(X_train, y_train)
    assert clf.net_.criterion_.label_smoothing == 0.2
    # With smoothing eps over K classes the loss cannot fall below the entropy
    # of the smoothed target.
    eps, k = 0.2, 10
    floor = -(1 - eps + eps / k) * np.log(1 - eps + eps / k) - (k - 1) * (
        eps / k
    ) * np.log(eps / k)
    assert min(clf.loss_curve_) >= floor - 1e-3
    plain = DigitClassifier(max_iter=6, random_state=0).fit(X_train, y_train)
    assert min(plain.loss_curve_) < floor


def test_presets_are_plain_parameter_sets(digits):
    from sklearn.base import clone

    from digitnet import PRESETS

    X_train, X_test, y_train, y_test = digits
    fast = DigitClassifier(**PRESETS["fast"], random_state=0)
    assert clone(fast).get_params()["module_params"] == {
        "channels": (16, 32),
        "stem_stride": 2,
    }
    fast.set_params(max_iter=6).fit(X_train, y_train)  # tuned for MNIST's 60k
    assert fast.score(X_test, y_test) > 0.9
    assert fast.augment is False
    accurate = DigitClassifier(**PRESETS["accurate"], random_state=0)
    assert accurate.augment == {"elastic": 0.06, "thickness": 0.5}
    assert accurate.test_time_augment == 15
    accurate.set_params(max_iter=4).fit(X_train, y_train)  # 3 blocks on 8x8 too
    convs = [m for m in accurate.net_.module_.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 64, 64]
    assert accurate.score(X_test, y_test) > 0.9
    proba = accurate.predict_proba(X_test)
    single = accurate.set_params(test_time_augment=0).predict_proba(X_test)
    assert np.abs(proba - single).max() > 0.01  # the preset averages copies


def test_test_time_transforms_are_fixed_and_mild():
    thetas = prediction_thetas(15)
    assert thetas.shape == (15, 2, 3)
    torch.testing.assert_close(thetas, prediction_thetas(15))  # same every call
    linear = thetas[:, :, :2]
    zoom = torch.sqrt(torch.linalg.det(linear))
    assert ((1 / zoom - 1).abs() <= 0.05 + 1e-6).all()  # size within 5%
    assert (thetas[:, :, 2].abs() <= 0.1 + 1e-6).all()  # shift within 5% a side
    assert not torch.allclose(thetas[0], thetas[1])


def test_transform_images_applies_one_matrix_to_every_image():
    x = torch.rand(3, 1, 28, 28)
    identity = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    torch.testing.assert_close(transform_images(x, identity), x, atol=1e-5, rtol=0)
    theta = prediction_thetas(1)[0]
    both = transform_images(torch.cat([x, x]), theta)
    torch.testing.assert_close(both[:3], both[3:])
    table = torch.rand(3, 64)
    assert transform_images(table, theta) is table


@pytest.fixture(scope="module")
def small_cnn(digits):
    X_train, _, y_train, _ = digits
    clf = DigitClassifier(architecture="cnn", max_iter=2, random_state=0)
    return clf.fit(X_train[:400], y_train[:400])


def test_test_time_augment_averages_transformed_copies(small_cnn, small_digits):
    _, X_test, _, _ = small_digits
    plain = small_cnn.predict_proba(X_test)
    tta = copy.deepcopy(small_cnn).set_params(test_time_augment=4)
    proba = tta.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.abs(proba - plain).max() > 1e-3  # the copies count
    np.testing.assert_array_equal(tta.predict(X_test), tta.classes_[proba.argmax(1)])
    np.testing.assert_allclose(np.exp(tta.predict_log_proba(X_test)), proba)
    # Each sample's answer is its own: not the batch's, nor its order's.
    np.testing.assert_allclose(tta.predict_proba(X_test[:7]), proba[:7])
    np.testing.assert_allclose(tta.predict_proba(X_test[::-1]), proba[::-1])
    tta.set_params(test_time_augment=0)
    np.testing.assert_array_equal(tta.predict_proba(X_test), plain)


def test_test_time_augment_is_checked_when_predicting(
    small_cnn, small_digits, tmp_path
):
    from sklearn.utils._param_validation import InvalidParameterError

    _, X_test, _, _ = small_digits
    model = copy.deepcopy(small_cnn)
    model.set_params(test_time_augment=-1)
    with pytest.raises(InvalidParameterError, match="test_time_augment"):
        model.predict(X_test)
    with pytest.raises(InvalidParameterError, match="test_time_augment"):
        model.to_onnx(tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


def _box(image, level=0.5):
    rows = torch.nonzero(image.amax(dim=1) > level).flatten()
    cols = torch.nonzero(image.amax(dim=0) > level).flatten()
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def test_stretch_fills_a_square_box_with_a_narrow_digit():
    x = torch.zeros(4, 1, 28, 28)
    x[:, :, 4:24, 12:16] = 1.0  # a "1": 20 tall, 4 wide, off centre
    x[3] = 0.0  # a blank image stays blank
    fill = BatchAugmentation(rotation=0, shift=0, scale=0, stretch=1.0)
    out = fill(x)
    for image in out[:3, 0]:
        height, width = _box(image)
        assert height == pytest.approx(20, abs=1)
        assert width == pytest.approx(20, abs=1)  # stretched to a square
    assert out[3].abs().max() == 0
    none = BatchAugmentation(rotation=0, shift=0, scale=0, stretch=0.0)
    assert _box(none(x)[0, 0]) == (20, 4)


def test_stretch_takes_its_share_of_the_images():
    x = torch.zeros(400, 1, 28, 28)
    x[:, :, 4:24, 12:16] = 1.0
    half = BatchAugmentation(
        rotation=0,
        shift=0,
        scale=0,
        stretch=0.5,
        generator=torch.Generator().manual_seed(0),
    )
    widths = torch.tensor([_box(image)[1] for image in half(x)[:, 0]])
    assert 0.4 < (widths > 10).float().mean() < 0.6


def test_resolution_blurs_its_share_of_the_images():
    x = torch.zeros(200, 1, 28, 28)
    x[:, :, 4:24, 13:14] = 1.0  # a one-pixel line
    low = BatchAugmentation(
        rotation=0,
        shift=0,
        scale=0,
        resolution=0.5,
        generator=torch.Generator().manual_seed(0),
    )
    out = low(x)
    blurred = (out - x).abs().amax(dim=(1, 2, 3)) > 0.1
    assert 0.35 < blurred.float().mean() < 0.65
    assert out[blurred].amax(dim=(1, 2, 3)).max() < 0.9  # the line spread out
    torch.testing.assert_close(out[~blurred], x[~blurred])


@pytest.mark.parametrize("key", ["stretch", "resolution"])
def test_share_entries_are_checked(key):
    with pytest.raises(ValueError, match=rf"augment\['{key}'\] must be a number"):
        check_augment({key: 1.5})
