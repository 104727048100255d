"""Pickle and joblib round trips, across devices."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch

from digitnet import DigitClassifier


@pytest.fixture(scope="module")
def fitted(small_digits):
    X_train, _, y_train, _ = small_digits
    return DigitClassifier(max_iter=3, random_state=0).fit(X_train, y_train)


def test_pickle_round_trip_gives_identical_predictions(fitted, small_digits):
    X_test = small_digits[1]
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(
        restored.predict_proba(X_test), fitted.predict_proba(X_test)
    )
    assert restored.device_ == fitted.device_


def test_joblib_round_trip_gives_identical_predictions(fitted, small_digits, tmp_path):
    X_test = small_digits[1]
    path = tmp_path / "model.joblib"
    joblib.dump(fitted, path)
    restored = joblib.load(path)
    np.testing.assert_array_equal(restored.predict(X_test), fitted.predict(X_test))
    np.testing.assert_array_equal(
        restored.predict_proba(X_test), fitted.predict_proba(X_test)
    )


def test_restored_model_keeps_training_with_warm_start(fitted, small_digits):
    X_train, _, y_train, _ = small_digits
    restored = pickle.loads(pickle.dumps(fitted)).set_params(
        warm_start=True, max_iter=1
    )
    restored.fit(X_train, y_train)
    assert restored.n_iter_ == fitted.n_iter_ + 1


def _as_if_fitted_on(model, device):
    """Mark a CPU-fitted model as living on ``device`` (no GPU needed).

    The tensors stay on the CPU; what is tested is the bookkeeping: the pickle
    path for accelerator nets and the re-resolution of the device on load.
    """
    model = pickle.loads(pickle.dumps(model))
    model.set_params(device=device)
    model.device_ = device
    model.net_.device = device
    model.net_.iterator_valid__batch_size = 2048  # what an accelerator uses
    return model


def test_accelerator_model_pickles_with_cpu_tensors(fitted):
    on_gpu = _as_if_fitted_on(fitted, "cuda")
    state = on_gpu.net_.__getstate__()
    assert state["device"] == "cpu"
    buffer = io.BytesIO(state["__cuda_dependent_attributes__"])
    attrs = pickle.load(buffer)
    assert all(p.device.type == "cpu" for p in attrs["module_"].parameters())


def test_auto_device_model_from_a_gpu_loads_silently_on_cpu(
    fitted, small_digits, monkeypatch
):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X_test = small_digits[1]
    data = pickle.dumps(_as_if_fitted_on(fitted, "cuda").set_params(device="auto"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        restored = pickle.loads(data)
    assert restored.device_ == "cpu"
    assert restored.net_.device == "cpu"
    assert restored.net_.iterator_valid__batch_size == 256  # the CPU's batches
    expected = fitted.predict_proba(X_test)
    if fitted.device_ == "cpu":
        np.testing.assert_array_equal(restored.predict_proba(X_test), expected)
    else:  # fitted on a real GPU, whose convolutions run in TF32
        np.testing.assert_allclose(restored.predict_proba(X_test), expected, atol=1e-3)


def test_explicit_cuda_model_falls_back_to_cpu_with_a_warning(
    fitted, small_digits, monkeypatch
):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    data = pickle.dumps(_as_if_fitted_on(fitted, "cuda"))
    with pytest.warns(UserWarning, match="fitted with device='cuda'.*runs on the CPU"):
        restored = pickle.loads(data)
    assert restored.device_ == "cpu"
    np.testing.assert_array_equal(
        restored.predict(small_digits[1]), fitted.predict(small_digits[1])
    )


def test_auto_device_model_moves_to_a_gpu_where_there_is_one(fitted, monkeypatch):
    """On load, device='auto' re-resolves; here a GPU 'appears' (move is recorded)."""
    moves = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(
        type(fitted.net_), "move_to", lambda net, device: moves.append(device)
    )
    restored = pickle.loads(pickle.dumps(fitted))
    assert moves == ["cuda"]
    assert restored.device_ == "cuda"
