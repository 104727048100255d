"""The CUDA path, measured: training-step variants, fit, predict, determinism.

    python benchmarks/gpu.py [--only SECTION ...] [--json PATH]
    python benchmarks/gpu.py --doc RESULTS.json [...]   # docs/benchmarks.md

Results go to ``--json`` as they come; ``--doc`` renders saved results (later
files win for a section they also hold) as the "cuda" section of
docs/benchmarks.md, so runs on a lent GPU can be written up where there is none.

Needs a CUDA GPU. Sections (each prints its table as soon as it is done):

* ``steps``: one training step of the fast preset's CNN and of the default CNN
  in a plain loop (batch 128, Adam, the loss read back every step as a
  training loop does), side by side: NCHW vs channels-last, fp32 vs bf16
  autocast, foreach vs fused Adam, cuDNN autotuning, the whole step captured in
  a CUDA graph, ``torch.compile``.
* ``fit``: ``DigitClassifier`` end to end on MNIST: the fast preset (3 seeds),
  the defaults and the accurate preset, with the per-step cost of ``fit``
  against the plain loop and vanilla skorch.
* ``predict``: MNIST test-set throughput at several inference batch sizes.
* ``determinism``: the same ``random_state`` fitted twice, with and without
  ``torch.use_deterministic_algorithms(True)``, and what that costs.
* ``cv``: 5-fold cross-validation on sklearn's digits.
* ``ab``: fused vs foreach Adam and seeded vs unseeded fits of the fast preset
  inside ``DigitClassifier``, alternating rounds.

MNIST comes from the data home (``DIGITNET_DATA``). CUDA is initialised before
anything is timed (as in a long-lived process).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# cuBLAS needs this before its first handle for deterministic results.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import StratifiedKFold, cross_val_score

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _baselines import PlainLoop, VanillaSkorch
from _doc import write_section

from digitnet import CNN, PRESETS, DigitClassifier
from digitnet.datasets import fetch_mnist, load_digits

RESULTS = {}
FAST_CNN = PRESETS["fast"]["module_params"] | {"dropout": 0.0}
DEFAULT_CNN = {}


def sync():
    torch.cuda.synchronize()


def warm_up():
    """CUDA context, cuBLAS and cuDNN handles, the optimizer import."""
    model = CNN((1, 28, 28), 10).cuda()
    opt = torch.optim.Adam(model.parameters())
    F.cross_entropy(
        model(torch.randn(8, 1, 28, 28, device="cuda")),
        torch.zeros(8, dtype=torch.long, device="cuda"),
    ).backward()
    opt.step()
    sync()


def mnist():
    X, y = fetch_mnist(subset="train", return_X_y=True)
    Xt, yt = fetch_mnist(subset="test", return_X_y=True)
    return X, y, Xt, yt


def record(section, row):
    RESULTS.setdefault(section, []).append(row)
    print(json.dumps({section: row}), flush=True)


# ---------------------------------------------------------------- steps
def _step_fn(model, opt, autocast):
    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", torch.bfloat16, enabled=autocast):
            loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return step


def _graphed(step, xb, yb):
    """The whole step captured in a CUDA graph; replays read static buffers."""
    sx, sy = xb.clone(), yb.clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            step(sx, sy)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        loss = step(sx, sy)

    def replay(x, y):
        sx.copy_(x)
        sy.copy_(y)
        graph.replay()
        return loss

    return replay


def time_steps(module_kwargs, X, y, variant, n_steps=200, rounds=3):
    """Median ms per training step of one variant (loss read every step)."""
    torch.backends.cudnn.benchmark = variant.get("cudnn_benchmark", False)
    torch.manual_seed(0)
    model = CNN(
        (1, 28, 28),
        10,
        channels_last=variant.get("channels_last", True),
        **module_kwargs,
    ).cuda()
    opt = torch.optim.Adam(
        model.parameters(),
        lr=1e-3,
        fused=variant.get("fused", False),
        capturable=variant.get("graph", False),
    )
    step = _step_fn(model, opt, variant.get("autocast", False))
    started = time.perf_counter()
    if variant.get("compile"):
        model.forward = torch.compile(model.forward, mode=variant["compile"])
    order = torch.randperm(len(X), device="cuda")
    batches = [order[i : i + 128] for i in range(0, len(X) - 127, 128)]
    if variant.get("graph"):
        step = _graphed(step, X[batches[0]], y[batches[0]])
    for idx in batches[:20]:  # warm-up (and compilation)
        step(X[idx], y[idx]).item()
    sync()
    first = time.perf_counter() - started
    times = []
    for r in range(rounds):
        sync()
        t0 = time.perf_counter()
        for k in range(n_steps):
            idx = batches[(20 + r * n_steps + k) % len(batches)]
            step(X[idx], y[idx]).item()
        sync()
        times.append((time.perf_counter() - t0) / n_steps * 1000)
    torch.backends.cudnn.benchmark = False
    return statistics.median(times), first


STEP_VARIANTS = {
    "fp32 NCHW, Adam (foreach)": {"channels_last": False},
    "fp32 channels-last, Adam (foreach) [digitnet today]": {},
    "fp32 channels-last, fused Adam": {"fused": True},
    "bf16 autocast, channels-last": {"autocast": True},
    "bf16 autocast, NCHW": {"autocast": True, "channels_last": False},
    "cudnn.benchmark, channels-last": {"cudnn_benchmark": True},
    "CUDA graph of the whole step (capturable Adam)": {"graph": True},
    "torch.compile (default mode)": {"compile": "default"},
    "torch.compile (reduce-overhead: CUDA graphs)": {"compile": "reduce-overhead"},
}


def steps_section(data):
    X, y, _, _ = data
    X = torch.as_tensor((X / 255.0 - 0.1307) / 0.3081, dtype=torch.float32)
    X = X.reshape(-1, 1, 28, 28).cuda()
    y = torch.as_tensor(y, dtype=torch.long).cuda()
    for cnn_name, kwargs in [("fast CNN", FAST_CNN), ("default CNN", DEFAULT_CNN)]:
        for name, variant in STEP_VARIANTS.items():
            if variant.get("compile") and cnn_name != "fast CNN":
                continue
            try:
                ms, first = time_steps(kwargs, X, y, variant)
                row = {
                    "cnn": cnn_name,
                    "variant": name,
                    "ms_per_step": ms,
                    "first_20_steps_s": first,
                }
            except Exception as exc:  # a variant that fails is a finding
                row = {"cnn": cnn_name, "variant": name, "error": repr(exc)[:300]}
            record("steps", row)


# ------------------------------------------------------------------ fit
def fit_one(clf, X, y, Xt, yt):
    sync()
    t0 = time.perf_counter()
    clf.fit(X, y)
    sync()
    seconds = time.perf_counter() - t0
    acc = float(np.mean(clf.predict(Xt) == yt))
    return clf, seconds, acc


def fit_section(data):
    X, y, Xt, yt = data
    DigitClassifier(**PRESETS["fast"], random_state=0).fit(X[:2000], y[:2000])
    models = {}
    configs = [
        (
            "fast preset",
            lambda s: DigitClassifier(**PRESETS["fast"], random_state=s),
            [0, 1, 2],
        ),
        ("defaults", lambda s: DigitClassifier(random_state=s), [0]),
        (
            "accurate preset",
            lambda s: DigitClassifier(**PRESETS["accurate"], random_state=s),
            [0],
        ),
    ]
    for name, make, seeds in configs:
        for s in seeds:
            clf, seconds, acc = fit_one(make(s), X, y, Xt, yt)
            durs = [h["dur"] for h in clf.history_]
            steps = len(durs) * -(
                -len(X) // (clf.batch_size if clf.batch_size != "auto" else 128)
            )
            record(
                "fit",
                {
                    "config": name,
                    "seed": s,
                    "fit_s": seconds,
                    "accuracy": acc,
                    "epoch_s": durs,
                    "ms_per_step": sum(durs) / steps * 1000,
                },
            )
            models[name] = clf
    for name, make in [
        ("vanilla skorch, default CNN, 2 epochs", lambda: VanillaSkorch(seed=0)),
        ("plain loop, default CNN, 2 epochs", lambda: PlainLoop(seed=0)),
    ]:
        model, seconds, acc = fit_one(make(), X, y, Xt, yt)
        record(
            "fit",
            {
                "config": name,
                "fit_s": seconds,
                "accuracy": acc,
                "epoch_s": model.epoch_times_,
            },
        )
    profile_fast(X, y)
    return models


def profile_fast(X, y):
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    clf = DigitClassifier(**PRESETS["fast"], random_state=0)
    prof.enable()
    clf.fit(X, y)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(35)
    target = Path(os.environ.get("OUT", "/tmp")) / "profile_fast.txt"
    target.write_text(out.getvalue())
    print(out.getvalue()[:6000], flush=True)


# -------------------------------------------------------------- predict
def predict_section(data, models):
    _, _, Xt, _ = data
    for name, clf in models.items():
        for bs in [1024, 2048, 4096, 8192, 16384]:
            clf.net_.iterator_valid__batch_size = bs
            clf.predict(Xt[:1000])
            times = []
            for _ in range(5):
                sync()
                t0 = time.perf_counter()
                clf.predict(Xt)
                times.append(time.perf_counter() - t0)
            record(
                "predict",
                {
                    "model": name,
                    "batch": bs,
                    "images_per_s": len(Xt) / statistics.median(times),
                },
            )
        t0 = time.perf_counter()
        for _ in range(5):
            clf.fitted_input_.to_tensor(Xt, "cuda")
        sync()
        record(
            "predict", {"model": name, "scaling+copy_s": (time.perf_counter() - t0) / 5}
        )


# ---------------------------------------------------------- determinism
def determinism_child(deterministic):
    """Fit the fast preset twice with one seed, twice unseeded (fresh process).

    Seeded fits train under cuDNN's deterministic algorithms
    (``digitnet._device.repeatable``); unseeded ones let cuDNN choose: their
    times, side by side, are its cost.
    """
    if deterministic:
        torch.use_deterministic_algorithms(True)
    X, y, Xt, _ = mnist()
    warm_up()
    probas, seeded, unseeded = [], [], []
    for _ in range(2):
        for random_state, times in [(0, seeded), (None, unseeded)]:
            t0 = time.perf_counter()
            clf = DigitClassifier(**PRESETS["fast"], random_state=random_state)
            clf.fit(X, y)
            sync()
            times.append(time.perf_counter() - t0)
            if random_state is not None:
                probas.append(clf.predict_proba(Xt))
    print(
        json.dumps(
            {
                "use_deterministic_algorithms": deterministic,
                "identical_proba": bool(np.array_equal(*probas)),
                "max_abs_diff": float(np.abs(probas[0] - probas[1]).max()),
                "seeded_fit_s": seeded,
                "unseeded_fit_s": unseeded,
            }
        )
    )


def determinism_section():
    for flag in [False, True]:
        out = subprocess.run(
            [sys.executable, __file__, "--determinism-child", str(int(flag))],
            capture_output=True,
            text=True,
        )
        lines = out.stdout.strip().splitlines()
        row = (
            json.loads(lines[-1])
            if out.returncode == 0 and lines
            else {"deterministic_algorithms": flag, "error": out.stderr[-1500:]}
        )
        record("determinism", row)


# ------------------------------------------------------------------- cv
def cv_section():
    X, y = load_digits(return_X_y=True)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for name, model in [
        ("DigitClassifier defaults", DigitClassifier(random_state=0)),
        (
            "DigitClassifier augment=True, max_iter=20",
            DigitClassifier(random_state=0, augment=True, max_iter=20),
        ),
    ]:
        t0 = time.perf_counter()
        scores = cross_val_score(model, X.astype(np.float64), y, cv=cv)
        record(
            "cv",
            {
                "model": name,
                "seconds": time.perf_counter() - t0,
                "accuracy": float(scores.mean()),
            },
        )


def ab_section(data, rounds=3):
    """Fused vs foreach Adam, and seeded (deterministic cuDNN) vs unseeded, in
    DigitClassifier's fast preset: alternating rounds, median fit seconds."""
    from digitnet import _net

    X, y, _, _ = data
    foreach = _net.optimizer_params

    def fused(est):
        cls, kwargs = foreach(est)
        return cls, {**kwargs, "optimizer__fused": True}

    variants = {
        "foreach Adam, seeded [digitnet]": (foreach, 0),
        "fused Adam, seeded": (fused, 0),
        "foreach Adam, unseeded (cuDNN free to choose)": (foreach, None),
    }
    times = {name: [] for name in variants}
    for r in range(rounds):
        names = list(variants) if r % 2 == 0 else list(reversed(variants))
        for name in names:
            _net.optimizer_params, seed = variants[name]
            t0 = time.perf_counter()
            DigitClassifier(**PRESETS["fast"], random_state=seed).fit(X, y)
            sync()
            times[name].append(time.perf_counter() - t0)
    _net.optimizer_params = foreach
    for name, t in times.items():
        record(
            "ab", {"variant": name, "median_fit_s": statistics.median(t), "fit_s": t}
        )


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _seconds(times):
    return ", ".join(f"{t:.2f}" for t in times)


