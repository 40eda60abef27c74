"""scikit-learn's estimator checks on MorphologicalTransformer, and their image versions.

scikit-learn's checks feed 2-D feature arrays ``X`` with 1-D labels ``y``. An image-to-image
estimator cannot be fitted on those: ``fit(X, Y)`` needs images ``X`` of shape ``(n, H, W)``
(or flat rows with ``input_shape``) and target images ``Y`` of the same height and width. The
checks that fit on such data are listed below as expected failures, with that reason; the
properties most of them test are tested on image pairs in the second half of this file.
Every other check (parameters, cloning, tags, sparse input refused with a clear message, a
missing ``Y`` refused with scikit-learn's message) runs and passes.
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmorph import MorphologicalTransformer
from skmorph.datasets import make_diskorect
from skmorph.morphology import dilation

TABULAR = ("fits on 2-D feature arrays X with 1-D labels y; an image-to-image estimator needs "
           "image pairs (tested on images below)")
NO_FEATURES = "tests n_features_in_, which an estimator on images of any size does not have"

EXPECTED_FAILURES = {
    "check_complex_data": TABULAR,
    "check_dict_unchanged": TABULAR,
    "check_dont_overwrite_parameters": TABULAR,
    "check_dtype_object": TABULAR,
    "check_estimators_dtypes": TABULAR,
    "check_estimators_empty_data_messages": TABULAR,
    "check_estimators_fit_returns_self": TABULAR,
    "check_estimators_nan_inf": TABULAR,
    "check_estimators_overwrite_params": TABULAR,
    "check_estimators_pickle": TABULAR,
    "check_f_contiguous_array_estimator": TABULAR,
    "check_fit2d_1feature": TABULAR,
    "check_fit2d_1sample": TABULAR,
    "check_fit2d_predict1d": TABULAR,
    "check_fit_check_is_fitted": TABULAR,
    "check_fit_idempotent": TABULAR,
    "check_fit_score_takes_y": TABULAR,
    "check_methods_sample_order_invariance": TABULAR,
    "check_methods_subset_invariance": TABULAR,
    "check_n_features_in": NO_FEATURES,
    "check_n_features_in_after_fitting": NO_FEATURES,
    "check_pipeline_consistency": TABULAR,
    "check_positive_only_tag_during_fit": TABULAR,
    "check_readonly_memmap_input": TABULAR,
    "check_transformer_data_not_an_array": TABULAR,
    "check_transformer_general": TABULAR,
    "check_transformer_preserve_dtypes": TABULAR,
}

FAST = {"kernel_size": 3, "max_epochs": 3, "finetune_epochs": 1, "n_init": 1, "random_state": 0,
        "start_programs": False,
        "device": "cpu"}
SELEM = np.array([[0, 1, 0], [1, 1, 0], [0, 1, 1]], bool)


@parametrize_with_checks([MorphologicalTransformer(**FAST)],
                         expected_failed_checks=lambda estimator: EXPECTED_FAILURES)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def pairs():
    X = make_diskorect(40, size=20, random_state=0)
    return X, dilation(X, SELEM)


def test_fit_returns_self_and_keeps_parameters_and_inputs(pairs):
    X, Y = pairs
    X_copy, Y_copy = X.copy(), Y.copy()
    model = MorphologicalTransformer(**FAST)
    params = model.get_params()
    assert model.fit(X, Y) is model
    assert model.get_params() == params
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(Y, Y_copy)
    assert not any(key.endswith("_") for key in vars(MorphologicalTransformer(**FAST)))


def test_transform_changes_nothing_and_is_invariant_to_order_and_subsets(pairs):
    X, Y = pairs
    model = MorphologicalTransformer(**FAST).fit(X, Y)
    state = pickle.dumps(model)
    full = model.transform(X)
    assert pickle.dumps(model) == state
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_array_equal(model.transform(X[order]), full[order])
    np.testing.assert_array_equal(model.transform(X[:7]), full[:7])


@pytest.mark.parametrize("make", [
    lambda X: np.asfortranarray(X),
    lambda X: X.astype(np.float32),
    lambda X: X.astype(np.uint8),
    lambda X: X.tolist(),
])
def test_layouts_and_dtypes_of_images_give_the_same_operator(pairs, make, tmp_path):
    X, Y = pairs
    expected = MorphologicalTransformer(**FAST).fit(X, Y).transform(X)
    model = MorphologicalTransformer(**FAST).fit(make(X), make(Y))
    np.testing.assert_array_equal(model.transform(make(X)), expected)


def test_read_only_memory_mapped_images(pairs, tmp_path):
    X, Y = pairs
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    X_map = np.load(tmp_path / "X.npy", mmap_mode="r")
    Y_map = np.load(tmp_path / "Y.npy", mmap_mode="r")
    model = MorphologicalTransformer(**FAST).fit(X_map, Y_map)
    expected = MorphologicalTransformer(**FAST).fit(X, Y).transform(X)
    np.testing.assert_array_equal(model.transform(X_map), expected)


def test_unfitted_transform_and_single_image_fit(pairs):
    X, Y = pairs
    with pytest.raises(Exception, match="not fitted"):
        MorphologicalTransformer(**FAST).transform(X)
    model = clone(MorphologicalTransformer(**FAST)).fit(X[:1], Y[:1])
    assert model.transform(X[:1]).shape == X[:1].shape
