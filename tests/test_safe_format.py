"""DigitClassifier.save / digitnet.load: a model format that runs no code."""

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import digitnet
from digitnet import DigitClassifier, _persistence

from .model_edits import rewrite


@pytest.fixture(scope="module")
def fitted(small_digits):
    X_train, _, y_train, _ = small_digits
    labels = np.array(list("abcdefghij"))[y_train]
    return DigitClassifier(
        max_iter=2, random_state=0, module_params={"channels": (8, 16)}
    ).fit(X_train, labels)


@pytest.fixture
def saved(fitted, tmp_path):
    path = tmp_path / "model.safetensors"
    fitted.save(path)
    return path


_rewrite = rewrite


def test_round_trip_gives_identical_predictions(fitted, saved, small_digits):
    X_test = small_digits[1]
    model = digitnet.load(saved)
    np.testing.assert_array_equal(
        model.predict_proba(X_test), fitted.predict_proba(X_test)
    )
    np.testing.assert_array_equal(model.classes_, fitted.classes_)
    assert model.classes_.dtype == fitted.classes_.dtype
    assert model.get_params() == fitted.get_params()
    assert model.input_shape_ == fitted.input_shape_
    assert model.n_iter_ == fitted.n_iter_
    assert model.loss_curve_ == fitted.loss_curve_


def test_integer_labels_and_feature_names_survive(small_digits, tmp_path):
    import pandas as pd

    X_train, X_test, y_train, _ = small_digits
    columns = [f"p{i}" for i in range(64)]
    clf = DigitClassifier(max_iter=1, random_state=0).fit(
        pd.DataFrame(X_train, columns=columns), y_train + 100
    )
    clf.save(tmp_path / "m.safetensors")
    model = digitnet.load(tmp_path / "m.safetensors")
    assert model.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(model.feature_names_in_, columns)
    frame = pd.DataFrame(X_test, columns=columns)
    np.testing.assert_array_equal(model.predict(frame), clf.predict(frame))


def test_loaded_model_trains_on_with_warm_start(saved, small_digits):
    X_train, _, y_train, _ = small_digits
    model = digitnet.load(saved).set_params(warm_start=True, max_iter=1)
    model.fit(X_train, np.array(list("abcdefghij"))[y_train])
    assert model.n_iter_ == 3


def test_custom_module_points_to_pickle(small_digits, tmp_path):
    from .test_classifier import TinyNet

    X_train, _, y_train, _ = small_digits
    clf = DigitClassifier(architecture=TinyNet, max_iter=1).fit(X_train, y_train)
    with pytest.raises(
        ValueError, match=r"custom module class TinyNet.*pickle or joblib"
    ):
        clf.save(tmp_path / "m.safetensors")


def test_modified_weights_are_detected(saved):
    def flip(tensors):
        key = next(k for k in tensors if k.startswith("module."))
        tensors[key] = tensors[key] + 1e-3

    _rewrite(saved, edit_tensors=flip, sign=False)
    with pytest.raises(ValueError, match="has been modified or corrupted"):
        digitnet.load(saved)


def test_truncated_file_is_a_clear_error(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated"):
        digitnet.load(saved)


def test_foreign_files_are_rejected(tmp_path):
    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(other))
    with pytest.raises(ValueError, match="a safetensors file but not a digitnet model"):
        digitnet.load(other)
    text = tmp_path / "notes.safetensors"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a readable digitnet model file"):
        digitnet.load(text)


def test_newer_format_says_to_upgrade(saved):
    def newer(meta):
        meta["format_version"] = 99
        meta["digitnet_version"] = "9.0"

    _rewrite(saved, edit_meta=newer)
    with pytest.raises(
        ValueError, match=r"digitnet 9\.0 in model format 99.*Upgrade digitnet"
    ):
        digitnet.load(saved)


def test_mismatched_architecture_is_a_clear_error(saved):
    def other_channels(meta):
        meta["params"]["module_params"] = _persistence.encode({"channels": (4, 8)})

    # Keep the digest valid: only the description changes.
    _rewrite(saved, edit_meta=other_channels)
    with pytest.raises(
        ValueError, match="stored weights do not fit the cnn architecture"
    ):
        digitnet.load(saved)


def test_a_gpu_saved_model_loads_on_cpu(saved, monkeypatch, small_digits):
    _rewrite(saved, edit_meta=lambda meta: meta.update(device="cuda"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    model = digitnet.load(saved)  # device="auto": silently the CPU here
    assert model.device_ == "cpu"
    assert model.predict(small_digits[1]).shape == (200,)


def _text_labels(y, kind):
    import pandas as pd

    text = [f"d{v}" for v in y]
    return {
        "object array": np.array(text, dtype=object),
        "pandas object": pd.Series(text, dtype=object),
        "pandas default": pd.Series(text),
        "bool": np.asarray(y) % 2 == 0,
        "pandas bool": pd.Series(np.asarray(y) % 2 == 0),
    }[kind]


@pytest.mark.parametrize(
    "kind", ["object array", "pandas object", "pandas default", "bool", "pandas bool"]
)
def test_every_label_type_fit_accepts_saves_and_loads(small_digits, tmp_path, kind):
    X_train, X_test, y_train, _ = small_digits
    clf = DigitClassifier(max_iter=1, random_state=0, architecture="mlp")
    clf.fit(X_train, _text_labels(y_train, kind))
    clf.save(tmp_path / "m.dnet")
    model = digitnet.load(tmp_path / "m.dnet")
    assert model.classes_.tolist() == clf.classes_.tolist()
    assert model.predict(X_test).tolist() == clf.predict(X_test).tolist()


def test_save_refuses_what_load_would_refuse(fitted, tmp_path, monkeypatch):
    from digitnet._state import FittedInput

    unloadable = FittedInput(
        **{**vars(fitted.fitted_input_), "classes": np.array([1 + 2j, 3j])}
    )
    monkeypatch.setitem(vars(fitted), "fitted_input_", unloadable)
    with pytest.raises(ValueError, match="cannot be stored in the safe format"):
        fitted.save(tmp_path / "m.dnet")
    assert not (tmp_path / "m.dnet").exists()


def test_a_stored_label_dtype_cannot_make_load_allocate(saved):
    def huge_labels(meta):
        meta["input"]["classes"]["dtype"] = "<U200000000"  # 800 MB per label

    _rewrite(saved, huge_labels)
    model = digitnet.load(saved)  # labels are as long as the longest one
    assert model.classes_.dtype == np.dtype("<U1")
