"""Pure-NumPy reader and writer for the IDX format of the MNIST files.

An IDX file is a 4-byte magic number -- two zero bytes, a type code and the
number of dimensions -- then one big-endian uint32 per dimension, then the
values in C order. Files may be gzip-compressed.
"""

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from .._files import atomic_write

__all__ = ["read_idx", "write_idx"]

#: IDX type code -> big-endian NumPy dtype.
IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path):
    raw = Path(path).read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(
            f"{os.fspath(path)}: corrupted or truncated gzip data ({exc})."
        ) from exc


def read_idx(path, *, expected_shape=None, expected_dtype=None):
    """Read an IDX file (raw or gzip-compressed) into a NumPy array.

    Parameters
    ----------
    path : str or os.PathLike
        File to read; gzip compression is detected from its first bytes.
    expected_shape : tuple of int or None, default=None
        Shape the array must have; ``None`` in a position accepts any size.
    expected_dtype : numpy dtype or None, default=None
        Element type the file must declare.

    Returns
    -------
    array : ndarray
        The values, in native byte order.

    Raises
    ------
    ValueError
        If the magic number, type code, number of dimensions, dimension sizes
        or payload length are not what the header (or the caller) says; the
        message names the file, the expected and the found values.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from digitnet.datasets import read_idx, write_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
    >>> write_idx(path, np.array([5, 0, 4], dtype=np.uint8))
    >>> read_idx(path)
    array([5, 0, 4], dtype=uint8)
    """
    name = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(
            f"{name}: expected a 4-byte IDX magic number, found {len(data)} bytes."
        )
    if data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"{name}: bad IDX magic number 0x{data[:4].hex()}: expected two zero "
            "bytes, a type code and the number of dimensions (e.g. 0x00000803)."
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        codes = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(
            f"{name}: unknown IDX type code 0x{code:02X}; expected one of {codes}."
        )
    dtype = IDX_DTYPES[code]
    if ndim == 0:
        raise ValueError(
            f"{name}: IDX header declares 0 dimensions; expected at least 1."
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{name}: truncated IDX header: expected {header} bytes for {ndim} "
            f"dimensions, found {len(data)}."
        )
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    if expected_dtype is not None and dtype.newbyteorder("=") != np.dtype(
        expected_dtype
    ):
        raise ValueError(
            f"{name}: expected IDX values of type {np.dtype(expected_dtype)}, found "
            f"type code 0x{code:02X} ({dtype.newbyteorder('=')})."
        )
    if expected_shape is not None:
        ok = len(shape) == len(expected_shape) and all(
            e is None or e == s for e, s in zip(expected_shape, shape, strict=False)
        )
        if not ok:
            want = tuple("any" if e is None else e for e in expected_shape)
            raise ValueError(f"{name}: expected IDX dimensions {want}, found {shape}.")
    expected_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found_bytes = len(data) - header
    if found_bytes != expected_bytes:
        raise ValueError(
            f"{name}: IDX payload of {found_bytes} bytes does not match the header "
            f"{shape} of {dtype.newbyteorder('=')}: expected {expected_bytes} bytes "
            f"({'truncated' if found_bytes < expected_bytes else 'trailing data'})."
        )
    values = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def write_idx(path, array, *, compress=None):
    """Write an array as an IDX file.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; written through a temporary file and renamed into place.
    array : array-like
        Values of type uint8, int8, int16, int32, float32 or float64, with at
        least one dimension.
    compress : bool or None, default=None
        Gzip the file; None compresses when ``path`` ends with ``.gz``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from digitnet.datasets import read_idx, write_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "images-idx3-ubyte")
    >>> write_idx(path, np.zeros((2, 28, 28), dtype=np.uint8))
    >>> read_idx(path).shape
    (2, 28, 28)
    """
    array = np.asarray(array)
    dtype = array.dtype.newbyteorder("=")
    if dtype not in _CODES:
        raise ValueError(
            f"array of dtype {array.dtype} cannot be written as IDX; expected one of "
            f"{', '.join(str(d) for d in _CODES)}."
        )
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {array.ndim}.")
    header = bytes([0, 0, _CODES[dtype], array.ndim])
    header += np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(IDX_DTYPES[_CODES[dtype]], copy=False).tobytes()
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        payload = gzip.compress(payload)
    atomic_write(path, lambda f: f.write(payload))
