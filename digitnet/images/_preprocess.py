"""``preprocess_image``: decode, find the ink, normalise -- one digit's model input."""

from ._decode import load_gray
from ._ink import ink_map
from ._normalise import check_shape, crop_to_features, digit_crop


def image_to_features(gray, input_shape):
    """Flat feature vector for a model whose samples have ``input_shape``."""
    return crop_to_features(*digit_crop(ink_map(gray)), input_shape)


def preprocess_image(image, input_shape=(1, 28, 28)):
    """Turn a photo, scan or drawing of one digit into a model's input row.

    The same preprocessing as ``digitnet predict``, ``digitnet serve`` and
    each digit of :func:`read_digits`: decoded small (EXIF orientation
    applied; big files reduced while they are decoded), either polarity made
    bright ink on a dark background, uneven light, shadows, paper grain and
    salt-and-pepper noise removed, printed lines, specks and slices of
    neighbouring digits at the border set aside, strokes far from MNIST's
    width brought towards it, then the digit scaled into a 20x20 box centred
    by its centre of mass in 28x28, as MNIST was made (for 8x8 models: 0-16
    block sums, as sklearn's digits were made). Transparent canvas exports
    and 16-bit scans are handled.

    Parameters
    ----------
    image : str, os.PathLike, bytes, file object, PIL.Image.Image or ndarray
        An image file (path, its bytes or an open binary file), a PIL image, a
        2-D grayscale array (0-1 floats or 0-255 / 0-65535 integers) or an
        ``(height, width, 3 or 4)`` colour array.
    input_shape : tuple of int or fitted model, default=(1, 28, 28)
        ``(1, side, side)`` of the model's samples, or the model itself (its
        ``input_shape_`` is used).

    Returns
    -------
    features : ndarray of shape (side * side,)
        One row for ``model.predict``: 0-255 for MNIST-sized inputs, 0-16 for
        8x8 ones.

    Raises
    ------
    digitnet.exceptions.BlankImageError
        If the image holds no visible ink (a ``ValueError``).
    ValueError
        If the image cannot be read as an image, or the model does not take
        square grayscale images.

    See Also
    --------
    digitnet.datasets.make_captures : Digits rendered under the capture
        conditions this preprocessing is measured on (``docs/benchmarks.md``).

    Examples
    --------
    >>> import numpy as np
    >>> import digitnet
    >>> canvas = np.zeros((200, 200))
    >>> canvas[40:160, 95:105] = 1.0  # a "1" drawn as a white bar on black
    >>> row = digitnet.preprocess_image(canvas)
    >>> row.shape, float(row.max())
    ((784,), 255.0)
    """
    shape = check_shape(input_shape)
    return image_to_features(load_gray(image), shape)
