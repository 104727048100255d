"""How DigitClassifier trains: read the data, build the net, run it, report.

:func:`train` never modifies the estimator. It returns the fitted attributes,
which the estimator swaps in whole on success, so a failed ``fit``, warm start
or ``partial_fit`` leaves the estimator bitwise as it was. Every training call
builds a new net the same way; a warm start or ``partial_fit`` then copies the
previous net's weights, optimizer state and history into it, and a checkpoint
resume loads the saved ones.
"""

import copy
from dataclasses import dataclass
from numbers import Real

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data
from skorch.history import History

from . import _checkpoint as ckpt
from ._augment import check_augment, make_augmentation, resolve_augment
from ._callbacks import build_callbacks, epoch_end
from ._device import repeatable, resolve_device
from ._files import check_writable
from ._modules import build_fitted_module, check_layer_sizes, set_dropout_generator
from ._net import TensorDataset, batch_size_for, make_training_net
from ._optim import start_from
from ._plain import canonical, fingerprint
from ._state import FittedInput, check_finite, learn_classes, split_images

SEED_NAMES = ("init", "shuffle", "split", "augment", "dropout")
_SEED_MAX = np.iinfo(np.int32).max
#: Parameters that shape the module: a warm start must keep them.
MODULE_PARAMS = (
    "architecture",
    "hidden_layer_sizes",
    "activation",
    "dropout",
    "module_params",
)


@dataclass
class Rows:
    """Samples of one side of the split: pixels, encoded labels, weights."""

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray | None
    owned: bool  # X is a copy digitnet may scale in place


@dataclass
class Data:
    """Validated training data, split once, ready to become tensors."""

    train: Rows
    valid: Rows | None
    fitted_input: FittedInput


def train(est, X, y, sample_weight, *, continuing, incremental, classes=None):
    """Train ``est`` on ``X, y``; return the fitted attributes.

    ``continuing``: start from the fitted network (warm start, later
    ``partial_fit`` calls). ``incremental``: one epoch at a constant rate, no
    validation split, stopping rule or checkpoint (``partial_fit``).

    ``est`` is only read. Raises ``KeyboardInterrupt`` if Ctrl-C comes before
    any epoch of this call completed (there is nothing worth keeping then).
    """
    checkpointed = est.checkpoint_dir is not None and not (continuing or incremental)
    check_params(est, checkpointed)
    previous = est if continuing else None
    identity = None
    if checkpointed:
        identity = ckpt.identity(est, data_fingerprint(X, y, sample_weight))
    seeds = draw_seeds(est.random_state)
    data = read_data(
        est, X, y, sample_weight, previous, classes, seeds["split"], incremental
    )
    device = resolve_device(est.device)
    resume = None
    if identity is not None:
        fresh = est.random_state is None
        resume = ckpt.read_checkpoint(est, identity, fresh_if_finished=fresh)
        if resume is not None:
            ckpt.check_input(est, resume, data.fitted_input)
    fitted_input = data.fitted_input
    net, train_ds = build_net(
        est, data, seeds, device, incremental, previous, resume, identity
    )
    del data
    with repeatable(device, enabled=est.random_state is not None):
        net.partial_fit(train_ds, None)
    set_dropout_generator(net.module_, None)
    if net.interrupted_ and not epoch_end(net).completed_:
        raise KeyboardInterrupt  # no epoch completed: nothing worth keeping
    return fitted_attributes(net, device, fitted_input, est.early_stopping)


def data_fingerprint(X, y, sample_weight):
    """Fingerprint of the training data, for checkpoint identity."""
    arrays = [X, y, sample_weight]
    return fingerprint(*(None if a is None else np.asarray(a) for a in arrays))


