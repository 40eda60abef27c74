"""scikit-learn's estimator checks on the convolutional BiMoNNClassifier.

``input_shape`` fixes the number of features (``C * H * W``); the checks that fit on data of
another width are expected failures, with that reason, and the properties they test are tested
on images in ``test_conv_classifier.py`` (fit, predict, pickling, exactness, bad parameters).
Every other check (parameters, cloning, tags, unfitted errors, sparse input refused, one
label refused, empty data) runs and passes.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmorph import BiMoNNClassifier

OTHER_WIDTH = ("fits on data whose number of features differs from the C * H * W that "
               "input_shape declares (tested on images in test_conv_classifier.py)")
EXPECTED_FAILURES = {
    "check_classifier_data_not_an_array": OTHER_WIDTH,
    "check_classifiers_classes": OTHER_WIDTH,
    "check_classifiers_train": OTHER_WIDTH,
    "check_dict_unchanged": OTHER_WIDTH,
    "check_dont_overwrite_parameters": OTHER_WIDTH,
    "check_dtype_object": OTHER_WIDTH,
    "check_estimators_dtypes": OTHER_WIDTH,
    "check_estimators_fit_returns_self": OTHER_WIDTH,
    "check_estimators_nan_inf": OTHER_WIDTH,
    "check_estimators_overwrite_params": OTHER_WIDTH,
    "check_estimators_partial_fit_n_features": OTHER_WIDTH,
    "check_estimators_pickle": OTHER_WIDTH,
    "check_f_contiguous_array_estimator": OTHER_WIDTH,
    "check_fit2d_1feature": OTHER_WIDTH,
    "check_fit2d_predict1d": OTHER_WIDTH,
    "check_fit_check_is_fitted": OTHER_WIDTH,
    "check_fit_idempotent": OTHER_WIDTH,
    "check_fit_score_takes_y": OTHER_WIDTH,
    "check_methods_sample_order_invariance": OTHER_WIDTH,
    "check_methods_subset_invariance": OTHER_WIDTH,
    "check_n_features_in": OTHER_WIDTH,
    "check_pipeline_consistency": OTHER_WIDTH,
    "check_readonly_memmap_input": OTHER_WIDTH,
    "check_supervised_y_2d": OTHER_WIDTH,
}


def small_convolutional_classifier():
    # 2x2 "images" of 1 channel: what a 4-feature array is to this estimator
    return BiMoNNClassifier(input_shape=(2, 2), hidden_channels=(3,), kernel_size=3,
                            pooling=None, max_epochs=10, random_state=0, device="cpu")


@parametrize_with_checks([small_convolutional_classifier()],
                         expected_failed_checks=lambda e: EXPECTED_FAILURES)
def test_sklearn_compatible_convolutional_estimator(estimator, check):
    check(estimator)
