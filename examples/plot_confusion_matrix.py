"""
Confusion matrix and misclassified digits
=========================================

Which digits does the model confuse, and what do its most confident mistakes
look like?
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split

from digitnet import DigitClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=1)
clf = DigitClassifier(max_iter=4, random_state=0).fit(X_train, y_train)
ConfusionMatrixDisplay.from_estimator(clf, X_test, y_test, cmap="Blues", colorbar=False)
plt.show()

# %%
proba = clf.predict_proba(X_test)
pred = clf.classes_[proba.argmax(axis=1)]
wrong = np.flatnonzero(pred != y_test)
worst = wrong[np.argsort(-proba[wrong].max(axis=1))][:8]
fig, axes = plt.subplots(1, max(len(worst), 1), figsize=(10, 2), squeeze=False)
for ax, i in zip(axes[0], worst, strict=False):
    ax.imshow(X_test[i].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"true {y_test[i]} / {pred[i]}", fontsize=8)
for ax in axes[0]:
    ax.axis("off")
plt.show()
