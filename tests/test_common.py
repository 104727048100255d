"""scikit-learn's estimator checks on the default and on a CNN configuration."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from digitnet import DigitClassifier

# The checks feed small tables; the CNN sees each row as a 1 x n_features image.
# Their 300-sample sets make 3 batches an epoch, hence more epochs than default.
CNN = DigitClassifier(
    architecture="cnn", module_params={"channels": (4, 8)}, max_iter=30
)

FLOAT32 = (
    "float32 training: weights equal repetitions only up to float32 rounding "
    "(max |d proba| ~2e-7 measured), above this check's float64 rtol=1e-7"
)
BATCH_STATISTICS = (
    "batch norm statistics and dropout masks are unweighted, so a repeated sample "
    "counts twice there and a weighted one once"
)


def expected_failed_checks(estimator):
    if estimator.architecture == "cnn":
        return {"check_sample_weight_equivalence_on_dense_data": BATCH_STATISTICS}
    return {"check_sample_weight_equivalence_on_dense_data": FLOAT32}


@parametrize_with_checks(
    [DigitClassifier(), CNN], expected_failed_checks=expected_failed_checks
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
