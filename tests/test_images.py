"""Reading image files: alpha canvases, 16-bit files, huge images."""

import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitnet._images import MAX_SIDE, image_to_features, read_image


def _seven(size=200, width=14):
    """A '7' as an ink mask (True = stroke)."""
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    s = size
    draw.line([(0.25 * s, 0.2 * s), (0.75 * s, 0.2 * s)], fill=255, width=width)
    draw.line([(0.75 * s, 0.2 * s), (0.4 * s, 0.85 * s)], fill=255, width=width)
    return np.asarray(img) > 127


@pytest.fixture(scope="module")
def reference():
    """Features of a plain black-on-white '7'."""
    gray = np.where(_seven(), 0.0, 1.0)
    return image_to_features(gray, (1, 28, 28))


def _close(features, reference):
    a, b = features / 255.0, reference / 255.0
    return float(np.abs(a - b).mean()) < 0.05


@pytest.mark.parametrize("ink", [(255, 255, 255), (0, 0, 0), (30, 60, 200)])
def test_strokes_on_a_transparent_canvas_read_whatever_their_colour(
    tmp_path, reference, ink
):
    mask = _seven()
    rgba = np.zeros((*mask.shape, 4), np.uint8)
    rgba[mask] = (*ink, 255)  # opaque strokes, fully transparent elsewhere
    path = tmp_path / "canvas.png"
    Image.fromarray(rgba, "RGBA").save(path)
    assert _close(image_to_features(read_image(path), (1, 28, 28)), reference)


def test_sixteen_bit_pngs_keep_their_range(tmp_path, reference):
    gray16 = np.where(_seven(), 3000, 60000).astype(np.uint16)
    path = tmp_path / "scan16.png"
    Image.fromarray(gray16).save(path)
    with Image.open(path) as img:
        assert img.mode.startswith("I")  # really a 16-bit file
    gray = read_image(path)
    assert gray.max() > 0.9
    assert gray.min() < 0.1
    assert _close(image_to_features(gray, (1, 28, 28)), reference)


def test_a_big_jpeg_is_decoded_small_and_reads_the_same(tmp_path):
    mask = np.asarray(Image.fromarray(_seven()).resize((6000, 6000))) > 0
    path = tmp_path / "photo.jpg"
    Image.fromarray(np.where(mask, 20, 235).astype(np.uint8)).save(path, quality=90)
    gray = read_image(path)
    assert max(gray.shape) <= 2 * MAX_SIDE
    with Image.open(path) as img:  # the whole 36 MP, as it was read before
        full = np.asarray(img.convert("L"), dtype=np.float64) / 255.0
    small = image_to_features(gray, (1, 28, 28))
    assert np.corrcoef(small, image_to_features(full, (1, 28, 28)))[0, 1] > 0.95


HUGE = textwrap.dedent(
    """
    import sys

    def peak_mb():  # this process's own peak (ru_maxrss may be the parent's)
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    import numpy as np
    from PIL import Image
    from digitnet._images import image_to_features, read_image
    Image.MAX_IMAGE_PIXELS = None
    base = peak_mb()
    gray = read_image(sys.argv[1])
    image_to_features(gray, (1, 28, 28))
    print("shape", gray.shape, "grown_mb", peak_mb() - base)
    """
)


def test_a_10000_pixel_png_is_read_in_bounded_memory(tmp_path, monkeypatch):
    """It once took 24 s and 5 GB; now it is reduced while it is read."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    img = Image.new("RGB", (10000, 10000), "white")
    ImageDraw.Draw(img).line(
        [(2500, 2000), (7500, 2000), (4000, 8500)], fill="black", width=600
    )
    img.save(tmp_path / "huge.png")
    del img
    out = subprocess.run(
        [sys.executable, "-c", HUGE, str(tmp_path / "huge.png")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=pathlib.Path(__file__).parents[1],
    ).stdout
    assert "shape (1112, 1112)" in out
    grown = int(out.split("grown_mb")[1])
    assert 50 < grown <= 500  # it did decode the file, within bounds


def test_a_blank_image_is_a_clear_error(tmp_path):
    path = tmp_path / "blank.png"
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(path)
    with pytest.raises(ValueError, match="no visible ink"):
        image_to_features(read_image(path), (1, 28, 28))
