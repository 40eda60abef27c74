"""scikit-learn's estimator checks on BiMoNNClassifier.

Expected failures, each with its reason (the list is kept as short as honest engineering allows):
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmorph.estimators import BiMoNNClassifier

EXPECTED_FAILURES = {}


def small_classifier():
    return BiMoNNClassifier(hidden_layer_sizes=(16,), max_epochs=20, random_state=0,
                            device="cpu")


@parametrize_with_checks([small_classifier()], expected_failed_checks=lambda e: EXPECTED_FAILURES)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
