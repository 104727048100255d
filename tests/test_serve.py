"""digitnet serve: the HTTP API, with the torch and the ONNX backend."""

import io
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw
from starlette.testclient import TestClient

import digitnet
from digitnet import DigitClassifier, OnnxModel
from digitnet.cli import main
from digitnet.cli._model_files import load_served_model
from digitnet.serve import create_app

LIMIT = 200_000


@pytest.fixture(scope="module")
def model(digits):
    X_train, _, y_train, _ = digits
    return DigitClassifier(max_iter=5, random_state=0).fit(X_train, y_train)


@pytest.fixture(scope="module", params=["torch", "onnx"])
def served(request, model, tmp_path_factory):
    """``(client, model as served)`` for each backend."""
    if request.param == "onnx":
        path = tmp_path_factory.mktemp("serve") / "digits.onnx"
        model.to_onnx(path)
        backend_model = OnnxModel(path)
    else:
        backend_model = model
    with TestClient(create_app(backend_model, max_upload_bytes=LIMIT)) as client:
        yield client, backend_model, request.param


def _png(draw=None, size=(200, 200), background=0):
    image = Image.new("L", size, background)
    if draw is not None:
        draw(ImageDraw.Draw(image))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _zero(pen):
    pen.ellipse([55, 30, 145, 170], outline=255, width=14)


def test_health_and_model_description(served):
    client, _, backend = served
    assert client.get("/health").json() == {"status": "ok"}
    description = client.get("/model").json()
    assert description == {
        "classes": list(range(10)),
        "input_shape": [1, 8, 8],
        "n_features": 64,
        "backend": backend,
        "digitnet_version": digitnet.__version__,
    }


def test_pixel_rows_get_the_models_predictions(served, digits):
    client, backend_model, _ = served
    X_test = digits[1][:20]
    response = client.post("/predict", json={"pixels": X_test.tolist()})
    assert response.status_code == 200
    answers = response.json()["predictions"]
    proba = backend_model.predict_proba(X_test)
    assert [a["label"] for a in answers] == backend_model.predict(X_test).tolist()
    for answer, p in zip(answers, proba, strict=True):
        assert answer["probability"] == pytest.approx(p.max(), abs=1e-6)
        assert [label for label, _ in answer["top3"]] == np.argsort(-p)[:3].tolist()
        assert answer["top3"][0][1] >= answer["top3"][1][1] >= answer["top3"][2][1]


def test_uploaded_images_are_preprocessed_like_predict(served):
    client, backend_model, _ = served
    files = [
        ("file", ("zero.png", _png(_zero), "image/png")),
        ("file", ("blank.png", _png(), "image/png")),
        ("file", ("zero-on-paper.png", _png(_zero_dark, background=255), "image/png")),
    ]
    answers = client.post("/predict", files=files).json()["predictions"]
    expected = backend_model.predict_proba(
        np.stack([digitnet.preprocess_image(_png(_zero), (1, 8, 8))])
    )[0]
    assert answers[0]["label"] == int(np.argmax(expected))
    assert answers[0]["probability"] == pytest.approx(expected.max(), abs=1e-6)
    assert answers[1] == {
        "label": None,
        "probability": None,
        "top3": [],
        "no_ink": True,
        "message": "the image holds no visible ink (it is blank)",
    }
    assert answers[2]["label"] == answers[0]["label"]  # either polarity


def _zero_dark(pen):
    pen.ellipse([55, 30, 145, 170], outline=0, width=14)


def test_a_blank_pixel_row_is_no_ink_not_a_guess(served, digits):
    client, _, _ = served
    rows = [[0.0] * 64, digits[1][0].tolist()]
    answers = client.post("/predict", json={"pixels": rows}).json()["predictions"]
    assert answers[0]["no_ink"] is True
    assert answers[0]["label"] is None
    assert answers[1]["label"] is not None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"pixels": [[1.0, 2.0]]}, "2 features|rows of 64 pixels"),
        ({"pixels": [[1.0] * 64, [1.0] * 63]}, "all of the same length"),
        ({"pixels": [["a"] * 64]}, "rows of numbers"),
        ({"pixels": []}, "holds no rows"),
        ({"rows": [[0] * 64]}, r'must be an object \{"pixels"'),
        ([1, 2, 3], r'must be an object \{"pixels"'),
    ],
    ids=["width", "ragged", "strings", "empty", "no-key", "not-object"],
)
def test_bad_json_is_422_with_the_reason(served, body, message):
    client, _, _ = served
    response = client.post("/predict", json=body)
    assert response.status_code == 422
    assert response.json()["error"]
    assert re.search(message, response.json()["error"])