def check_params(est, checkpointed):
    """What ``_parameter_constraints`` cannot express, checked before training."""
    arch = est.architecture
    if isinstance(arch, type) and not issubclass(arch, torch.nn.Module):
        raise ValueError(
            "The 'architecture' parameter of DigitClassifier must be 'auto', "
            "'mlp', 'cnn', 'lenet5' or a torch.nn.Module subclass; got the "
            f"class {arch.__name__} instead."
        )
    if est.hidden_layer_sizes is not None:
        check_layer_sizes(est.hidden_layer_sizes)
    check_class_weight(est.class_weight)
    check_augment(est.augment)
    if checkpointed:
        check_writable(est.checkpoint_dir, folder=True)


def check_class_weight(class_weight):
    """Class weights must be finite, non-negative and not all zero."""
    if not isinstance(class_weight, dict):
        return
    values = list(class_weight.values())
    ok = all(isinstance(v, Real) and not isinstance(v, bool) for v in values)
    if not ok or not all(np.isfinite(v) and v >= 0 for v in values):
        raise ValueError(
            "The 'class_weight' parameter of DigitClassifier must map classes to "
            f"finite, non-negative numbers; got {class_weight!r}."
        )
    if values and not any(values):
        raise ValueError(
            "The 'class_weight' parameter of DigitClassifier gives every class "
            f"weight 0 ({class_weight!r}); nothing would be learned."
        )


def draw_seeds(random_state):
    """One seed per random stream, drawn from ``random_state``."""
    rng = check_random_state(random_state)
    values = rng.randint(_SEED_MAX, size=len(SEED_NAMES))
    return dict(zip(SEED_NAMES, (int(v) for v in values), strict=True))


def _plain_labels(y):
    """pandas' nullable integer labels as NumPy ints (not floats)."""
    dtype = getattr(y, "dtype", None)
    numpy_dtype = getattr(dtype, "numpy_dtype", None)
    if numpy_dtype is not None and numpy_dtype.kind in "iub" and hasattr(y, "to_numpy"):
        if y.isna().any():
            raise ValueError("y holds missing labels (NA); drop those samples.")
        return y.to_numpy(dtype=numpy_dtype)
    return y


def encode_labels(y, previous, classes):
    """``(all classes, encoded y)``; a continued fit keeps its classes."""
    if previous is None:
        all_classes = learn_classes(y, classes)
        return all_classes, np.searchsorted(all_classes, y)
    fitted = previous.fitted_input_
    if classes is not None:
        named = learn_classes(classes)
        if not np.array_equal(named, fitted.classes):
            raise ValueError(
                f"classes={named.tolist()} differs from the classes of the first "
                f"partial_fit call, {fitted.classes.tolist()}."
            )
    return fitted.classes, fitted.encode(y)


def _split_rows(X, y_enc, weights, valid_idx, owned):
    """``(train, valid)`` :class:`Rows`; each row is copied at most once."""
    if valid_idx is None:
        return Rows(X, y_enc, weights, owned), None
    train = np.ones(len(X), bool)
    train[valid_idx] = False

    def rows(mask):
        return Rows(
            X[mask], y_enc[mask], None if weights is None else weights[mask], True
        )

    return rows(train), rows(~train)


def read_data(est, X, y, sample_weight, previous, classes, split_seed, incremental):
    """Validate ``X, y``, split them, and learn (or reuse) the fitted input."""
    X, image_shape = split_images(X)
    X_in = X
    scratch = copy.copy(est)  # validate_data records n_features_in_ on it
    X, y = validate_data(
        scratch,
        X,
        _plain_labels(y),
        reset=previous is None,
        dtype="numeric",
        ensure_all_finite=False,
    )
    check_finite(X)
    if previous is not None:
        previous.fitted_input_.check_images(image_shape)
    all_classes, y_enc = encode_labels(y, previous, classes)  # mixed types: error
    check_classification_targets(y)
    weights = sample_weights(est, X, y, sample_weight)
    owned = X.flags.owndata and not (
        isinstance(X_in, np.ndarray) and np.may_share_memory(X, X_in)
    )
    if weights is not None and (weights == 0).any():
        keep = weights > 0
        X, y_enc, weights, owned = X[keep], y_enc[keep], weights[keep], True
    valid_idx = split(est, y_enc, split_seed, incremental)
    train, valid = _split_rows(X, y_enc, weights, valid_idx, owned)
    if previous is not None:
        fitted = previous.fitted_input_
    else:
        fitted = FittedInput.learn(
            train.X,
            train.weights,
            classes=all_classes,
            image_shape=image_shape,
            architecture=est.architecture,
        ).with_feature_names(getattr(scratch, "feature_names_in_", None))
    return Data(train, valid, fitted)


