"""LevelSetBinarizer and learn_thresholds: thermometer encoding without duplicate columns."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmorph.preprocessing import LevelSetBinarizer, learn_thresholds


@parametrize_with_checks([LevelSetBinarizer()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
@pytest.mark.parametrize("n_thresholds", [1, 3, 10, 10**7])
def test_at_most_one_level_per_gap_and_no_duplicate_columns(strategy, n_thresholds):
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 5, 20), rng.normal(size=20),
                         np.repeat([0, 1], 10)]).astype(float)
    thresholds = learn_thresholds(X, n_thresholds, strategy)
    for column, levels in zip(X.T, thresholds, strict=True):
        levels = levels[~np.isnan(levels)]
        assert 1 <= levels.size <= np.unique(column).size - 1
    bits = LevelSetBinarizer(n_thresholds, strategy).fit_transform(X)
    assert np.unique(bits, axis=1).shape[1] == bits.shape[1]  # no duplicate column


def test_ten_thresholds_on_five_values_give_four_columns():
    X = np.repeat(np.arange(5.0), 4)[:, None]
    assert LevelSetBinarizer(10).fit_transform(X).shape == (20, 4)


def test_levels_on_distinct_values_are_unchanged():
    X = np.linspace(0, 1, 101)[:, None]
    np.testing.assert_allclose(learn_thresholds(X, 3)[0], [0.25, 0.5, 0.75])


def test_feature_names_and_pandas_output():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"age": [20.0, 30, 40, 50], "smoker": [0.0, 1, 0, 1]})
    binarizer = LevelSetBinarizer(2).fit(frame)
    names = binarizer.get_feature_names_out()
    assert list(names) == ["age>30", "age>40", "smoker>0.5"]
    output = binarizer.set_output(transform="pandas").transform(frame)
    assert list(output.columns) == list(names)
    np.testing.assert_array_equal(output.to_numpy(), [[0, 0, 0], [0, 0, 1], [1, 0, 0],
                                                      [1, 1, 1]])
    assert list(LevelSetBinarizer(2).fit(frame.to_numpy()).get_feature_names_out()) == [
        "x0>30", "x0>40", "x1>0.5"]
    with pytest.raises(ValueError, match="length"):
        binarizer.get_feature_names_out(["a"])
