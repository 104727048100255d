"""The skorch net behind DigitClassifier, and the two ways to build one.

* :class:`TensorDataset` holds pre-materialised tensors (already scaled and on
  the training device) or, for prediction, a raw array prepared batch by batch.
* :class:`BatchIterator` replaces ``DataLoader``: it slices those tensors by
  index, so there is no per-sample ``__getitem__`` and no collate in the loop.
* :class:`Net` is skorch's ``NeuralNetClassifier`` with a sample-weighted loss,
  prediction under ``torch.inference_mode``, Ctrl-C rolled back to the last
  complete epoch, and pickles that hold CPU tensors.
* :func:`make_training_net` builds a net that trains; :func:`make_inference_net`
  one that only predicts (no optimizer, schedule or callbacks), for loading.
"""

import torch
import torch.nn.functional as F
from skorch import NeuralNetClassifier
from skorch.dataset import Dataset, unpack_data
from skorch.helper import predefined_split

from ._callbacks import (
    StopTraining,
    epoch_end,
    stop_requested,
    validation_accuracy,
)
from ._device import inference_batch_size
from ._interrupts import held_interrupts
from ._optim import optimizer_params
from ._skorch_compat import cpu_state

#: Inference batches are padded to at least this many rows: CPU kernels for
#: tiny batches round differently, and padding makes each sample's output
#: independent of how many samples are predicted together.
MIN_INFERENCE_ROWS = 16


class TensorDataset(Dataset):
    """Samples for skorch: ``X`` (and ``y``, ``sample_weight``) as tensors.

    ``prepare``, when given, turns a slice of ``X`` into the batch tensor
    (prediction keeps the caller's array and scales one batch at a time).
    """

    def __init__(self, X, y=None, sample_weight=None, prepare=None):
        super().__init__(X, y)
        self.sample_weight = sample_weight
        self.prepare = prepare


class BatchIterator:
    """Yield ``(X_batch, y_batch)`` slices of a :class:`TensorDataset`.

    With sample weights, ``y_batch`` is the pair ``(labels, weights)``.

    Parameters
    ----------
    dataset : TensorDataset
    batch_size : int
    shuffle : bool, default=False
        Visit samples in a fresh random order every epoch.
    generator : torch.Generator, default=None
        Source of the shuffling order (keeps the global RNG untouched).
    transform : callable, default=None
        Applied to each training batch of X (data augmentation).
    """

    def __init__(
        self, dataset, batch_size, shuffle=False, generator=None, transform=None
    ):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.transform = transform

    def _bounds(self):
        n, size = len(self.dataset), self.batch_size
        starts = list(range(0, n, size))
        if len(starts) > 1 and n - starts[-1] == 1:
            # A lone trailing sample joins the previous batch: batch norm
            # cannot train on a single value per channel.
            starts.pop()
        return list(zip(starts, [*starts[1:], n], strict=True))

    def __len__(self):
        return len(self._bounds())

    def __iter__(self):
        ds = self.dataset
        order = None
        if self.shuffle:
            order = torch.randperm(len(ds), generator=self.generator)
            if isinstance(ds.X, torch.Tensor):
                order = order.to(ds.X.device)
        for start, stop in self._bounds():
            idx = slice(start, stop) if order is None else order[start:stop]
            xb = ds.X[idx]
            if ds.prepare is not None:
                xb = ds.prepare(xb)
            if self.transform is not None:
                xb = self.transform(xb)
            yb = None if ds.y is None else ds.y[idx]
            if ds.sample_weight is not None:
                yb = (yb, ds.sample_weight[idx])
            yield xb, yb


