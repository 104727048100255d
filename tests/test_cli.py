"""The digitnet command end to end: train, evaluate and predict."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from digitnet import DigitClassifier, __version__, load
from digitnet.cli import main
from digitnet.datasets import fetch_mnist, load_digits

from ._render import render, save

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REPORT_FILES = {
    "metrics.json",
    "confusion_matrix.png",
    "learning_curves.png",
    "misclassified.png",
}


def _check_report(folder):
    assert {p.name for p in folder.iterdir()} == REPORT_FILES
    metrics = json.loads((folder / "metrics.json").read_text())
    for name in REPORT_FILES - {"metrics.json"}:
        data = (folder / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        with Image.open(folder / name) as img:
            assert img.size[0] > 300
    return metrics


def _train(folder, model_name, *options):
    """Run ``digitnet train`` quietly into ``folder``; (status, folder, model)."""
    model = folder / model_name
    report = folder / "report"
    status = main(
        [
            "train",
            *options,
            "--output",
            str(model),
            "--report-dir",
            str(report),
            "--quiet",
        ]
    )
    return status, folder, model


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits")
    return _train(folder, "model.dnet", "--epochs", "6")


def test_train_on_digits(digits_run, capsys):
    status, folder, model = digits_run
    assert status == 0
    assert model.is_file()
    metrics = _check_report(folder / "report")
    assert metrics["dataset"] == "digits"
    assert metrics["accuracy"] > 0.95
    assert metrics["n_samples"] == 450
    assert len(metrics["history"]) == 6
    assert np.sum(metrics["confusion_matrix"]) == 450


def test_another_architecture_replaces_the_presets_network(tmp_path):
    # The fast preset's module_params shape its CNN; an MLP must not get them.
    status, _, model = _train(
        tmp_path, "m.dnet", "--preset", "fast", "--architecture", "mlp", "--epochs", "1"
    )
    assert status == 0
    fitted = load(model)
    assert fitted.architecture == "mlp"
    assert fitted.module_params is None
    assert fitted.max_iter == 1


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], "auto"),
        (["--augment"], True),
        (["--no-augment"], False),
        (["--preset", "accurate"], {"elastic": 0.06, "thickness": 0.5}),
        (["--preset", "accurate", "--augment"], True),
        (["--preset", "accurate", "--no-augment"], False),
    ],
)
def test_augment_flag_sets_or_leaves_the_estimators_default(flags, expected):
    from digitnet.cli._main import _train_params, build_parser

    params = _train_params(build_parser().parse_args(["train", *flags]))
    assert params.get("augment", "auto") == expected


def test_no_arguments_trains_on_digits(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "test accuracy: " in out
    accuracy = float(out.split("test accuracy: ")[1].split()[0])
    assert accuracy >= 0.98
    assert "precision" in out
    assert (tmp_path / "model.dnet").is_file()
    _check_report(tmp_path / "digitnet-report")


def test_evaluate_a_saved_model(digits_run, tmp_path, capsys):
    _, folder, model = digits_run
    trained = json.loads((folder / "report" / "metrics.json").read_text())
    assert main(["evaluate", str(model), "--report-dir", str(tmp_path / "ev")]) == 0
    metrics = _check_report(tmp_path / "ev")
    assert metrics["accuracy"] == trained["accuracy"]  # same held-out split and model
    assert f"test accuracy: {trained['accuracy']:.4f}" in capsys.readouterr().out


def test_predict_digits_images(digits_run, tmp_path, capsys):
    _, _, model = digits_run
    bunch = load_digits()
    rng = np.random.RandomState(0)
    paths, labels = [], []
    for i in range(20):
        image = render(
            bunch.images[-1 - i],
            size=96,
            canvas=160,
            offset=(20 + i, 30),
            dark_ink=i % 2 == 0,
            rng=rng,
        )
        paths.append(str(save(image, tmp_path / f"d{i}.png")))
        labels.append(int(bunch.target[-1 - i]))
    assert main(["predict", str(model), *paths, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    predicted = [r["label"] for r in results]
    assert np.mean(np.equal(predicted, labels)) >= 0.8
    assert all(0 <= r["probability"] <= 1 for r in results)


def _zero_photo(path):
    """A 0 of the digits set as a photo: dark ink on light paper, 100x100."""
    image = render(
        load_digits().images[0],
        size=64,
        canvas=100,
        offset=(10, 10),
        dark_ink=True,
        rng=np.random.RandomState(0),
    )
    return save(image, path)


def test_predict_reports_unreadable_files_and_goes_on(digits_run, tmp_path, capsys):
    _, _, model = digits_run
    good = _zero_photo(tmp_path / "zero.png")
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    blank = save(np.full((50, 50), 255, dtype=np.uint8), tmp_path / "blank.png")
    status = main(
        [
            "predict",
            str(model),
            str(bad),
            str(good),
            str(blank),
            str(tmp_path / "missing.jpg"),
        ]
    )
    captured = capsys.readouterr()
    assert status == 1
    assert f"{good}: 0 (p=" in captured.out
    assert f"{bad}: error: cannot identify image file" in captured.err
    assert f"{blank}: error: the image holds no visible ink" in captured.err
    assert "missing.jpg: error:" in captured.err


def test_predict_takes_folders_recursively_and_standard_input(
    digits_run, tmp_path, capsys, monkeypatch
):
    import io

    _, _, model = digits_run
    folder = tmp_path / "scans"
    (folder / "inner").mkdir(parents=True)
    first = _zero_photo(folder / "a.png")
    second = _zero_photo(folder / "inner" / "b.PNG")
    (folder / "notes.txt").write_text("not an image")  # not an image suffix
    empty = tmp_path / "empty"
    empty.mkdir()
    data = first.read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    status = main(["predict", str(model), str(folder), "-", str(empty), "--json"])
    captured = capsys.readouterr()
    assert status == 1  # the empty folder
    files = [r["file"] for r in json.loads(captured.out)]
    assert files == [str(first), str(second), "-", str(empty)]
    results = json.loads(captured.out)
    assert results[2]["label"] == results[0]["label"] == 0
    assert "the folder holds no image files (.bmp," in results[3]["error"]
    assert f"{empty}: error: the folder holds no image files" in captured.err


def test_a_long_list_shows_progress_on_a_terminal(
    digits_run, tmp_path, capsys, monkeypatch
):
    from digitnet.cli import _per_file

    _, _, model = digits_run
    photo = _zero_photo(tmp_path / "zero.png")
    paths = [str(photo)] * _per_file.PROGRESS_FROM
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert main(["predict", str(model), *paths]) == 0
    err = capsys.readouterr().err
    assert f"\r{len(paths)}/{len(paths)} files\n" in err
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)  # a pipe: no counter
    assert main(["predict", str(model), *paths]) == 0
    assert "files" not in capsys.readouterr().err


def test_predict_marks_answers_below_min_confidence(digits_run, tmp_path, capsys):
    _, _, model = digits_run
    path = _zero_photo(tmp_path / "zero.png")
    assert main(["predict", str(model), str(path), "--json"]) == 0
    p = json.loads(capsys.readouterr().out)[0]["probability"]
    above = min(1.0, p + 1e-6)
    for threshold, flagged in [(p / 2, False), (above, p < above)]:
        args = ["predict", str(model), str(path), "--min-confidence", str(threshold)]
        assert main([*args, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)[0]["flagged"] is flagged
        assert main(args) == 0
        assert ("uncertain" in capsys.readouterr().out) is flagged
    with pytest.raises(SystemExit):
        main(["predict", str(model), str(path), "--min-confidence", "-1"])
    assert "expected a probability in [0, 1]" in capsys.readouterr().err


def test_predict_averages_test_time_copies(digits_run, tmp_path, capsys):
    import digitnet

    _, _, model = digits_run
    path = _zero_photo(tmp_path / "zero.png")
    assert main(["predict", str(model), str(path), "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)[0]["probability"]
    args = ["predict", str(model), str(path), "--test-time-augment", "4", "--json"]
    assert main(args) == 0
    averaged = json.loads(capsys.readouterr().out)[0]["probability"]
    fitted = digitnet.load(model).set_params(test_time_augment=4)
    features = digitnet.preprocess_image(path, fitted.input_shape_)
    expected = fitted.predict_proba(features[None])[0].max()
    assert averaged == pytest.approx(expected, abs=1e-9)
    assert averaged != pytest.approx(plain, abs=1e-6)
    # Without the option, a model keeps its own setting.
    saved = tmp_path / "tta.dnet"
    fitted.save(saved)
    assert main(["predict", str(saved), str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["probability"] == averaged
    args = ["predict", str(saved), str(path), "--test-time-augment", "0", "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)[0]["probability"] == plain
    for copies in ("-2", "100000"):
        with pytest.raises(SystemExit):
            main(["predict", str(model), str(path), "--test-time-augment", copies])
        assert "whole number of copies from 0 to 100" in capsys.readouterr().err


def test_clear_errors_exit_with_status_2(tmp_path, capsys, monkeypatch):
    from digitnet.datasets import _mnist

    # No network in tests: a dead local mirror, and no waiting between retries.
    monkeypatch.setattr(_mnist, "MIRRORS", [(tmp_path / "no-mirror").as_uri() + "/"])
    monkeypatch.setattr(_mnist.time, "sleep", lambda seconds: None)
    assert main(["evaluate", str(tmp_path / "nope.dnet")]) == 2
    assert "digitnet evaluate: error:" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    status = main(
        [
            "train",
            "--dataset",
            "mnist",
            "--data-home",
            str(empty),
            "--output",
            "",
            "--report-dir",
            "",
        ]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert (
        "Could not download train-images-idx3-ubyte.gz after 4 attempt(s) at each "
        "of 1 mirror(s)" in err  # the test's one (unreachable) mirror
    )
    assert f"MNIST files missing from {empty / 'mnist'}" in err
    assert "download_if_missing" not in err  # it was allowed: no such advice
    assert "--data-home" in err
    # Each mirror's reason once, not once per attempt.
    assert len([line for line in err.splitlines() if line.startswith("  http")]) <= 3


def test_module_entry_point_and_version():
    result = subprocess.run(
        [sys.executable, "-m", "digitnet", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == f"digitnet {__version__}"


# --------------------------------------------------------------------- MNIST


@pytest.fixture(scope="module")
def mnist_run(mnist_home, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mnist")
    return _train(folder, "mnist.dnet", "--dataset", "mnist", "--epochs", "1")


def test_short_mnist_training_reaches_97_percent(mnist_run):
    status, folder, _ = mnist_run
    assert status == 0
    metrics = _check_report(folder / "report")
    assert metrics["dataset"] == "mnist"
    assert metrics["n_samples"] == 10000
    assert metrics["accuracy"] >= 0.97
    assert {"valid_loss", "valid_acc"} <= set(metrics["history"][0])


@pytest.mark.parametrize(
    "dark_ink", [True, False], ids=["dark-on-light", "light-on-dark"]
)
def test_predict_mnist_photos_of_any_size_offset_and_polarity(
    mnist_run, tmp_path, capsys, dark_ink
):
    _, _, model = mnist_run
    test = fetch_mnist(subset="test", download_if_missing=False)
    rng = np.random.RandomState(1)
    paths, labels = [], []
    for i in range(30):
        size = [40, 90, 200, 400][i % 4]
        canvas = int(size * rng.uniform(1.3, 2.2))
        offset = tuple(rng.randint(0, canvas - size + 1, size=2))
        image = render(
            test.images[i],
            size=size,
            canvas=canvas,
            offset=offset,
            dark_ink=dark_ink,
            rng=rng,
            lighting=0.15 if i % 3 == 0 else 0.0,
            specks=i % 3,
        )
        suffix = ".jpg" if i % 5 == 0 else ".png"
        paths.append(str(save(image, tmp_path / f"m{i}{suffix}")))
        labels.append(int(test.target[i]))
    assert main(["predict", str(model), *paths, "--json"]) == 0
    predicted = [r["label"] for r in json.loads(capsys.readouterr().out)]
    assert np.mean(np.equal(predicted, labels)) >= 0.9


def test_every_option_has_help_with_its_default_and_every_command_examples():
    import argparse

    from digitnet.cli._main import EXAMPLES, build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(sub.choices) == set(EXAMPLES)
    for name, command in sub.choices.items():
        text = command.format_help()
        assert "examples:\n" in text
        assert all(f"digitnet {name}" in line for line in EXAMPLES[name])
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"digitnet {name} {action.dest}: no help"
            if action.option_strings:
                shown = action.help % {"default": action.default}
                assert "default" in shown, f"digitnet {name} {action.dest}"


def test_the_training_line_names_the_network_and_counts_validation_apart():
    from digitnet.cli._main import _training_line

    auto = DigitClassifier(early_stopping=True)
    assert _training_line(auto, "mnist", 60000, 10000) == (
        "training cnn on mnist: 54000 images (+6000 for validation), "
        "10000 held out for the test"
    )
    mlp = DigitClassifier(architecture="mlp")
    assert _training_line(mlp, "digits", 1347, 450) == (
        "training mlp on digits: 1347 images, 450 held out for the test"
    )
