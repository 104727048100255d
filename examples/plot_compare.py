"""
DigitClassifier, SVC and MLPClassifier on the same split
========================================================

The same training and test images for three classifiers.
"""

# %%
import time

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from digitnet import DigitClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
models = {
    "DigitClassifier": DigitClassifier(random_state=0),
    "SVC(gamma=0.001)": SVC(gamma=0.001),
    "MLPClassifier": make_pipeline(
        StandardScaler(), MLPClassifier(max_iter=500, random_state=0)
    ),
}
results = {}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    results[name] = (model.score(X_test, y_test), time.perf_counter() - start)
    print(f"{name:18s} accuracy {results[name][0]:.4f}  fit {results[name][1]:.2f}s")

# %%
plt.barh(list(results), [acc for acc, _ in results.values()])
plt.xlim(0.9, 1.0)
plt.xlabel("test accuracy")
plt.show()
