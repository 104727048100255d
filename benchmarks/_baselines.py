"""What users would otherwise run: a plain PyTorch loop and vanilla skorch."""

import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from skorch import NeuralNetClassifier
from skorch.callbacks import LRScheduler

from digitnet import CNN

MNIST_MEAN, MNIST_STD = 0.1307 * 255, 0.3081 * 255


def default_device():
    """The device DigitClassifier's ``device="auto"`` picks: CUDA when present."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def _images(X, mean, std):
    side = int(np.sqrt(X.shape[1]))
    return ((np.asarray(X, np.float32) - mean) / std).reshape(-1, 1, side, side)


class _Baseline(ClassifierMixin, BaseEstimator):
    """Shared parameters: epochs of Adam, one-cycle or constant learning rate.

    ``epoch_times_`` holds the seconds of each training epoch (the loop alone).
    """

    def __init__(
        self,
        epochs=2,
        lr=2e-3,
        batch_size=128,
        seed=0,
        device=None,
        schedule="one-cycle",
    ):
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.seed = seed
        self.device = device
        self.schedule = schedule

    def _steps(self, n):
        return self.epochs * -(-n // self.batch_size)

    def _prepare(self, X):
        """Seed, learn the global pixel scaling, return scaled float32 images."""
        torch.manual_seed(self.seed)
        self.mean_, self.std_ = float(np.mean(X)), float(np.std(X))
        return _images(X, self.mean_, self.std_)


class PlainLoop(_Baseline):
    """digitnet's CNN in a hand-written loop: Adam, one-cycle, batch 128."""

    def fit(self, X, y):
        self.device_ = self.device or default_device()
        Xt = torch.from_numpy(self._prepare(X)).to(self.device_)
        yt = torch.as_tensor(np.asarray(y), dtype=torch.long, device=self.device_)
        self.classes_ = np.unique(y)
        self.module_ = CNN(tuple(Xt.shape[1:]), len(self.classes_)).to(self.device_)
        opt = torch.optim.Adam(self.module_.parameters(), lr=self.lr)
        sched = None
        if self.schedule == "one-cycle":
            steps = self._steps(len(Xt))
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, self.lr, total_steps=steps)
        self.module_.train()
        self.epoch_times_ = []
        for _ in range(self.epochs):
            start = time.perf_counter()
            order = torch.randperm(len(Xt), device=self.device_)
            for idx in order.split(self.batch_size):
                opt.zero_grad()
                loss = F.cross_entropy(self.module_(Xt[idx]), yt[idx])
                loss.backward()
                opt.step()
                loss.item()  # the per-batch loss a training loop reports
                if sched is not None:
                    sched.step()
            self.epoch_times_.append(time.perf_counter() - start)
        return self

    def predict(self, X):
        """A plain ``module(x)`` loop in inference mode, batches of 1024."""
        Xt = torch.from_numpy(_images(X, self.mean_, self.std_))
        self.module_.eval()
        with torch.inference_mode():
            out = [self.module_(b.to(self.device_)).argmax(1) for b in Xt.split(1024)]
        return self.classes_[torch.cat(out).cpu().numpy()]


class VanillaSkorch(_Baseline):
    """skorch's NeuralNetClassifier as documented: arrays in, DataLoader batches."""

    def fit(self, X, y):
        Xs = self._prepare(X)
        callbacks = []
        if self.schedule == "one-cycle":
            callbacks.append(
                LRScheduler(
                    torch.optim.lr_scheduler.OneCycleLR,
                    max_lr=self.lr,
                    total_steps=self._steps(len(Xs)),
                    step_every="batch",
                )
            )
        self.net_ = NeuralNetClassifier(
            CNN,
            module__input_shape=Xs.shape[1:],
            module__n_classes=len(np.unique(y)),
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            lr=self.lr,
            batch_size=self.batch_size,
            max_epochs=self.epochs,
            device=self.device or default_device(),
            train_split=None,
            iterator_train__shuffle=True,
            callbacks=callbacks,
            verbose=0,
        )
        self.net_.fit(Xs, np.asarray(y, dtype=np.int64))
        self.classes_ = self.net_.classes_
        self.epoch_times_ = [h["dur"] for h in self.net_.history]
        return self

    def predict(self, X):
        return self.net_.predict(_images(X, self.mean_, self.std_))
