"""Channels-last (NHWC) against NCHW memory layout for digitnet's conv modules.

    python benchmarks/memory_format.py [--rounds N]

For each module and image size: the time of one training step (batch 128,
Adam, cross-entropy) and prediction throughput (batches of 256 under
``torch.inference_mode``), both layouts measured in alternating rounds so that
machine noise hits them alike; medians over rounds. Motivates the
``channels_last=True`` default of :class:`digitnet.CNN` and
:class:`digitnet.LeNet5`.
"""

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from digitnet import CNN, LeNet5

STEPS = 30
PREDICT_IMAGES = 4096


def _train_step_ms(module, x, y):
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(module(x), y).backward()
        opt.step()

    for _ in range(3):  # warm-up: oneDNN primitive creation, allocator
        step()
    start = time.perf_counter()
    for _ in range(STEPS):
        step()
    return (time.perf_counter() - start) / STEPS * 1e3


def _predict_rate(module, x):
    module.eval()
    with torch.inference_mode():
        module(x[:256])
        start = time.perf_counter()
        for batch in x.split(256):
            module(batch)
    module.train()
    return len(x) / (time.perf_counter() - start)


def layout_table(rounds=5):
    """Markdown table of both layouts for each built-in conv module."""
    lines = [
        "| module | images | layout | train step (ms) | predict (images/s) "
        "| speed-up train / predict |",
        "|" + " --- |" * 6,
    ]
    for cls, side in [(CNN, 28), (CNN, 8), (LeNet5, 28)]:
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(128, 1, side, side, generator=gen)
        y = torch.randint(0, 10, (128,), generator=gen)
        xp = torch.randn(PREDICT_IMAGES, 1, side, side, generator=gen)
        results = {True: ([], []), False: ([], [])}
        for _ in range(rounds):
            for layout in (False, True):
                torch.manual_seed(0)
                module = cls((1, side, side), 10, channels_last=layout)
                results[layout][0].append(_train_step_ms(module, x, y))
                results[layout][1].append(_predict_rate(module, xp))
        med = {k: [statistics.median(v) for v in r] for k, r in results.items()}
        for layout, name in ((False, "NCHW"), (True, "channels-last")):
            step, rate = med[layout]
            ratio = ""
            if layout:
                ratio = f"{med[False][0] / step:.2f}x / {rate / med[False][1]:.2f}x"
            lines.append(
                f"| {cls.__name__} | {side}x{side} | {name} | {step:.1f} "
                f"| {rate:,.0f} | {ratio} |"
            )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print(layout_table(args.rounds))


if __name__ == "__main__":
    main()
