"""Reading whole numbers: digit- and number-level accuracy of ``read_digits``.

Numbers are composed with ``digitnet.datasets.make_numbers`` from MNIST's
test digits (5 digits each: the issue's targets) and from the real
development digits (``real_digits/`` in the data home, 2-10 digits each),
with gaps, touching neighbours, and mixed conditions (baseline jitter, scale
differences, both polarities, noise, a ruled line). The model is the default
MNIST model, as ``digitnet train --dataset mnist`` makes it (trained here
unless ``--model`` names one).

A digit read is right when its box's centre lies in the box of a true digit
with its label (each true digit claimed once); digit accuracy is the share of
true digits read right. The review table sets ``min_confidence``
to the 5th percentile of the read digits' probabilities (so that at most 5%
are flagged) and reports the accuracy of the digits left unflagged.

    python benchmarks/reading.py [--model mnist.dnet] [--numbers N]

Prints the tables and writes the "reading" section of docs/benchmarks.md.
"""

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _doc import write_section
from epoch_overhead import environment

import digitnet
from digitnet.datasets import fetch_mnist, get_data_home, make_numbers

CONDITIONS = {
    "gaps": {"gap": (0.1, 0.4)},
    "touching": {"gap": (-0.08, 0.0)},
    "mixed": {
        "gap": (-0.05, 0.4),
        "jitter": 0.1,
        "scale": (0.8, 1.2),
        "invert": 0.5,
        "noise": 0.05,
        "ruled_line": 0.5,
    },
}


def default_model(path):
    if path is not None:
        return digitnet.load(path), f"`{path.name}`, given with `--model`"
    folder = Path(tempfile.mkdtemp())
    print("training the default MNIST model (digitnet train)", file=sys.stderr)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "digitnet",
            "train",
            "--dataset",
            "mnist",
            "--quiet",
            "--output",
            str(folder / "mnist.dnet"),
            "--report-dir",
            "",
        ],
        check=True,
    )
    return digitnet.load(folder / "mnist.dnet"), "`digitnet train --dataset mnist`"


def real_digits():
    folder = get_data_home() / "real_digits"
    with open(folder / "LABELS.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    images = [
        digitnet.preprocess_image(folder / r["file"]).reshape(28, 28) for r in rows
    ]
    return np.stack(images), np.array([int(r["label"]) for r in rows])


def matches(read_boxes, true_boxes):
    """For each read box, the index of the true box it reads, or -1.

    A read box reads the true box that holds its centre (the one it overlaps
    most, if two do) and that no read box before it reads already.
    """
    out, used = [], set()
    for left, _, right, _ in read_boxes:
        centre = (left + right) / 2
        holding = [k for k, box in enumerate(true_boxes) if box[0] <= centre < box[2]]
        k = max(
            holding,
            key=lambda k: min(right, true_boxes[k][2]) - max(left, true_boxes[k][0]),
            default=-1,
        )
        out.append(-1 if k in used else k)
        used.add(k)
    return out


def read_all(model, numbers, texts, boxes):
    """Per number: (text read, truth, [(probability, right) per digit read])."""
    out = []
    start = time.perf_counter()
    for number, text, true_boxes in zip(numbers, texts, boxes, strict=True):
        reading = digitnet.read_digits(model, number)
        found = matches([d.box for d in reading.digits], true_boxes)
        digits = [
            (d.probability, k >= 0 and str(d.label) == text[k])
            for d, k in zip(reading.digits, found, strict=True)
        ]
        out.append((reading.text, text, digits))
    return out, (time.perf_counter() - start) / len(numbers) * 1000


def scores(results):
    """Digit accuracy (true digits read right) and whole-number accuracy."""
    whole = np.mean([read == truth for read, truth, _ in results])
    right = sum(ok for _, _, digits in results for _, ok in digits)
    return right / sum(len(t) for _, t, _ in results), whole


