"""Per-epoch checkpoints: a killed training loses at most one epoch.

With ``checkpoint_dir`` set, ``checkpoint.pt`` there is rewritten atomically
(temporary file + rename) after every epoch. It holds the module and optimizer
state, the learning-rate schedule's position, the history, the learned input
scaling and every random generator's state, so a new ``fit`` with the same
parameters resumes exactly where the run stopped. Checkpoints are pickles
(``torch.save``): resume only from your own.
"""

import os
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.history import History

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = 1
#: Parameters that do not change what is trained.
_NEUTRAL = {"verbose", "warm_start", "checkpoint_dir", "device"}
INPUT_STATE = [
    "classes_",
    "input_shape_",
    "architecture_",
    "input_mean_",
    "input_scale_",
    "input_range_",
    "n_features_in_",
]


def training_params(est):
    return {k: v for k, v in est.get_params(deep=False).items() if k not in _NEUTRAL}


def checkpoint_path(est):
    return Path(est.checkpoint_dir) / CHECKPOINT_NAME


class EpochCheckpoint(Callback):
    """Write the training state to ``path`` at the end of every epoch."""

    def __init__(self, path, params, input_state, generators, epochs):
        self.path = path
        self.params = params
        self.input_state = input_state
        self.generators = generators
        self.epochs = epochs

    def on_train_begin(self, net, **kwargs):
        self.first_epoch_ = len(net.history)

    def on_epoch_end(self, net, **kwargs):
        callbacks = dict(net.callbacks_)
        schedule = callbacks.get("lr_schedule")
        stopper = callbacks.get("stopping")
        state = {
            "format": CHECKPOINT_FORMAT,
            "params": self.params,
            "input_state": self.input_state,
            "module": net.module_.state_dict(),
            "optimizer": net.optimizer_.state_dict(),
            "schedule": None
            if schedule is None
            else schedule.lr_scheduler_.state_dict(),
            "history": net.history.to_list(),
            # The stopping rule runs after this callback: record its state as it
            # will be once it has seen this epoch.
            "stopping": None if stopper is None else _stopping_after(stopper, net),
            "rng": {
                "torch": torch.get_rng_state(),
                **{
                    k: g.get_state()
                    for k, g in self.generators.items()
                    if g is not None
                },
            },
            "epochs": self.epochs,
        }
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            torch.save(state, tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


_STOPPING_ATTRS = (
    "misses_",
    "dynamic_threshold_",
    "best_epoch_",
    "best_model_weights_",
)


def _stopping_after(stopper, net):
    """``stopper``'s state once its ``on_epoch_end`` has seen the last epoch."""
    state = {name: getattr(stopper, name, None) for name in _STOPPING_ATTRS}
    score = net.history[-1, stopper.monitor]
    if stopper._is_score_improved(score):
        state.update(
            misses_=0,
            dynamic_threshold_=stopper._calc_new_threshold(score),
            best_epoch_=net.history[-1, "epoch"],
        )
        if stopper.load_best:
            state["best_model_weights_"] = {
                k: v.detach().clone() for k, v in net.module_.state_dict().items()
            }
    else:
        state["misses_"] = stopper.misses_ + 1
    return state


class ResumeSchedule(Callback):
    """Put a fresh schedule (and stopping rule) back where the run stopped."""

    def __init__(self, schedule_state, param_groups, stopping_state=None):
        self.schedule_state = schedule_state
        self.param_groups = param_groups
        self.stopping_state = stopping_state

    def on_epoch_begin(self, net, **kwargs):
        # The stopping rule resets itself in on_train_begin; restore it after.
        if self.stopping_state is not None:
            stopper = dict(net.callbacks_)["stopping"]
            for name, value in self.stopping_state.items():
                setattr(stopper, name, value)
            self.stopping_state = None

    def on_train_begin(self, net, **kwargs):
        schedule = dict(net.callbacks_).get("lr_schedule")
        if schedule is not None and self.schedule_state is not None:
            schedule.lr_scheduler_.load_state_dict(self.schedule_state)
        for group, saved in zip(
            net.optimizer_.param_groups, self.param_groups, strict=True
        ):
            for key in ("lr", "betas", "momentum"):
                if key in saved:
                    group[key] = saved[key]


def read_checkpoint(est):
    """The checkpoint to resume from, or None; a mismatch is a clear error."""
    path = checkpoint_path(est)
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise ValueError(
            f"{path} is not a readable checkpoint ({exc}); remove it."
        ) from exc
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{path} has checkpoint format {state.get('format')!r}, "
            f"expected {CHECKPOINT_FORMAT}; remove it."
        )
    current = training_params(est)
    changed = sorted(
        k for k in current if repr(current[k]) != repr(state["params"].get(k))
    )
    if changed:
        raise ValueError(
            f"{path} was written by a fit with other parameters ({', '.join(changed)} "
            "differ); remove it or choose another checkpoint_dir to start afresh."
        )
    return state


def restore_input_state(est, state, y_classes, n_features):
    """Give ``est`` the checkpoint's input scaling, after checking it fits X, y."""
    saved = state["input_state"]
    if saved["n_features_in_"] != n_features or not np.array_equal(
        saved["classes_"], y_classes
    ):
        raise ValueError(
            f"{checkpoint_path(est)} was written for {saved['n_features_in_']} "
            f"features and classes {list(saved['classes_'])}, but X has "
            f"{n_features} features and y the classes {list(y_classes)}; remove it "
            "to start afresh."
        )
    for name, value in saved.items():
        setattr(est, name, value)


def restore_training(net, state, generators):
    """Load module, optimizer, history and generator states into ``net``.

    The schedule and stopping-rule states travel in the net's
    :class:`ResumeSchedule` callback, built from the same checkpoint.
    """
    net.module_.load_state_dict(state["module"])
    net.optimizer_.load_state_dict(state["optimizer"])
    net.history_ = History(state["history"])
    for key, generator in generators.items():
        if generator is not None and key in state["rng"]:
            generator.set_state(state["rng"][key])
    torch.set_rng_state(state["rng"]["torch"])
