"""Input binarization: thresholds learned from data (thermometer encoding / level sets)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from skmorph.binary.layers import Thresholds

__all__ = ["LevelSetBinarizer", "learn_thresholds"]

STRATEGIES = ("quantile", "uniform")


def learn_thresholds(X: np.ndarray, n_thresholds: int, strategy: str = "quantile") -> np.ndarray:
    """Thresholds per column of ``X``: array ``(n_columns, n_levels)``, NaN where unused.

    A column with two distinct values gets the single threshold halfway between them (binary
    features pass through unchanged); a constant column gets its value (its bit is always 0);
    otherwise ``n_thresholds`` quantiles (``"quantile"``) or evenly spaced values between the
    minimum and maximum (``"uniform"``) are taken, and of the levels that fall between the same
    two consecutive values of the column only the first is kept (they would give the same bit
    on every training sample): at most ``distinct values - 1`` levels per column. The bit of
    level ``t`` is ``x > t``.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    if isinstance(n_thresholds, bool) or not isinstance(n_thresholds, (int, np.integer)):
        raise TypeError(f"n_thresholds must be a positive integer, got {n_thresholds!r}")
    if n_thresholds < 1:
        raise ValueError(f"n_thresholds must be >= 1, got {n_thresholds}")
    rows = []
    for column in X.T:
        values = np.unique(column)
        if values.size <= 2:
            levels = np.array([values.mean() if values.size == 2 else values[0]])
        else:
            # more levels than samples only interpolates between the same values
            count = min(int(n_thresholds), column.size)
            fractions = np.arange(1, count + 1) / (count + 1)
            if strategy == "quantile":
                levels = np.quantile(column, fractions)
            else:
                levels = values[0] + fractions * (values[-1] - values[0])
            # x > max never fires: keep levels strictly below the maximum, and distinct
            levels = np.unique(levels[levels < values[-1]])
            # one level per gap between consecutive values: the others repeat its bit
            _, first = np.unique(np.searchsorted(values, levels, side="right"),
                                 return_index=True)
            levels = levels[first]
            if levels.size == 0:
                levels = np.array([values[-2]])
        rows.append(levels)
    width = max(len(levels) for levels in rows)
    thresholds = np.full((len(rows), width), np.nan)
    for index, levels in enumerate(rows):
        thresholds[index, : len(levels)] = levels
    return thresholds


class LevelSetBinarizer(TransformerMixin, BaseEstimator):
    """Binarize real features by thresholds learned in ``fit`` (a thermometer encoding).

    Each feature ``f`` becomes the bits ``x_f > t`` for its learned thresholds ``t``: the
    tabular form of the level sets of images. Binary features pass through as one bit.

    Parameters
    ----------
    n_thresholds : int, default=3
        Maximum number of thresholds per feature.
    strategy : {"quantile", "uniform"}, default="quantile"

    Attributes
    ----------
    thresholds_ : ndarray of shape (n_features, n_levels)
        NaN where a feature has fewer levels.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.
    """

    def __init__(self, n_thresholds: int = 3, strategy: str = "quantile"):
        self.n_thresholds = n_thresholds
        self.strategy = strategy

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        self.thresholds_ = learn_thresholds(X, self.n_thresholds, self.strategy)
        return self

    def transform(self, X) -> np.ndarray:
        """Bits ``(n_samples, n_bits)``, feature-major (all levels of feature 0 first)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return Thresholds(self.thresholds_).bits(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # the output is boolean
        return tags

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output bits: ``"<feature>><threshold>"``, e.g. ``"x0>0.5"``.

        Parameters
        ----------
        input_features : array-like of str, optional
            Defaults to ``feature_names_in_``, else ``x0, x1, ...``.
        """
        check_is_fitted(self)
        features = _input_features(self, input_features)
        layer = Thresholds(self.thresholds_)
        return np.asarray([f"{features[f]}>{self.thresholds_[f, level]:.6g}"
                           for f, level in zip(layer.feature_index, layer.level_index,
                                               strict=True)], dtype=object)


def _input_features(estimator, input_features) -> np.ndarray:
    """The names of the input features (as scikit-learn's transformers resolve them)."""
    names = getattr(estimator, "feature_names_in_", None)
    if input_features is None:
        if names is not None:
            return names
        return np.asarray([f"x{index}" for index in range(estimator.n_features_in_)], dtype=object)
    input_features = np.asarray(input_features, dtype=object)
    if len(input_features) != estimator.n_features_in_:
        raise ValueError(f"input_features should have length equal to the number of features "
                         f"({estimator.n_features_in_}), got {len(input_features)}")
    if names is not None and not np.array_equal(input_features, names):
        raise ValueError("input_features is not equal to feature_names_in_")
    return input_features
