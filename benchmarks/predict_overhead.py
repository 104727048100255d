"""DigitClassifier.predict against a bare ``module(x)`` loop on the same module.

    python benchmarks/predict_overhead.py [--rounds N]

Fits the default CNN briefly on MNIST (the weights do not matter for speed),
then predicts the 10,000 test images with ``predict`` (validation, scaling,
batching, skorch) and with a bare loop over pre-scaled tensors under
``torch.inference_mode`` at batch sizes 256 and 1024, in alternating rounds;
prints median images/s and the ratios. MNIST comes from the data home
(``DIGITNET_DATA``).
"""

import argparse
import statistics
import time

import numpy as np
import torch

from digitnet import DigitClassifier
from digitnet.datasets import fetch_mnist


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    X_train, y_train = fetch_mnist(subset="train", return_X_y=True)
    X_test, _ = fetch_mnist(subset="test", return_X_y=True)
    clf = DigitClassifier(max_iter=1, random_state=0).fit(
        X_train[:2000], y_train[:2000]
    )
    module = clf.net_.module_.eval()
    mean = float(np.ravel(clf.input_mean_)[0])
    scale = float(np.ravel(clf.input_scale_)[0])
    images = torch.from_numpy(
        ((X_test.astype(np.float32) - mean) / scale).reshape(-1, 1, 28, 28)
    )

    def bare(batch):
        with torch.inference_mode():
            out = torch.cat([module(b).argmax(1) for b in images.split(batch)])
        return clf.classes_[out.numpy()]

    runners = {
        "DigitClassifier.predict": lambda: clf.predict(X_test),
        "bare loop, batch 256": lambda: bare(256),
        "bare loop, batch 1024": lambda: bare(1024),
    }
    if not (runners["DigitClassifier.predict"]() == bare(256)).all():
        raise RuntimeError("predict and the bare loop disagree")
    rates = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            rates[name].append(len(X_test) / (time.perf_counter() - start))
    ours = statistics.median(rates["DigitClassifier.predict"])
    print("| prediction | images/s | predict / this |\n| --- | --- | --- |")
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"| {name} | {rate:,.0f} | {ours / rate:.2f} |")


if __name__ == "__main__":
    main()
