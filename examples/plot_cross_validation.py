"""
Cross-validation and learning curves
====================================

Estimate accuracy with 5-fold cross-validation and see how it grows with the
amount of training data.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_val_score, learning_curve

from digitnet import DigitClassifier

X, y = load_digits(return_X_y=True)
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
scores = cross_val_score(DigitClassifier(random_state=0), X, y, cv=cv)
print(f"5-fold accuracy: {scores.mean():.4f} +/- {scores.std():.4f}")

# %%
sizes, train_scores, test_scores = learning_curve(
    DigitClassifier(max_iter=5, random_state=0),
    X,
    y,
    cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
    train_sizes=np.linspace(0.1, 1.0, 4),
)
plt.plot(sizes, train_scores.mean(axis=1), marker="o", label="training")
plt.plot(sizes, test_scores.mean(axis=1), marker="o", label="cross-validation")
plt.xlabel("training images")
plt.ylabel("accuracy")
plt.legend()
plt.show()
