"""Speed and accuracy of DigitClassifier against what users would otherwise use.

    python benchmarks/run.py            # everything (about 40 minutes on 2 cores)
    python benchmarks/run.py --quick    # a smoke run: small data, few epochs

MNIST comes from the data home (``DIGITNET_DATA``). Each MNIST configuration
runs in its own process, so its peak memory (RSS) is its own; the one-time
import cost of PyTorch's compiler stack is paid before timing starts, as in a
long-lived process. Prints tables and writes docs/benchmarks.md.
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _baselines import PlainLoop, VanillaSkorch
from _doc import write_section
from epoch_overhead import environment, measure, whole_fit_table
from memory_format import layout_table

from digitnet import PRESETS, DigitClassifier
from digitnet.datasets import fetch_mnist, load_digits

ROOT = Path(__file__).resolve().parents[1]


def _scaled(X):
    return np.asarray(X, dtype=np.float64) / 255.0


MNIST_CONFIGS = {
    "DigitClassifier defaults": lambda s, q: DigitClassifier(
        random_state=s, **({"max_iter": 1} if q else {})
    ),
    "DigitClassifier fast preset": lambda s, q: DigitClassifier(
        **PRESETS["fast"], random_state=s
    ),
    "DigitClassifier augment=True (accurate preset)": lambda s, q: DigitClassifier(
        **{**PRESETS["accurate"], **({"max_iter": 1} if q else {})}, random_state=s
    ),
    "plain PyTorch loop, same CNN, 2 epochs": lambda s, q: PlainLoop(seed=s),
    "vanilla skorch, same CNN, 2 epochs": lambda s, q: VanillaSkorch(seed=s),
    "MLPClassifier(100), max_iter=20, pixels/255": lambda s, q: make_pipeline(
        FunctionTransformer(_scaled),
        MLPClassifier(max_iter=5 if q else 20, random_state=s),
    ),
}
#: Configurations cheap enough to repeat; the others run once.
REPEATED = {"DigitClassifier fast preset"}


def warm_up():
    """Pay PyTorch's one-time costs up front, as a long-lived process has.

    The first optimizer a process builds imports PyTorch's compiler stack
    (~3 s); on a GPU, the first CUDA call creates the context and the first
    convolution loads cuDNN. Without this the first model timed in a process
    would carry them.
    """
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    if torch.cuda.is_available():
        conv = torch.nn.Conv2d(1, 2, 3).cuda()
        conv(torch.zeros(2, 1, 8, 8, device="cuda")).sum().backward()
        torch.cuda.synchronize()


def run_one(name, seed, quick, configs=MNIST_CONFIGS, measure=None):
    """Fit and score one MNIST configuration of ``configs``; print a JSON line.

    ``measure(model, X_test, y_test)``, when given, returns more figures (a
    dict) for the line.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)
    warm_up()
    X_train, y_train = fetch_mnist(subset="train", return_X_y=True)
    X_test, y_test = fetch_mnist(subset="test", return_X_y=True)
    if quick:
        X_train, y_train = X_train[:6000], y_train[:6000]
    model = configs[name](seed, quick)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        pred = model.predict(X_test)
        timings.append(time.perf_counter() - start)
    result = {
        "accuracy": float(np.mean(pred == y_test)),
        "fit_seconds": fit_seconds,
        "predict_per_second": len(X_test) / statistics.median(timings),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if measure is not None:
        result.update(measure(model, X_test, y_test))
    print(json.dumps(result))


def fit_in_fresh_process(script, name, seed, quick=False):
    """``script --run-one name --seed seed``'s JSON result (see :func:`run_one`)."""
    print(f"MNIST: {name} (seed {seed})", file=sys.stderr, flush=True)
    out = subprocess.run(
        [sys.executable, str(script), "--run-one", name, "--seed", str(seed)]
        + (["--quick"] if quick else []),
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  {result}", file=sys.stderr, flush=True)
    return result


def mnist_table(quick):
    rows = []
    for name in MNIST_CONFIGS:
        seeds = [0, 1, 2] if name in REPEATED else [0]
        runs = [fit_in_fresh_process(__file__, name, seed, quick) for seed in seeds]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        rows.append((name, len(runs), med))
    lines = [
        "| configuration | runs | test accuracy | fit (s) | predict (images/s) | "
        "peak RSS (MB) |",
        "|" + " --- |" * 6,
    ]
    for name, n, m in rows:
        lines.append(
            f"| {name} | {n} | {m['accuracy']:.4f} | {m['fit_seconds']:.1f} | "
            f"{m['predict_per_second']:,.0f} | {m['peak_rss_mb']:,.0f} |"
        )
    return "\n".join(lines), rows


def digits_table(quick):
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float64)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    best = {"augment": True, "max_iter": 20}
    models = {
        "DigitClassifier defaults": DigitClassifier(random_state=0),
        f"DigitClassifier {best}": DigitClassifier(random_state=0, **best),
        "SVC(gamma=0.001)": SVC(gamma=0.001),
        "StandardScaler + MLPClassifier(max_iter=500)": make_pipeline(
            StandardScaler(), MLPClassifier(max_iter=500, random_state=0)
        ),
        "vanilla skorch, same CNN, 10 epochs": VanillaSkorch(epochs=10),
    }
    if quick:
        models = dict(list(models.items())[:3])
    lines = [
        "| model | accuracy (mean ± std) | total wall time (s) |",
        "| --- | --- | --- |",
    ]
    for name, model in models.items():
        print(f"digits CV: {name}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        scores = cross_val_score(model, X, y, cv=cv)
        seconds = time.perf_counter() - start
        lines.append(
            f"| {name} | {scores.mean():.4f} ± {scores.std():.4f} | {seconds:.1f} |"
        )
    return "\n".join(lines)


def ratio_table(quick):
    X_digits, y_digits = load_digits(return_X_y=True)
    X_mnist, y_mnist = fetch_mnist(subset="train", return_X_y=True)
    n = 3000 if quick else 12000
    lines = [
        "| data | plain loop (s/epoch) | DigitClassifier (s/epoch) | vanilla skorch "
        "(s/epoch) | ours / plain | vanilla skorch / ours |",
        "|" + " --- |" * 6,
    ]
    for label, X, y, epochs in [
        ("digits (1,797 x 8x8)", X_digits.astype(np.float64), y_digits, 5),
        (
            f"MNIST-sized ({n:,} x 28x28)",
            X_mnist[:n].astype(np.float64),
            y_mnist[:n],
            2,
        ),
    ]:
        print(f"epoch ratios: {label}", file=sys.stderr, flush=True)
        t = measure(X, y, epochs, rounds=1 if quick else 3)
        plain, ours, vanilla = (
            t["plain loop"],
            t["DigitClassifier"],
            t["vanilla skorch"],
        )
        lines.append(
            f"| {label} | {plain:.3f} | {ours:.3f} | {vanilla:.3f} | "
            f"{ours / plain:.2f} | {vanilla / ours:.2f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, few epochs")
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    if args.run_one:
        run_one(args.run_one, args.seed, args.quick)
        return
    started = time.perf_counter()
    warm_up()
    digits = digits_table(args.quick)
    print(digits)
    mnist, _ = mnist_table(args.quick)
    print(mnist)
    ratios = ratio_table(args.quick)
    print(ratios)
    X_mnist, y_mnist = fetch_mnist(subset="train", return_X_y=True)
    n_whole = 3000 if args.quick else 20000
    whole = whole_fit_table(
        X_mnist[:n_whole], y_mnist[:n_whole], 1 if args.quick else 3
    )
    print(whole)
    print("memory layout", file=sys.stderr, flush=True)
    layouts = layout_table(rounds=1 if args.quick else 5)
    print(layouts)
    command = "python benchmarks/run.py" + (" --quick" if args.quick else "")
    text = f"""# Benchmarks

Produced by `{command}` in {time.perf_counter() - started:.0f} s on:
{environment()}.

The machine is shared and noisy: compare figures within one table, not across
runs. Wall times include everything `fit` does (validation, scaling, tensors).

## sklearn digits, 5-fold stratified CV (shuffled, random_state=0)

{digits}

## MNIST: 60,000 training and 10,000 test images

Each configuration runs in a fresh process; "runs" are seeds (the median is
shown). Predict throughput is the median of 3 passes over the test set.

{mnist}

## Epoch time, side by side

The same CNN, batch 128, Adam at a constant learning rate, no validation;
alternating rounds, median over rounds of the mean epoch time (warm-up epoch
excluded). MNIST-sized rows use the first images of MNIST's training set.

{ratios}

## A whole fit call vs a bare epoch

A one-epoch `fit` (default one-cycle schedule, batch 128, no validation) timed
end to end, against the bare training epoch of the plain loop (constant rate):
the fixed cost of `fit` (validation, scaling, tensors, net, callbacks,
per-batch bookkeeping) that every grid-search candidate pays. Alternating
rounds (the order alternates too), median of the per-round ratios; the last
column is the part of `fit` outside its epoch (set-up and end-of-epoch work).

{whole}

## Memory layout of the convolutional modules

One training step (batch 128, Adam) and prediction throughput (batches of 256,
inference mode) of digitnet's modules in the NCHW and channels-last layouts,
alternating rounds, medians; the modules default to channels-last.

{layouts}
"""
    write_section("training", text, args.output)
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
