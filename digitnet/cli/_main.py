"""The ``digitnet`` command: train, evaluate, predict, read, export and serve.

A thin layer over the public API: :class:`~digitnet.DigitClassifier`,
:mod:`digitnet.datasets` and joblib.
"""

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

# Only what the parser needs is imported here, so that ``digitnet --help``
# and usage errors answer at once; each command imports torch, skorch,
# scikit-learn and the image wing when it runs.
from .._files import check_writable
from .._presets import PRESETS
from .._version import __version__
from ._model_files import add_model, add_trust_pickle
from ._per_file import add_images, add_min_confidence, run_per_file
from ._read import add_read

#: Said when ``digitnet serve`` starts with a model of sklearn's 8x8 digits.
SMALL_MODEL_NOTE = (
    "note: this model reads scikit-learn's 8x8 digits (what plain 'digitnet "
    "train' makes, for a quick check); drawings and photos are read far better "
    "by an MNIST model: digitnet train --dataset mnist --output mnist.dnet"
)
#: Exit status after Ctrl-C, as shells report SIGINT (128 + 2).
EXIT_INTERRUPTED = 130

#: Said at a Ctrl-C held back while the trained model is being saved.
SAVING_NOTE = (
    "Ctrl-C: saving the epochs completed first; the report will be skipped "
    "(Ctrl-\\ quits at once, without saving)"
)


def _load(dataset, data_home):
    """``(X_train, X_test, y_train, y_test)``: the data set's own fixed split.

    The test images never depend on ``--seed``, so ``evaluate`` never scores
    a model on images it was trained on.
    """
    from ..datasets import fetch_mnist, load_digits

    if dataset == "digits":
        X_train, y_train = load_digits(subset="train", return_X_y=True)
        X_test, y_test = load_digits(subset="test", return_X_y=True)
        return X_train, X_test, y_train, y_test
    X_train, y_train = fetch_mnist(subset="train", data_home=data_home, return_X_y=True)
    X_test, y_test = fetch_mnist(subset="test", data_home=data_home, return_X_y=True)
    return X_train, X_test, y_train, y_test


def _report(model, X_test, y_test, args, extra):
    import numpy as np

    from ._reports import evaluate, write_report

    result = evaluate(model, X_test, y_test)
    print(f"test accuracy: {result['accuracy']:.4f} ({len(y_test)} images)")
    print(result["report"])
    if args.report_dir:
        side = model.input_shape_[-1]
        images = np.asarray(X_test).reshape(len(X_test), -1, side)
        written, skipped = write_report(
            args.report_dir, result, images, y_test, model.history_, extra
        )
        print("report:", ", ".join(str(p) for p in written))
        if skipped:
            print(f"pictures skipped: {skipped}", file=sys.stderr)
    return result


def _train_params(args):
    from .._classifier import DigitClassifier

    # A validation split costs 10% of the training images and restores the best
    # epoch: worth it on MNIST (6,000 images), noise on digits' 1,347.
    validation = args.validation
    if validation is None:
        validation = args.dataset == "mnist"
    params = dict(PRESETS[args.preset]) if args.preset else {}
    if args.architecture and args.architecture != params.get("architecture"):
        params.pop("module_params", None)  # they shape the preset's network
    params.update(
        architecture=args.architecture or params.get("architecture", "auto"),
        device=args.device,
        random_state=args.seed,
        verbose=0 if args.quiet else 2,
        early_stopping=validation,
    )
    if args.epochs is not None:
        params["max_iter"] = args.epochs
    if validation:
        # Validation curves and the best epoch's weights, without stopping early.
        params["n_iter_no_change"] = params.get("max_iter", DigitClassifier().max_iter)
    if args.augment is not None:
        params["augment"] = args.augment
    return params


def _check_outputs(args):
    """Fail before training if the model or report could not be written."""
    if args.output:
        if args.output.suffix.lower() == ".onnx":
            raise ValueError(
                f"--output {args.output}: train writes a model file (.dnet, or a "
                "pickle by name); write ONNX from it with 'digitnet export'"
            )
        check_writable(args.output)
    if args.report_dir:
        check_writable(args.report_dir, folder=True)


