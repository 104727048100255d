"""Hyperparameter search on a real Dask cluster through joblib's dask backend."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from digitnet import DigitClassifier

distributed = pytest.importorskip(
    "distributed", reason="the distributed extra: pip install 'digitnet[distributed]'"
)


def test_grid_search_on_a_local_dask_cluster_matches_the_local_run(small_digits):
    import joblib

    X_train, _, y_train, _ = small_digits
    grid = {"architecture": ["mlp", "cnn"], "learning_rate_init": [1e-3, 3e-3]}

    def search():
        return GridSearchCV(DigitClassifier(max_iter=2, random_state=0), grid, cv=2)

    local = search().fit(X_train, y_train)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_backend("dask"):
            remote = search().fit(X_train, y_train)
        workers = client.run(lambda: __import__("os").getpid())
    assert len(workers) == 2  # real worker processes did the work
    np.testing.assert_array_equal(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert remote.best_params_ == local.best_params_
