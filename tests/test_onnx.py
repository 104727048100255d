"""ONNX export (DigitClassifier.to_onnx) and OnnxModel, against predict_proba."""

import json

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from sklearn.exceptions import NotFittedError

from digitnet import DigitClassifier, OnnxModel
from digitnet._onnx import sign
from digitnet.cli import main

ARCHITECTURES = ["mlp", "cnn", "lenet5"]
TOLERANCE = 1e-5
#: onnxruntime computes in float32 on the CPU; a model on CUDA runs its
#: convolutions in TF32 (PyTorch's default for cuDNN), which agreed to 3.3e-4
#: in a probability on an H100.
CUDA_TOLERANCE = 1e-3


def _agree(labels, expected, proba, margin):
    """Labels agree wherever the top two probabilities are ``margin`` apart."""
    top2 = np.sort(proba.reshape(len(labels), -1), axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] >= margin
    return bool((np.asarray(labels) == np.asarray(expected))[clear].all())


def _check_parity(model, path, X):
    """onnxruntime's answers equal the estimator's, in batches of 1 and 1,000."""
    on_cpu = model.device_ == "cpu"
    tol = TOLERANCE if on_cpu else CUDA_TOLERANCE
    margin = 0.0 if on_cpu else 2 * tol  # on CUDA, near-ties may flip
    session = onnxruntime.InferenceSession(str(path))
    rows = X.reshape(len(X), -1).astype(np.float32)
    expected_proba, expected = model.predict_proba(X), model.predict(X)
    label, proba = session.run(None, {"pixels": rows[:1000]})
    assert proba.shape == (min(len(X), 1000), len(model.classes_))
    assert np.abs(proba - expected_proba[:1000]).max() <= tol
    assert _agree(label, expected[:1000], proba, margin)
    for i in range(5):  # batch size 1
        label, proba = session.run(None, {"pixels": rows[i : i + 1]})
        assert np.abs(proba[0] - expected_proba[i]).max() <= tol
        assert _agree(label, expected[i : i + 1], proba, margin)
    served = OnnxModel(path)  # the whole set, through the reader
    served_proba = served.predict_proba(X)
    assert np.abs(served_proba - expected_proba).max() <= tol
    assert _agree(served.predict(X), expected, served_proba, margin)


@pytest.fixture(scope="module", params=ARCHITECTURES)
def digits_model(request, digits):
    X_train, _, y_train, _ = digits
    model = DigitClassifier(architecture=request.param, max_iter=3, random_state=0)
    return model.fit(X_train, y_train)


def test_digits_export_matches_predict_proba(digits_model, digits, tmp_path):
    path = tmp_path / "digits.onnx"
    digits_model.to_onnx(path)
    _, X_test, _, _ = digits
    X = np.concatenate([X_test] * 3)  # over 1,000 rows
    _check_parity(digits_model, path, X)


@pytest.fixture(scope="module", params=ARCHITECTURES)
def mnist_model(request, mnist_data):
    X_train, y_train, _, _ = mnist_data
    model = DigitClassifier(architecture=request.param, max_iter=1, random_state=0)
    return model.fit(X_train[:6000], y_train[:6000])


def test_export_averages_the_test_time_copies(digits, tmp_path):
    X_train, X_test, y_train, _ = digits
    model = DigitClassifier(max_iter=3, random_state=0).fit(X_train, y_train)
    model.set_params(test_time_augment=4)
    model.to_onnx(tmp_path / "tta.onnx")
    _check_parity(model, tmp_path / "tta.onnx", X_test)
    model.set_params(test_time_augment=0)
    model.to_onnx(tmp_path / "plain.onnx")
    plain = OnnxModel(tmp_path / "plain.onnx").predict_proba(X_test)
    tta = OnnxModel(tmp_path / "tta.onnx").predict_proba(X_test)
    assert np.abs(plain - tta).max() > 0.01  # the copies changed the answer