def review(results, share=0.05):
    """Threshold flagging ``share`` of the digits, flagged share, unflagged acc."""
    digits = [digit for _, _, number in results for digit in number]
    p = np.array([prob for prob, _ in digits])
    threshold = float(np.quantile(p, share))
    kept = [ok for prob, ok in digits if prob >= threshold]
    return threshold, 1 - len(kept) / len(p), np.mean(kept) if kept else 0.0


def run(model, sources, n_numbers):
    rows, reviews = [], []
    for source, (images, labels, n_digits) in sources.items():
        for name, conditions in CONDITIONS.items():
            print(f"reading: {source}, {name}", file=sys.stderr, flush=True)
            numbers, texts, boxes = make_numbers(
                images,
                labels,
                n_numbers=n_numbers,
                n_digits=n_digits,
                random_state=0,
                **conditions,
            )
            results, ms = read_all(model, numbers, texts, boxes)
            digit_acc, whole = scores(results)
            rows.append((source, name, n_digits, digit_acc, whole, ms))
            reviews.append((source, name, *review(results)))
    return rows, reviews


TARGETS = {
    ("MNIST test digits", "gaps"): 0.95,
    ("MNIST test digits", "touching"): 0.90,
}


def tables(rows, reviews):
    main = [
        "| digits from | neighbours | digits per number | digit accuracy | "
        "whole-number accuracy | target | ms per image |",
        "|" + " --- |" * 7,
    ]
    for source, name, n_digits, digit_acc, whole, ms in rows:
        target = TARGETS.get((source, name))
        mark = (
            f"≥ {target:.0%}: {'met' if whole >= target else 'missed'}"
            if target
            else ""
        )
        count = (
            n_digits if isinstance(n_digits, int) else f"{n_digits[0]}-{n_digits[1]}"
        )
        main.append(
            f"| {source} | {name} | {count} | {digit_acc:.2%} | {whole:.2%} | "
            f"{mark} | {ms:.0f} |"
        )
    flags = [
        "| digits from | neighbours | min_confidence | digits flagged | "
        "unflagged digits correct | target (≥ 99.5%) |",
        "|" + " --- |" * 6,
    ]
    for source, name, threshold, share, accuracy in reviews:
        mark = (
            ("met" if accuracy >= 0.995 else "missed")
            if source == "MNIST test digits" and name == "gaps"
            else ""
        )
        flags.append(
            f"| {source} | {name} | {threshold:.3f} | {share:.1%} | {accuracy:.2%} | "
            f"{mark} |"
        )
    return "\n".join(main), "\n".join(flags)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="a safe model file")
    parser.add_argument("--numbers", type=int, default=200, help="numbers per row")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model, origin = default_model(args.model)
    X_test, y_test = fetch_mnist(subset="test", return_X_y=True)
    sources = {
        "MNIST test digits": (X_test.reshape(-1, 28, 28), y_test, 5),
        "real development digits": (*real_digits(), (2, 10)),
    }
    rows, reviews = run(model, sources, args.numbers)
    main_table, flag_table = tables(rows, reviews)
    print(main_table)
    print(flag_table)
    text = f"""## Reading numbers: `digitnet read`

Produced by `python benchmarks/reading.py` in {time.perf_counter() - started:.0f} s
on: {environment()}. Model: {origin}.

{args.numbers} numbers per row, composed by `digitnet.datasets.make_numbers`
(random_state=0) from MNIST's test digits (5 digits each) or from the real
development digits (2-10 each, each preprocessed to 28x28 first). Gaps: 0.1-0.4
digit heights; touching: -0.08-0 (neighbours touch or overlap); mixed: gaps of
-0.05-0.4, baseline jitter of 0.1, heights x0.8-1.2, half of them dark on
light, noise, half with a ruled line. A digit read is right when its box's
centre lies in the box of a true digit with its label, and no digit read
before it claimed that true digit; digit accuracy is the share of true digits
read right.

{main_table}

With `min_confidence` at the 5th percentile of the read digits' probabilities
(at most 5% flagged for review):

{flag_table}
"""
    write_section("reading", text)
    print("wrote the reading section of docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
