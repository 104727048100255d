"""Model files: exact round trips, and every way a file can be wrong."""

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import digitnet
from digitnet import DigitClassifier
from digitnet._plain import encode

from .model_edits import rewrite


@pytest.fixture(scope="module")
def fitted(small_digits):
    X_train, _, y_train, _ = small_digits
    return DigitClassifier(
        max_iter=1, random_state=0, module_params={"channels": [8, 16]}
    ).fit(X_train, y_train)


@pytest.fixture
def saved(fitted, tmp_path):
    path = tmp_path / "model.dnet"
    fitted.save(path)
    return path


def _rewrite(path, edit, sign):
    rewrite(path, edit_meta=edit, sign=sign)


neutral_params = st.fixed_dictionaries(
    {},
    optional={
        "hidden_layer_sizes": st.sampled_from([None, [128], (128,), 128]),
        "module_params": st.sampled_from(
            [
                {"channels": [8, 16]},
                {"channels": (8, 16)},
                {"channels": [8, 16], "kernel_size": 3},
            ]
        ),
        "class_weight": st.one_of(
            st.none(),
            st.just("balanced"),
            st.dictionaries(
                st.integers(0, 9), st.floats(0.1, 5), min_size=1, max_size=3
            ),
        ),
        "checkpoint_dir": st.sampled_from([None, "ckpt", Path("ckpt")]),
        "augment": st.one_of(
            st.booleans(),
            st.fixed_dictionaries(
                {"rotation": st.floats(0, 30), "shift": st.just(0.1)}
            ),
        ),
        "alpha": st.floats(0, 1),
        "random_state": st.one_of(st.none(), st.integers(0, 2**31)),
        "batch_size": st.one_of(st.just("auto"), st.integers(1, 512)),
        "device": st.sampled_from(["auto", "cpu"]),
    },
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(params=neutral_params)
def test_get_params_round_trip_exactly(fitted, tmp_path, params):
    fitted.set_params(**params)
    try:
        path = tmp_path / "m.dnet"
        fitted.save(path)
        loaded = digitnet.load(path).get_params()
        original = fitted.get_params()
        assert loaded == original
        assert {k: type(v) for k, v in loaded.items()} == {
            k: type(v) for k, v in original.items()
        }
        assert repr(loaded) == repr(original)  # nested types too
    finally:
        fitted.set_params(
            hidden_layer_sizes=None,
            module_params={"channels": [8, 16]},
            class_weight=None,
            checkpoint_dir=None,
            augment=False,
            alpha=1e-4,
            random_state=0,
            batch_size="auto",
            device="auto",
        )


def test_a_random_state_instance_is_refused_clearly(fitted, tmp_path):
    fitted.set_params(random_state=np.random.RandomState(0))
    try:
        with pytest.raises(
            ValueError, match="RandomState random_state: set it to an int"
        ):
            fitted.save(tmp_path / "m.dnet")
    finally:
        fitted.set_params(random_state=0)
    assert not (tmp_path / "m.dnet").exists()


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m["input"]["classes"].update(
            values=m["input"]["classes"]["values"][::-1]
        ),
        lambda m: m["input"]["classes"].update(values=[0] * 10),
        lambda m: m["input"].update(input_shape=[1, 4, 16]),
        lambda m: m["params"].update(alpha=0.5),
    ],
    ids=["reversed-classes", "identical-classes", "same-pixel-count", "a-parameter"],
)
def test_any_edit_of_the_description_is_detected(saved, edit):
    _rewrite(saved, edit, sign=False)
    with pytest.raises(ValueError, match="has been modified or corrupted"):
        digitnet.load(saved)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda m: m.update(params=[1, 2]), "params must be a dict"),
        (lambda m: m["params"].update(nonsense=1), "invalid stored parameters"),
        (lambda m: m["params"].update(alpha="a lot"), "invalid stored parameters"),
        (lambda m: m["params"].update(hidden_layer_sizes=[0]), "invalid stored"),
        (lambda m: m["params"].update(hidden_layer_sizes=[1_000_000]), "do not fit"),
        (lambda m: m.update(history="x"), "invalid history"),
        (lambda m: m.update(history=[{"epoch": 1}]), "invalid history"),
        (lambda m: m.update(device=5), "device must be a device name"),
        (lambda m: m.pop("input"), "invalid input description"),
        (
            lambda m: m["input"].update(classes={"dtype": "<U1", "values": ["b", "a"]}),
            "sorted",
        ),
        (lambda m: m.update(format_version="2"), "model format '2'"),
        (lambda m: m.update(format="other"), "not a digitnet model file"),
    ],
)
def test_malformed_descriptions_are_value_errors(saved, edit, match):
    _rewrite(saved, edit, sign=True)  # correctly signed: the fields themselves
    with pytest.raises(ValueError, match=match):
        digitnet.load(saved)


