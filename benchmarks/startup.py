"""Start-up time: ``digitnet --help`` and importing digitnet, in fresh processes.

Each command runs ``--repeats`` times in a new Python process (the import
caches of the file system warm after the first run, as on a machine in use);
the table shows the median wall time. ``import digitnet`` imports only what
a name needs when it is first used, so the estimator's cost shows in ``from
digitnet import DigitClassifier`` (torch, skorch and scikit-learn), which is
compared with ``import torch`` alone.

    python benchmarks/startup.py [--repeats R]

Prints the table and writes the "startup" section of docs/benchmarks.md.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _doc import write_section
from epoch_overhead import environment

COMMANDS = {
    "python (nothing imported)": [sys.executable, "-c", "pass"],
    "digitnet --help": [sys.executable, "-m", "digitnet", "--help"],
    "import digitnet": [sys.executable, "-c", "import digitnet"],
    "import torch": [sys.executable, "-c", "import torch"],
    "import sklearn.base": [sys.executable, "-c", "import sklearn.base"],
    "from digitnet import DigitClassifier": [
        sys.executable,
        "-c",
        "from digitnet import DigitClassifier",
    ],
}


def median_seconds(command, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per command")
    args = parser.parse_args(argv)
    for command in COMMANDS.values():  # warm the file system's caches
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    times = {name: median_seconds(c, args.repeats) for name, c in COMMANDS.items()}
    beyond = times["from digitnet import DigitClassifier"] - times["import torch"]
    rows = [
        "| command | median seconds | target |",
        "| --- | --- | --- |",
    ]
    for name, seconds in times.items():
        mark = ""
        if name == "digitnet --help":
            mark = f"≤ 0.5 s: {'met' if seconds <= 0.5 else 'missed'}"
        rows.append(f"| `{name}` | {seconds:.2f} | {mark} |")
    table = "\n".join(rows)
    print(table)
    print(f"DigitClassifier beyond import torch: {beyond:.2f} s")
    text = f"""## Start-up: `digitnet --help` and imports

Produced by `python benchmarks/startup.py --repeats {args.repeats}` on:
{environment()}. Median wall time of fresh processes.

{table}

`import digitnet` loads no dependency until a name is used; the estimator
(torch, skorch, scikit-learn) costs {beyond:.2f} s beyond `import torch`
(target ≤ 1 s: {"met" if beyond <= 1.0 else "missed"}). Nearly all of it is
scikit-learn's own import (`import sklearn.base` alone, a row above, pulls in
SciPy's statistics and pandas), which no scikit-learn estimator avoids.
"""
    write_section("startup", text)
    print("wrote the startup section of docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
