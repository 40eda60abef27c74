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
    minimum and maximum (``"uniform"``) are taken, duplicates removed. The bit of level ``t`` is
    ``x > t``.
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
            fractions = np.arange(1, n_thresholds + 1) / (n_thresholds + 1)
            if strategy == "quantile":
                levels = np.quantile(column, fractions)
            else:
                levels = values[0] + fractions * (values[-1] - values[0])
            # x > max never fires: keep levels strictly below the maximum, and distinct
            levels = np.unique(levels[levels < values[-1]])
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
