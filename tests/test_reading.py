"""read_digits and ``digitnet read`` on composed and hand-drawn numbers.

Accuracy floors are for the fast preset (the session's MNIST model), below
what it measures, as regression guards; the targets of the default MNIST
model are measured by benchmarks/reading.py.
"""

import csv
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

import digitnet
from digitnet import read_digits
from digitnet.cli import main
from digitnet.datasets import make_numbers
from digitnet.exceptions import BlankImageError
from digitnet.reading import _reading
from digitnet.reading._segment import Group


@pytest.fixture(scope="module")
def mnist_digits(mnist_data):
    _, _, X_test, y_test = mnist_data
    return X_test.reshape(-1, 28, 28), y_test


def _accuracy(model, numbers, texts):
    reads = [read_digits(model, n).text for n in numbers]
    whole = np.mean([r == t for r, t in zip(reads, texts, strict=True)])
    same = [(r, t) for r, t in zip(reads, texts, strict=True) if len(r) == len(t)]
    digits = sum(a == b for r, t in same for a, b in zip(r, t, strict=True))
    return whole, digits / sum(len(t) for t in texts)


@pytest.mark.parametrize(
    ("conditions", "whole_floor"),
    [
        ({"gap": (0.1, 0.4)}, 0.93),
        (
            {
                "gap": (0.05, 0.4),
                "jitter": 0.1,
                "scale": (0.8, 1.2),
                "invert": 0.5,
                "noise": 0.05,
                "ruled_line": 0.5,
            },
            0.9,
        ),
        ({"gap": (-0.08, 0.0)}, 0.85),
    ],
    ids=["gaps", "jitter-scale-polarity-noise-line", "touching"],
)
def test_five_digit_numbers_from_mnist(
    mnist_fast_model, mnist_digits, conditions, whole_floor
):
    numbers, texts, _ = make_numbers(
        *mnist_digits, n_numbers=100, n_digits=5, random_state=1, **conditions
    )
    whole, _ = _accuracy(mnist_fast_model, numbers, texts)
    assert whole >= whole_floor


def test_numbers_of_2_to_10_digits_keep_count_and_order(mnist_fast_model, mnist_digits):
    numbers, texts, boxes = make_numbers(
        *mnist_digits, n_numbers=30, n_digits=(2, 10), random_state=2
    )
    for number, text, true_boxes in zip(numbers, texts, boxes, strict=True):
        reading = read_digits(mnist_fast_model, number)
        if len(reading.text) != len(text):
            continue
        for digit, box in zip(reading.digits, true_boxes, strict=True):
            centre = (digit.box[0] + digit.box[2]) / 2
            assert box[0] - 2 <= centre <= box[2] + 2
    _, digits = _accuracy(mnist_fast_model, numbers, texts)
    assert digits >= 0.95


@pytest.fixture(scope="module")
def real_digits(real_digits_home):
    """The development set's digits, preprocessed to 28x28, with labels."""
    folder = real_digits_home
    with open(folder / "LABELS.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    images = np.stack(
        [digitnet.preprocess_image(folder / r["file"]).reshape(28, 28) for r in rows]
    )
    return images, np.array([int(r["label"]) for r in rows])


def test_numbers_composed_from_real_digits(mnist_fast_model, real_digits):
    numbers, texts, _ = make_numbers(
        *real_digits, n_numbers=40, n_digits=(2, 6), random_state=0, invert=0.5
    )
    _, digits = _accuracy(mnist_fast_model, numbers, texts)
    assert digits >= 0.7  # the fast preset reads 92% of these digits alone