def test_mnist_export_matches_predict_proba(mnist_model, mnist_data, tmp_path):
    path = tmp_path / "mnist.onnx"
    mnist_model.to_onnx(path)
    _check_parity(mnist_model, path, mnist_data[2])


def test_fast_preset_export_matches_on_mnist_images(
    mnist_fast_model, mnist_data, tmp_path
):
    path = tmp_path / "fast.onnx"
    mnist_fast_model.to_onnx(path)
    X_test = mnist_data[2]
    _check_parity(mnist_fast_model, path, X_test.reshape(-1, 28, 28))
    assert (OnnxModel(path).predict(X_test) == mnist_data[3]).mean() > 0.98


@pytest.mark.parametrize(
    "labels",
    [
        np.array(
            [
                "zero",
                "one",
                "two",
                "three",
                "four",
                "five",
                "six",
                "seven",
                "eight",
                "nine",
            ]
        ),
        np.arange(10) * 2.0,
        np.arange(10) + 100,
    ],
    ids=["strings", "floats", "offset-ints"],
)
def test_labels_round_trip(small_digits, tmp_path, labels):
    X_train, X_test, y_train, _ = small_digits
    model = DigitClassifier(max_iter=2, random_state=0).fit(X_train, labels[y_train])
    path = tmp_path / "labels.onnx"
    model.to_onnx(path)
    session = onnxruntime.InferenceSession(str(path))
    label, _ = session.run(None, {"pixels": X_test.astype(np.float32)})
    assert label.tolist() == model.predict(X_test).tolist()
    served = OnnxModel(path)
    assert served.classes_.tolist() == model.classes_.tolist()
    assert served.classes_.dtype == model.classes_.dtype
    assert (served.predict(X_test) == model.predict(X_test)).all()


def test_metadata_describes_the_input(digits_model, tmp_path):
    path = tmp_path / "meta.onnx"
    digits_model.to_onnx(path)
    model = onnx.load(path)
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["digitnet.input_shape"]) == list(digits_model.input_shape_)
    assert json.loads(meta["digitnet.classes"])["values"] == list(range(10))
    assert meta["digitnet.architecture"] == digits_model.architecture_
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    batch = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param  # a named, dynamic batch size
    assert not batch.dim_value


class _Cumulative(torch.nn.Module):
    """A module using an operator without an ONNX conversion (cummax)."""

    def __init__(self, input_shape, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(int(np.prod(input_shape)), n_classes)

    def forward(self, x):
        return torch.cummax(self.linear(x.flatten(1)), dim=1).values


def test_a_module_onnx_cannot_express_names_the_operator(small_digits, tmp_path):
    X_train, _, y_train, _ = small_digits
    model = DigitClassifier(architecture=_Cumulative, max_iter=1, random_state=0)
    model.fit(X_train, y_train)
    path = tmp_path / "kept.onnx"
    path.write_bytes(b"an earlier export")
    with pytest.raises(
        ValueError, match=r"_Cumulative cannot be exported.*aten.cummax"
    ):
        model.to_onnx(path)
    assert path.read_bytes() == b"an earlier export"  # never half-written


def test_unfitted_model_cannot_be_exported(tmp_path):
    with pytest.raises(NotFittedError):
        DigitClassifier().to_onnx(tmp_path / "never.onnx")
    assert not (tmp_path / "never.onnx").exists()


@pytest.fixture(scope="module")
def exported(digits_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "digits.onnx"
    digits_model.to_onnx(path)
    return OnnxModel(path)


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.zeros((2, 10)), r"shape \(2, 10\).*rows of 64 pixels"),
        (np.full((1, 64), np.nan), "NaN, infinity"),
        (np.full((1, 64), 1e39), "beyond float32's range"),
        (np.array([["a"] * 64]), "must hold numbers"),
    ],
    ids=["width", "nan", "beyond-float32", "strings"],
)
def test_onnx_model_rejects_bad_input(exported, X, message):
    with pytest.raises(ValueError, match=message):
        exported.predict(X)