def sample_weights(est, X, y, sample_weight):
    """Per-sample loss weights (None when uniform: the plain loss is faster)."""
    weights = None
    if sample_weight is not None:
        weights = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
    if est.class_weight is not None:
        cw = compute_sample_weight(est.class_weight, y)
        weights = cw if weights is None else weights * cw
    if weights is not None and not weights.any():
        raise ValueError(
            "sample_weight and class_weight give every sample weight 0; nothing "
            "would be learned."
        )
    if weights is not None and np.all(weights == weights[0]):
        return None
    return weights


def split(est, y_enc, seed, incremental=False):
    """Sorted validation row indices (``early_stopping``), or None."""
    n = len(y_enc)
    if not est.early_stopping or incremental:
        return None
    n_valid = int(np.ceil(est.validation_fraction * n))
    if n < 2 or n_valid >= n:
        raise ValueError(
            "early_stopping=True with validation_fraction="
            f"{est.validation_fraction} leaves no training sample out of {n}; "
            "use more data, a smaller validation_fraction or early_stopping=False."
        )
    counts = np.bincount(y_enc)
    n_classes = np.count_nonzero(counts)
    # Stratify when every class can appear on both sides of the split.
    stratifiable = (
        counts[counts > 0].min() >= 2 and min(n_valid, n - n_valid) >= n_classes
    )
    stratify = y_enc if stratifiable else None
    _, valid_idx = train_test_split(
        np.arange(n), test_size=n_valid, random_state=seed, stratify=stratify
    )
    return np.sort(valid_idx)


def _dataset(fitted_input, rows, device):
    tensor = fitted_input.to_tensor(rows.X, device, copy=not rows.owned)
    labels = torch.as_tensor(rows.y, dtype=torch.long).to(device)
    w = None
    if rows.weights is not None:
        w = torch.as_tensor(rows.weights, dtype=torch.float32).to(device)
    return TensorDataset(tensor, labels, w)


def datasets(data, device):
    """``(train, validation or None)`` datasets on ``device``."""
    valid = data.valid
    return (
        _dataset(data.fitted_input, data.train, device),
        None if valid is None else _dataset(data.fitted_input, valid, device),
    )


def generators(seeds, device):
    """The run's private random generators, seeded."""
    return {
        "shuffle": torch.Generator().manual_seed(seeds["shuffle"]),
        "augment": torch.Generator().manual_seed(seeds["augment"]),
        "dropout": torch.Generator(device=device).manual_seed(seeds["dropout"]),
    }


def module_spec(est):
    """The parameters that shape the module (a warm start must keep them)."""
    spec = {name: getattr(est, name) for name in MODULE_PARAMS}
    spec["module_params"] = spec["module_params"] or {}  # None is no extras
    return spec


def check_same_module(est, previous_net):
    """A warm start continues the fitted network: its shape may not change."""
    before = getattr(previous_net, "module_spec_", {})
    now = module_spec(est)
    changed = [
        f"{k} (fitted with {before[k]!r}, now {now[k]!r})"
        for k in now
        if k in before and canonical(before[k]) != canonical(now[k])
    ]
    if changed:
        raise ValueError(
            f"warm_start=True continues the fitted network, but {'; '.join(changed)} "
            "changed since it was fitted; set them back, or fit with "
            "warm_start=False to train a new network."
        )


