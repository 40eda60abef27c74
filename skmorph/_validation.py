"""Input checks shared by the NumPy side (no torch here)."""

from __future__ import annotations

import numpy as np


def check_binary_array(array, name: str, *, min_ndim: int = 2) -> np.ndarray:
    """Return ``array`` as a boolean ndarray, or raise if it is not boolean-like.

    Boolean-like means a bool array, or a numeric array whose values are all 0 or 1. Nothing else
    is coerced: a float image with values 0.3 is an error, not a thresholded image.
    """
    array = np.asarray(array)
    if array.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions, got an array of shape {array.shape}"
        )
    if array.dtype == bool:
        return array
    if not (np.issubdtype(array.dtype, np.number)):
        raise TypeError(f"{name} must be a boolean or numeric array, got dtype {array.dtype}")
    if array.size and np.issubdtype(array.dtype, np.inexact) and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity; expected values 0 and 1")
    if not np.all((array == 0) | (array == 1)):
        raise ValueError(
            f"{name} must be boolean-like (only values 0 and 1); threshold it first, e.g. "
            f"`{name} > 0.5`"
        )
    return array.astype(bool)


def check_finite(array, name: str) -> np.ndarray:
    """Return ``array`` as a numeric ndarray (float64 unless already float or integer/bool),
    raising on NaN or infinity. Float32 input is not copied."""
    array = np.asarray(array)
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer):
        return array
    if not np.issubdtype(array.dtype, np.floating):
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{name} must be numeric, got dtype {array.dtype}") from error
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return array
