"""Train the piece model that ships with digitnet (``digitnet/_data/piece_model.dnet``).

The piece model tells :func:`digitnet.read_digits` whether a candidate piece
of a line of ink is one whole digit, and which (see ``digitnet/_pieces.py``).
It learns from numbers composed from MNIST's *training* digits, so the
reading benchmark, composed from MNIST's test digits, measures it on digits
it has not seen. Needs MNIST in the data home (``DIGITNET_DATA``) and about
17.5 GB of memory (peak resident size, measured); about 30 minutes on 2 CPU
cores (914,761 pieces).

    python scripts/train_piece_model.py [--numbers 1800] [--output PATH]
"""

import argparse
import time
from pathlib import Path

import numpy as np

from digitnet.datasets import fetch_mnist
from digitnet.reading._pieces import NOT_A_DIGIT, PIECE_MODEL_PATH, make_piece_data


def report(predicted, true):
    """Held-out accuracy: overall, whole digit or not, and digits of whole ones."""
    whole = true != NOT_A_DIGIT
    print("held-out pieces (from MNIST test digits):")
    print(f"  accuracy (digit, or not one digit): {np.mean(predicted == true):.2%}")
    told = np.mean((predicted != NOT_A_DIGIT) == whole)
    print(f"  one whole digit or not: {told:.2%}")
    print(f"  whole digits read right: {np.mean(predicted[whole] == true[whole]):.2%}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1800, help="per condition")
    parser.add_argument("--output", type=Path, default=PIECE_MODEL_PATH)
    args = parser.parse_args(argv)
    from digitnet.reading._pieces import fit_piece_model

    X, y = fetch_mnist(subset="train", return_X_y=True)
    started = time.perf_counter()
    print(f"composing {2 * args.numbers} numbers from MNIST's training digits")
    X_pieces, y_pieces = make_piece_data(
        X.reshape(-1, 28, 28), y, n_numbers=args.numbers
    )
    print(
        f"{len(y_pieces)} candidate pieces, "
        f"{np.mean(y_pieces != NOT_A_DIGIT):.1%} whole digits, "
        f"{time.perf_counter() - started:.0f} s"
    )
    model = fit_piece_model(X_pieces, y_pieces, verbose=1)
    X_test, y_test = fetch_mnist(subset="test", return_X_y=True)
    X_held, y_held = make_piece_data(
        X_test.reshape(-1, 28, 28), y_test, n_numbers=200, random_state=7
    )
    report(model.predict(X_held), y_held)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.output)
    print(f"saved {args.output} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
