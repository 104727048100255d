"""Inference throughput of the default CNN against batch size (CPU).

    python benchmarks/predict_batch_size.py

Motivates digitnet's CPU inference batches of 256 rows: a plain ``module(x)``
loop under ``torch.inference_mode`` over 10,000 28x28 images, median of 3
passes per batch size.
"""

import statistics
import time

import torch

from digitnet import CNN


def main():
    torch.manual_seed(0)
    module = CNN((1, 28, 28), 10).eval()
    x = torch.randn(10000, 1, 28, 28)
    print("| batch size | images/s |\n| --- | --- |")
    for batch in [64, 128, 256, 512, 1024, 4096]:
        with torch.inference_mode():
            [module(b) for b in x.split(batch)]  # warm-up
            times = []
            for _ in range(3):
                start = time.perf_counter()
                [module(b) for b in x.split(batch)]
                times.append(time.perf_counter() - start)
        print(f"| {batch} | {len(x) / statistics.median(times):,.0f} |")


if __name__ == "__main__":
    main()
