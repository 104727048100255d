"""``digitnet read``: the numbers in image files, with uncertain digits marked."""

import io
from pathlib import Path

from .._files import atomic_write, check_writable
from ._model_files import add_model, add_trust_pickle, load_model_file
from ._per_file import add_images, add_min_confidence, run_per_file

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


def _line_text(line):
    """A line read, flagged digits as ``?``, with what to check after it."""
    doubt = ", ".join(
        f"digit {i + 1}: {d.label} (p={d.probability:.2f})"
        for i, d in enumerate(line.digits)
        if d.flagged
    )
    return line.marked() + (f"  [check {doubt}]" if doubt else "")


def printed(path, reading):
    """What ``digitnet read`` prints for one file: one line per line found.

    A file with one line is ``path: 40?7  [check digit 3: 9 (p=0.52)]``; with
    several, ``path:`` and then each line, indented.
    """
    if len(reading.lines) == 1:
        return f"{path}: {_line_text(reading.lines[0])}"
    return "\n".join([f"{path}:", *(f"  {_line_text(line)}" for line in reading.lines)])


def run_read(args):
    """The ``read`` subcommand: exit status 1 when some file could not be read."""
    from ..reading import read_digits

    model = load_model_file(args.model, trust_pickle=args.trust_pickle)
    if args.debug_dir is not None:
        check_writable(args.debug_dir, folder=True)
        args.debug_dir.mkdir(parents=True, exist_ok=True)

    def read(path, source):
        reading = read_digits(model, source, min_confidence=args.min_confidence)
        if args.debug_dir is not None:
            stem = "stdin" if path == "-" else Path(path).stem
            picture = io.BytesIO(source) if isinstance(source, bytes) else source
            debug_picture(picture, reading, args.debug_dir / f"{stem}-read.png")
        return reading.to_dict(), printed(path, reading)

    return run_per_file(args.images, read, as_json=args.json)


def add_read(sub):
    """The ``read`` subcommand's parser."""
    rd = sub.add_parser(
        "read", help="read handwritten numbers in image files, a line per line found"
    )
    add_model(rd)
    add_images(rd)
    add_trust_pickle(rd)
    add_min_confidence(rd, "digits read (shown as '?', e.g. 40?7)")
    rd.add_argument(
        "--json", action="store_true", help="machine-readable output (default: text)"
    )
    rd.add_argument(
        "--debug-dir",
        type=Path,
        default=None,
        help="write each image with the boxes and labels drawn (NAME-read.png; "
        "default: none)",
    )
    rd.set_defaults(func=run_read)
