"""Evaluation reports: metrics.json and pictures of what a model does."""

import io
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix

from .._files import atomic_write, atomic_write_text

PLOTS_HINT = "install the plotting extra: pip install 'digitnet[plots]'"


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(f"Pictures need matplotlib; {PLOTS_HINT}") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save_figure(fig, path):
    """Render ``fig`` as a PNG and write it atomically; close it either way."""
    plt = _pyplot()
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
    finally:
        plt.close(fig)
    atomic_write(path, lambda f: f.write(buffer.getvalue()))


def evaluate(model, X, y):
    """Predictions and metrics of ``model`` on ``(X, y)``.

    Returns
    -------
    result : dict
        ``accuracy``, ``report`` (classification report text),
        ``metrics`` (JSON-ready dict), ``proba`` and ``pred`` arrays.
    """
    proba = model.predict_proba(X)
    pred = model.classes_[proba.argmax(axis=1)]
    labels = [str(c) for c in model.classes_]
    metrics = {
        "accuracy": float(accuracy_score(y, pred)),
        "n_samples": len(y),
        "classes": labels,
        "confusion_matrix": confusion_matrix(y, pred, labels=model.classes_).tolist(),
        "per_class": classification_report(
            y,
            pred,
            labels=model.classes_,
            target_names=labels,
            output_dict=True,
            zero_division=0,
        ),
    }
    report = classification_report(
        y, pred, labels=model.classes_, target_names=labels, digits=4, zero_division=0
    )
    return {
        "accuracy": metrics["accuracy"],
        "report": report,
        "metrics": metrics,
        "proba": proba,
        "pred": pred,
    }


def plot_confusion_matrix(metrics, path):
    """Confusion matrix (counts) as a PNG."""
    plt = _pyplot()
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    display = ConfusionMatrixDisplay(
        np.asarray(metrics["confusion_matrix"]), display_labels=metrics["classes"]
    )
    display.plot(ax=ax, cmap="Blues", colorbar=False, values_format="d")
    ax.set_title(f"Confusion matrix (accuracy {metrics['accuracy']:.4f})")
    fig.tight_layout()
    _save_figure(fig, path)


def plot_learning_curves(history, path):
    """Loss and accuracy per epoch, training and validation, as a PNG."""
    plt = _pyplot()
    epochs = [row["epoch"] for row in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label, ax in [
        ("train_loss", "train", ax_loss),
        ("valid_loss", "validation", ax_loss),
        ("train_acc", "train", ax_acc),
        ("valid_acc", "validation", ax_acc),
    ]:
        values = [row.get(key) for row in history]
        if all(v is not None for v in values):
            ax.plot(epochs, values, marker="o", label=label)
    ax_loss.set(title="Loss", xlabel="epoch", ylabel="cross-entropy")
    ax_acc.set(title="Accuracy", xlabel="epoch", ylabel="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    _save_figure(fig, path)


def plot_misclassified(images, y_true, pred, proba, path, n=25):
    """The ``n`` most confidently misclassified images, with true/predicted labels."""
    plt = _pyplot()
    wrong = np.flatnonzero(np.asarray(y_true) != np.asarray(pred))
    order = wrong[np.argsort(-proba[wrong].max(axis=1))][:n]
    cols = 5
    rows = max(1, int(np.ceil(len(order) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.8, rows * 2.0))
    for ax in np.ravel(axes):
        ax.axis("off")
    for ax, i in zip(np.ravel(axes), order, strict=False):
        ax.imshow(images[i], cmap="gray_r")
        ax.set_title(
            f"true {y_true[i]} / pred {pred[i]}\np={proba[i].max():.2f}", fontsize=8
        )
    if not len(order):
        fig.suptitle("No misclassified images")
    else:
        fig.suptitle(f"{len(order)} most confident mistakes of {len(wrong)}")
    fig.tight_layout()
    _save_figure(fig, path)


def write_report(report_dir, result, images, y_true, history, extra=None):
    """Write metrics.json and the pictures into ``report_dir``.

    Pictures are skipped, with the reason returned, when matplotlib is missing.

    Returns
    -------
    written : list of pathlib.Path
    skipped : str or None
    """
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    metrics = {**result["metrics"], **(extra or {}), "history": history}
    metrics_path = report_dir / "metrics.json"
    atomic_write_text(metrics_path, json.dumps(metrics, indent=2) + "\n")
    written = [metrics_path]
    try:
        _pyplot()
    except ImportError as exc:
        return written, str(exc)
    plot_confusion_matrix(result["metrics"], report_dir / "confusion_matrix.png")
    written.append(report_dir / "confusion_matrix.png")
    if history:
        plot_learning_curves(history, report_dir / "learning_curves.png")
        written.append(report_dir / "learning_curves.png")
    plot_misclassified(
        images,
        y_true,
        result["pred"],
        result["proba"],
        report_dir / "misclassified.png",
    )
    written.append(report_dir / "misclassified.png")
    return written, None
