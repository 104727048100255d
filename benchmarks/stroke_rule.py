"""Stroke-width rule of the photo preprocessing: far strokes only vs every stroke.

``preprocess_image`` widens strokes thinner than half of MNIST's width and
narrows those over 1.8 times it (when the capture resolves them), leaving the
rest alone. Two other rules run beside it: widening thin strokes only (the
rule before), and bringing every stroke to that width (the first rule, with
square structuring elements), re-implemented here. Both run side by side on
the first 1,000 MNIST test digits (padded by 10 px, put through the
preprocessing) and on the development set of real digits, for each model
given as ``--model NAME=PATH`` (safe files).

    python benchmarks/stroke_rule.py --model fast=fast.dnet --model default=mnist.dnet

Prints the table and writes the "stroke-rule" section of docs/benchmarks.md.
"""

import csv
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _doc import model_files, write_section
from epoch_overhead import environment

import digitnet
from digitnet.datasets import fetch_mnist, get_data_home
from digitnet.images import _normalise, read_image
from digitnet.images._ink import ink_map, stroke_width

CURRENT = _normalise.normalise_stroke


def every_stroke(digit, mask, resolved=True):
    """The first rule: every stroke thickened or eroded to the target width."""
    target = _normalise.STROKE_FRACTION * max(digit.shape)
    steps = round((target - stroke_width(mask)) / 2)
    if steps > 0:
        digit = ndimage.grey_dilation(digit, size=(2 * steps + 1, 2 * steps + 1))
    elif steps < 0:
        digit = ndimage.grey_erosion(digit, size=(-2 * steps + 1, -2 * steps + 1))
    return digit


def thin_only(digit, mask, resolved=True):
    """The rule before: only thin strokes widened."""
    return CURRENT(digit, mask, resolved=False)


def features(grays, rule):
    _normalise.normalise_stroke = rule
    try:
        return np.stack(
            [_normalise.to_mnist(*_normalise.digit_crop(ink_map(g))) for g in grays]
        ).reshape(len(grays), -1)
    finally:
        _normalise.normalise_stroke = CURRENT


def main(argv=None):
    models = model_files(__doc__.splitlines()[0], argv)
    started = time.perf_counter()
    X_test, y_test = fetch_mnist(subset="test", return_X_y=True)
    mnist = [np.pad(x.reshape(28, 28) / 255.0, 10) for x in X_test[:1000]]
    folder = get_data_home() / "real_digits"
    with open(folder / "LABELS.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    real = [read_image(folder / r["file"]) for r in rows]
    y_real = np.array([int(r["label"]) for r in rows])
    rules = {
        "every stroke (first rule)": every_stroke,
        "thin strokes only (before)": thin_only,
        "thin and bold strokes (current)": CURRENT,
    }
    inputs = {
        name: (features(mnist, rule), features(real, rule))
        for name, rule in rules.items()
    }
    table = [
        "| model | rule | MNIST test digits, preprocessed | development set |",
        "| --- | --- | --- | --- |",
    ]
    for name, path in models:
        model = digitnet.load(path)
        for rule, (X_m, X_r) in inputs.items():
            acc_m = (model.predict(X_m) == y_test[:1000]).mean()
            right = int((model.predict(X_r) == y_real).sum())
            table.append(f"| {name} | {rule} | {acc_m:.1%} | {right}/{len(y_real)} |")
    table = "\n".join(table)
    print(table)
    names = ", ".join(f"`{name}`" for name, _ in models)
    text = f"""## Stroke-width rule of the photo preprocessing

Produced by `python benchmarks/stroke_rule.py` in {time.perf_counter() - started:.0f} s
on: {environment()}. Models: {names}, safe files given with `--model`
(`fast`: the fast preset fitted on MNIST; `default`: `digitnet train --dataset
mnist`).

The current rule widens strokes thinner than half of MNIST's width and narrows
those over 1.8 times it; the rule before only widened thin strokes, the first
one brought every stroke to that width. The first 1,000 MNIST test
digits (padded by 10 px) and the 147 real development digits go through the
same preprocessing with each rule, side by side.

{table}
"""
    write_section("stroke-rule", text)
    print("wrote the stroke-rule section of docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