def test_a_description_nested_beyond_recursion_is_a_value_error(saved):
    def nest(text):
        deep = "[" * 100_000 + "]" * 100_000
        return text.replace('"history": [', f'"history": [{deep}, ', 1)

    rewrite(saved, edit_text=nest, sign=True)
    with pytest.raises(ValueError, match="not JSON: maximum recursion depth"):
        digitnet.load(saved)


def test_a_header_nested_beyond_recursion_is_a_value_error(saved):
    import struct

    header = b"[" * 200_000 + b"]" * 200_000
    saved.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(ValueError, match="not a readable digitnet model file"):
        digitnet.load(saved)


def test_a_signed_file_with_an_extra_tensor_is_refused_before_reading_it(saved):
    import torch

    def add(tensors):
        tensors["extra"] = torch.zeros(3)

    rewrite(saved, edit_tensors=add, sign=True)
    with pytest.raises(ValueError, match="do not fit the cnn architecture"):
        digitnet.load(saved)


HOSTILE = textwrap.dedent(
    """
    import sys

    def peak_mb():  # this process's own peak (ru_maxrss may be the parent's)
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    import digitnet
    try:
        digitnet.load(sys.argv[1])
    except ValueError as exc:
        print("refused:", str(exc)[:80])
    print("maxrss_mb", peak_mb())
    """
)


def test_a_file_never_costs_more_memory_than_its_weights(saved):
    """hidden_layer_sizes=[1000000] in a small file once took 4.3 GB."""
    _rewrite(saved, lambda m: m["params"].update(hidden_layer_sizes=[1_000_000]), True)
    out = subprocess.run(
        [sys.executable, "-c", HOSTILE, str(saved)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "refused:" in out
    assert int(out.split("maxrss_mb")[1]) < 1000  # the interpreter and torch alone


def test_truncation_anywhere_is_a_clear_error(saved):
    data = saved.read_bytes()
    for cut in (0, 4, 8, 100, len(data) // 2, len(data) - 1):
        saved.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=r"truncated|not a readable"):
            digitnet.load(saved)


def test_readers_during_a_save_see_the_old_or_the_new_model(
    fitted, saved, small_digits
):
    X_test = small_digits[1]
    expected = fitted.predict(X_test)
    errors, stop = [], threading.Event()

    def read():
        while not stop.is_set():
            try:
                np.testing.assert_array_equal(
                    digitnet.load(saved).predict(X_test), expected
                )
            except Exception as exc:  # collected for the assert
                errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for r in readers:
        r.start()
    for _ in range(15):
        fitted.save(saved)
    stop.set()
    for r in readers:
        r.join()
    assert errors == []


def test_saving_into_a_missing_folder_names_the_file(fitted, tmp_path):
    target = tmp_path / "missing" / "m.dnet"
    with pytest.raises(OSError, match=r"cannot write .*missing/m\.dnet"):
        fitted.save(target)


def test_a_loaded_model_has_an_inference_only_net(saved):
    net = digitnet.load(saved).net_
    assert not hasattr(net, "optimizer_")
    assert dict(net.callbacks_) == {}


def test_encoded_parameters_are_plain_json(fitted):
    params = {k: encode(v) for k, v in fitted.get_params().items()}
    assert json.loads(json.dumps(params)) == params