class Net(NeuralNetClassifier):
    """``NeuralNetClassifier`` specialised for digitnet's tensors and devices."""

    def fit_loop(self, X, y=None, *args, **kwargs):
        """skorch's ``fit_loop``; a user's Ctrl-C rolls back the broken epoch.

        ``interrupted_`` is True after a Ctrl-C (a plain ``KeyboardInterrupt``),
        not after the stopping rule's :class:`~digitnet._callbacks.StopTraining`.
        The weights, optimizer state and history return to the last complete
        epoch; skorch's ``partial_fit`` then ends training as for a stop.
        """
        self.interrupted_ = False
        try:
            return super().fit_loop(X, y, *args, **kwargs)
        except StopTraining:
            raise
        except KeyboardInterrupt:
            self.interrupted_ = True
            with held_interrupts():  # a second Ctrl-C must not tear the roll-back
                epoch_end(self).roll_back(self)
            raise

    def notify(self, method_name, **cb_kwargs):
        """skorch's ``notify``; ends training once every callback has seen an
        epoch the stopping rule called the last."""
        super().notify(method_name, **cb_kwargs)
        if method_name == "on_epoch_end" and stop_requested(self):
            raise StopTraining

    def get_default_callbacks(self):
        """skorch's defaults, with a sample-weighted validation accuracy."""
        return [
            (name, validation_accuracy() if name == "valid_acc" else cb)
            for name, cb in super().get_default_callbacks()
        ]

    def initialize_optimizer(self, *args, **kwargs):
        """skorch's, except that an inference-only net (``optimizer=None``) has none."""
        if self.optimizer is None:
            return self
        return super().initialize_optimizer(*args, **kwargs)

    def infer(self, x, **fit_params):
        # Batches are tensors already on the right device.
        return self.module_(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if isinstance(y_true, (tuple, list)):
            labels, weights = y_true
            losses = F.cross_entropy(
                y_pred,
                labels,
                reduction="none",
                label_smoothing=self.criterion_.label_smoothing,
            )
            return (losses * weights).sum() / weights.sum()
        return self.criterion_(y_pred, y_true)

    def evaluation_step(self, batch, training=False):
        self.check_is_fitted()
        Xi, _ = unpack_data(batch)
        n = len(Xi)
        if n < MIN_INFERENCE_ROWS:
            Xi = torch.cat([Xi, Xi.new_zeros((MIN_INFERENCE_ROWS - n, *Xi.shape[1:]))])
        with torch.inference_mode():
            self.module_.train(training)
            return self.infer(Xi)[:n]

    def move_to(self, device):
        """Move module, criterion and optimizer state to ``device``."""
        self.device = device
        self.module_.to(device)
        self.criterion_.to(device)
        optimizer = getattr(self, "optimizer_", None)
        if optimizer is not None:
            # load_state_dict casts the optimizer state to its parameters' device.
            optimizer.load_state_dict(optimizer.state_dict())

    def __getstate__(self):
        if torch.device(self.device).type == "cpu":
            return super().__getstate__()
        # Tensors go into the pickle on the CPU, so it loads on any machine;
        # the owning estimator moves them back to an accelerator on load.
        return cpu_state(self)


def batch_size_for(est, n_train):
    """Minibatch size of ``est`` for ``n_train`` training samples."""
    size = min(128, n_train) if est.batch_size == "auto" else est.batch_size
    return max(1, min(size, n_train))


def make_training_net(
    est, module, *, n_train, epochs, valid_ds, iterator, callbacks, device
):
    """A skorch net that trains ``module`` with ``est``'s parameters.

    ``iterator``: keyword arguments of the training :class:`BatchIterator`
    (``generator``, ``transform``); ``callbacks`` from
    :func:`~digitnet._callbacks.build_callbacks`.
    """
    optimizer, optimizer_kwargs = optimizer_params(est)
    return Net(
        module=module,
        criterion=torch.nn.CrossEntropyLoss,
        criterion__label_smoothing=est.label_smoothing,
        optimizer=optimizer,
        lr=est.learning_rate_init,
        max_epochs=epochs,
        batch_size=batch_size_for(est, n_train),
        iterator_train=BatchIterator,
        iterator_valid=BatchIterator,
        iterator_train__shuffle=est.shuffle,
        **{f"iterator_train__{k}": v for k, v in iterator.items()},
        iterator_valid__batch_size=inference_batch_size(device),
        train_split=None if valid_ds is None else predefined_split(valid_ds),
        callbacks=callbacks,
        device=device,
        verbose=int(est.verbose == 1),
        **optimizer_kwargs,
    )


def make_inference_net(module, device="cpu"):
    """A net that only predicts with ``module``: no optimizer or callbacks."""
    net = Net(
        module=module,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=None,
        iterator_valid=BatchIterator,
        iterator_valid__batch_size=inference_batch_size(device),
        train_split=None,
        callbacks="disable",
        device=device,
    )
    return net.initialize()
