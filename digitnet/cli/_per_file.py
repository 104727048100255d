"""Commands that handle image files one by one (``predict``, ``read``)."""

import argparse
import json
import sys
from pathlib import Path

#: Suffixes of the files a folder argument contributes (case-insensitive).
IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
    | {".pgm", ".ppm", ".pbm", ".pnm"}
)
#: A list this long shows a count of the files done on a terminal.
PROGRESS_FROM = 20


def _probability(text):
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(
            f"expected a probability in [0, 1], not {text!r}"
        )
    return value


def add_min_confidence(parser, what):
    """The ``--min-confidence P`` option; ``what`` says what gets marked."""
    parser.add_argument(
        "--min-confidence",
        type=_probability,
        default=None,
        metavar="P",
        help=f"mark {what} with a lower probability (default: none marked)",
    )


def add_images(parser):
    """The ``images`` argument: files, folders and ``-``."""
    parser.add_argument(
        "images",
        type=Path,
        nargs="+",
        help="image files (PNG, JPEG, ...), folders (their image files, "
        "searched recursively) or - for one image on standard input",
    )


def image_sources(paths):
    """``[(name, source)]``: each file, each folder's image files, and stdin.

    ``source`` is a path, or the bytes of standard input for ``-``; a folder
    contributes its files with an image suffix (:data:`IMAGE_SUFFIXES`),
    recursively, in sorted order, and a folder without any is a
    ``(name, NotADirectoryError)`` entry, reported like an unreadable file.
    """
    sources = []
    for path in paths:
        if str(path) == "-":
            sources.append(("-", sys.stdin.buffer.read()))
        elif path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
            if not found:
                suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
                error = FileNotFoundError(
                    f"the folder holds no image files ({suffixes})"
                )
                sources.append((str(path), error))
            sources.extend((str(p), p) for p in found)
        else:
            sources.append((str(path), path))
    return sources


def _progress(done, total):
    if total >= PROGRESS_FROM and sys.stderr.isatty():
        end = "\n" if done == total else ""
        print(f"\r{done}/{total} files", end=end, file=sys.stderr, flush=True)


def run_per_file(paths, handle, *, as_json):
    """Call ``handle(name, source)`` per image; one file's error does not stop the rest.

    ``paths`` are expanded by :func:`image_sources`. ``handle`` returns
    ``(result, line)``: a JSON-ready dict and the line to print. Errors are
    printed to stderr (and listed in the JSON as ``{"file", "error"}``); the
    status is 1 when some file failed, else 0. On a terminal, a long list
    shows how many files are done.
    """
    status, results = 0, []
    sources = image_sources(paths)
    for done, (name, source) in enumerate(sources, start=1):
        try:
            if isinstance(source, Exception):
                raise source
            result, line = handle(name, source)
        except ImportError:  # a missing extra concerns every file
            raise
        except Exception as exc:  # one unreadable file must not stop the others
            status = 1
            results.append({"file": name, "error": str(exc)})
            print(f"{name}: error: {exc}", file=sys.stderr)
            continue
        finally:
            _progress(done, len(sources))
        results.append({"file": name, **result})
        if not as_json:
            print(line)
    if as_json:
        print(json.dumps(results, indent=2))
    return status
