"""
Read a handwritten number
=========================

Compose a handwritten number from MNIST test digits (dark ink on paper with a
ruled line), read it with :func:`digitnet.read_digits`, and draw what was
read: each digit's box, label and probability, uncertain digits in red, as
``digitnet read --debug-dir`` does.
"""

# %%
import matplotlib.patches as patches
import matplotlib.pyplot as plt

import digitnet
from digitnet.datasets import fetch_mnist, make_numbers

train = fetch_mnist(subset="train")
test = fetch_mnist(subset="test")
model = digitnet.DigitClassifier(**digitnet.PRESETS["fast"], random_state=0)
model.fit(train.data, train.target)

numbers, texts, _ = make_numbers(
    test.data.reshape(-1, 28, 28),
    test.target,
    n_numbers=3,
    n_digits=6,
    gap=(-0.03, 0.3),
    invert=True,
    ruled_line=True,
    noise=0.03,
    random_state=4,
)

# %%
fig, axes = plt.subplots(len(numbers), 1, figsize=(8, 2.2 * len(numbers)))
for ax, number, truth in zip(axes, numbers, texts, strict=True):
    reading = digitnet.read_digits(model, number, min_confidence=0.9)
    ax.imshow(number, cmap="gray", vmin=0, vmax=255)
    for digit in reading.digits:
        left, top, right, bottom = digit.box
        colour = "red" if digit.flagged else "green"
        ax.add_patch(
            patches.Rectangle(
                (left, top), right - left, bottom - top, fill=False, color=colour
            )
        )
        ax.text(left, top - 2, f"{digit.label} {digit.probability:.2f}", color=colour)
    ax.set_title(f"true {truth}, read {reading.text}, shown as {reading.marked()}")
    ax.axis("off")
fig.tight_layout()
plt.show()
