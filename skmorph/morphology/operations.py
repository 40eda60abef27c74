"""Binary erosion, dilation and their compositions, computed on bit-packed rows.

Conventions are those of :mod:`scipy.ndimage` with its defaults (centred origin, border value 0):

- ``erosion(X, S)[x] = AND over s in S of X[x + s]``
- ``dilation(X, S)[x] = OR over s in S of X[x - s]`` (the element is reflected)

so the results are identical to :func:`scipy.ndimage.binary_erosion` and
:func:`scipy.ndimage.binary_dilation`, including for asymmetric elements. ``padding="replicate"``
instead reads pixels outside the image from the nearest border pixel.
"""

from __future__ import annotations

import numpy as np

from skmorph._dask import is_dask_array
from skmorph.morphology.bitpack import PackedImage, combine_shifts, pack
from skmorph.morphology.selem import check_selem

__all__ = ["black_tophat", "closing", "dilation", "erosion", "opening", "white_tophat"]


def selem_offsets(selem: np.ndarray) -> list[tuple[int, int]]:
    """Offsets ``(row, col)`` of the pixels of a centred element relative to its centre."""
    rows, cols = np.nonzero(selem)
    center_row, center_col = selem.shape[0] // 2, selem.shape[1] // 2
    return list(zip((rows - center_row).tolist(), (cols - center_col).tolist(), strict=True))


def _lazy(operation, image, selem, padding: str, passes: int):
    """``operation`` mapped over the chunks of a dask array, with a margin of its reach."""
    from skmorph._dask import map_image_operator, map_packed_operator

    selem = check_selem(selem)
    reach = (passes * (selem.shape[0] // 2), passes * (selem.shape[1] // 2))
    mapper = map_packed_operator if image.dtype == bool else map_image_operator
    return mapper(image, lambda block: operation(block, selem, padding), reach=reach)


def _apply(image, selem, reduce: str, reflect: bool, padding: str):
    selem = check_selem(selem)
    packed_input = isinstance(image, PackedImage)
    packed = pack(image)  # validates boolean-like input with at least 2 dimensions
    offsets = selem_offsets(selem)
    if reflect:
        offsets = [(-di, -dj) for di, dj in offsets]
    result = combine_shifts(packed, offsets, reduce, padding)
    return result if packed_input else result.unpack()


def erosion(image, selem, padding: str = "zeros"):
    """Binary erosion of an image or batch of images by a structuring element.

    Parameters
    ----------
    image : array-like of shape (..., H, W) or PackedImage
        Boolean-like image (values 0/1), or a batch of them along the leading axes.
    selem : array-like of shape (h, w)
        Centred structuring element with odd sides.
    padding : {"zeros", "replicate"}, default="zeros"
        Value of the pixels outside the image: 0 (as scipy's default ``border_value=0``, which
        makes the erosion eat the border), or the nearest border pixel.

    Returns
    -------
    ndarray of bool with the shape of ``image``, or PackedImage if ``image`` was packed.
    """
    if is_dask_array(image):
        return _lazy(erosion, image, selem, padding, passes=1)
    return _apply(image, selem, "and", reflect=False, padding=padding)


def dilation(image, selem, padding: str = "zeros"):
    """Binary dilation (scipy convention: the element is reflected). See :func:`erosion`."""
    if is_dask_array(image):
        return _lazy(dilation, image, selem, padding, passes=1)
    return _apply(image, selem, "or", reflect=True, padding=padding)


def opening(image, selem, padding: str = "zeros"):
    """Erosion followed by dilation by the same element."""
    if is_dask_array(image):
        return _lazy(opening, image, selem, padding, passes=2)
    return dilation(erosion(image, selem, padding), selem, padding)


def closing(image, selem, padding: str = "zeros"):
    """Dilation followed by erosion by the same element."""
    if is_dask_array(image):
        return _lazy(closing, image, selem, padding, passes=2)
    return erosion(dilation(image, selem, padding), selem, padding)


def white_tophat(image, selem, padding: str = "zeros"):
    """Pixels of the image removed by the opening: ``image AND NOT opening(image)``."""
    if is_dask_array(image):
        return _lazy(white_tophat, image, selem, padding, passes=2)
    packed = pack(image)
    result = packed.andnot(opening(packed, selem, padding))
    return result if isinstance(image, PackedImage) else result.unpack()


def black_tophat(image, selem, padding: str = "zeros"):
    """Pixels added by the closing: ``closing(image) AND NOT image``."""
    if is_dask_array(image):
        return _lazy(black_tophat, image, selem, padding, passes=2)
    packed = pack(image)
    result = closing(packed, selem, padding).andnot(packed)
    return result if isinstance(image, PackedImage) else result.unpack()
