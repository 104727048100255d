"""Real handwriting: accuracy and calibration on the development set of real digits.

For each model given (``--model NAME=PATH``, safe model files), on the
``real_digits/`` development set of the data home (photos and canvas
drawings, checked labels): accuracy per kind (photo, canvas, unknown) and per
polarity (as the preprocessing detects it from the image border), the misses
with their probabilities, and the expected calibration error (ECE, 15 equal
bins of the top probability) there and on MNIST's test set. Also the seconds
per image of ``preprocess_image`` on the set and on a 12 MP JPEG photo.

    python benchmarks/real_digits.py --model default=mnist.dnet [--model ...]

Prints the tables and writes the "real-digits" section of docs/benchmarks.md.
"""

import argparse
import csv
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

from _doc import write_section
from epoch_overhead import environment
from PIL import Image, ImageDraw

import digitnet
from digitnet._images import read_image
from digitnet.datasets import fetch_mnist, get_data_home


def ece(proba, y, bins=15):
    """Expected calibration error of the top probability."""
    top, right = proba.max(axis=1), proba.argmax(axis=1) == y
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        inside = (top > lo) & (top <= hi)
        if inside.any():
            total += inside.mean() * abs(right[inside].mean() - top[inside].mean())
    return total


def development_set():
    folder = get_data_home() / "real_digits"
    with open(folder / "LABELS.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    paths = [folder / r["file"] for r in rows]
    times, features, polarity = [], [], []
    for path in paths:
        start = time.perf_counter()
        features.append(digitnet.preprocess_image(path))
        times.append(time.perf_counter() - start)
        gray = read_image(path)
        border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
        polarity.append("dark on light" if np.median(border) > 0.5 else "light on dark")
    return {
        "X": np.stack(features),
        "y": np.array([int(r["label"]) for r in rows]),
        "kind": np.array([r["kind"] for r in rows]),
        "polarity": np.array(polarity),
        "files": [r["file"] for r in rows],
        "seconds": times,
    }


def photo_seconds(runs=5):
    """Median seconds of preprocess_image on a 4000x3000 JPEG of a drawn digit."""
    image = Image.new("RGB", (4000, 3000), (235, 232, 225))
    pen = ImageDraw.Draw(image)
    pen.line([(1500, 900), (2500, 900), (1800, 2200)], fill=(30, 30, 60), width=60)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        digitnet.preprocess_image(data)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def model_rows(name, model, dev, X_test, y_test):
    proba = model.predict_proba(dev["X"])
    right = proba.argmax(axis=1) == dev["y"]
    cells = [f"{right.sum()}/{len(right)} ({right.mean():.1%})"]
    for column, value in [
        ("kind", "photo"),
        ("kind", "canvas"),
        ("kind", "unknown"),
        ("polarity", "dark on light"),
        ("polarity", "light on dark"),
    ]:
        chosen = dev[column] == value
        cells.append(f"{right[chosen].sum()}/{chosen.sum()}")
    test_proba = model.predict_proba(X_test)
    test_acc = (test_proba.argmax(axis=1) == y_test).mean()
    row = (
        f"| {name} | {' | '.join(cells)} | {ece(proba, dev['y']):.3f} | "
        f"{test_acc:.2%} | {ece(test_proba, y_test):.4f} |"
    )
    misses = [
        f"{name}: `{dev['files'][i]}` read {proba[i].argmax()} (p={proba[i].max():.2f})"
        for i in np.flatnonzero(~right)
    ]
    return row, misses


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        help="NAME=PATH of a safe model file (repeatable)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    dev = development_set()
    X_test, y_test = fetch_mnist(subset="test", return_X_y=True)
    table = [
        "| model | development set | photo | canvas | unknown | dark on light | "
        "light on dark | ECE (dev) | MNIST test | ECE (MNIST test) |",
        "|" + " --- |" * 10,
    ]
    misses = []
    for spec in args.model:
        name, _, path = spec.partition("=")
        row, missed = model_rows(name, digitnet.load(path), dev, X_test, y_test)
        table.append(row)
        misses += missed
    table = "\n".join(table)
    per_image = statistics.median(dev["seconds"])
    photo = photo_seconds()
    print(table)
    print("\n".join(misses))
    names = ", ".join(f"`{s.partition('=')[0]}`" for s in args.model)
    text = f"""## Real handwriting: the development set

Produced by `python benchmarks/real_digits.py` in {time.perf_counter() - started:.0f} s
on: {environment()}. Models: {names}, safe files given with `--model`
(`default`: made by `digitnet train --dataset mnist`).

The 147 real digits of `real_digits/` (phone photos, canvas drawings; labels
checked by eye), through `digitnet.preprocess_image` as `digitnet predict`
does. Polarity is what the preprocessing detects from the image border. ECE:
expected calibration error of the top probability, 15 equal-width bins.

{table}

Misses:

{chr(10).join(f"- {m}" for m in misses) or "- none"}

`preprocess_image`: median {per_image * 1000:.0f} ms per development-set file
(decoding included); {photo * 1000:.0f} ms for a 4000x3000 (12 MP) JPEG photo
(median of 5).
"""
    write_section("real-digits", text)
    print("wrote the real-digits section of docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
