"""Commands that handle image files one by one (``predict``, ``read``)."""

import argparse
import json
import sys


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
        help=f"mark {what} with a lower probability",
    )


def run_per_file(paths, handle, *, as_json):
    """Call ``handle(path)`` for each file; one file's error does not stop the rest.

    ``handle`` returns ``(result, line)``: a JSON-ready dict and the line to
    print. Errors are printed to stderr (and listed in the JSON as
    ``{"file", "error"}``); the status is 1 when some file failed, else 0.
    """
    status, results = 0, []
    for path in paths:
        try:
            result, line = handle(path)
        except ImportError:  # a missing extra concerns every file
            raise
        except Exception as exc:  # one unreadable file must not stop the others
            status = 1
            results.append({"file": str(path), "error": str(exc)})
            print(f"{path}: error: {exc}", file=sys.stderr)
            continue
        results.append({"file": str(path), **result})
        if not as_json:
            print(line)
    if as_json:
        print(json.dumps(results, indent=2))
    return status