def _fit(model, X, y):
    """Fit; ``(seconds, interrupted)``. Ctrl-C keeps what complete epochs gave."""
    from ..exceptions import TrainingInterruptedWarning

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrainingInterruptedWarning)
        model.fit(X, y)
    interrupted = False
    for warning in caught:
        if issubclass(warning.category, TrainingInterruptedWarning):
            interrupted = True
            print(f"interrupted: {warning.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return time.perf_counter() - start, interrupted


def _training_line(model, dataset, n_train, n_test):
    """``training cnn on mnist: 54000 images (+6000 for validation), ...``.

    The architecture is the one ``"auto"`` resolves to for the data set's
    images, and the validation images (``early_stopping``) are not counted as
    training ones.
    """
    from .._state import infer_geometry, resolve_architecture

    side = 8 if dataset == "digits" else 28
    architecture, _ = resolve_architecture(
        model.architecture, infer_geometry(side * side)
    )
    name = architecture if isinstance(architecture, str) else architecture.__name__
    n_valid = (
        math.ceil(model.validation_fraction * n_train) if model.early_stopping else 0
    )
    valid = f" (+{n_valid} for validation)" if n_valid else ""
    return (
        f"training {name} on {dataset}: {n_train - n_valid} images{valid}, "
        f"{n_test} held out for the test"
    )


def _train(args):
    from .._classifier import DigitClassifier
    from .._interrupts import StopThenHold
    from ._model_files import save_model_file

    _check_outputs(args)
    X_train, X_test, y_train, y_test = _load(args.dataset, args.data_home)
    params = _train_params(args)
    model = DigitClassifier(**params)
    print(
        _training_line(model, args.dataset, len(y_train), len(y_test)), file=sys.stderr
    )
    with StopThenHold(SAVING_NOTE) as ctrl_c:
        try:
            fit_seconds, interrupted = _fit(model, X_train, y_train)
        except KeyboardInterrupt:
            print(
                "interrupted before the first epoch finished: nothing to save",
                file=sys.stderr,
            )
            return EXIT_INTERRUPTED
        ctrl_c.hold()  # training is over: nothing may cut the save short
        print(f"fit: {model.n_iter_} epochs in {fit_seconds:.1f}s on {model.device_}")
        if args.output:
            save_model_file(model, args.output)
            print(f"model saved to {args.output}")
    if ctrl_c.held:
        print("interrupted again: the report was skipped", file=sys.stderr)
        return EXIT_INTERRUPTED
    extra = {
        "dataset": args.dataset,
        "fit_seconds": fit_seconds,
        "seed": args.seed,
        "architecture": str(model.architecture_),
        "device": model.device_,
        "interrupted": interrupted,
    }
    _report(model, X_test, y_test, args, extra)
    if interrupted:
        print(
            f"training was interrupted: the model and report above are from "
            f"{model.n_iter_} complete epoch(s)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return 0


def _geometry_dataset(model):
    side = model.input_shape_[-1]
    if model.input_shape_ == (1, 8, 8):
        return "digits"
    if model.input_shape_ == (1, 28, 28):
        return "mnist"
    raise ValueError(
        f"the model expects inputs of shape {model.input_shape_} ({side}); pass "
        "--dataset digits or mnist only for models trained on them"
    )


def _evaluate(args):
    from ._model_files import load_model_file

    model = load_model_file(args.model, trust_pickle=args.trust_pickle)
    dataset = args.dataset or _geometry_dataset(model)
    _, X_test, _, y_test = _load(dataset, args.data_home)
    _report(model, X_test, y_test, args, {"dataset": dataset, "model": str(args.model)})
    return 0


def _predict(args):
    from .._plain import builtin
    from ..images import preprocess_image
    from ._model_files import load_model_file

    model = load_model_file(args.model, trust_pickle=args.trust_pickle)
    if args.test_time_augment is not None:
        model.set_params(test_time_augment=args.test_time_augment)
    threshold = args.min_confidence

    def classify(path, source):
        features = preprocess_image(source, model.input_shape_)
        proba = model.predict_proba(features[None])[0]
        best = int(proba.argmax())
        label = builtin(model.classes_[best])
        result = {"label": label, "probability": float(proba[best])}
        doubt = ""
        if threshold is not None:
            result["flagged"] = bool(proba[best] < threshold)
            doubt = f"  uncertain (below {threshold:g})" if result["flagged"] else ""
        return result, f"{path}: {label} (p={proba[best]:.3f}){doubt}"

    return run_per_file(args.images, classify, as_json=args.json)


def _export(args):
    from ._model_files import load_model_file

    model = load_model_file(args.model, trust_pickle=args.trust_pickle)
    check_writable(args.output)
    model.to_onnx(args.output)
    print(
        f"wrote {args.output} (ONNX: inputs 'pixels', outputs 'label', 'probabilities')"
    )
    return 0


def _serve(args):
    from ..serve import create_app
    from ..serve._server import server_config
    from ._model_files import load_served_model

    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(
            "digitnet serve needs uvicorn; install the serve extra: "
            "pip install 'digitnet[serve]'"
        ) from exc
    model = load_served_model(args.model, trust_pickle=args.trust_pickle)
    if tuple(model.input_shape_)[1:] == (8, 8):
        print(SMALL_MODEL_NOTE, file=sys.stderr)
    app = create_app(
        model,
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        read_timeout=args.read_timeout,
    )
    print(
        f"serving {args.model} on http://{args.host}:{args.port}/ (Ctrl-C stops)",
        file=sys.stderr,
    )
    config = server_config(
        app, host=args.host, port=args.port, log_level=args.log_level
    )
    uvicorn.Server(config).run()
    return 0


def _data_args(p, default_dataset):
    shown = default_dataset or "the one of the model's input size: 8x8 digits or mnist"
    p.add_argument(
        "--dataset",
        choices=["digits", "mnist"],
        default=default_dataset,
        help=f"data set (default: {shown})",
    )
    p.add_argument(
        "--data-home",
        type=Path,
        default=None,
        help="data home holding mnist/ (default: $DIGITNET_DATA, else ~/digitnet_data)",
    )
    p.add_argument(
        "--report-dir",
        type=Path,
        default=Path("digitnet-report"),
        help="where metrics.json and the pictures go (default: %(default)s;"
        " '' for none)",
    )


def _add_train(sub):
    train = sub.add_parser("train", help="train a model and report on held-out data")
    _data_args(train, "digits")
    train.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed of the model (the held-out test images are fixed: "
        "MNIST's test set, or a fixed quarter of the digits; default: 0)",
    )
    train.add_argument(
        "--architecture",
        choices=["auto", "mlp", "cnn", "lenet5"],
        default=None,
        help="network (default: the preset's, else auto: a CNN for images)",
    )
    train.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="a named parameter set: fast (a small CNN, 2 epochs) or accurate "
        "(a deeper CNN, augmentation, 20 epochs, 15 test-time copies); other "
        "options override it "
        "(another --architecture leaves the preset's network shape out; "
        "default: none)",
    )
    train.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random affine transforms of the training batches; --augment also "
        "drops the accurate preset's elastic distortions and stroke widths "
        "(default: the preset's, else the estimator's 'auto': on for the CNN)",
    )
    train.add_argument(
        "--epochs", type=int, default=None, help="epochs (default: the estimator's)"
    )
    train.add_argument(
        "--device",
        default="auto",
        help="auto, cpu, cuda, cuda:N or mps (default: %(default)s: a GPU when "
        "there is one)",
    )
    train.add_argument(
        "--output",
        type=Path,
        default=Path("model.dnet"),
        help="where to save the model (default: %(default)s, the safe format; a "
        "name ending in .joblib or .pkl writes a pickle; '' for nowhere)",
    )
    train.add_argument(
        "--validation",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="hold out 10%% of the training images for validation curves and keep "
        "the best epoch (default: on for mnist, off for digits)",
    )
    train.add_argument(
        "--quiet", action="store_true", help="no progress display (default: shown)"
    )
    train.set_defaults(func=_train)


