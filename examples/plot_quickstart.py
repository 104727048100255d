"""
Quick start on the 8x8 digits
=============================

Train :class:`~digitnet.DigitClassifier` on scikit-learn's bundled digits and
look at a few predictions. Raw 0-16 pixels go in as they are: the input scaling
is learned in ``fit``.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from digitnet import DigitClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
clf = DigitClassifier(random_state=0).fit(X_train, y_train)
print(f"architecture: {clf.architecture_}, input shape: {clf.input_shape_}")
print(f"held-out accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# Predictions with their probabilities.
proba = clf.predict_proba(X_test[:8])
fig, axes = plt.subplots(1, 8, figsize=(10, 2))
for ax, image, p in zip(axes, X_test[:8], proba, strict=False):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{clf.classes_[p.argmax()]} ({p.max():.2f})")
    ax.axis("off")
plt.show()

# %%
# The training history: one row per epoch.
plt.plot(clf.loss_curve_, marker="o")
plt.xlabel("epoch")
plt.ylabel("training loss")
plt.show()
