"""Structuring elements: centred boolean arrays with odd sides.

The centre of an array of shape ``(h, w)`` is ``(h // 2, w // 2)``, which is also the origin that
:func:`scipy.ndimage.binary_erosion` uses by default.
"""

from __future__ import annotations

import numpy as np

from skmorph._validation import check_binary_array

__all__ = ["check_selem", "cross", "diamond", "disk", "line", "pad_selem", "square"]


def _check_size(value, name: str, *, minimum: int = 0, odd: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if odd and value % 2 == 0:
        raise ValueError(f"{name} must be odd so that the element has a centre, got {value}")
    return int(value)


def _offsets(radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column offsets from the centre of a (2r+1) x (2r+1) grid."""
    return np.mgrid[-radius : radius + 1, -radius : radius + 1]


def disk(radius: int) -> np.ndarray:
    """Euclidean disk: offsets ``(i, j)`` with ``i**2 + j**2 <= radius**2``.

    Parameters
    ----------
    radius : int
        Non-negative radius; the array has side ``2 * radius + 1``.

    Returns
    -------
    ndarray of bool, shape (2 * radius + 1, 2 * radius + 1)
    """
    radius = _check_size(radius, "radius")
    rows, cols = _offsets(radius)
    return rows**2 + cols**2 <= radius**2


def diamond(radius: int) -> np.ndarray:
    """City-block ball: offsets with ``|i| + |j| <= radius``; side ``2 * radius + 1``."""
    radius = _check_size(radius, "radius")
    rows, cols = _offsets(radius)
    return np.abs(rows) + np.abs(cols) <= radius


def square(width: int) -> np.ndarray:
    """Full ``width x width`` square (``width`` odd)."""
    width = _check_size(width, "width", minimum=1, odd=True)
    return np.ones((width, width), dtype=bool)


def cross(size: int, diagonal: bool = False) -> np.ndarray:
    """One-pixel-wide cross in a ``size x size`` array (``size`` odd).

    Parameters
    ----------
    size : int
        Odd side of the array.
    diagonal : bool, default=False
        ``False`` gives the plus shape (``+``), ``True`` the diagonal cross (``x``), as in the
        "diagonal cross 7x7" of the operator-learning experiments.
    """
    size = _check_size(size, "size", minimum=1, odd=True)
    rows, cols = _offsets(size // 2)
    if diagonal:
        return (rows == cols) | (rows == -cols)
    return (rows == 0) | (cols == 0)


def line(length: int, angle: float = 0.0) -> np.ndarray:
    """Line segment of ``length`` pixels through the centre of a ``length x length`` array.

    Parameters
    ----------
    length : int
        Odd number of pixels along the dominant axis (also the side of the array).
    angle : float, default=0
        Counter-clockwise angle in degrees from the horizontal, with rows going down: 0 is
        horizontal, 45 goes from bottom-left to top-right, 90 is vertical, 135 goes from top-left
        to bottom-right. These four are exact; other angles are rasterized by rounding the minor
        coordinate, symmetrically about the centre.
    """
    length = _check_size(length, "length", minimum=1, odd=True)
    angle = float(angle)
    if not np.isfinite(angle):
        raise ValueError(f"angle must be finite, got {angle}")
    half = length // 2
    steps = np.arange(-half, half + 1)
    radians = np.deg2rad(angle % 180.0)
    cos, sin = np.cos(radians), np.sin(radians)
    scale = max(abs(cos), abs(sin))
    # the dominant direction advances one pixel per step; rounding is symmetric (half to even)
    dx = np.round(steps * cos / scale).astype(int)
    dy = np.round(steps * sin / scale).astype(int)
    out = np.zeros((length, length), dtype=bool)
    out[half - dy, half + dx] = True
    return out


def pad_selem(selem, shape: tuple[int, int]) -> np.ndarray:
    """Embed ``selem`` in the centre of a larger array of odd ``shape`` (zeros around)."""
    selem = check_selem(selem)
    height, width = shape
    if height % 2 == 0 or width % 2 == 0 or height < selem.shape[0] or width < selem.shape[1]:
        raise ValueError(
            f"shape must be odd and at least {selem.shape}, got {tuple(shape)}"
        )
    out = np.zeros((height, width), dtype=bool)
    top, left = (height - selem.shape[0]) // 2, (width - selem.shape[1]) // 2
    out[top : top + selem.shape[0], left : left + selem.shape[1]] = selem
    return out


def check_selem(selem, name: str = "selem") -> np.ndarray:
    """Validate a structuring element: 2-D, boolean-like, odd sides, at least one pixel."""
    selem = np.asarray(selem)
    if selem.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {selem.shape}")
    selem = check_binary_array(selem, name)
    if selem.shape[0] % 2 == 0 or selem.shape[1] % 2 == 0:
        raise ValueError(
            f"{name} must have odd sides so that it has a centre, got shape {selem.shape}"
        )
    if not selem.any():
        raise ValueError(f"{name} must contain at least one pixel; it is empty")
    return selem