def _port(text):
    """``--port``: a TCP port, 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"expected a port number from 0 to 65535, not {text!r}"
        )
    return value


def _positive(what, largest):
    """An argparse type: a finite number in (0, largest]."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not 0 < value <= largest:  # NaN and inf fail too
            raise argparse.ArgumentTypeError(
                f"expected {what} above 0 and at most {largest:g}, not {text!r}"
            )
        return value

    return parse


def _copies(text):
    """``--test-time-augment``: a count of copies, 0 to the most allowed."""
    from .._augment import MAX_TEST_TIME_COPIES

    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_TEST_TIME_COPIES:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of copies from 0 to {MAX_TEST_TIME_COPIES}, "
            f"not {text!r}"
        )
    return value


def _add_evaluate(sub):
    ev = sub.add_parser("evaluate", help="metrics and pictures for a saved model")
    add_model(ev)
    _data_args(ev, None)
    add_trust_pickle(ev)
    ev.set_defaults(func=_evaluate)


def _add_predict(sub):
    pr = sub.add_parser("predict", help="classify image files (PNG, JPEG, ...)")
    add_model(pr)
    add_images(pr)
    add_trust_pickle(pr)
    pr.add_argument(
        "--json", action="store_true", help="machine-readable output (default: text)"
    )
    add_min_confidence(pr, "answers ('flagged' in JSON)")
    pr.add_argument(
        "--test-time-augment",
        type=_copies,
        default=None,
        metavar="K",
        help="average each image's probabilities with those of K slightly "
        "transformed copies (K+1 times slower; e.g. 15; default: the model's "
        "own test_time_augment)",
    )
    pr.set_defaults(func=_predict)


