"""How DigitClassifier trains: data preparation, the skorch net, fitted state.

Functions take the estimator (``est``) and read its parameters; ``fit_estimator``
sets its fitted attributes.
"""

import warnings

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data
from skorch.helper import predefined_split

from ._augment import make_augmentation
from ._checkpoint import (
    INPUT_STATE,
    EpochCheckpoint,
    ResumeSchedule,
    checkpoint_path,
    read_checkpoint,
    restore_input_state,
    restore_training,
    training_params,
)
from ._input import (
    fit_scaling,
    infer_geometry,
    row_chunks,
    split_images,
    to_tensor,
)
from ._networks import build_module, resolve_architecture
from ._progress import ProgressBar, TrainAccuracy
from ._setup import (
    optimizer_params,
    reset_learning_rate,
    resolve_device,
    schedule_callbacks,
)
from ._training import BatchIterator, Net, TensorDataset
from .exceptions import TrainingInterruptedWarning

#: Inference batch sizes. On the CPU, 256 rows measured fastest for the default
#: CNN on MNIST-sized images (``benchmarks/predict_batch_size.py``: cache-sized
#: batches); accelerators gain from large batches (not measured here yet).
PREDICT_BATCH_SIZE = {"cpu": 256, "accelerator": 2048}
_SEED_MAX = np.iinfo(np.int32).max


def _inference_batch_size(device):
    return PREDICT_BATCH_SIZE["cpu" if device == "cpu" else "accelerator"]


def place(net, device):
    """Move a trained net to ``device``, with that device's inference batches."""
    if net.device != device:
        net.move_to(device)
    net.iterator_valid__batch_size = _inference_batch_size(device)


def check_images(est, image_shape):
    """Images passed after fitting must have the fitted shape."""
    if image_shape is not None and image_shape != est.input_shape_:
        raise ValueError(
            f"X holds images of shape {tuple(image_shape)}, but "
            f"{type(est).__name__} was fitted on inputs of shape "
            f"{tuple(est.input_shape_)}."
        )


def check_pixel_range(est, X):
    """Warn when many image pixels lie well outside the range seen in ``fit``.

    Catches inputs scaled differently from the training data (0-255 pixels for
    a model trained on 0-16, negative values), which would otherwise give
    confident nonsense. A few outliers (e.g. from a per-feature scaler upstream)
    do not warn: more than 1% of the values must be out of range.
    """
    if getattr(est, "input_range_", None) is None or X.size == 0:
        return
    low, high = est.input_range_
    margin = 0.05 * max(high - low, np.finfo(np.float64).tiny)
    outside = sum(
        np.count_nonzero((low - margin > chunk) | (high + margin < chunk))
        for chunk in row_chunks(X)
    )
    if outside > 0.01 * X.size:
        warnings.warn(
            f"{outside / X.size:.0%} of the pixel values in X lie outside "
            f"[{low:g}, {high:g}], the range {type(est).__name__} was trained on "
            f"(X holds [{float(X.min()):g}, {float(X.max()):g}]); scale X like the "
            "training data (e.g. 0-255 vs 0-16 vs 0-1 pixels).",
            UserWarning,
            stacklevel=4,
        )


def check_architecture(est):
    arch = est.architecture
    if isinstance(arch, type) and not issubclass(arch, torch.nn.Module):
        raise ValueError(
            "The 'architecture' parameter of DigitClassifier must be 'auto', "
            "'mlp', 'cnn', 'lenet5' or a torch.nn.Module subclass; got the "
            f"class {arch.__name__} instead."
        )


def fit_estimator(est, X, y, sample_weight, **kwargs):
    """Validate, prepare and train; set ``est``'s fitted attributes.

    If anything fails, ``est`` is left exactly as it was: a fitted model stays
    usable after a bad ``fit`` call.
    """
    before = dict(vars(est))
    try:
        return _fit(est, X, y, sample_weight, **kwargs)
    except BaseException:
        vars(est).clear()
        vars(est).update(before)
        raise