def continue_from(net, previous_net, est):
    """Start ``net`` from ``previous_net``: weights, optimizer state, history."""
    check_same_module(est, previous_net)
    net.module_.load_state_dict(previous_net.module_.state_dict())
    start_from(net.optimizer_, getattr(previous_net, "optimizer_", None), est)
    net.history_ = History(copy.deepcopy(previous_net.history.to_list()))


def build_net(est, data, seeds, device, incremental, previous, resume, identity):
    """The initialized training net for this call, at its starting state."""
    train_ds, valid_ds = datasets(data, device)
    epochs = 1 if incremental else est.max_iter
    gens = generators(seeds, device)
    fitted = data.fitted_input
    module = build_fitted_module(est, fitted, seed=seeds["init"])
    check_output_width(module, fitted)
    set_dropout_generator(module, gens["dropout"])
    checkpoint = None
    if identity is not None:
        path = ckpt.checkpoint_path(est)
        checkpoint = ckpt.EpochCheckpoint(path, identity, fitted, gens, epochs)
    n_batches = -(-len(train_ds) // batch_size_for(est, len(train_ds)))
    callbacks = build_callbacks(
        est,
        n_batches=n_batches,
        epochs=epochs,
        incremental=incremental,
        checkpoint=checkpoint,
        resume=resume,
    )
    augment = resolve_augment(est.augment, fitted.architecture, incremental)
    transform = make_augmentation(augment, gens["augment"])
    iterator = {"generator": gens["shuffle"], "transform": transform}
    net = make_training_net(
        est,
        module,
        n_train=len(train_ds),
        epochs=epochs,
        valid_ds=valid_ds,
        iterator=iterator,
        callbacks=callbacks,
        device=device,
    )
    net.initialize()
    net.module_spec_ = module_spec(est)
    if previous is not None:
        continue_from(net, previous.net_, est)
    if resume is not None:
        ckpt.restore_training(net, resume, gens)
    return net, train_ds


def check_output_width(module, fitted):
    """The module must return one logit per class and sample (checked on two
    zero samples in eval mode, so batch norm works)."""
    module.eval()
    try:
        with torch.no_grad():
            out = module(torch.zeros(2, *fitted.input_shape))
    finally:
        module.train()
    expected = (2, len(fitted.classes))
    if tuple(out.shape) != expected:
        raise ValueError(
            f"The module returns outputs of shape {tuple(out.shape)[1:]} per "
            f"sample, but there are {len(fitted.classes)} classes; it must return "
            f"{len(fitted.classes)} logits per sample."
        )


#: Every fitted attribute :func:`fitted_attributes` sets (a swap replaces all).
FITTED_ATTRIBUTES = (
    "fitted_input_",
    "n_features_in_",
    "feature_names_in_",
    "net_",
    "device_",
    "history_",
    "n_iter_",
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
)


def history_attributes(history, early_stopping):
    """The MLPClassifier-style attributes derived from the epoch history."""
    rows = [
        {
            k: v.item() if isinstance(v, np.generic) else v
            for k, v in epoch.items()
            if k != "batches"
        }
        for epoch in history
    ]
    losses = [row["train_loss"] for row in rows]
    scores = [row.get("valid_acc") for row in rows]
    validated = early_stopping and rows and None not in scores
    return {
        "history_": rows,
        "n_iter_": len(rows),
        "loss_curve_": losses,
        "best_loss_": min(losses) if losses else None,
        "validation_scores_": scores if validated else None,
        "best_validation_score_": max(scores) if validated else None,
    }


def fitted_attributes(net, device, fitted_input, early_stopping):
    """All fitted attributes of a trained ``net`` (see ``FITTED_ATTRIBUTES``)."""
    attrs = {
        "fitted_input_": fitted_input,
        "n_features_in_": fitted_input.n_features_in,
        "net_": net,
        "device_": device,
        **history_attributes(net.history, early_stopping),
    }
    if fitted_input.feature_names_in is not None:
        attrs["feature_names_in_"] = fitted_input.feature_names_in
    return attrs