def test_nan_pixels_and_broken_json_are_422(served):
    client, _, _ = served
    headers = {"content-type": "application/json"}
    nan = b'{"pixels": [[NaN' + b", 0" * 63 + b"]]}"
    response = client.post("/predict", content=nan, headers=headers)
    assert response.status_code == 422
    assert "NaN" in response.json()["error"]
    response = client.post("/predict", content=b'{"pixels": [[1, 2', headers=headers)
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["error"]


def test_deeply_nested_json_is_422(served):
    client, _, _ = served
    body = b'{"pixels": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    response = client.post(
        "/predict", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["error"]


def test_pixels_beyond_float32_are_422(served):
    client, _, _ = served
    response = client.post("/predict", json={"pixels": [[1e39] * 64]})
    assert response.status_code == 422
    assert "beyond float32" in response.json()["error"]


def test_a_file_that_is_not_an_image_is_422_naming_it(served):
    client, _, _ = served
    files = [("file", ("notes.txt", b"hello", "text/plain"))]
    response = client.post("/predict", files=files)
    assert response.status_code == 422
    assert "file 'notes.txt': cannot identify image file" in response.json()["error"]
    response = client.post("/predict", files=[("other", ("a.png", _png(_zero)))])
    assert response.status_code == 422
    assert "no 'file' field" in response.json()["error"]


def test_broken_and_oversized_images_are_422(served, monkeypatch):
    client, _, _ = served
    truncated = _png(_zero)[:200]
    response = client.post("/predict", files=[("file", ("cut.png", truncated))])
    assert response.status_code == 422
    assert "file 'cut.png'" in response.json()["error"]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 200x200 is a "bomb"
    response = client.post("/predict", files=[("file", ("bomb.png", _png(_zero)))])
    assert response.status_code == 422
    assert "decompression bomb" in response.json()["error"]
    assert client.get("/health").status_code == 200