def render(results):
    """Markdown for the "cuda" section of docs/benchmarks.md."""
    parts = []
    steps = [r for r in results.get("steps", []) if "ms_per_step" in r]
    if steps:
        rows = [
            (
                r["cnn"],
                r["variant"],
                f"{r['ms_per_step']:.2f}",
                f"{r['first_20_steps_s']:.2f}",
            )
            for r in steps
        ]
        parts.append(
            "### One training step in a plain loop (batch 128, MNIST)\n\n"
            "Median of 3 rounds of 200 steps; the loss is read back every step. "
            "The first 20 steps include compilation where there is any.\n\n"
            + _table(["module", "variant", "ms / step", "first 20 steps (s)"], rows)
        )
    if results.get("ab"):
        rows = [
            (
                r["variant"],
                f"{r['median_fit_s']:.2f}",
                _seconds(r["fit_s"]),
            )
            for r in results["ab"]
        ]
        parts.append(
            "### Inside DigitClassifier: the fast preset's whole fit\n\n"
            "Alternating rounds in one process; median.\n\n"
            + _table(["variant", "fit (s), median", "each round (s)"], rows)
        )
    if results.get("determinism"):
        rows = [
            (
                r.get("use_deterministic_algorithms"),
                r.get("identical_proba"),
                r.get("max_abs_diff"),
                _seconds(r.get("seeded_fit_s", [])),
                _seconds(r.get("unseeded_fit_s", [])),
            )
            for r in results["determinism"]
        ]
        parts.append(
            "### The same random_state twice (fast preset, fresh process)\n\n"
            + _table(
                [
                    "torch.use_deterministic_algorithms",
                    "identical probabilities",
                    "largest difference",
                    "seeded fits (s)",
                    "unseeded fits (s)",
                ],
                rows,
            )
        )
    batches = [r for r in results.get("predict", []) if "batch" in r]
    if batches:
        rows = [(r["model"], r["batch"], f"{r['images_per_s']:,.0f}") for r in batches]
        parts.append(
            "### predict on MNIST's 10,000 test images, by inference batch\n\n"
            "Median of 5 passes.\n\n"
            + _table(["model", "rows per batch", "images / s"], rows)
        )
    if results.get("cv"):
        rows = [
            (r["model"], f"{r['accuracy']:.4f}", f"{r['seconds']:.1f}")
            for r in results["cv"]
        ]
        parts.append(
            "### sklearn digits, 5-fold CV\n\n"
            + _table(["model", "accuracy", "wall time (s)"], rows)
        )
    return "\n\n".join(parts)


