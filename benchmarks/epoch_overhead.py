"""Epoch time of DigitClassifier vs a plain PyTorch loop vs vanilla skorch.

Same module (digitnet's CNN), same data, batch size 128, Adam at a constant
learning rate, no validation. The three are run in alternating rounds so that
machine noise hits them alike; each figure is the median over rounds of the
mean epoch time (the first epoch of each run, a warm-up, is left out).

    python benchmarks/epoch_overhead.py [--quick] [--rounds N]

Also times a whole one-epoch ``fit`` call (20,000 MNIST images, batch 128, no
validation) against the bare epoch of the plain loop: the fixed cost of
``fit``. Prints tables; ``benchmarks/run.py`` uses them for docs/benchmarks.md.
"""

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
import skorch
import torch
from _baselines import PlainLoop, VanillaSkorch

import digitnet
from digitnet import DigitClassifier
from digitnet.datasets import fetch_mnist, load_digits

BATCH = 128
LR = 1e-3
#: All three loops train where DigitClassifier's device="auto" would.
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def plain_loop(X, y, epochs, seed):
    """The reference: a hand-written loop over pre-made tensors."""
    loop = PlainLoop(epochs, LR, BATCH, seed, DEVICE, schedule="constant")
    return loop.fit(X, y).epoch_times_


def ours(X, y, epochs, seed):
    clf = DigitClassifier(
        architecture="cnn",
        augment=False,  # the baselines do not augment
        batch_size=BATCH,
        learning_rate="constant",
        learning_rate_init=LR,
        max_iter=epochs,
        random_state=seed,
        tol=0.0,
        n_iter_no_change=epochs,
    )
    clf.fit(X, y)
    return [h["dur"] for h in clf.history_]


def vanilla_skorch(X, y, epochs, seed):
    net = VanillaSkorch(epochs, LR, BATCH, seed, DEVICE, schedule="constant")
    return net.fit(X, y).epoch_times_


def whole_fit(X, y, rounds):
    """A whole one-epoch ``fit`` call vs the bare epoch of a plain loop.

    The fixed cost every GridSearchCV candidate pays: validation, scaling,
    tensors, the net and its callbacks, per-batch bookkeeping. Alternating
    rounds; medians. Returns ``(plain epoch s, ours fit s, ratio, outside s)``,
    where ``outside`` is the part of ``fit`` outside its epoch (set-up, the
    end-of-epoch callbacks, reporting).
    """
    plain, whole, outside = [], [], []

    def fit_once(seed):
        start = time.perf_counter()
        clf = DigitClassifier(
            architecture="cnn",
            augment=False,
            batch_size=BATCH,
            max_iter=1,
            random_state=seed,
        ).fit(X, y)
        seconds = time.perf_counter() - start
        outside.append(seconds - sum(h["dur"] for h in clf.history_))
        return seconds

    for r in range(rounds):
        if r % 2:  # alternate which runs first
            whole.append(fit_once(r))
            plain.append(plain_loop(X, y, 1, seed=r)[0])
        else:
            plain.append(plain_loop(X, y, 1, seed=r)[0])
            whole.append(fit_once(r))
        print(
            f"  round {r + 1}/{rounds} plain epoch {plain[-1]:.2f} s, "
            f"DigitClassifier.fit {whole[-1]:.2f} s",
            file=sys.stderr,
            flush=True,
        )
    ratios = [w / p for w, p in zip(whole, plain, strict=True)]
    return (
        statistics.median(plain),
        statistics.median(whole),
        statistics.median(ratios),
        statistics.median(outside),
    )


def whole_fit_table(X, y, rounds):
    """Markdown table of :func:`whole_fit` on ``X, y``."""
    plain, whole, ratio, outside = whole_fit(X, y, rounds)
    return (
        "| data | plain loop, one epoch (s) | DigitClassifier.fit, one epoch (s) "
        "| fit / plain epoch | fit outside its epoch (ms) |\n"
        "| --- | --- | --- | --- | --- |\n"
        f"| MNIST ({len(y):,} x 28x28) | {plain:.2f} | {whole:.2f} | {ratio:.3f} "
        f"| {outside * 1000:.0f} |"
    )


