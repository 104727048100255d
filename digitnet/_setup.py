"""Translate DigitClassifier parameters into skorch settings.

Optimizers, learning-rate schedules, stopping rules and devices: each helper
takes the estimator's parameters and returns what skorch expects.
"""

import re
import warnings

import torch
from skorch.callbacks import EarlyStopping, LRScheduler

_DEVICE_PATTERN = re.compile(r"(auto|cpu|mps|cuda(:\d+)?)")

#: Final learning rate of the "exponential" schedule, relative to the first.
EXPONENTIAL_FINAL_FRACTION = 0.01


def optimizer_params(est):
    """``(optimizer class, optimizer__* keyword arguments)`` for ``solver``."""
    if est.solver == "sgd":
        return torch.optim.SGD, {
            "optimizer__momentum": est.momentum,
            "optimizer__nesterov": bool(est.nesterovs_momentum and est.momentum > 0),
            "optimizer__weight_decay": est.alpha,
        }
    cls = torch.optim.AdamW if est.solver == "adamw" else torch.optim.Adam
    return cls, {
        "optimizer__betas": (est.beta_1, est.beta_2),
        "optimizer__eps": est.epsilon,
        "optimizer__weight_decay": est.alpha,
    }


def schedule_callbacks(est, n_batches, epochs, incremental=False):
    """skorch callbacks for ``learning_rate`` (the schedule) and stopping.

    Each ``fit`` runs its own schedule over ``epochs`` (``last_epoch=-1``
    stops skorch from resuming the step count of an earlier fit).
    ``incremental`` (``partial_fit``): a constant rate and no stopping rule.
    """
    if incremental:
        return []
    callbacks = []
    schedule = est.learning_rate
    total_steps = max(1, epochs * n_batches)
    if schedule == "one-cycle":
        callbacks.append(
            LRScheduler(
                policy=torch.optim.lr_scheduler.OneCycleLR,
                last_epoch=-1,
                max_lr=est.learning_rate_init,
                total_steps=total_steps,
                step_every="batch",
            )
        )
    elif schedule == "cosine":
        callbacks.append(
            LRScheduler(
                policy=torch.optim.lr_scheduler.CosineAnnealingLR,
                last_epoch=-1,
                T_max=total_steps,
                step_every="batch",
            )
        )
    elif schedule == "exponential":
        gamma = EXPONENTIAL_FINAL_FRACTION ** (1.0 / max(1, epochs))
        callbacks.append(
            LRScheduler(
                policy=torch.optim.lr_scheduler.ExponentialLR,
                last_epoch=-1,
                gamma=gamma,
                step_every="epoch",
            )
        )
    elif schedule == "adaptive":
        callbacks.append(
            LRScheduler(
                policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
                monitor="valid_loss" if est.early_stopping else "train_loss",
                factor=0.2,
                patience=1,
                threshold=est.tol,
                threshold_mode="abs",
                step_every="epoch",
            )
        )
    if est.early_stopping:
        stopper = EarlyStopping(
            monitor="valid_acc",
            lower_is_better=False,
            patience=est.n_iter_no_change,
            threshold=est.tol,
            threshold_mode="abs",
            load_best=True,
        )
    else:
        stopper = EarlyStopping(
            monitor="train_loss",
            patience=est.n_iter_no_change,
            threshold=est.tol,
            threshold_mode="abs",
        )
    callbacks.append(("stopping", stopper))
    return [cb if isinstance(cb, tuple) else ("lr_schedule", cb) for cb in callbacks]


def reset_learning_rate(optimizer, lr):
    """Start a new schedule from ``lr`` (used when a warm start continues)."""
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] = lr


def _check_device_string(device):
    if not isinstance(device, str) or not _DEVICE_PATTERN.fullmatch(device):
        raise ValueError(
            "The 'device' parameter of DigitClassifier must be 'auto', 'cpu', "
            f"'cuda', 'cuda:N' or 'mps'; got {device!r} instead."
        )


def _available(device):
    kind = torch.device(device).type
    if kind == "cuda":
        index = torch.device(device).index or 0
        return torch.cuda.is_available() and index < torch.cuda.device_count()
    if kind == "mps":
        return torch.backends.mps.is_available()
    return True


def resolve_device(device):
    """Concrete torch device string for the ``device`` parameter.

    ``"auto"`` picks CUDA when a GPU is visible and the CPU otherwise. An
    explicit device that this machine lacks raises a ``ValueError``.
    """
    _check_device_string(device)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not _available(device):
        raise ValueError(
            f"device={device!r} was requested but is not available on this machine "
            f"(torch {torch.__version__}, CUDA available: "
            f"{torch.cuda.is_available()}). Use device='auto' or device='cpu'."
        )
    return device


def device_on_load(device, fitted_device):
    """Device a model fitted on ``fitted_device`` runs on after unpickling.

    ``"auto"`` re-resolves on the loading machine; an explicit device that is
    missing there falls back to the CPU with a warning instead of failing.
    """
    if device == "auto":
        return resolve_device("auto")
    if _available(fitted_device):
        return fitted_device
    warnings.warn(
        f"This DigitClassifier was fitted with device={device!r}, which is not "
        "available on this machine; it runs on the CPU instead. Set device='auto' "
        "to choose the best device wherever the model is loaded.",
        UserWarning,
        stacklevel=3,
    )
    return "cpu"