def write_doc(paths):
    results = {}
    for path in paths:
        results.update(json.loads(Path(path).read_text()))
    env = results.get("environment", "")
    text = f"## The CUDA path, measured (`benchmarks/gpu.py`)\n\n{env}\n\n" + render(
        results
    )
    write_section("cuda", text)


SECTIONS = ["steps", "fit", "predict", "determinism", "cv", "ab"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--determinism-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--doc", nargs="+", type=Path, help="write up saved results")
    args = parser.parse_args(argv)
    if args.doc:
        write_doc(args.doc)
        return
    if not torch.cuda.is_available():
        parser.error("no CUDA GPU is visible (torch.cuda.is_available() is False)")
    if args.determinism_child is not None:
        determinism_child(bool(args.determinism_child))
        return
    warm_up()
    from epoch_overhead import environment

    RESULTS["environment"] = environment()
    data = mnist()
    models = {}
    for section in args.only:
        print(f"== {section}", file=sys.stderr, flush=True)
        try:
            run_section(section, data, models)
        except Exception as exc:  # report, and go on with the next section
            record(section, {"error": repr(exc)[:1000]})
        if args.json:
            args.json.write_text(json.dumps(RESULTS, indent=1))


def run_section(section, data, models):
    if section == "steps":
        steps_section(data)
    elif section == "fit":
        models.update(fit_section(data))
    elif section == "predict":
        predict_section(data, models)
    elif section == "determinism":
        determinism_section()
    elif section == "cv":
        cv_section()
    elif section == "ab":
        ab_section(data)


if __name__ == "__main__":
    main()
