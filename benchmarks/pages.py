"""Reading pages: lines found, whole numbers read, and the time a page takes.

Pages are composed with ``digitnet.datasets.make_pages`` from MNIST's test
digits and from the real development digits (``real_digits/`` in the data
home): 2-5 lines of 1-3 numbers of 2-6 digits, slanted lines, drifting
baselines, digits written high or low, stroke widths varying from page to
page, half of the pages captured like a phone photo (paper texture, a shadow,
JPEG). The model is the default MNIST model (``--model``, or trained here as
``digitnet train --dataset mnist`` makes it).

A digit read matches the true digit whose box holds its box's centre (each
true digit claimed once). A true line is *found* when the digits matched to
it all lie on one line read, and that line holds no digit of another true
line. A number is *read whole* when a number read has exactly its digits,
matched to it, with its text.

Speed: a 12 MP phone photo of a page (4000 x 3000 px, digits about 120 px
tall) and a cropped 5-digit number, each the median of ``--repeats`` runs
of ``read_digits`` from the encoded bytes.

    python benchmarks/pages.py [--model mnist.dnet] [--pages N] [--repeats R]

Prints the tables and writes the "pages" section of docs/benchmarks.md.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _doc import write_section
from epoch_overhead import environment
from reading import default_model, real_digits

import digitnet
from digitnet.datasets import fetch_mnist, make_pages

CONDITIONS = {
    "separated": {"touching": 0.0},
    "touching pairs": {"touching": 0.3},
}
TARGETS = {
    ("MNIST test digits", "separated"): (0.99, 0.97),
    ("MNIST test digits", "touching pairs"): (0.99, 0.93),
    ("real development digits", "separated"): (0.99, 0.90),
}


def _truth(texts, boxes):
    """Flat true digits: ``(line, number, label, box)``."""
    return [
        (li, ni, text[d], box)
        for li, (line_texts, line_boxes) in enumerate(zip(texts, boxes, strict=True))
        for ni, (text, number_boxes) in enumerate(
            zip(line_texts, line_boxes, strict=True)
        )
        for d, box in enumerate(number_boxes)
    ]


def _match(read, truth):
    """For each digit read, the index of the true digit it reads, or -1."""
    out, used = [], set()
    for box in read:
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        holding = [
            k
            for k, (_, _, _, b) in enumerate(truth)
            if b[0] <= cx < b[2] and b[1] <= cy < b[3] and k not in used
        ]
        k = max(
            holding,
            key=lambda k: _overlap(box, truth[k][3]),
            default=-1,
        )
        out.append(k)
        used.add(k)
    return out


def _overlap(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h)


def score_page(reading, texts, boxes):
    """``(lines, lines found, numbers, numbers whole, digits, digits right)``."""
    truth = _truth(texts, boxes)
    read = [
        (li, ni, d)
        for li, line in enumerate(reading.lines)
        for ni, number in enumerate(line.numbers)
        for d in number.digits
    ]
    found = _match([d.box for _, _, d in read], truth)
    lines_of = {}  # true line -> read lines holding its digits
    for (rl, _, _), k in zip(read, found, strict=True):
        if k >= 0:
            lines_of.setdefault(truth[k][0], set()).add(rl)
    read_line_truths = {}
    for true_line, read_lines in lines_of.items():
        for rl in read_lines:
            read_line_truths.setdefault(rl, set()).add(true_line)
    lines_found = sum(
        len(rls) == 1 and len(read_line_truths[next(iter(rls))]) == 1
        for rls in lines_of.values()
    )
    whole = set()
    for li, line in enumerate(reading.lines):
        for ni, number in enumerate(line.numbers):
            ks = [found[i] for i, (a, b, _) in enumerate(read) if (a, b) == (li, ni)]
            owners = {truth[k][:2] if k >= 0 else None for k in ks}
            if len(owners) == 1 and None not in owners:
                tl, tn = owners.pop()
                if number.text == texts[tl][tn]:
                    whole.add((tl, tn))
    right = sum(
        k >= 0 and str(d.label) == truth[k][2]
        for (_, _, d), k in zip(read, found, strict=True)
    )
    n_numbers = sum(len(line) for line in texts)
    return len(texts), lines_found, n_numbers, len(whole), len(truth), right


def run(model, sources, n_pages):
    rows = []
    for source, (images, labels) in sources.items():
        for name, conditions in CONDITIONS.items():
            print(f"pages: {source}, {name}", file=sys.stderr, flush=True)
            pages, texts, boxes = make_pages(
                images, labels, n_pages=n_pages, random_state=0, **conditions
            )
            totals, times = np.zeros(6, dtype=int), []
            for page, page_texts, page_boxes in zip(pages, texts, boxes, strict=True):
                start = time.perf_counter()
                reading = digitnet.read_digits(model, page)
                times.append(time.perf_counter() - start)
                totals += score_page(reading, page_texts, page_boxes)
            rows.append((source, name, totals, 1000 * float(np.median(times))))
    return rows


def _median_time(model, image, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        digitnet.read_digits(model, image)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def speed(model, images, labels, repeats):
    """Median seconds for a 12 MP page photo and for a cropped 5-digit number."""
    photo, _, _ = make_pages(
        images,
        labels,
        n_pages=1,
        n_lines=6,
        height=120,
        size=(4000, 3000),
        photo=1.0,
        random_state=1,
    )
    crop, _, _ = make_pages(
        images,
        labels,
        n_pages=1,
        n_lines=1,
        n_numbers=1,
        n_digits=5,
        height=40,
        photo=1.0,
        random_state=2,
    )
    digitnet.read_digits(model, crop[0])  # loads the piece model once
    return (
        _median_time(model, photo[0], repeats),
        _median_time(model, crop[0], repeats),
    )


def _mark(value, target):
    if target is None:
        return ""
    return f"≥ {target:.0%}: {'met' if value >= target else 'missed'}"


def tables(rows, times):
    table = [
        "| digits from | neighbours | lines found | target | whole numbers | "
        "target | digit accuracy | median ms per page |",
        "|" + " --- |" * 8,
    ]
    for source, name, totals, ms in rows:
        lines, lines_found, numbers, whole, digits, right = totals
        line_target, number_target = TARGETS.get((source, name), (None, None))
        table.append(
            f"| {source} | {name} | {lines_found}/{lines} ({lines_found / lines:.2%}) "
            f"| {_mark(lines_found / lines, line_target)} "
            f"| {whole}/{numbers} ({whole / numbers:.2%}) "
            f"| {_mark(whole / numbers, number_target)} | {right / digits:.2%} "
            f"| {ms:.0f} |"
        )
    page_s, crop_s = times
    timing = [
        "| image | median seconds | target |",
        "| --- | --- | --- |",
        f"| 12 MP phone photo of a page (6 lines) | {page_s:.2f} | "
        f"≤ 1 s: {'met' if page_s <= 1 else 'missed'} |",
        f"| cropped 5-digit number | {crop_s:.3f} | "
        f"≤ 0.2 s: {'met' if crop_s <= 0.2 else 'missed'} |",
    ]
    return "\n".join(table), "\n".join(timing)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="a safe model file")
    parser.add_argument("--pages", type=int, default=100, help="pages per row")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model, origin = default_model(args.model)
    X_test, y_test = fetch_mnist(subset="test", return_X_y=True)
    mnist = (X_test.reshape(-1, 28, 28), y_test)
    sources = {"MNIST test digits": mnist, "real development digits": real_digits()}
    times = speed(model, *mnist, args.repeats)
    rows = run(model, sources, args.pages)
    table, timing = tables(rows, times)
    print(table)
    print(timing)
    text = f"""## Reading pages: lines, numbers, speed

Produced by `python benchmarks/pages.py --pages {args.pages}` in
{time.perf_counter() - started:.0f} s on: {environment()}. Model: {origin}.

{args.pages} pages per row, composed by `digitnet.datasets.make_pages`
(random_state=0; 2-5 lines of 1-3 numbers of 2-6 digits; lines slanted up to
3 degrees, baselines drifting up to 0.1 digit heights, digits up to 0.1
heights high or low, strokes widened by up to 0.06 heights, half of the pages
with paper texture, a shadow and JPEG) from MNIST's test digits or from the
real development digits (each preprocessed to 28x28 first). Touching pairs:
30% of neighbouring digits touch or overlap. A line is found when the digits
matched to it all lie on one line read that holds no other line's digits; a
number is read whole when one number read has exactly its digits, with its
text.

{table}

Time of `read_digits` from the encoded image, median of {args.repeats} runs:

{timing}
"""
    write_section("pages", text)
    print("wrote the pages section of docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