def _hand_drawn(path, background=255, ink=0):
    """4097 drawn with strokes: a 4 in two strokes, an underline and a speck."""
    image = Image.new("L", (420, 160), background)
    pen = ImageDraw.Draw(image)
    pen.line([(40, 30), (25, 95), (75, 95)], fill=ink, width=7)
    pen.line([(62, 55), (62, 135)], fill=ink, width=7)
    pen.ellipse([110, 35, 165, 135], outline=ink, width=7)
    pen.ellipse([200, 35, 250, 85], outline=ink, width=7)
    pen.line([(248, 60), (240, 135)], fill=ink, width=7)
    pen.line([(290, 40), (350, 40)], fill=ink, width=7)
    pen.line([(350, 40), (310, 135)], fill=ink, width=7)
    pen.line([(20, 148), (400, 148)], fill=ink, width=3)
    pen.ellipse([380, 20, 384, 24], fill=ink)
    image.save(path)
    return path


@pytest.mark.parametrize("polarity", ["dark-on-light", "light-on-dark"])
def test_a_hand_drawn_number(mnist_fast_model, tmp_path, polarity):
    colours = (255, 0) if polarity == "dark-on-light" else (0, 255)
    path = _hand_drawn(tmp_path / "4097.png", *colours)
    reading = read_digits(mnist_fast_model, path, min_confidence=0.5)
    assert reading.text == "4097"
    assert [d.box[0] for d in reading.digits] == sorted(
        d.box[0] for d in reading.digits
    )
    assert reading.digits[0].box[0] < 40 < reading.digits[0].box[2]
    assert all(len(d.top3) == 3 for d in reading.digits)


def test_a_broken_five_is_one_digit(mnist_fast_model):
    image = Image.new("L", (160, 140), 0)
    pen = ImageDraw.Draw(image)
    pen.line([(58, 30), (110, 28)], fill=255, width=8)  # the bar, apart
    pen.line([(55, 42), (50, 70)], fill=255, width=8)
    pen.arc([40, 60, 105, 120], start=-100, end=150, fill=255, width=8)
    reading = read_digits(mnist_fast_model, np.asarray(image))
    assert reading.text == "5"


def test_flags_and_marks_follow_min_confidence(mnist_fast_model, mnist_digits):
    numbers, _, _ = make_numbers(*mnist_digits, n_numbers=20, random_state=5)
    for number in numbers:
        reading = read_digits(mnist_fast_model, number, min_confidence=0.999)
        expected = [i for i, d in enumerate(reading.digits) if d.probability < 0.999]
        assert list(reading.flagged) == expected
        assert reading.marked() == "".join(
            "?" if i in expected else str(d.label) for i, d in enumerate(reading.digits)
        )
    unflagged = read_digits(mnist_fast_model, numbers[0])
    assert unflagged.flagged == ()


def test_cut_pieces_keep_the_order_of_their_cuts(
    mnist_fast_model, mnist_digits, monkeypatch
):
    # A cut that runs slantwise under a 7 leaves the 2 after it a box that
    # starts further left (its foot reaches under the 7): still "72".
    seven = Group(slice(0, 40), slice(10, 40), np.ones((40, 30), dtype=bool))
    two = Group(slice(20, 40), slice(0, 60), np.ones((20, 60), dtype=bool))
    one_hot = np.eye(10)
    group = Group(slice(0, 40), slice(0, 60), np.ones((40, 60), dtype=bool))
    pieces = [(seven, one_hot[7], 0.9), (two, one_hot[2], 0.9)]
    read = [(0, group, pieces)]
    monkeypatch.setattr(_reading, "_read_groups", lambda *args: read)
    reading = read_digits(mnist_fast_model, mnist_digits[0][0])
    assert reading.text == "72"
    first, second = (d.box[0] for d in reading.digits)
    assert first - second == 10  # the 2's box starts 10 px left of the 7's


class _StringLabels:
    """``model`` with its classes as the strings ``"0"``-``"9"``."""

    def __init__(self, model):
        self.model = model
        self.classes_ = np.array([str(c) for c in model.classes_])
        self.input_shape_ = model.input_shape_

    def predict_proba(self, X):
        return self.model.predict_proba(X)


