"""docs/benchmarks.md is made of sections, each written by one benchmark script.

A section sits between ``<!-- begin NAME -->`` and ``<!-- end NAME -->``;
writing one replaces it in place (or appends it), leaving the others as the
last run of their own script left them.
"""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(name, text, path=DOC):
    """Replace (or append) section ``name`` of ``path`` with ``text``."""
    block = f"<!-- begin {name} -->\n{text.strip()}\n<!-- end {name} -->\n"
    old = path.read_text() if path.exists() else ""
    pattern = re.compile(
        rf"<!-- begin {re.escape(name)} -->\n.*?<!-- end {re.escape(name)} -->\n",
        re.DOTALL,
    )
    if pattern.search(old):
        new = pattern.sub(lambda _: block, old)
    else:
        new = old + ("\n" if old and not old.endswith("\n\n") else "") + block
    path.write_text(new)


def model_files(description, argv=None):
    """``[(name, path)]`` from a benchmark's repeatable ``--model NAME=PATH``."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        help="NAME=PATH of a safe model file (repeatable)",
    )
    specs = parser.parse_args(argv).model
    models = [spec.partition("=")[::2] for spec in specs]
    for name, path in models:
        if not name or not path:
            parser.error(
                f"--model takes NAME=PATH, e.g. default=mnist.dnet; got {name}={path}"
            )
    return models
