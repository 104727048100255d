"""
Plugging in your own network
============================

``architecture`` also takes a :class:`torch.nn.Module` subclass. It is built
with the data-derived sizes its ``__init__`` asks for (``n_features``,
``n_classes``, ``input_shape``) plus ``module_params``, receives
``(batch, channels, height, width)`` tensors for images, and returns logits.
"""

# %%
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from digitnet import DigitClassifier


class WideNet(nn.Module):
    def __init__(self, input_shape, n_classes, width=48):
        super().__init__()
        channels = input_shape[0]
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(4),
            nn.Flatten(),
        )
        self.out = nn.Linear(width * 16, n_classes)

    def forward(self, x):
        return self.out(self.body(x))


X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
clf = DigitClassifier(architecture=WideNet, module_params={"width": 32}, random_state=0)
clf.fit(X_train, y_train)
print(clf.net_.module_)
print(f"held-out accuracy: {clf.score(X_test, y_test):.3f}")
print(f"parameters: {sum(p.numel() for p in clf.net_.module_.parameters()):,}")
assert isinstance(clf.net_.module_, torch.nn.Module)
