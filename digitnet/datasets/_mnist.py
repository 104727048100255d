"""fetch_mnist: the MNIST digits, downloaded once, SHA-256 verified."""

import hashlib
import time
import urllib.request

import numpy as np

from .._files import atomic_write
from ._base import DATA_HOME_ENV, digits_bunch, get_data_home
from ._idx import read_idx

#: Public mirrors of the original files, tried in order.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

#: File name -> SHA-256 of the original gzip files.
SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",  # noqa: E501
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",  # noqa: E501
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",  # noqa: E501
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",  # noqa: E501
}

_SUBSETS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

DESCR = """MNIST handwritten digits
========================

70,000 grayscale images of 28x28 pixels (0 = background, 255 = full ink):
60,000 for training and 10,000 for testing, with labels 0-9. Y. LeCun,
C. Cortes and C. J. C. Burges, "The MNIST database of handwritten digits".
"""


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _ChecksumError(OSError):
    """A downloaded file is not the original: no other mirror is tried."""


class _NetworkError(OSError):
    """A mirror failed (refused, timed out, reset): the next one is tried."""


def _blocks(url, timeout):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            while block := response.read(1 << 20):
                yield block
    except OSError as exc:  # URLError, HTTPError, timeouts, resets
        raise _NetworkError(f"{url}: {exc}") from exc


def _fetch(url, name, f, timeout):
    """Stream ``url`` into ``f`` and check its SHA-256 before it is kept."""
    digest = hashlib.sha256()
    for block in _blocks(url, timeout):
        digest.update(block)
        f.write(block)
    if digest.hexdigest() != SHA256[name]:
        raise _ChecksumError(
            f"Checksum mismatch for {name} downloaded from {url}: expected "
            f"SHA-256 {SHA256[name]}, found {digest.hexdigest()}. The file was "
            "not kept; the mirror may serve a corrupted copy."
        )


def _download(name, folder, n_retries, delay, timeout=60):
    """Fetch ``name`` from the mirrors into ``folder``, atomically and verified."""
    target = folder / name
    errors = []
    for attempt in range(n_retries + 1):
        for mirror in MIRRORS:
            url = mirror + name
            try:
                atomic_write(target, lambda f, url=url: _fetch(url, name, f, timeout))
            except _NetworkError as exc:
                errors.append(str(exc))
                continue
            return target
        if attempt < n_retries:
            time.sleep(delay)
    reasons = sorted(set(errors), key=errors.index)  # each once, in order
    raise OSError(
        f"Could not download {name} after {n_retries + 1} attempt(s) at each of "
        f"{len(MIRRORS)} mirror(s):\n  " + "\n  ".join(reasons)
    )


def _verify(path):
    """A local MNIST file must be the original (SHA-256), not a damaged copy."""
    found = _sha256(path)
    if found != SHA256[path.name]:
        raise ValueError(
            f"{path} is not the original MNIST file: its SHA-256 is {found}, "
            f"expected {SHA256[path.name]}. It may be truncated or damaged; "
            "remove it to download a fresh copy."
        )


def _missing_message(folder, missing, tried):
    """What is missing, and the ways out (``tried``: a download failed)."""
    files = "\n  ".join(missing)
    where = (
        f"Put the original *-ubyte.gz files there (the data home is the "
        f"data_home argument or digitnet's --data-home, else ${DATA_HOME_ENV}, "
        "else ~/digitnet_data; MNIST lives in its 'mnist' subfolder)"
    )
    then = (
        ", or try again with a working connection."
        if tried
        else ", or allow downloading with download_if_missing=True."
    )
    return f"MNIST files missing from {folder}:\n  {files}\n{where}{then}"


def fetch_mnist(
    *,
    subset="train",
    data_home=None,
    download_if_missing=True,
    return_X_y=False,
    n_retries=3,
    delay=1.0,
):
    """Load MNIST from the data home, downloading it the first time.

    Files live in ``<data home>/mnist/`` under their original names. Downloads
    try each of several public mirrors, with retries, write through a
    temporary file renamed into place, and are verified by SHA-256 before use.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        The 60,000 training images, the 10,000 test images, or both (training
        first).
    data_home : str or os.PathLike, default=None
        Data home; see :func:`get_data_home`.
    download_if_missing : bool, default=True
        Download missing files; if False, raise ``OSError`` instead.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    n_retries : int, default=3
        Further rounds over all mirrors after a failed round.
    delay : float, default=1.0
        Seconds to wait between rounds.

    Returns
    -------
    data : Bunch or tuple
        ``data`` (n, 784) uint8, ``images`` (n, 28, 28) uint8 (a view of
        ``data``), ``target`` (n,) int64, ``target_names``, ``DESCR``.

    Raises
    ------
    OSError
        Files are missing and cannot be downloaded (the message says which
        files belong where), or a download fails its checksum.
    ValueError
        A local file is not the original (its SHA-256 differs), is not valid
        IDX data, or images and labels disagree.

    Examples
    --------
    >>> from digitnet.datasets import fetch_mnist
    >>> X, y = fetch_mnist(subset="test", return_X_y=True)  # doctest: +SKIP
    >>> X.shape, y.shape  # doctest: +SKIP
    ((10000, 784), (10000,))
    """
    if subset not in ("train", "test", "all"):
        raise ValueError(f"subset must be 'train', 'test' or 'all'; got {subset!r}.")
    folder = get_data_home(data_home) / "mnist"
    names = [
        n for key in ("train", "test") if subset in (key, "all") for n in _SUBSETS[key]
    ]
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        if not download_if_missing:
            raise OSError(_missing_message(folder, missing, tried=False))
        folder.mkdir(parents=True, exist_ok=True)
        try:
            for name in missing:
                _download(name, folder, n_retries, delay)
        except OSError as exc:
            message = _missing_message(folder, missing, tried=True)
            raise OSError(f"{exc}\n{message}") from exc
    for name in names:
        _verify(folder / name)
    parts = []
    for key in ("train", "test"):
        if subset in (key, "all"):
            images_name, labels_name = _SUBSETS[key]
            images = read_idx(
                folder / images_name,
                expected_shape=(None, 28, 28),
                expected_dtype=np.uint8,
            )
            labels = read_idx(
                folder / labels_name, expected_shape=(None,), expected_dtype=np.uint8
            )
            if len(images) != len(labels):
                raise ValueError(
                    f"{folder / images_name} holds {len(images)} images but "
                    f"{folder / labels_name} holds {len(labels)} labels."
                )
            parts.append((images, labels))
    images = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
    target = np.concatenate([p[1] for p in parts]).astype(np.int64)
    data = images.reshape(len(images), -1)
    return digits_bunch(data, target, 28, DESCR, return_X_y)