def test_onnx_model_takes_images(exported, digits):
    X_test = digits[1]
    images = X_test.reshape(-1, 8, 8)
    assert (exported.predict(images) == exported.predict(X_test)).all()


def test_onnx_model_rejects_files_that_are_not_digitnet_exports(tmp_path):
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ValueError, match=r"junk\.onnx is not an ONNX file written"):
        OnnxModel(tmp_path / "junk.onnx")
    x = onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])
    y = onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y]
    )
    onnx.save(onnx.helper.make_model(graph), tmp_path / "other.onnx")
    with pytest.raises(ValueError, match=r"carries no digitnet\.sha256 digest"):
        OnnxModel(tmp_path / "other.onnx")
    model = onnx.helper.make_model(graph)
    model.metadata_props.add(
        key="digitnet.classes", value='{"dtype": "<i8", "values": [0, 1]}'
    )
    (tmp_path / "partial.onnx").write_bytes(sign(model.SerializeToString()))
    with pytest.raises(ValueError, match=r"needs .*digitnet\.input_shape.*KeyError"):
        OnnxModel(tmp_path / "partial.onnx")


@pytest.fixture(scope="module")
def export_bytes(digits_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "digits.onnx"
    digits_model.to_onnx(path)
    return path.read_bytes()


def test_every_flipped_byte_is_detected(export_bytes, tmp_path):
    rng = np.random.RandomState(0)
    for i in range(12):
        data = bytearray(export_bytes)
        for at in rng.choice(len(data), size=50, replace=False):
            data[at] ^= 1 + rng.randint(255)
        path = tmp_path / f"damaged-{i}.onnx"
        path.write_bytes(bytes(data))
        with pytest.raises(ValueError, match=f"damaged-{i}.onnx"):
            OnnxModel(path)


def _edited(export_bytes, key, value, signed):
    from digitnet._onnx import _DIGEST_TAIL

    model = onnx.load_from_string(export_bytes[:-_DIGEST_TAIL])
    entry = next(p for p in model.metadata_props if p.key == key)
    entry.value = value
    data = model.SerializeToString()
    return sign(data) if signed else data + export_bytes[-_DIGEST_TAIL:]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "digitnet.classes",
            json.dumps({"dtype": "<i8", "values": list(range(9, -1, -1))}),
            "sorted order",
        ),
        (
            "digitnet.classes",
            json.dumps({"dtype": "S2000000000", "values": ["0", "1"]}),
            "not a label type",
        ),
        ("digitnet.classes", "[" * 200_000 + "]" * 200_000, "RecursionError"),
        (
            "digitnet.classes",
            json.dumps({"dtype": "<i8", "values": [0, 1, 2]}),
            "do not match the 3 classes",
        ),
        ("digitnet.input_shape", "[1, 8, 9]", "does not match input_shape"),
    ],
    ids=["reversed", "huge-dtype", "nested", "fewer-classes", "shape"],
)
@pytest.mark.parametrize("signed", [False, True])
def test_edited_metadata_is_refused_before_use(
    export_bytes, tmp_path, key, value, message, signed
):
    path = tmp_path / "edited.onnx"
    path.write_bytes(_edited(export_bytes, key, value, signed))
    match = message if signed else "has been modified or corrupted"
    with pytest.raises(ValueError, match=match):
        OnnxModel(path)


def test_export_command_writes_a_model_that_agrees(digits_model, digits, tmp_path):
    digits_model.save(tmp_path / "model.dnet")
    status = main(["export", str(tmp_path / "model.dnet"), str(tmp_path / "m.onnx")])
    assert status == 0
    X_test = digits[1]
    assert (
        OnnxModel(tmp_path / "m.onnx").predict(X_test) == digits_model.predict(X_test)
    ).all()


def test_export_command_reports_a_missing_model(tmp_path, capsys):
    status = main(["export", str(tmp_path / "none.dnet"), str(tmp_path / "m.onnx")])
    assert status == 2
    assert "none.dnet" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()