def measure(X, y, epochs, rounds):
    runners = {
        "plain loop": plain_loop,
        "DigitClassifier": ours,
        "vanilla skorch": vanilla_skorch,
    }
    per_round = {name: [] for name in runners}
    for r in range(rounds):
        for name, run in runners.items():
            times = run(X, y, epochs + 1, seed=r)[1:]  # drop the warm-up epoch
            per_round[name].append(float(np.mean(times)))
            print(
                f"  round {r + 1}/{rounds} {name:16s} "
                f"{per_round[name][-1]:.3f} s/epoch",
                file=sys.stderr,
                flush=True,
            )
    return {name: statistics.median(v) for name, v in per_round.items()}


def _driver():
    """The NVIDIA driver's version, as nvidia-smi reports it (or "unknown")."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"


def environment():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = ""
    if torch.cuda.is_available():
        gpu = (
            f"GPU: {torch.cuda.get_device_name()} (driver {_driver()}, CUDA "
            f"{torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}); "
        )
    return (
        f"{gpu}CPU: {cpu}; torch threads: {torch.get_num_threads()}; Python "
        f"{platform.python_version()}; torch {torch.__version__}; skorch "
        f"{skorch.__version__}; scikit-learn {sklearn.__version__}; digitnet "
        f"{digitnet.__version__}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="12,000 MNIST images, fewer epochs"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None, help="also write here")
    args = parser.parse_args(argv)

    X_digits, y_digits = load_digits(return_X_y=True)
    X_mnist, y_mnist = fetch_mnist(subset="train", return_X_y=True)
    n_mnist = 12000 if args.quick else len(y_mnist)
    cases = [
        (
            "digits (1,797 x 8x8)",
            X_digits.astype(np.float64),
            y_digits,
            5 if args.quick else 10,
        ),
        (
            f"MNIST ({n_mnist:,} x 28x28)",
            X_mnist[:n_mnist].astype(np.float64),
            y_mnist[:n_mnist],
            2,
        ),
    ]
    rows = []
    for label, X, y, epochs in cases:
        print(
            f"{label}: {args.rounds} rounds of {epochs} timed epochs", file=sys.stderr
        )
        t = measure(X, y, epochs, args.rounds)
        rows.append((label, t["plain loop"], t["DigitClassifier"], t["vanilla skorch"]))

    header = (
        "| data | plain loop (s/epoch) | DigitClassifier (s/epoch) | vanilla skorch "
        "(s/epoch) | ours / plain | vanilla skorch / ours |"
    )
    lines = [header, "|" + " --- |" * 6]
    for label, plain, our, vanilla in rows:
        lines.append(
            f"| {label} | {plain:.3f} | {our:.3f} | {vanilla:.3f} | "
            f"{our / plain:.2f} | {vanilla / our:.2f} |"
        )
    table = "\n".join(lines)
    print(table)
    print("whole fit: one epoch on 20,000 MNIST images", file=sys.stderr)
    whole = whole_fit_table(X_mnist[:20000], y_mnist[:20000], args.rounds)
    print(whole)
    command = "python benchmarks/epoch_overhead.py" + (" --quick" if args.quick else "")
    text = (
        "# Benchmarks\n\n"
        "## Epoch overhead: DigitClassifier vs a plain loop vs vanilla skorch\n\n"
        f"`{command}` (rounds: {args.rounds}; median over rounds of the mean epoch "
        "time, warm-up epoch excluded; same CNN, batch 128, Adam, constant learning "
        "rate, no validation).\n\n"
        f"{table}\n\n## A whole fit call vs a bare epoch\n\n{whole}\n\n"
        f"{environment()}\n"
    )
    if args.output:
        args.output.write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
