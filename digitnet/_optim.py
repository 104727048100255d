"""Optimizers and learning-rate schedules: one table each.

``SOLVERS`` maps the ``solver`` parameter to a torch optimizer and the
estimator parameters it takes; ``SCHEDULES`` maps ``learning_rate`` to the
skorch ``LRScheduler`` that runs it (None: a constant rate).
"""

import copy

import torch
from skorch.callbacks import LRScheduler

#: Final learning rate of the "exponential" schedule, relative to the first.
EXPONENTIAL_FINAL_FRACTION = 0.01


def _adam(est):
    return {
        "betas": (est.beta_1, est.beta_2),
        "eps": est.epsilon,
        "weight_decay": est.alpha,
    }


#: solver -> (optimizer class, function of the estimator giving its kwargs).
SOLVERS = {
    "adam": (torch.optim.Adam, _adam),
    "adamw": (torch.optim.AdamW, _adam),
    "sgd": (
        torch.optim.SGD,
        lambda est: {
            "momentum": est.momentum,
            "nesterov": bool(est.nesterovs_momentum and est.momentum > 0),
            "weight_decay": est.alpha,
        },
    ),
}


def optimizer_params(est):
    """``(optimizer class, optimizer__* keyword arguments)`` for ``solver``."""
    cls, kwargs = SOLVERS[est.solver]
    return cls, {f"optimizer__{k}": v for k, v in kwargs(est).items()}


def _one_cycle(est, total_steps, epochs):
    return LRScheduler(
        policy=torch.optim.lr_scheduler.OneCycleLR,
        last_epoch=-1,
        max_lr=est.learning_rate_init,
        total_steps=total_steps,
        step_every="batch",
    )


def _cosine(est, total_steps, epochs):
    return LRScheduler(
        policy=torch.optim.lr_scheduler.CosineAnnealingLR,
        last_epoch=-1,
        T_max=total_steps,
        step_every="batch",
    )


def _exponential(est, total_steps, epochs):
    return LRScheduler(
        policy=torch.optim.lr_scheduler.ExponentialLR,
        last_epoch=-1,
        gamma=EXPONENTIAL_FINAL_FRACTION ** (1.0 / max(1, epochs)),
        step_every="epoch",
    )


def _adaptive(est, total_steps, epochs):
    return LRScheduler(
        policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
        monitor="valid_loss" if est.early_stopping else "train_loss",
        factor=0.2,
        patience=1,
        threshold=est.tol,
        threshold_mode="abs",
        step_every="epoch",
    )


#: learning_rate -> factory(est, total_steps, epochs) of the skorch callback.
SCHEDULES = {
    "one-cycle": _one_cycle,
    "cosine": _cosine,
    "exponential": _exponential,
    "adaptive": _adaptive,
    "constant": None,
}


def schedule_callback(est, n_batches, epochs, incremental=False):
    """The ``LRScheduler`` for ``learning_rate`` over ``epochs``, or None.

    Each ``fit`` runs its own schedule (``last_epoch=-1``); ``incremental``
    (``partial_fit``) keeps the constant ``learning_rate_init``.
    """
    factory = None if incremental else SCHEDULES[est.learning_rate]
    if factory is None:
        return None
    return factory(est, max(1, epochs * n_batches), epochs)


def start_from(optimizer, previous, est):
    """Give ``optimizer`` the per-parameter state of ``previous`` (warm start).

    The hyper-parameters (learning rate, betas, momentum, weight decay) stay
    those of the current parameters, so a new schedule starts from
    ``learning_rate_init``. State is carried only between optimizers of the same
    class (a changed ``solver`` starts fresh).
    """
    if previous is None or type(previous) is not type(optimizer):
        return
    state = optimizer.state_dict()
    # load_state_dict keeps tensors that need no cast: copy, never share.
    state["state"] = copy.deepcopy(previous.state_dict()["state"])
    optimizer.load_state_dict(state)
    for group in optimizer.param_groups:
        group["initial_lr"] = group["lr"]