def _add_export(sub):
    ex = sub.add_parser("export", help="write a model as ONNX (needs digitnet[onnx])")
    ex.add_argument("model", type=Path, help="a model file (safe format or pickle)")
    ex.add_argument("output", type=Path, help="the ONNX file to write")
    add_trust_pickle(ex)
    ex.set_defaults(func=_export)


def _add_serve(sub):
    sv = sub.add_parser(
        "serve", help="serve a model over HTTP with a drawing page (digitnet[serve])"
    )
    sv.add_argument("model", type=Path, help="a safe model file or an .onnx file")
    sv.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    sv.add_argument("--port", type=_port, default=8000, help="default: %(default)s")
    sv.add_argument(
        "--max-upload-mb",
        type=_positive("a size in MB", 4096),
        default=10.0,
        help="largest request body in MB; larger ones get 413 (default: %(default)s)",
    )
    sv.add_argument(
        "--read-timeout",
        type=_positive("seconds", 3600),
        default=30.0,
        help="seconds a client may take to send a request body; slower ones get "
        "408 (default: %(default)s)",
    )
    add_trust_pickle(sv)
    sv.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn's log level (default: %(default)s)",
    )
    sv.set_defaults(func=_serve)


#: Examples shown at the end of each subcommand's ``--help``.
EXAMPLES = {
    "train": [
        "digitnet train                       # 8x8 digits: a quick check",
        "digitnet train --dataset mnist --output mnist.dnet   # for photos",
        "digitnet train --dataset mnist --preset accurate --output best.dnet",
    ],
    "evaluate": [
        "digitnet evaluate mnist.dnet",
        "digitnet evaluate mnist.dnet --report-dir report/",
    ],
    "predict": [
        "digitnet predict mnist.dnet digit.png scans/ --min-confidence 0.9",
        "cat digit.jpg | digitnet predict mnist.dnet - --json",
    ],
    "read": [
        "digitnet read mnist.dnet postcode.jpg          # 40?7  [check ...]",
        "digitnet read mnist.dnet sheet.jpg --json      # lines, numbers, digits",
    ],
    "export": ["digitnet export mnist.dnet mnist.onnx"],
    "serve": [
        "digitnet serve mnist.dnet                      # http://127.0.0.1:8000/",
        "digitnet serve mnist.onnx --host 0.0.0.0 --port 8080",
    ],
}


def _with_examples(sub):
    """Each subcommand's help ends with its :data:`EXAMPLES`."""
    for name, parser in sub.choices.items():
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        lines = "\n".join(f"  {line}" for line in EXAMPLES[name])
        parser.epilog = f"examples:\n{lines}"


def build_parser():
    """The argparse parser of the ``digitnet`` command."""
    parser = argparse.ArgumentParser(
        prog="digitnet",
        description="Handwritten-digit recognition with PyTorch and scikit-learn.",
    )
    parser.add_argument(
        "--version", action="version", version=f"digitnet {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_train(sub)
    _add_evaluate(sub)
    _add_predict(sub)
    add_read(sub)
    _add_export(sub)
    _add_serve(sub)
    _with_examples(sub)
    return parser


def main(argv=None):
    """Run the ``digitnet`` command; return its exit code.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``sys.argv[1:]`` when None. With none at all, ``train``
        runs on the bundled digits.

    Returns
    -------
    status : int
        0 on success, 1 when some image could not be classified, 2 on errors,
        130 after Ctrl-C (``train`` saves the epochs completed so far).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv or ["train"])
    if args.command is None:
        parser.print_help()
        return 2
    for name in ("output", "report_dir"):
        if getattr(args, name, None) == Path(""):
            setattr(args, name, None)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"digitnet {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (OSError, ValueError, ImportError) as exc:
        print(f"digitnet {args.command}: error: {exc}", file=sys.stderr)
        return 2
