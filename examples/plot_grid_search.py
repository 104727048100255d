"""
Pipeline and GridSearchCV
=========================

:class:`~digitnet.DigitClassifier` is an ordinary scikit-learn estimator: put it
in a :class:`~sklearn.pipeline.Pipeline` and tune it with
:class:`~sklearn.model_selection.GridSearchCV`, with the parameter names of
:class:`~sklearn.neural_network.MLPClassifier`.
"""

# %%
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from digitnet import DigitClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

pipe = make_pipeline(MinMaxScaler(), DigitClassifier(max_iter=5, random_state=0))
grid = GridSearchCV(
    pipe,
    {
        "digitclassifier__architecture": ["mlp", "cnn"],
        "digitclassifier__learning_rate_init": [1e-3, 3e-3],
    },
    cv=3,
    n_jobs=2,
)
grid.fit(X_train, y_train)
print(grid.best_params_, f"test accuracy {grid.score(X_test, y_test):.3f}")

# %%
results = pd.DataFrame(grid.cv_results_)
print(results[["params", "mean_test_score", "mean_fit_time"]].to_string())
