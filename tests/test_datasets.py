"""IDX files, the data home, fetch_mnist and load_digits."""

import gzip
import hashlib
import itertools

import numpy as np
import pytest

from digitnet.datasets import (
    _mnist,
    fetch_mnist,
    get_data_home,
    load_digits,
    read_idx,
    write_idx,
)

# ---------------------------------------------------------------- IDX format


@pytest.mark.parametrize(
    "dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]
)
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix, rng):
    array = (rng.uniform(-100, 100, size=(3, 4, 5))).astype(dtype)
    path = tmp_path / f"data-idx3{suffix}"
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, array)


def test_idx_header_is_the_documented_one(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    write_idx(path, np.array([5, 0, 4], dtype=np.uint8))
    assert path.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 5, 0, 4])


def _write_raw(path, data, compress=False):
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


GOOD_HEADER = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3])


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\x00\x00", "expected a 4-byte IDX magic number, found 2 bytes"),
        (bytes([1, 0, 8, 1, 0, 0, 0, 1, 7]), "bad IDX magic number 0x01000801"),
        (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 7]), "unknown IDX type code 0x42"),
        (bytes([0, 0, 8, 0]), "declares 0 dimensions"),
        (bytes([0, 0, 8, 3, 0, 0, 0, 2]), "truncated IDX header: expected 16 bytes"),
        (
            GOOD_HEADER + bytes(5),
            r"payload of 5 bytes .* expected 6 bytes \(truncated\)",
        ),
        (
            GOOD_HEADER + bytes(7),
            r"payload of 7 bytes .* expected 6 bytes \(trailing data\)",
        ),
    ],
    ids=[
        "short",
        "magic",
        "type-code",
        "no-dims",
        "short-header",
        "truncated",
        "trailing",
    ],
)
def test_malformed_idx_raises_value_error_naming_the_file(tmp_path, data, match):
    path = _write_raw(tmp_path / "broken-idx", data)
    with pytest.raises(ValueError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip_is_a_value_error(tmp_path):
    full = gzip.compress(GOOD_HEADER + bytes(6))
    path = tmp_path / "cut-idx.gz"
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(ValueError, match="corrupted or truncated gzip data"):
        read_idx(path)


def test_expected_dimensions_and_dtype_are_checked(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    write_idx(path, np.zeros((2, 28, 27), dtype=np.uint8))
    with pytest.raises(
        ValueError,
        match=r"expected IDX dimensions \('any', 28, 28\), found \(2, 28, 27\)",
    ):
        read_idx(path, expected_shape=(None, 28, 28))
    with pytest.raises(
        ValueError, match="expected IDX values of type int32, found type code 0x08"
    ):
        read_idx(path, expected_dtype=np.int32)


def test_write_idx_rejects_unsupported_dtypes(tmp_path):
    with pytest.raises(ValueError, match="dtype int64 cannot be written as IDX"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


# ----------------------------------------------------------------- data home


def test_data_home_argument_then_environment_then_default(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITNET_DATA", str(tmp_path / "env"))
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert get_data_home() == tmp_path / "env"
    monkeypatch.delenv("DIGITNET_DATA")
    assert get_data_home().name == "digitnet_data"
    assert "~" not in str(get_data_home())


# ---------------------------------------------------- fetch_mnist, fake mirror

N_TRAIN, N_TEST = 12, 5


@pytest.fixture
def mirror(tmp_path, monkeypatch, rng):
    """A local mirror of tiny MNIST-format files, with their checksums."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    arrays = {
        "train-images-idx3-ubyte.gz": rng.randint(0, 256, (N_TRAIN, 28, 28)).astype(
            np.uint8
        ),
        "train-labels-idx1-ubyte.gz": (np.arange(N_TRAIN) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.randint(0, 256, (N_TEST, 28, 28)).astype(
            np.uint8
        ),
        "t10k-labels-idx1-ubyte.gz": (np.arange(N_TEST) % 10).astype(np.uint8),
    }
    sums = {}
    for name, array in arrays.items():
        write_idx(folder / name, array)
        sums[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    monkeypatch.setattr(_mnist, "SHA256", sums)
    monkeypatch.setattr(_mnist, "MIRRORS", [folder.as_uri() + "/"])
    monkeypatch.setattr(_mnist.time, "sleep", lambda s: None)
    return folder, arrays


def test_fetch_downloads_verifies_and_loads(mirror, tmp_path):
    _, arrays = mirror
    home = tmp_path / "home"
    bunch = fetch_mnist(subset="all", data_home=home)
    assert sorted(p.name for p in (home / "mnist").iterdir()) == sorted(arrays)
    assert bunch.data.shape == (N_TRAIN + N_TEST, 784)
    assert bunch.data.dtype == np.uint8
    assert bunch.images.shape == (N_TRAIN + N_TEST, 28, 28)
    np.testing.assert_array_equal(
        bunch.images[:N_TRAIN], arrays["train-images-idx3-ubyte.gz"]
    )
    np.testing.assert_array_equal(
        bunch.target[N_TRAIN:], arrays["t10k-labels-idx1-ubyte.gz"]
    )
    X, y = fetch_mnist(subset="test", data_home=home, return_X_y=True)
    assert X.shape == (N_TEST, 784)
    assert y.dtype == np.int64


def test_fetch_uses_the_environment_data_home(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITNET_DATA", str(tmp_path / "envhome"))
    fetch_mnist(subset="test")
    assert (tmp_path / "envhome" / "mnist" / "t10k-images-idx3-ubyte.gz").is_file()


def test_checksum_mismatch_removes_the_file(mirror, tmp_path, monkeypatch):
    monkeypatch.setitem(_mnist.SHA256, "t10k-labels-idx1-ubyte.gz", "0" * 64)
    home = tmp_path / "home"
    with pytest.raises(
        OSError, match=r"Checksum mismatch for t10k-labels-idx1-ubyte\.gz"
    ):
        fetch_mnist(subset="test", data_home=home)
    left = sorted(p.name for p in (home / "mnist").iterdir())
    assert left == ["t10k-images-idx3-ubyte.gz"]  # verified one kept, bad one gone


def test_retries_then_next_mirror(mirror, tmp_path, monkeypatch):
    folder, _ = mirror
    dead = (tmp_path / "nowhere").as_uri() + "/"
    monkeypatch.setattr(_mnist, "MIRRORS", [dead, folder.as_uri() + "/"])
    bunch = fetch_mnist(subset="test", data_home=tmp_path / "home")
    assert len(bunch.target) == N_TEST


def test_all_mirrors_failing_retries_and_says_what_to_do(mirror, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(_mnist, "MIRRORS", [(tmp_path / "gone").as_uri() + "/"])
    monkeypatch.setattr(_mnist.time, "sleep", calls.append)
    home = tmp_path / "home"
    with pytest.raises(
        OSError, match=r"after 3 attempt\(s\)(.|\n)*MNIST files missing from"
    ):
        fetch_mnist(subset="test", data_home=home, n_retries=2, delay=0.5)
    assert calls == [0.5, 0.5]
    assert list((home / "mnist").iterdir()) == []  # no partial files


def test_interrupted_download_leaves_no_partial_file(mirror, tmp_path, monkeypatch):
    class Broken:
        def __init__(self, *args, **kwargs):
            self.sent = False

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, n):
            if self.sent:
                raise ConnectionResetError("connection reset")
            self.sent = True
            return b"partial"

    monkeypatch.setattr(_mnist.urllib.request, "urlopen", Broken)
    home = tmp_path / "home"
    with pytest.raises(OSError, match="connection reset"):
        fetch_mnist(subset="test", data_home=home, n_retries=0)
    assert list((home / "mnist").iterdir()) == []


def test_offline_without_data_names_the_files_and_the_folder(tmp_path):
    with pytest.raises(OSError, match="MNIST files missing from") as info:
        fetch_mnist(subset="train", data_home=tmp_path, download_if_missing=False)
    message = str(info.value)
    assert str(tmp_path / "mnist") in message
    assert "train-images-idx3-ubyte.gz" in message
    assert "DIGITNET_DATA" in message


def test_invalid_subset():
    with pytest.raises(
        ValueError, match="subset must be 'train', 'test' or 'all'; got 'dev'"
    ):
        fetch_mnist(subset="dev")


def test_a_damaged_local_file_is_refused(mirror, tmp_path):
    home = tmp_path / "home"
    fetch_mnist(subset="test", data_home=home)
    path = home / "mnist" / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-3])  # truncated on disk
    with pytest.raises(ValueError, match=r"labels-idx1-ubyte\.gz is not the original"):
        fetch_mnist(subset="test", data_home=home)


def test_mismatched_images_and_labels(mirror, tmp_path, monkeypatch):
    home = tmp_path / "home"
    fetch_mnist(subset="test", data_home=home)
    path = home / "mnist" / "t10k-labels-idx1-ubyte.gz"
    write_idx(path, np.zeros(3, dtype=np.uint8))
    monkeypatch.setitem(_mnist.SHA256, path.name, _mnist._sha256(path))
    with pytest.raises(
        ValueError, match=f"holds {N_TEST} images but .* holds 3 labels"
    ):
        fetch_mnist(subset="test", data_home=home)


# --------------------------------------------------------------- real data


def test_real_mnist_from_the_data_home(mnist_home):
    train = fetch_mnist(subset="train", download_if_missing=False)
    test = fetch_mnist(subset="test", data_home=mnist_home, download_if_missing=False)
    assert train.data.shape == (60000, 784)
    assert test.data.shape == (10000, 784)
    assert train.data.dtype == np.uint8
    assert train.images.shape == (60000, 28, 28)
    assert train.data.max() == 255
    np.testing.assert_array_equal(
        np.bincount(train.target),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    )
    np.testing.assert_array_equal(
        np.bincount(test.target),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
    )
    assert train.data.mean() / 255 == pytest.approx(0.13066048, abs=1e-7)


def test_load_digits_in_the_same_conventions():
    bunch = load_digits()
    assert bunch.data.shape == (1797, 64)
    assert bunch.data.dtype == np.uint8
    assert bunch.images.shape == (1797, 8, 8)
    assert bunch.data.max() == 16
    X, y = load_digits(return_X_y=True)
    assert X.shape == (1797, 64)
    assert y.dtype == np.int64


# ----------------------------------------------------------------- make_numbers


def test_make_numbers_composes_digits_with_the_requested_geometry():
    from sklearn.datasets import load_digits as sk_digits

    from digitnet.datasets import make_numbers

    X, y = sk_digits(return_X_y=True)
    images = X.reshape(-1, 8, 8)
    numbers, texts, boxes = make_numbers(
        images, y, n_numbers=20, n_digits=(2, 4), gap=(0.2, 0.2), random_state=0
    )
    again, _, _ = make_numbers(
        images, y, n_numbers=20, n_digits=(2, 4), gap=(0.2, 0.2), random_state=0
    )
    assert all((a == b).all() for a, b in zip(numbers, again, strict=True))
    for number, text, box in zip(numbers, texts, boxes, strict=True):
        assert 2 <= len(text) <= 4
        assert len(box) == len(text)
        assert number.dtype == np.uint8
        gaps = [b[0] - a[2] for a, b in itertools.pairwise(box)]
        assert gaps == [8] * len(gaps)  # 0.2 of 40 px
    _touching, _, boxes = make_numbers(
        images, y, n_numbers=5, gap=(-0.1, -0.1), random_state=0
    )
    assert all(b[0] < a[2] for box in boxes for a, b in itertools.pairwise(box))
    inverted, _, _ = make_numbers(images, y, n_numbers=3, invert=True, random_state=0)
    assert all(np.median(n) == 255 for n in inverted)


def test_make_numbers_rejects_bad_arguments():
    from digitnet.datasets import make_numbers

    with pytest.raises(ValueError, match="images must be"):
        make_numbers(np.zeros((3, 8)), [1, 2, 3])
    with pytest.raises(ValueError, match="gap must be a"):
        make_numbers(np.ones((3, 8, 8)), [1, 2, 3], gap=(0.5, 0.1))
    with pytest.raises(ValueError, match="n_numbers"):
        make_numbers(np.ones((3, 8, 8)), [1, 2, 3], n_numbers=0)


def test_load_digits_has_a_fixed_stratified_test_subset():
    from digitnet.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X_train, y_train = load_digits(subset="train", return_X_y=True)
    X_test, y_test = load_digits(subset="test", return_X_y=True)
    assert (len(y_train), len(y_test)) == (1347, 450)
    np.testing.assert_array_equal(X_test, load_digits(subset="test").data)  # fixed
    both = np.concatenate([X_train, X_test])
    assert sorted(map(bytes, both)) == sorted(map(bytes, X))
    assert np.abs(np.bincount(y_test) / 450 - np.bincount(y) / len(y)).max() < 0.01
    with pytest.raises(ValueError, match="'subset' parameter"):
        load_digits(subset="valid")
