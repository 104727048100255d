"""The part of ``fit`` outside its epochs, for this and another checkout.

One process per checkout and round (alternating order); each warms up, then
fits ``DigitClassifier(architecture="cnn", max_iter=1, batch_size=128)`` on
sklearn's digits (7 times) and on the first 20,000 MNIST images (twice) and
records wall time minus the epoch's own duration (``history_[0]["dur"]``):
set-up (validation, scaling, tensors, net, callbacks) and end-of-epoch work.

    python benchmarks/fit_overhead_versions.py OTHER_CHECKOUT [--rounds N]

Make ``OTHER_CHECKOUT`` with e.g. ``git worktree add ../old COMMIT``.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from digitnet import DigitClassifier
from digitnet.datasets import fetch_mnist, load_digits
Xm, ym = fetch_mnist(subset="train", return_X_y=True)
Xd, yd = load_digits(return_X_y=True)
DigitClassifier(max_iter=1).fit(Xd, yd)  # warm-up
out = {}
cases = [("digits", Xd, yd, 7), ("MNIST 20k", Xm[:20000], ym[:20000], 2)]
for name, X, y, reps in cases:
    rows = []
    for seed in range(reps):
        start = time.perf_counter()
        clf = DigitClassifier(architecture="cnn", max_iter=1, batch_size=128,
                              random_state=seed).fit(X, y)
        wall = time.perf_counter() - start
        rows.append([wall, wall - sum(h["dur"] for h in clf.history_)])
    out[name] = rows
print(json.dumps(out))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    versions = {"this checkout": ROOT, f"{args.other}": args.other.resolve()}
    results = {}
    for r in range(args.rounds):
        for version in list(versions) if r % 2 == 0 else list(versions)[::-1]:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(versions[version])],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for data, rows in json.loads(out.strip().splitlines()[-1]).items():
                results.setdefault((version, data), []).extend(rows)
            print(f"  round {r + 1}: {version} done", file=sys.stderr, flush=True)
    print("| code | data | fit (s) | outside the epoch (ms) | fits |")
    print("| --- | --- | --- | --- | --- |")
    for (version, data), rows in results.items():
        wall = statistics.median(w for w, _ in rows)
        outside = statistics.median(o for _, o in rows) * 1000
        print(f"| {version} | {data} | {wall:.3f} | {outside:.0f} | {len(rows)} |")


if __name__ == "__main__":
    main()
