"""Deployment figures: ONNX vs torch inference, service sizes, a load test.

1. ONNX parity and speed: MNIST models (the fast preset fitted on all 60,000
   images; the default CNN and the MLP after one epoch on 12,000, which is
   enough for timing) exported with ``to_onnx``; max |Δp| and label agreement
   on the 10,000 test images; batch-1 latency (p50/p99 of 300 calls) and
   batch-256 throughput (median of 3 passes over the test set) of
   ``predict_proba`` (torch) against an onnxruntime session.
2. Service size: the wheels ``pip download`` fetches for a service that runs
   the ONNX file (onnxruntime, numpy) and for one that loads the safe format
   (torch, skorch, scikit-learn, ...).
3. Load: ``digitnet serve`` in its own process, driven on loopback by 16
   concurrent clients sending 2,000 requests, each one PNG of a drawn digit,
   for the torch and the ONNX backend: p50/p99 latency, requests/s, errors.
   Client and server share the machine's cores.

    python benchmarks/deploy.py [--requests N] [--clients N] [--no-sizes]

Prints the tables and writes the "deploy" section of docs/benchmarks.md.
"""

import argparse
import asyncio
import io
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _doc import write_section
from epoch_overhead import environment
from PIL import Image, ImageDraw

from digitnet import PRESETS, DigitClassifier
from digitnet.datasets import fetch_mnist

ROOT = Path(__file__).resolve().parents[1]


def _models(X, y):
    print("fitting: fast preset (60,000 images)", file=sys.stderr, flush=True)
    yield "fast preset", DigitClassifier(**PRESETS["fast"], random_state=0).fit(X, y)
    for arch in ("cnn", "mlp"):
        print(f"fitting: {arch} (1 epoch, 12,000 images)", file=sys.stderr, flush=True)
        model = DigitClassifier(architecture=arch, max_iter=1, random_state=0)
        yield f"default {arch.upper()}", model.fit(X[:12000], y[:12000])


def _latency_ms(call, rows, calls=300):
    for row in rows[:20]:
        call(row[None])
    times = []
    for row in rows[:calls]:
        start = time.perf_counter()
        call(row[None])
        times.append((time.perf_counter() - start) * 1000)
    return np.percentile(times, 50), np.percentile(times, 99)


def _throughput(call, rows, passes=3, batch=256):
    rates = []
    for _ in range(passes):
        start = time.perf_counter()
        for i in range(0, len(rows), batch):
            call(rows[i : i + batch])
        rates.append(len(rows) / (time.perf_counter() - start))
    return statistics.median(rates)


def onnx_table(models, X_test, folder):
    lines = [
        "| model | max abs Δp | labels equal | batch 1 p50 / p99 (ms), torch | "
        "batch 1 p50 / p99 (ms), ONNX | batch 256 (images/s), torch | "
        "batch 256 (images/s), ONNX | ONNX / torch |",
        "|" + " --- |" * 8,
    ]
    rows = X_test.astype(np.float32)
    paths = {}
    for name, model in models:
        print(f"onnx: {name}", file=sys.stderr, flush=True)
        path = folder / f"{name.replace(' ', '-')}.onnx"
        model.to_onnx(path)
        paths[name] = (model, path)
        session = onnxruntime.InferenceSession(str(path))

        def ort(x, session=session):
            return session.run(["probabilities"], {"pixels": x})[0]

        delta = np.abs(ort(rows) - model.predict_proba(rows)).max()
        labels = session.run(["label"], {"pixels": rows})[0]
        equal = (labels == model.predict(rows)).mean()
        t50, t99 = _latency_ms(model.predict_proba, rows)
        o50, o99 = _latency_ms(ort, rows)
        t_rate = _throughput(model.predict_proba, rows)
        o_rate = _throughput(ort, rows)
        lines.append(
            f"| {name} | {delta:.1e} | {equal:.2%} | {t50:.2f} / {t99:.2f} | "
            f"{o50:.2f} / {o99:.2f} | {t_rate:,.0f} | {o_rate:,.0f} | "
            f"{o_rate / t_rate:.2f}x |"
        )
    return "\n".join(lines), paths


def _download_mb(packages):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "-d", tmp, *packages],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        files = list(Path(tmp).iterdir())
        return sum(f.stat().st_size for f in files) / 1e6, len(files)


