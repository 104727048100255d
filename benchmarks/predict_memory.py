"""Peak memory of prediction on the MNIST test set, for a saved model.

    digitnet train --dataset mnist --output mnist.joblib
    python benchmarks/predict_memory.py mnist.joblib

Loads the model and the 10,000 test images, predicts once to warm up, then
reports the peak RSS before and after predicting all of them: prediction is
batched, so the increase stays small whatever the number of images.
"""

import resource
import sys
import warnings

import joblib

from digitnet.datasets import fetch_mnist


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(path):
    X, y = fetch_mnist(subset="test", return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # models pickled by other versions
        model = joblib.load(path)
    model.predict(X[:256])
    before = peak_mb()
    accuracy = (model.predict(X) == y).mean()
    after = peak_mb()
    print(
        f"accuracy {accuracy:.4f}; peak RSS {before:.0f} MB before predicting "
        f"10,000 images, {after:.0f} MB after (+{after - before:.0f} MB)"
    )


if __name__ == "__main__":
    main(sys.argv[1])