def _fit(est, X, y, sample_weight, *, continuing, classes=None, incremental=False):
    """``incremental`` (``partial_fit``): one epoch at the constant
    ``learning_rate_init``, no validation split; ``classes`` names every class
    on the first call.
    """
    check_architecture(est)
    X, image_shape = split_images(X)
    X_in = X
    X, y = validate_data(est, X, y, reset=not continuing, dtype="numeric")
    check_classification_targets(y)
    if continuing:
        check_images(est, image_shape)
        if classes is not None and not np.array_equal(np.unique(classes), est.classes_):
            raise ValueError(
                f"classes={np.unique(classes).tolist()} differs from the classes of "
                f"the first partial_fit call, {est.classes_.tolist()}."
            )
        y_enc = encode(est, y)
    else:
        if classes is not None:
            classes = np.unique(classes)
            unseen = np.setdiff1d(y, classes)
            if unseen.size:
                raise ValueError(
                    f"y contains classes {unseen.tolist()} that are not in "
                    f"classes={classes.tolist()}."
                )
            y_enc = np.searchsorted(classes, y)
        else:
            classes, y_enc = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                "DigitClassifier needs samples of at least 2 classes in y, but "
                f"y contains only one class: {classes[0]}."
            )
        est.classes_ = classes
        geometry = infer_geometry(X.shape[1], image_shape)
        est.architecture_, est.input_shape_ = resolve_architecture(
            est.architecture, geometry
        )
    weights = sample_weights(est, X, y, sample_weight)
    device = resolve_device(est.device)
    rng = check_random_state(est.random_state)
    init_seed, shuffle_seed, split_seed, augment_seed = rng.randint(_SEED_MAX, size=4)

    owned = X.flags.owndata and not (
        isinstance(X_in, np.ndarray) and np.may_share_memory(X, X_in)
    )
    if weights is not None and (weights == 0).any():
        keep = weights > 0
        X, y_enc, weights, owned = X[keep], y_enc[keep], weights[keep], True
    train_idx, valid_idx = split(est, y_enc, split_seed, incremental)
    if valid_idx is not None:
        X_valid, X, owned = X[valid_idx], X[train_idx], True
    if not continuing:
        w_train = np.ones(len(X)) if weights is None else weights[train_idx]
        est.input_mean_, est.input_scale_ = fit_scaling(
            X, w_train, per_feature=len(geometry) == 1
        )
        est.input_range_ = (
            None if len(geometry) == 1 else (float(X.min()), float(X.max()))
        )
    saved = None
    if est.checkpoint_dir is not None and not continuing and not incremental:
        saved = read_checkpoint(est)
        if saved is not None:
            restore_input_state(est, saved, est.classes_, est.n_features_in_)
    train_ds = dataset(est, X, y_enc[train_idx], weights, train_idx, device, owned)
    valid_ds = None
    if valid_idx is not None:
        valid_ds = dataset(
            est, X_valid, y_enc[valid_idx], weights, valid_idx, device, True
        )
    del X
    epochs = 1 if incremental else est.max_iter
    generator = torch.Generator().manual_seed(int(shuffle_seed))
    transform = make_augmentation(
        est.augment, torch.Generator().manual_seed(int(augment_seed))
    )
    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(init_seed))
        if continuing:
            net = est.net_
            place(net, device)
            n_batches = len(BatchIterator(train_ds, net.batch_size))
            # skorch reads iterator_* settings from the attributes.
            net.iterator_train__generator = generator
            net.iterator_train__transform = transform
            reset_learning_rate(net.optimizer_, est.learning_rate_init)
            net.set_params(
                max_epochs=epochs,
                train_split=None if valid_ds is None else predefined_split(valid_ds),
            )
            # skorch's set_params(callbacks=...) initializes before it stores the
            # new list; set and initialize explicitly so the new schedule is used.
            net.callbacks = training_callbacks(est, n_batches, epochs, incremental)
            net.initialize_callbacks()
        else:
            generators = {
                "shuffle": generator,
                "augment": None if transform is None else transform.generator,
            }
            checkpoint = resume = None
            if est.checkpoint_dir is not None and not incremental:
                checkpoint = EpochCheckpoint(
                    checkpoint_path(est),
                    training_params(est),
                    {name: getattr(est, name) for name in INPUT_STATE},
                    generators,
                    epochs,
                )
            if saved is not None:
                resume = ResumeSchedule(
                    saved["schedule"],
                    saved["optimizer"]["param_groups"],
                    saved["stopping"],
                )
            net = make_net(
                est,
                len(train_ds),
                valid_ds,
                generator,
                transform,
                device,
                incremental,
                checkpoint=checkpoint,
                resume=resume,
            )
            net.initialize()
            if saved is not None:
                restore_training(net, saved, generators)
                net.max_epochs = max(0, epochs - len(net.history))
        epochs_before = len(net.history)
        net.partial_fit(train_ds, None)
    record(est, net, device)
    if net.interrupted_:
        done = len(net.history) - epochs_before
        kept = "the best validation epoch" if valid_ds is not None else "the last epoch"
        warnings.warn(
            f"Training interrupted after {done} of {epochs} epoch(s); the model "
            f"keeps the weights of {kept} and is ready to use (n_iter_="
            f"{est.n_iter_}). Call fit with warm_start=True to continue.",
            TrainingInterruptedWarning,
            stacklevel=3,
        )
    return est


def encode(est, y):
    unseen = np.setdiff1d(y, est.classes_)
    if unseen.size:
        raise ValueError(
            f"y contains classes {unseen.tolist()} that were not seen in the "
            f"first fit; expected a subset of {est.classes_.tolist()}."
        )
    return np.searchsorted(est.classes_, y)


