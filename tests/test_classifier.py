"""DigitClassifier on digits: accuracy, labels, inputs and training options."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold, cross_val_score

from digitnet import DigitClassifier
from digitnet._device import resolve_device


@pytest.fixture(scope="module")
def fitted(digits):
    X_train, _, y_train, _ = digits
    return DigitClassifier(random_state=0).fit(X_train, y_train)


def test_defaults_reach_98_percent_on_digits(fitted, digits):
    _, X_test, _, y_test = digits
    assert fitted.architecture_ == "cnn"
    assert fitted.input_shape_ == (1, 8, 8)
    assert fitted.score(X_test, y_test) >= 0.98


def test_fitted_attributes(fitted, digits):
    X_train = digits[0]
    assert fitted.n_features_in_ == 64
    np.testing.assert_array_equal(fitted.classes_, np.arange(10))
    assert fitted.n_iter_ == fitted.max_iter == len(fitted.history_)
    assert fitted.loss_curve_ == [h["train_loss"] for h in fitted.history_]
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]
    assert fitted.best_loss_ == min(fitted.loss_curve_)
    assert fitted.validation_scores_ is None
    assert fitted.device_ == resolve_device("auto")
    assert isinstance(fitted.net_.module_, torch.nn.Module)
    # Image inputs are scaled by one mean and std over all pixels.
    np.testing.assert_allclose(fitted.input_mean_, X_train.mean())
    np.testing.assert_allclose(fitted.input_scale_, X_train.std())


def test_predict_proba_follows_classes(fitted, digits):
    X_test = digits[1]
    proba = fitted.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)  # as log_loss wants
    np.testing.assert_array_equal(
        fitted.classes_[proba.argmax(axis=1)], fitted.predict(X_test)
    )
    np.testing.assert_allclose(
        np.exp(fitted.predict_log_proba(X_test)), proba, rtol=1e-4, atol=1e-7
    )


def test_cross_val_score_of_defaults_on_digits():
    X, y = load_digits(return_X_y=True)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    scores = cross_val_score(DigitClassifier(random_state=0), X, y, cv=cv)
    assert scores.mean() >= 0.98


@pytest.mark.parametrize(
    "labels",
    [
        np.array(list("abcdefghij")),
        np.array([3, 7, 11, 19, 23, 42, 57, 60, 91, 100]),
        np.array([-5.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 8.0, 9.0, 12.0]),
    ],
    ids=["strings", "non-contiguous-ints", "integral-floats"],
)
def test_any_labels_round_trip(small_digits, labels):
    X_train, X_test, y_train, y_test = small_digits
    clf = DigitClassifier(random_state=0, max_iter=5).fit(X_train, labels[y_train])
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    pred = clf.predict(X_test)
    assert pred.dtype == labels.dtype
    assert set(pred) <= set(labels)
    assert np.mean(pred == labels[y_test]) > 0.9


def test_same_random_state_gives_identical_predictions(small_digits):
    X_train, X_test, y_train, _ = small_digits
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the global RNG)
    params = dict(random_state=7, max_iter=3, early_stopping=True)
    a = DigitClassifier(**params).fit(X_train, y_train).predict_proba(X_test)
    b = DigitClassifier(**params).fit(X_train, y_train).predict_proba(X_test)
    np.testing.assert_array_equal(a, b)
    c = DigitClassifier(**{**params, "random_state": 8}).fit(X_train, y_train)
    assert not np.array_equal(a, c.predict_proba(X_test))
    # Seeding used private generators: the global RNGs are untouched.
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


def test_raw_pixel_scale_does_not_matter(small_digits):
    """Scaling is learned: 0-16 and 0-255 pixels train the same network."""
    X_train, X_test, y_train, _ = small_digits
    params = dict(random_state=0, max_iter=3)
    a = DigitClassifier(**params).fit(X_train, y_train)
    b = DigitClassifier(**params).fit(X_train * 255 / 16, y_train)
    # On CUDA, convolutions run in TF32: the two inputs round differently.
    tolerance = 1e-4 if a.device_ == "cpu" else 1e-3
    np.testing.assert_allclose(
        a.predict_proba(X_test), b.predict_proba(X_test * 255 / 16), atol=tolerance
    )


@pytest.mark.parametrize("shape", [(8, 8), (1, 8, 8)])
def test_image_shaped_input(small_digits, shape):
    X_train, X_test, y_train, _ = small_digits
    clf = DigitClassifier(random_state=0, max_iter=3)
    clf.fit(X_train.reshape(-1, *shape), y_train)
    assert clf.input_shape_ == (1, 8, 8)
    assert clf.n_features_in_ == 64
    flat = clf.predict(X_test)
    np.testing.assert_array_equal(clf.predict(X_test.reshape(-1, *shape)), flat)


def test_images_of_another_shape_are_rejected(small_digits):
    X_train, X_test, y_train, _ = small_digits
    clf = DigitClassifier(random_state=0, max_iter=1).fit(X_train, y_train)
    with pytest.raises(ValueError, match=r"images of shape \(1, 4, 16\).*\(1, 8, 8\)"):
        clf.predict(X_test.reshape(-1, 4, 16))


def test_wrong_number_of_features_at_predict(fitted, digits):
    with pytest.raises(ValueError, match="X has 63 features, but DigitClassifier is"):
        fitted.predict(digits[1][:, :63])


def test_continuous_y_is_rejected(small_digits):
    X_train, _, y_train, _ = small_digits
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        DigitClassifier().fit(X_train, y_train + 0.5)


def test_not_fitted_error():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        DigitClassifier().predict(np.zeros((2, 64)))


def test_one_class_is_rejected():
    with pytest.raises(ValueError, match=r"at least 2 classes.*only one class: 3\."):
        DigitClassifier().fit(np.zeros((4, 64)), [3, 3, 3, 3])


@pytest.mark.parametrize("architecture", ["mlp", "cnn", "lenet5"])
def test_architectures_learn_digits(digits, architecture):
    X_train, X_test, y_train, y_test = digits
    clf = DigitClassifier(architecture=architecture, random_state=0, max_iter=10)
    clf.fit(X_train, y_train)
    assert clf.architecture_ == architecture
    assert clf.score(X_test, y_test) > 0.85


def test_tables_get_an_mlp_with_per_feature_scaling(rng):
    X = rng.normal(loc=[0, 100, -5], scale=[1, 10, 0.1], size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = DigitClassifier(random_state=0, max_iter=20).fit(X, y)
    assert clf.architecture_ == "mlp"
    assert clf.input_shape_ == (3,)
    np.testing.assert_allclose(clf.input_mean_, X.mean(axis=0))
    np.testing.assert_allclose(clf.input_scale_, X.std(axis=0))
    assert clf.score(X, y) > 0.9


def test_hidden_layer_sizes_dropout_and_module_params_reach_the_module(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(
        hidden_layer_sizes=(32,),
        dropout=0.1,
        module_params={"channels": (8, 16)},
        max_iter=1,
        random_state=0,
    ).fit(X_train, y_train)
    module = clf.net_.module_
    convs = [m for m in module.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16]
    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    assert [lin.out_features for lin in linears] == [32, 10]
    assert all(m.p == 0.1 for m in module.modules() if isinstance(m, torch.nn.Dropout))


class TinyNet(torch.nn.Module):
    """A custom module: asks for n_classes and input_shape, plus its own width."""

    def __init__(self, input_shape, n_classes, width=16):
        super().__init__()
        self.input_shape = input_shape
        channels, height, width_px = input_shape
        self.conv = torch.nn.Conv2d(channels, width, 3, padding=1)
        self.out = torch.nn.Linear(width * height * width_px, n_classes)

    def forward(self, x):
        if x.shape[1:] != self.input_shape:
            raise AssertionError(f"got batch of shape {tuple(x.shape)}")
        return self.out(torch.relu(self.conv(x)).flatten(1))


def test_custom_module_class_gets_sizes_and_module_params(small_digits):
    X_train, X_test, y_train, y_test = small_digits
    clf = DigitClassifier(
        architecture=TinyNet, module_params={"width": 24}, random_state=0, max_iter=8
    )
    clf.fit(X_train, y_train)
    assert isinstance(clf.net_.module_, TinyNet)
    assert clf.net_.module_.input_shape == (1, 8, 8)
    assert clf.net_.module_.conv.out_channels == 24
    assert clf.score(X_test, y_test) > 0.5


def test_module_params_unknown_key_is_a_clear_error(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(module_params={"widht": 3}, max_iter=1)
    with pytest.raises(ValueError, match=r"module_params has keys \['widht'\]"):
        clf.fit(X_train, y_train)


def test_architecture_class_must_be_a_module(small_digits):
    X_train, _, y_train, _ = small_digits
    with pytest.raises(
        ValueError, match=r"torch\.nn\.Module subclass; got the class int"
    ):
        DigitClassifier(architecture=int).fit(X_train, y_train)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"architecture": "resnet"}, "'architecture' parameter"),
        ({"learning_rate_init": -1.0}, "'learning_rate_init' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"solver": "lbfgs"}, "'solver' parameter"),
        ({"device": "gpu"}, "'device' parameter .* got 'gpu'"),
    ],
)
def test_invalid_parameters(small_digits, params, match):
    X_train, _, y_train, _ = small_digits
    with pytest.raises(ValueError, match=match):
        DigitClassifier(**params).fit(X_train, y_train)


def test_unavailable_cuda_is_a_clear_error(small_digits, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X_train, _, y_train, _ = small_digits
    with pytest.raises(ValueError, match="device='cuda' was requested but is not"):
        DigitClassifier(device="cuda").fit(X_train, y_train)


@pytest.mark.parametrize(
    "schedule", ["constant", "adaptive", "exponential", "cosine", "one-cycle"]
)
@pytest.mark.parametrize("solver", ["adam", "adamw", "sgd"])
def test_solvers_and_schedules_train(small_digits, solver, schedule):
    X_train, _, y_train, _ = small_digits
    lr = 0.05 if solver == "sgd" else 2e-3
    clf = DigitClassifier(
        solver=solver,
        learning_rate=schedule,
        learning_rate_init=lr,
        max_iter=3,
        architecture="mlp",
        random_state=0,
    ).fit(X_train, y_train)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    expected = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD"}[solver]
    assert type(clf.net_.optimizer_).__name__ == expected


def test_exponential_schedule_decays_to_one_percent(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(learning_rate="exponential", max_iter=4, random_state=0)
    clf.fit(X_train, y_train)
    lr = clf.net_.optimizer_.param_groups[0]["lr"]
    assert lr == pytest.approx(clf.learning_rate_init * 0.01)


def test_early_stopping_records_validation_and_stops(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(
        early_stopping=True,
        n_iter_no_change=2,
        tol=1.0,  # no epoch can improve accuracy by 1: stop after 1 + 2 epochs
        max_iter=50,
        random_state=0,
    ).fit(X_train, y_train)
    assert clf.n_iter_ == 3
    assert len(clf.validation_scores_) == 3
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert {"valid_loss", "valid_acc", "train_loss"} <= set(clf.history_[0])


def test_tol_stops_when_training_loss_stalls(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(tol=100.0, n_iter_no_change=2, max_iter=50, random_state=0)
    clf.fit(X_train, y_train)
    assert clf.n_iter_ == 3


def test_warm_start_continues_training(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(warm_start=True, max_iter=2, random_state=0)
    clf.fit(X_train, y_train)
    first_losses = list(clf.loss_curve_)
    clf.fit(X_train, y_train)
    assert clf.n_iter_ == 4
    assert clf.loss_curve_[:2] == first_losses  # the history goes on
    assert clf.loss_curve_[2] < first_losses[-1]  # and so do the weights
    # Each fit runs its own one-cycle schedule over its max_iter epochs.
    lrs = [b["event_lr"] for epoch in clf.net_.history for b in epoch["batches"]]
    half = len(lrs) // 2
    assert lrs[:half] == lrs[half:]
    assert max(lrs) <= clf.learning_rate_init
    assert lrs[0] < max(lrs) / 10
    assert lrs[half - 1] < max(lrs) / 10
    cold = clone(clf).set_params(warm_start=False).fit(X_train, y_train)
    assert cold.n_iter_ == 2


def test_warm_start_rejects_new_classes(small_digits):
    X_train, _, y_train, _ = small_digits
    mask = y_train < 5
    clf = DigitClassifier(warm_start=True, max_iter=1).fit(X_train[mask], y_train[mask])
    with pytest.raises(ValueError, match=r"classes \[5, 6, 7, 8, 9\] that were not"):
        clf.fit(X_train, y_train)


def test_class_weight_balanced_helps_a_rare_class(digits):
    X_train, X_test, y_train, y_test = digits
    rare = np.flatnonzero(y_train == 3)[:4]
    keep = np.concatenate([np.flatnonzero(y_train != 3), rare])
    recalls = {}
    for class_weight in [None, "balanced"]:
        clf = DigitClassifier(
            architecture="mlp", class_weight=class_weight, random_state=0, max_iter=5
        ).fit(X_train[keep], y_train[keep])
        recalls[class_weight] = np.mean(clf.predict(X_test[y_test == 3]) == 3)
    assert recalls["balanced"] > recalls[None]


def test_zero_sample_weight_removes_samples(small_digits):
    X_train, X_test, y_train, _ = small_digits
    params = dict(random_state=0, max_iter=2, architecture="mlp", shuffle=False)
    weights = np.ones(len(y_train))
    weights[::2] = 0
    a = DigitClassifier(**params).fit(X_train, y_train, sample_weight=weights)
    b = DigitClassifier(**params).fit(X_train[1::2], y_train[1::2])
    np.testing.assert_allclose(a.predict_proba(X_test), b.predict_proba(X_test))


def test_verbose_prints_one_line_per_epoch(small_digits, capsys):
    X_train, _, y_train, _ = small_digits
    DigitClassifier(verbose=1, max_iter=3, random_state=0).fit(X_train, y_train)
    out = capsys.readouterr().out
    assert "train_loss" in out
    rows = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == 3


def test_predictions_do_not_depend_on_batch_composition(fitted, digits):
    X_test = digits[1]
    full = fitted.predict_proba(X_test)
    one_by_one = np.vstack([fitted.predict_proba(x[None]) for x in X_test[:20]])
    if fitted.device_ == "cpu":
        np.testing.assert_array_equal(full[:20], one_by_one)
    else:  # cuDNN chooses its algorithms by batch size: equal up to rounding
        np.testing.assert_allclose(full[:20], one_by_one, rtol=1e-5, atol=1e-8)


def test_warm_start_with_more_epochs_uses_the_new_schedule(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(warm_start=True, max_iter=1, random_state=0)
    clf.fit(X_train, y_train)
    clf.set_params(max_iter=3).fit(X_train, y_train)  # one-cycle over 3 epochs
    assert clf.n_iter_ == 4
    lrs = [b["event_lr"] for epoch in clf.net_.history[1:] for b in epoch["batches"]]
    assert len(lrs) == 3 * 4  # 400 samples: 4 batches an epoch
    assert lrs.index(max(lrs)) > 0  # warm-up, then anneal, over the new total


def test_test_time_copies_set_after_fit_are_bounded_before_any_work(small_digits):
    X_train, X_test, y_train, _ = small_digits
    clf = DigitClassifier(max_iter=1, random_state=0).fit(X_train, y_train)
    clf.set_params(test_time_augment=10**6)
    with pytest.raises(ValueError, match=r"range \[0, 100\]"):
        clf.predict(X_test[:1])


def test_a_diverged_training_warns(small_digits):
    from sklearn.exceptions import ConvergenceWarning

    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(
        architecture="mlp", learning_rate_init=1e8, max_iter=2, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match=r"well above that of a uniform"):
        clf.fit(X_train, y_train)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.set_params(learning_rate_init=2e-3).fit(X_train, y_train)
