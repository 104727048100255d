"""Time and peak memory of reading huge image files (``digitnet predict``'s path).

Makes a 10000x10000 RGB PNG and an 8000x6000 (48 MP) JPEG of a drawn digit,
then reads each with ``read_image`` + ``image_to_features`` in a fresh process
per run and reports the median time and the median growth of that process's
peak RSS (VmHWM) over the interpreter with digitnet imported.

    python benchmarks/image_reading.py [--runs N] [--checkout PATH]

``--checkout`` also measures another checkout of digitnet (e.g. an older
commit made with ``git worktree add``), side by side in alternating runs.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from PIL import Image
try:
    from digitnet.images import image_to_features, read_image
except ImportError:  # checkouts where the CLI held the image code
    from digitnet.cli._images import image_to_features, read_image
Image.MAX_IMAGE_PIXELS = None

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

base = peak_mb()
start = time.perf_counter()
image_to_features(read_image(sys.argv[2]), (1, 28, 28))
print(json.dumps({"s": time.perf_counter() - start, "mb": peak_mb() - base}))
"""


def make_images(folder):
    Image.MAX_IMAGE_PIXELS = None
    files = {}
    for name, size, fmt in [
        ("png-10000x10000", (10000, 10000), "PNG"),
        ("jpeg-48MP", (8000, 6000), "JPEG"),
    ]:
        img = Image.new("RGB", size, "white")
        w, h = size
        ImageDraw.Draw(img).line(
            [(0.3 * w, 0.2 * h), (0.7 * w, 0.2 * h), (0.45 * w, 0.85 * h)],
            fill="black",
            width=w // 16,
        )
        path = folder / f"{name}.{fmt.lower()}"
        img.save(path, fmt)
        files[name] = path
    return files


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--checkout", type=Path, default=None)
    args = parser.parse_args(argv)
    versions = {"this checkout": ROOT}
    if args.checkout:
        versions[f"checkout {args.checkout}"] = args.checkout.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        files = make_images(Path(tmp))
        results = {}
        for run in range(args.runs):
            names = list(versions) if run % 2 == 0 else list(versions)[::-1]
            for version in names:
                for image, path in files.items():
                    out = subprocess.run(
                        [
                            sys.executable,
                            "-c",
                            CHILD,
                            str(versions[version]),
                            str(path),
                        ],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                    row = json.loads(out.strip().splitlines()[-1])
                    results.setdefault((version, image), []).append(row)
                    print(f"  {version} {image}: {row}", file=sys.stderr, flush=True)
    print("| code | image | read + preprocess (s) | peak memory growth (MB) |")
    print("| --- | --- | --- | --- |")
    for (version, image), rows in results.items():
        seconds = statistics.median(r["s"] for r in rows)
        mb = statistics.median(r["mb"] for r in rows)
        print(f"| {version} | {image} | {seconds:.2f} | {mb:.0f} |")


if __name__ == "__main__":
    main()