def test_string_digit_labels_read_like_numbers(mnist_fast_model, mnist_digits):
    numbers, _, _ = make_numbers(
        *mnist_digits, n_numbers=10, n_digits=4, random_state=8, gap=(-0.08, 0.0)
    )
    named = _StringLabels(mnist_fast_model)
    for number in numbers:
        as_numbers = read_digits(mnist_fast_model, number)
        as_strings = read_digits(named, number)
        assert as_strings.text == as_numbers.text
        for a, b in zip(as_strings.digits, as_numbers.digits, strict=True):
            assert a.probability == pytest.approx(b.probability)


def test_cut_digits_carry_the_count_probability(mnist_fast_model, mnist_digits):
    numbers, _, _ = make_numbers(
        *mnist_digits, n_numbers=20, n_digits=5, random_state=4, gap=(-0.08, 0.0)
    )
    counts = []
    for number in numbers:
        for digit in read_digits(mnist_fast_model, number).digits:
            counts.append(digit.count_probability)
            assert digit.probability <= digit.count_probability + 1e-9
            assert sum(p for _, p in digit.top3) <= digit.count_probability + 1e-6
    assert min(counts) < 0.9  # some cuts had a plausible alternative
    assert np.mean(np.equal(counts, 1.0)) < 0.9  # touching digits were cut


def test_review_leaves_few_errors_unflagged(mnist_fast_model, mnist_digits):
    """Flagging the least sure 5% of digits leaves >= 99% right (gaps)."""
    numbers, texts, boxes = make_numbers(
        *mnist_digits, n_numbers=60, n_digits=5, random_state=6, gap=(0.1, 0.4)
    )
    digits = []
    for number, text, true_boxes in zip(numbers, texts, boxes, strict=True):
        for d in read_digits(mnist_fast_model, number).digits:
            centre = (d.box[0] + d.box[2]) / 2
            k = [i for i, b in enumerate(true_boxes) if b[0] <= centre < b[2]]
            digits.append((d.probability, len(k) == 1 and str(d.label) == text[k[0]]))
    threshold = np.quantile([p for p, _ in digits], 0.05)
    unflagged = [ok for p, ok in digits if p >= threshold]
    assert np.mean(unflagged) >= 0.99


def test_blank_image_and_bad_min_confidence(mnist_fast_model):
    with pytest.raises(BlankImageError, match="no visible ink"):
        read_digits(mnist_fast_model, np.zeros((50, 200)))
    with pytest.raises(ValueError, match="min_confidence"):
        read_digits(mnist_fast_model, np.zeros((50, 200)), min_confidence=1.5)


@pytest.mark.parametrize("density", [0.02, 0.1, 0.2, 0.3])
def test_salt_and_pepper_noise_alone_is_blank(mnist_fast_model, density):
    """Noise once read as '004414', up to p=0.88; it holds no digits."""
    rng = np.random.RandomState(0)
    page = np.full((120, 400), 0.9)
    noisy = rng.rand(*page.shape) < density
    page[noisy] = rng.randint(0, 2, noisy.sum())
    with pytest.raises(BlankImageError):
        read_digits(mnist_fast_model, page)


def test_numbers_under_salt_and_pepper_noise_are_read(mnist_fast_model, mnist_digits):
    numbers, texts, _ = make_numbers(
        *mnist_digits, n_numbers=10, n_digits=4, height=80, random_state=3
    )
    rng = np.random.RandomState(0)
    right = 0
    for number, text in zip(numbers, texts, strict=True):
        page = number / 255.0
        noisy = rng.rand(*page.shape) < 0.2
        page[noisy] = rng.randint(0, 2, noisy.sum())
        right += read_digits(mnist_fast_model, page).text == text
    assert right >= 8


