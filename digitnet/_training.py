"""The skorch machinery behind DigitClassifier.

* :class:`TensorDataset` holds pre-materialised tensors (already scaled and on
  the training device) or, for prediction, a raw array prepared batch by batch.
* :class:`BatchIterator` replaces ``DataLoader``: it slices those tensors by
  index, so there is no per-sample ``__getitem__`` and no collate in the loop.
* :class:`Net` is skorch's ``NeuralNetClassifier`` with a sample-weighted loss,
  prediction under ``torch.inference_mode`` and pickles that hold CPU tensors.
"""

import io
import pickle
import tempfile

import torch
import torch.nn.functional as F
from skorch import NeuralNetClassifier
from skorch.dataset import Dataset, unpack_data

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
        """skorch's ``fit_loop``, telling a user's Ctrl-C from early stopping.

        skorch stops training by raising ``KeyboardInterrupt`` both for a
        stopping rule and for Ctrl-C, and ``partial_fit`` swallows it (then runs
        ``on_train_end``, which restores the best weights with early stopping).
        ``interrupted_`` is True only for Ctrl-C.
        """
        self.interrupted_ = False
        try:
            return super().fit_loop(X, y, *args, **kwargs)
        except KeyboardInterrupt:
            stopper = dict(self.callbacks_).get("stopping")
            stopped = stopper is not None and stopper.misses_ >= stopper.patience
            self.interrupted_ = not stopped
            raise

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
            self._set_training(training)
            return self.infer(Xi)[:n]

    def move_to(self, device):
        """Move module, criterion and optimizer state to ``device``."""
        self.device = device
        self.module_.to(device)
        self.criterion_.to(device)
        # load_state_dict casts the optimizer state to its parameters' device.
        self.optimizer_.load_state_dict(self.optimizer_.state_dict())

    def __getstate__(self):
        if torch.device(self.device).type == "cpu":
            return super().__getstate__()
        # Store tensors on the CPU so that the pickle loads on any machine;
        # the owning estimator moves them back to an accelerator on load.
        state = self.__dict__.copy()
        prefixes = tuple(self.cuda_dependent_attributes_)
        attrs = {
            key: state.pop(key)
            for key in list(state)
            if isinstance(key, str) and key.startswith(prefixes)
        }
        buffer = io.BytesIO()
        torch.save(attrs, buffer)
        buffer.seek(0)
        attrs = torch.load(buffer, map_location="cpu", weights_only=False)
        with tempfile.SpooledTemporaryFile() as f:
            pickle.dump(attrs, f)
            f.seek(0)
            state["__cuda_dependent_attributes__"] = f.read()
        state["device"] = "cpu"
        return state