def sample_weights(est, X, y, sample_weight):
    weights = None
    if sample_weight is not None:
        weights = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
    if est.class_weight is not None:
        cw = compute_sample_weight(est.class_weight, y)
        weights = cw if weights is None else weights * cw
    if weights is not None and np.all(weights == weights[0]):
        return None  # uniform weights: the plain (faster) loss is the same
    return weights


def split(est, y_enc, seed, incremental=False):
    n = len(y_enc)
    if not est.early_stopping or incremental:
        return np.arange(n), None
    n_valid = int(np.ceil(est.validation_fraction * n))
    if n < 2 or n_valid >= n:
        raise ValueError(
            "early_stopping=True with validation_fraction="
            f"{est.validation_fraction} leaves no training sample out of {n}; "
            "use more data, a smaller validation_fraction or early_stopping=False."
        )
    counts = np.bincount(y_enc)
    stratify = (
        y_enc if counts[counts > 0].min() >= 2 and n_valid >= len(counts) else None
    )
    train_idx, valid_idx = train_test_split(
        np.arange(n), test_size=n_valid, random_state=seed, stratify=stratify
    )
    return np.sort(train_idx), np.sort(valid_idx)


def dataset(est, X, y_enc, weights, idx, device, owned):
    tensor = to_tensor(
        X,
        est.input_mean_,
        est.input_scale_,
        est.input_shape_,
        device,
        copy=not owned,
    )
    w = None if weights is None else torch.as_tensor(weights[idx], dtype=torch.float32)
    return TensorDataset(
        tensor,
        torch.as_tensor(y_enc, dtype=torch.long).to(device),
        None if w is None else w.to(device),
    )


def training_callbacks(
    est, n_batches, epochs, incremental, checkpoint=None, resume=None
):
    """All callbacks in order; the stopping rule last, as it may end an epoch."""
    scheduled = schedule_callbacks(est, n_batches, epochs, incremental)
    stopping = [cb for cb in scheduled if cb[0] == "stopping"]
    return [
        *reporting_callbacks(est),
        *[cb for cb in scheduled if cb[0] != "stopping"],
        *([("resume_schedule", resume)] if resume is not None else []),
        *([("checkpoint", checkpoint)] if checkpoint is not None else []),
        *stopping,
    ]


def reporting_callbacks(est):
    # Before the stopping rule, which may end training at an epoch's end.
    callbacks = [("train_acc", TrainAccuracy())]
    if est.verbose >= 2:
        callbacks.append(("progress", ProgressBar()))
    return callbacks


def build_fitted_module(est):
    """A fresh module for ``est``'s fitted geometry and classes."""
    return build_module(
        est.architecture_,
        input_shape=est.input_shape_,
        n_classes=len(est.classes_),
        hidden_layer_sizes=est.hidden_layer_sizes,
        activation=est.activation,
        dropout=est.dropout,
        module_params=est.module_params,
    )


def make_net(
    est,
    n_train,
    valid_ds,
    generator,
    transform,
    device,
    incremental,
    module=None,
    checkpoint=None,
    resume=None,
):
    """The skorch net for ``est`` (``module`` built from ``est`` when None)."""
    epochs = 1 if incremental else est.max_iter
    batch_size = min(128, n_train) if est.batch_size == "auto" else est.batch_size
    batch_size = min(batch_size, n_train)
    if module is None:
        module = build_fitted_module(est)
    optimizer, optimizer_kwargs = optimizer_params(est)
    n_batches = -(-n_train // batch_size)
    return Net(
        module=module,
        criterion=torch.nn.CrossEntropyLoss,
        criterion__label_smoothing=est.label_smoothing,
        optimizer=optimizer,
        lr=est.learning_rate_init,
        max_epochs=epochs,
        batch_size=batch_size,
        iterator_train=BatchIterator,
        iterator_valid=BatchIterator,
        iterator_train__shuffle=est.shuffle,
        iterator_train__generator=generator,
        iterator_train__transform=transform,
        iterator_valid__batch_size=_inference_batch_size(device),
        train_split=None if valid_ds is None else predefined_split(valid_ds),
        callbacks=training_callbacks(
            est,
            n_batches,
            epochs,
            incremental,
            checkpoint,
            resume,
        ),
        device=device,
        verbose=int(est.verbose == 1),
        **optimizer_kwargs,
    )


def record(est, net, device):
    est.net_ = net
    est.device_ = device
    est.history_ = [
        {
            key: value.item() if isinstance(value, np.generic) else value
            for key, value in epoch.items()
            if key != "batches"
        }
        for epoch in net.history
    ]
    est.n_iter_ = len(est.history_)
    est.loss_curve_ = [epoch["train_loss"] for epoch in est.history_]
    est.best_loss_ = min(est.loss_curve_)
    scores = [epoch.get("valid_acc") for epoch in est.history_]
    if est.early_stopping and None not in scores:
        est.validation_scores_ = scores
        est.best_validation_score_ = max(scores)
    else:
        est.validation_scores_ = None
        est.best_validation_score_ = None


# -------------------------------------------------------------- predict
