"""The image wing: from a capture of one digit to a model's input row.

Data flows one way through one module per concept:

* :mod:`._decode` -- files, bytes, PIL images and arrays to a small
  grayscale array, at bounded cost;
* :mod:`._ink` -- the ink map: polarity, background, noise, and the one
  decision whether an image holds ink at all;
* :mod:`._normalise` -- the digit's ink picked out and cropped, its strokes
  and size brought to MNIST's;
* :mod:`._preprocess` -- :func:`preprocess_image`, the three in a row.

Reading lines and pages (:mod:`digitnet.reading`) builds on the first two.
"""

from ._decode import MAX_SIDE, load_gray, read_image
from ._preprocess import image_to_features, preprocess_image

__all__ = [
    "MAX_SIDE",
    "image_to_features",
    "load_gray",
    "preprocess_image",
    "read_image",
]