def test_read_command_prints_json_and_debug_pictures(
    mnist_fast_model, tmp_path, capsys
):
    mnist_fast_model.save(tmp_path / "m.dnet")
    good = _hand_drawn(tmp_path / "4097.png")
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    status = main(
        [
            "read",
            str(tmp_path / "m.dnet"),
            str(good),
            str(bad),
            "--json",
            "--min-confidence",
            "0.5",
            "--debug-dir",
            str(tmp_path / "debug"),
        ]
    )
    assert status == 1  # one file could not be read
    out = json.loads(capsys.readouterr().out)
    assert out[0]["file"] == str(good)
    assert out[0]["text"] == "4097"
    assert set(out[0]) == {"file", "text", "flagged", "lines"}
    (line,) = out[0]["lines"]
    assert set(line) == {"text", "box", "numbers"}
    (number,) = line["numbers"]
    assert number["text"] == "4097"
    assert set(number["digits"][0]) == {
        "label",
        "probability",
        "top3",
        "box",
        "flagged",
        "count_probability",
    }
    assert "cannot identify image file" in out[1]["error"]
    with Image.open(tmp_path / "debug" / "4097-read.png") as picture:
        assert picture.size == (420, 160)
        drawn = np.asarray(picture.convert("RGB"))
    green = (drawn[..., 1] > 120) & (drawn[..., 0] < 60) & (drawn[..., 2] < 60)
    assert green.sum() > 100  # the boxes of confident digits


def test_read_command_marks_uncertain_digits(mnist_fast_model, tmp_path, capsys):
    mnist_fast_model.save(tmp_path / "m.dnet")
    good = _hand_drawn(tmp_path / "4097.png")
    model = str(tmp_path / "m.dnet")
    assert main(["read", model, str(good), "--min-confidence", "0.9999"]) == 0
    out = capsys.readouterr().out
    reading = read_digits(mnist_fast_model, good, min_confidence=0.9999)
    assert out.startswith(f"{good}: {reading.marked()}")
    for i in reading.flagged:
        assert f"digit {i + 1}: {reading.digits[i].label}" in out
    with pytest.raises(SystemExit):
        main(["read", model, str(good), "--min-confidence", "2"])
    assert "expected a probability in [0, 1]" in capsys.readouterr().err


@pytest.fixture(scope="module")
def mnist_page(mnist_digits, tmp_path_factory):
    """A composed page of three lines, separated digits: ``(path, texts)``."""
    from digitnet.datasets import make_pages

    X, y = mnist_digits
    (page,), (texts,), _ = make_pages(
        X[:2000],
        y[:2000],
        n_pages=1,
        n_lines=3,
        n_numbers=(1, 2),
        n_digits=(2, 4),
        photo=0.0,
        random_state=3,
    )
    path = tmp_path_factory.mktemp("page") / "page.png"
    path.write_bytes(page)
    return path, texts


def test_a_page_is_read_line_by_line_and_number_by_number(mnist_fast_model, mnist_page):
    path, texts = mnist_page
    reading = read_digits(mnist_fast_model, path)
    assert len(reading.lines) == 3
    assert [len(line.numbers) for line in reading.lines] == [len(t) for t in texts]
    assert [[len(n.digits) for n in line.numbers] for line in reading.lines] == [
        [len(number) for number in line] for line in texts
    ]
    tops = [line.box[1] for line in reading.lines]
    assert tops == sorted(tops)


def test_read_command_prints_a_line_per_line_found(
    mnist_fast_model, mnist_page, tmp_path, capsys
):
    path, _ = mnist_page
    mnist_fast_model.save(tmp_path / "m.dnet")
    assert main(["read", str(tmp_path / "m.dnet"), str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    reading = read_digits(mnist_fast_model, path)
    assert out[0] == f"{path}:"
    assert [line.strip().split("  [")[0] for line in out[1:]] == [
        line.marked() for line in reading.lines
    ]
    assert all(line.startswith("  ") for line in out[1:])


def test_letters_are_not_read_as_confident_digits(mnist_fast_model):
    from PIL import ImageFont

    image = Image.new("L", (700, 120), 255)
    pen = ImageDraw.Draw(image)
    pen.text((20, 20), "Amount", fill=0, font=ImageFont.load_default(size=60))
    reading = read_digits(mnist_fast_model, np.asarray(image), min_confidence=0.9)
    assert len(reading.flagged) >= len(reading.digits) / 2