def size_table():
    services = {
        "ONNX file: onnxruntime + numpy": ["onnxruntime", "numpy"],
        "safe file: torch (CPU build) + digitnet's core": [
            "torch==2.13.0",
            "skorch",
            "scikit-learn",
            "scipy",
            "numpy",
            "joblib",
            "safetensors",
        ],
    }
    lines = ["| service runs | wheels | download (MB) |", "| --- | --- | --- |"]
    for name, packages in services.items():
        print(f"sizes: {name}", file=sys.stderr, flush=True)
        mb, count = _download_mb(packages)
        lines.append(f"| {name} | {count} | {mb:,.0f} |")
    return "\n".join(lines)


def drawing_png():
    """A 280x280 canvas with a drawn 7, as the drawing page sends it."""
    image = Image.new("L", (280, 280), 0)
    pen = ImageDraw.Draw(image)
    pen.line([(65, 55), (215, 55), (125, 240)], fill=255, width=18, joint="curve")
    buffer = io.BytesIO()
    image.resize((28, 28), Image.Resampling.LANCZOS).save(buffer, "PNG")
    return buffer.getvalue()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _drive(url, body, requests, clients, deadline):
    import httpx

    latencies, errors, sent = [], 0, 0

    async def client(http):
        nonlocal errors, sent
        while sent < requests and time.monotonic() < deadline:
            sent += 1
            start = time.perf_counter()
            try:
                files = {"file": ("drawing.png", body, "image/png")}
                response = await http.post(url, files=files)
                ok = (
                    response.status_code == 200
                    and response.json()["predictions"][0]["label"] == 7
                )
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - start) * 1000)
            errors += not ok

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        seconds = time.perf_counter() - start
    return latencies, errors + (requests - sent), seconds


def _serve(model_path, port):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "digitnet",
            "serve",
            str(model_path),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stderr=subprocess.DEVNULL,
    )
    import httpx

    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"digitnet serve {model_path} did not start")


def load_table(model, onnx_path, folder, requests, clients):
    model.save(folder / "model.dnet")
    body = drawing_png()
    lines = [
        "| backend | requests | clients | p50 (ms) | p99 (ms) | requests/s | errors |",
        "|" + " --- |" * 7,
    ]
    for backend, path in [
        ("torch (safe file)", folder / "model.dnet"),
        ("ONNX", onnx_path),
    ]:
        print(f"load: {backend}", file=sys.stderr, flush=True)
        port = _free_port()
        process = _serve(path, port)
        try:
            latencies, errors, seconds = asyncio.run(
                _drive(
                    f"http://127.0.0.1:{port}/predict",
                    body,
                    requests,
                    clients,
                    time.monotonic() + 300,
                )
            )
        finally:
            process.terminate()
            process.wait(timeout=30)
        p50, p99 = np.percentile(latencies, [50, 99])
        lines.append(
            f"| {backend} | {len(latencies):,} | {clients} | {p50:.1f} | {p99:.1f} | "
            f"{len(latencies) / seconds:,.0f} | {errors} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--no-sizes", action="store_true", help="skip pip download")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    X, y = fetch_mnist(subset="train", return_X_y=True)
    X_test, _ = fetch_mnist(subset="test", return_X_y=True)
    models = list(_models(X, y))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        onnx, paths = onnx_table(models, X_test, folder)
        print(onnx)
        sizes = "" if args.no_sizes else size_table()
        print(sizes)
        fast, fast_onnx = paths["fast preset"]
        load = load_table(fast, fast_onnx, folder, args.requests, args.clients)
        print(load)
    command = "python benchmarks/deploy.py" + (" --no-sizes" if args.no_sizes else "")
    text = f"""## Deployment: ONNX and `digitnet serve`

Produced by `{command}` in {time.perf_counter() - started:.0f} s on:
{environment()}; onnxruntime {onnxruntime.__version__}.

### ONNX export against `predict_proba`

The fast preset fitted on MNIST; the default CNN and the MLP after one epoch on
12,000 images (enough for timing). Δp and labels over the 10,000 test images;
batch-1 latency over 300 single-image calls (p50 / p99); batch-256 throughput
as the median of 3 passes over the test set. Torch times are `predict_proba`
(input validation included); ONNX times are `InferenceSession.run`.

{onnx}

### What a service installs

Wheels `pip download` fetches (dependencies included) for a service that runs
the exported ONNX file, against one that loads the safe format with torch.

{sizes or "(skipped: --no-sizes)"}

### Load test of `digitnet serve`

The fast preset served from its safe file (torch) and from its ONNX export;
{args.clients} concurrent clients on loopback send {args.requests:,} requests,
each a multipart upload of one 28x28 PNG of a drawn 7 (preprocessed by the
server as `digitnet predict` does). An error is any answer other than 200 with
the label 7. Client and server share the machine's 2 cores.

{load}
"""
    write_section("deploy", text)
    print("wrote the deploy section of docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
