"""DigitClassifier inside scikit-learn's tools: search, pipelines, clone, pandas."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from digitnet import DigitClassifier


def test_grid_search_over_architecture_and_learning_rate(small_digits):
    X_train, X_test, y_train, y_test = small_digits
    grid = GridSearchCV(
        DigitClassifier(max_iter=4, random_state=0),
        {"architecture": ["mlp", "cnn"], "learning_rate_init": [1e-3, 3e-3]},
        cv=3,
        n_jobs=2,
    )
    grid.fit(X_train, y_train)
    assert len(grid.cv_results_["params"]) == 4
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_params_["architecture"] in {"mlp", "cnn"}
    assert grid.best_estimator_.score(X_test, y_test) > 0.9


def test_a_grid_written_for_mlpclassifier_carries_over(small_digits):
    X_train, _, y_train, _ = small_digits
    mlp_grid = {
        "hidden_layer_sizes": [(64,), (32, 16)],
        "alpha": [1e-4, 1e-3],
        "activation": ["relu", "tanh"],
        "learning_rate_init": [1e-3],
        "batch_size": [64],
        "max_iter": [2],
    }
    grid = GridSearchCV(DigitClassifier(architecture="mlp", random_state=0), mlp_grid)
    grid.fit(X_train, y_train)
    assert len(grid.cv_results_["params"]) == 8


def test_pipeline_with_preprocessing(small_digits):
    X_train, X_test, y_train, y_test = small_digits
    pipe = make_pipeline(
        MinMaxScaler(),
        PCA(n_components=30, random_state=0),
        DigitClassifier(max_iter=10, random_state=0),
    )
    pipe.fit(X_train, y_train)
    clf = pipe[-1]
    assert clf.architecture_ == "mlp"  # 30 PCA components are a table
    assert clf.n_features_in_ == 30
    assert pipe.score(X_test, y_test) > 0.85


def test_clone_get_params_set_params_with_module_params():
    clf = DigitClassifier(module_params={"channels": (8, 16)}, max_iter=3)
    params = clf.get_params()
    assert params["module_params"] == {"channels": (8, 16)}
    assert params["architecture"] == "auto"
    copy = clone(clf)
    assert copy.get_params() == params
    assert copy.module_params is not clf.module_params  # clone deep-copies
    copy.set_params(module_params={"channels": (4,)}, architecture="cnn")
    assert copy.module_params == {"channels": (4,)}
    assert clf.module_params == {"channels": (8, 16)}


def test_clone_of_fitted_estimator_is_unfitted(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(max_iter=1).fit(X_train, y_train)
    assert not hasattr(clone(clf), "net_")


def test_params_are_stored_verbatim():
    sizes = [64, 32]
    clf = DigitClassifier(hidden_layer_sizes=sizes, device="cpu")
    assert clf.hidden_layer_sizes is sizes
    assert clf.device == "cpu"


def test_pandas_input_records_feature_names(small_digits):
    X_train, X_test, y_train, _ = small_digits
    columns = [f"pixel_{i}" for i in range(64)]
    df_train = pd.DataFrame(X_train, columns=columns)
    y_series = pd.Series(np.array(list("abcdefghij"))[y_train], name="digit")
    clf = DigitClassifier(max_iter=3, random_state=0).fit(df_train, y_series)
    np.testing.assert_array_equal(clf.feature_names_in_, columns)
    assert clf.input_shape_ == (1, 8, 8)
    df_test = pd.DataFrame(X_test, columns=columns)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        plain = clf.predict(X_test)
    np.testing.assert_array_equal(clf.predict(df_test), plain)
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(df_test[columns[::-1]])


def test_temperature_scaling_with_calibrated_classifier_cv(small_digits):
    """The calibration recipe of the user guide: one temperature, learned on
    held-out data, reshapes the probabilities and keeps every prediction."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator
    from sklearn.metrics import log_loss

    X_train, X_test, y_train, y_test = small_digits
    half = len(X_test) // 2
    model = DigitClassifier(max_iter=3, augment=False, random_state=0)
    model.fit(X_train, y_train)
    calibrated = CalibratedClassifierCV(FrozenEstimator(model), method="temperature")
    calibrated.fit(X_test[:half], y_test[:half])
    np.testing.assert_array_equal(
        calibrated.predict(X_test[half:]), model.predict(X_test[half:])
    )
    before = model.predict_proba(X_test[:half])
    after = calibrated.predict_proba(X_test[:half])
    assert not np.allclose(before, after)
    assert log_loss(y_test[:half], after) < log_loss(y_test[:half], before)