def test_bodies_over_the_limit_are_413(served):
    client, _, _ = served
    big = b"\0" * (LIMIT + 1)
    response = client.post("/predict", files=[("file", ("big.png", big, "image/png"))])
    assert response.status_code == 413
    assert str(LIMIT) in response.json()["error"]

    def chunks():  # no Content-Length: counted while it streams
        for _ in range(LIMIT // 1000 + 2):
            yield b"x" * 1000

    response = client.post(
        "/predict", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_other_content_types_are_415_and_the_server_goes_on(served, digits):
    client, _, _ = served
    response = client.post(
        "/predict", content=b"7", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["error"]
    assert client.get("/predict").status_code == 405
    ok = client.post("/predict", json={"pixels": digits[1][:1].tolist()})
    assert ok.status_code == 200


def test_the_drawing_page_is_served(served):
    client, _, _ = served
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<canvas id="canvas"' in page.text
    assert "pointermove" in page.text
    assert "http://" not in page.text  # no CDN: everything is in the page


def test_string_labels_are_served(small_digits):
    X_train, X_test, y_train, _ = small_digits
    names = np.array(list("abcdefghij"))
    model = DigitClassifier(max_iter=2, random_state=0).fit(X_train, names[y_train])
    with TestClient(create_app(model)) as client:
        answers = client.post("/predict", json={"pixels": X_test[:5].tolist()}).json()
    assert [a["label"] for a in answers["predictions"]] == model.predict(
        X_test[:5]
    ).tolist()
    assert client.get("/model").json()["classes"] == list("abcdefghij")


def test_serve_loads_safe_and_onnx_files_and_refuses_pickles(model, tmp_path):
    import joblib

    model.save(tmp_path / "m.dnet")
    model.to_onnx(tmp_path / "m.onnx")
    joblib.dump(model, tmp_path / "m.joblib")
    assert isinstance(load_served_model(tmp_path / "m.dnet"), DigitClassifier)
    assert isinstance(load_served_model(tmp_path / "m.onnx"), OnnxModel)
    with pytest.raises(ValueError, match=r"named as a pickle.*--trust-pickle"):
        load_served_model(tmp_path / "m.joblib")
    trusted = load_served_model(tmp_path / "m.joblib", trust_pickle=True)
    assert isinstance(trusted, DigitClassifier)


def test_serve_command_refuses_a_pickle_before_it_listens(model, tmp_path, capsys):
    import joblib

    joblib.dump(model, tmp_path / "m.joblib")
    assert main(["serve", str(tmp_path / "m.joblib"), "--port", "1"]) == 2
    assert "--trust-pickle" in capsys.readouterr().err


def test_serving_an_8x8_model_says_what_reads_drawings(
    model, mnist_fast_model, tmp_path, capsys, monkeypatch
):
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self: None)  # no listening
    model.save(tmp_path / "digits.dnet")
    assert main(["serve", str(tmp_path / "digits.dnet"), "--port", "0"]) == 0
    assert "note: this model reads scikit-learn's 8x8 digits" in (
        capsys.readouterr().err
    )
    mnist_fast_model.save(tmp_path / "mnist.dnet")
    assert main(["serve", str(tmp_path / "mnist.dnet"), "--port", "0"]) == 0
    assert "note: this model reads" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--port", "99999", "port number from 0 to 65535"),
        ("--port", "http", "port number from 0 to 65535"),
        ("--max-upload-mb", "inf", "size in MB above 0 and at most 4096"),
        ("--max-upload-mb", "nan", "size in MB above 0"),
        ("--max-upload-mb", "0", "size in MB above 0"),
        ("--read-timeout", "-1", "seconds above 0"),
    ],
)
def test_serve_options_out_of_range_are_usage_errors(
    tmp_path, capsys, option, value, message
):
    with pytest.raises(SystemExit) as stopped:
        main(["serve", str(tmp_path / "m.dnet"), option, value])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: expected" in err
    assert message in err
    assert "Traceback" not in err


def _two_lines(pen):
    """Two zeros on one line and one on the line below."""
    for box in ([20, 20, 70, 90], [90, 20, 140, 90], [40, 120, 90, 190]):
        pen.ellipse(box, outline=255, width=8)


def test_read_answers_each_upload_as_a_page_like_read_digits(served):
    client, backend_model, _ = served
    page = _png(_two_lines, size=(200, 210))
    files = [
        ("file", ("page.png", page, "image/png")),
        ("file", ("blank.png", _png(), "image/png")),
    ]
    response = client.post("/read", files=files)
    assert response.status_code == 200
    first, blank = response.json()["readings"]
    expected = digitnet.read_digits(backend_model, page).to_dict()
    assert first == {"file": "page.png", **expected}
    assert [len(line["numbers"][0]["digits"]) for line in first["lines"]] == [2, 1]
    assert blank == {
        "file": "blank.png",
        "text": None,
        "no_ink": True,
        "message": "the image holds no visible ink (it is blank)",
    }


def test_read_flags_digits_below_min_confidence(served):
    client, _, _ = served
    files = [("file", ("page.png", _png(_two_lines, size=(200, 210))))]
    reading = client.post("/read?min_confidence=1", files=files).json()["readings"][0]
    assert reading["flagged"] == [0, 1, 2]
    response = client.post("/read?min_confidence=2", files=files)
    assert response.status_code == 422
    assert (
        "min_confidence must be a probability in [0, 1], not '2'"
        in (response.json()["error"])
    )


def test_read_has_predicts_limits_and_errors(served, digits):
    client, _, _ = served
    response = client.post("/read", files=[("file", ("notes.txt", b"hello"))])
    assert response.status_code == 422
    assert "file 'notes.txt': cannot identify image file" in response.json()["error"]
    response = client.post("/read", json={"pixels": digits[1][:1].tolist()})
    assert response.status_code == 415
    assert "POST /read takes multipart/form-data" in response.json()["error"]
    big = b"\0" * (LIMIT + 1)
    response = client.post("/read", files=[("file", ("big.png", big, "image/png"))])
    assert response.status_code == 413
    assert client.get("/read").status_code == 405
