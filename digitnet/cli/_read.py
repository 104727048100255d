"""``digitnet read``: the numbers in image files, with uncertain digits marked."""

import argparse
import json
import sys
from pathlib import Path

from .._files import atomic_write, check_writable
from .._reading import read_digits
from ._model_files import load_model_file

#: Longest side of a debug picture.
_DEBUG_SIDE = 1600
_OK, _FLAGGED = (0, 160, 0), (220, 0, 0)


def debug_picture(path, reading, out):
    """Write ``path`` with each digit's box and label drawn on it to ``out``."""
    from PIL import Image, ImageDraw, ImageOps

    with Image.open(path) as img:
        img = ImageOps.exif_transpose(img)
        picture = img.convert("RGB")
    scale = min(1.0, _DEBUG_SIDE / max(picture.size))
    if scale < 1.0:
        picture = picture.resize(
            (round(picture.width * scale), round(picture.height * scale))
        )
    pen = ImageDraw.Draw(picture)
    size = max(
        10, round(0.2 * max((d.box[3] - d.box[1]) * scale for d in reading.digits))
    )
    for digit in reading.digits:
        box = [round(v * scale) for v in digit.box]
        colour = _FLAGGED if digit.flagged else _OK
        pen.rectangle(box, outline=colour, width=max(1, size // 6))
        text = f"{digit.label}{'?' if digit.flagged else ''} {digit.probability:.2f}"
        pen.text((box[0], max(0, box[1] - size - 2)), text, fill=colour, font_size=size)
    atomic_write(out, lambda f: picture.save(f, format="PNG"))


def _read_one(model, path, args):
    reading = read_digits(model, path, min_confidence=args.min_confidence)
    if args.debug_dir is not None:
        debug_picture(path, reading, args.debug_dir / f"{Path(path).stem}-read.png")
    return reading


def run_read(args):
    """The ``read`` subcommand: exit status 1 when some file could not be read."""
    model = load_model_file(args.model)
    if args.debug_dir is not None:
        check_writable(args.debug_dir, folder=True)
        args.debug_dir.mkdir(parents=True, exist_ok=True)
    status, results = 0, []
    for path in args.images:
        try:
            reading = _read_one(model, path, args)
        except ImportError:
            raise
        except Exception as exc:  # one unreadable file must not stop the others
            status = 1
            results.append({"file": str(path), "error": str(exc)})
            print(f"{path}: error: {exc}", file=sys.stderr)
            continue
        results.append({"file": str(path), **reading.to_dict()})
        if not args.json:
            doubt = ", ".join(
                f"digit {i + 1}: {reading.digits[i].label} "
                f"(p={reading.digits[i].probability:.2f})"
                for i in reading.flagged
            )
            print(
                f"{path}: {reading.marked()}" + (f"  [check {doubt}]" if doubt else "")
            )
    if args.json:
        print(json.dumps(results, indent=2))
    return status


def probability(text):
    """argparse type: a float in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(
            f"expected a probability in [0, 1], not {text!r}"
        )
    return value


def add_read(sub):
    """The ``read`` subcommand's parser."""
    rd = sub.add_parser("read", help="read numbers (one line of digits) in image files")
    rd.add_argument("model", type=Path)
    rd.add_argument("images", type=Path, nargs="+")
    rd.add_argument(
        "--min-confidence",
        type=probability,
        default=None,
        metavar="P",
        help="mark digits read with a lower probability with '?' (e.g. 40?7)",
    )
    rd.add_argument("--json", action="store_true", help="machine-readable output")
    rd.add_argument(
        "--debug-dir",
        type=Path,
        default=None,
        help="write each image with the boxes and labels drawn (NAME-read.png)",
    )
    rd.set_defaults(func=run_read)
