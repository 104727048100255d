"""Per-epoch checkpoints: a killed training loses at most one epoch.

With ``checkpoint_dir`` set, ``checkpoint.pt`` there is rewritten atomically
after every epoch. It holds the module and optimizer state, the schedule's
position, the stopping rule, the history, the fitted input and every private
generator's state, so a new ``fit`` resumes exactly where the run stopped.

Which checkpoint is resumed (the rules the estimator documents):

* It must come from the same training parameters, compared by value
  (:func:`digitnet._plain.canonical`: a list equals a tuple of the same
  values, dicts compare in any key order). A ``RandomState`` counts by its
  state when ``fit`` starts, so a new ``RandomState(0)`` matches. Otherwise
  ``fit`` raises a ``ValueError`` naming the parameters that differ.
* It must come from the same data: a fingerprint of X, y and sample_weight.
  Other data is a ``ValueError``.
* A finished run is returned as it is when ``random_state`` is fixed (the
  result would be the same); with ``random_state=None`` every fit is a new
  random run, so a finished checkpoint is replaced by a fresh run.

Checkpoints are pickles (``torch.save``): resume only from your own.
"""

from pathlib import Path

import torch
from skorch.callbacks import Callback

from ._callbacks import schedule_state, stopping_state
from ._files import atomic_write
from ._plain import canonical

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = 2
#: Parameters that do not change what is trained.
_NEUTRAL = {"verbose", "warm_start", "checkpoint_dir", "device"}


def checkpoint_path(est):
    """Where ``est`` writes its checkpoint."""
    return Path(est.checkpoint_dir) / CHECKPOINT_NAME


def identity(est, data_fingerprint):
    """What a checkpoint must match to be resumed: parameters and data."""
    params = {
        k: canonical(v)
        for k, v in est.get_params(deep=False).items()
        if k not in _NEUTRAL
    }
    return {"params": params, "data": data_fingerprint}


class EpochCheckpoint(Callback):
    """Write the training state to ``path`` at the end of every epoch.

    Runs after the stopping rule, so the state it records is the one the rule
    has after seeing the epoch.
    """

    def __init__(self, path, identity, fitted_input, generators, epochs):
        self.path = path
        self.identity = identity
        self.fitted_input = fitted_input
        self.generators = generators
        self.epochs = epochs

    def on_epoch_end(self, net, **kwargs):
        stopping = stopping_state(net)
        done = len(net.history) >= self.epochs or bool(stopping and stopping["stop_"])
        state = {
            "format": CHECKPOINT_FORMAT,
            "identity": self.identity,
            "input": self.fitted_input.to_plain(),
            "module": net.module_.state_dict(),
            "optimizer": net.optimizer_.state_dict(),
            "schedule": schedule_state(net),
            "stopping": stopping,
            "history": net.history.to_list(),
            "generators": {k: g.get_state() for k, g in self.generators.items()},
            "epochs": self.epochs,
            "finished": done,
        }
        atomic_write(self.path, lambda f: torch.save(state, f))


def _differences(saved, current):
    names = sorted(set(saved) | set(current))
    return [k for k in names if saved.get(k) != current.get(k)]


def read_checkpoint(est, current, fresh_if_finished):
    """The checkpoint state to resume from, or None; a mismatch is an error.

    ``current``: :func:`identity` of this fit. ``fresh_if_finished``: a
    finished run is not resumed (``random_state=None``).
    """
    path = checkpoint_path(est)
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise ValueError(
            f"{path} is not a readable checkpoint ({exc}); remove it."
        ) from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        found = state.get("format") if isinstance(state, dict) else None
        raise ValueError(
            f"{path} has checkpoint format {found!r}, expected "
            f"{CHECKPOINT_FORMAT}; remove it to start afresh."
        )
    changed = _differences(state["identity"]["params"], current["params"])
    if changed:
        raise ValueError(
            f"{path} was written by a fit with other parameters ({', '.join(changed)} "
            "differ); remove it or choose another checkpoint_dir to start afresh."
        )
    if state["identity"]["data"] != current["data"]:
        raise ValueError(
            f"{path} was written by a fit on other data (X, y or sample_weight "
            "differ); remove it or choose another checkpoint_dir to train on this "
            "data."
        )
    if state["finished"] and fresh_if_finished:
        return None
    return state


def check_input(est, state, fitted_input):
    """The checkpoint's fitted input must be the one learned from this data."""
    saved, arrays = state["input"]
    description, current = fitted_input.to_plain()
    same = saved == description and all(
        (arrays[k] == current[k]).all() for k in current
    )
    if not same:
        raise ValueError(
            f"{checkpoint_path(est)} describes other inputs than this fit learned; "
            "remove it to start afresh."
        )


def restore_training(net, state, generators):
    """Load module, optimizer, history and generator states into ``net``.

    The schedule's and stopping rule's states travel in the callbacks built
    from the same checkpoint (:func:`digitnet._callbacks.build_callbacks`).
    """
    from skorch.history import History

    net.module_.load_state_dict(state["module"])
    net.optimizer_.load_state_dict(state["optimizer"])
    net.history_ = History(state["history"])
    for key, generator in generators.items():
        generator.set_state(state["generators"][key])
    net.max_epochs = max(0, state["epochs"] - len(net.history))
