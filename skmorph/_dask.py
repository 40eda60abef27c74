"""Chunked, lazy application of skmorph's operators to dask arrays.

Imported only when a ``dask.array.Array`` is given (dask is then installed): core skmorph never
imports dask. Each chunk is read with a margin of the operator's whole reach (the sum of the
radii of its successive elements), computed in memory on packed bits, and trimmed; chunks at
the image border get no margin there, so the operator's own border rule (zeros or replicate)
applies exactly as in the in-memory call. The result equals the in-memory result pixel for
pixel, whatever the chunking.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["is_dask_array", "map_image_operator"]


def is_dask_array(value) -> bool:
    """Whether ``value`` is a dask array (checked without importing dask)."""
    return type(value).__module__.split(".")[0] == "dask" and hasattr(value, "map_blocks")


def map_image_operator(image, function: Callable[[np.ndarray], np.ndarray], *,
                       reach: tuple[int, int], channel_axis: int | None = None,
                       out_channels: int | None = None):
    """Apply ``function`` (images ``(..., H, W)`` -> images) lazily to the dask array ``image``.

    Parameters
    ----------
    image : dask.array.Array of shape (..., H, W)
    function : callable
        Maps a NumPy block (with its margins) to the output block of the same height and
        width.
    reach : (int, int)
        How far, in rows and columns, an output pixel reads the input.
    channel_axis : int, optional
        An axis the function mixes (channels of a network): kept in one chunk; with
        ``out_channels`` the output has that many entries along it.

    Returns
    -------
    dask.array.Array of bool
    """
    import dask.array as da

    ndim = image.ndim
    depth = {axis: 0 for axis in range(ndim)}
    depth[ndim - 2], depth[ndim - 1] = int(reach[0]), int(reach[1])
    rechunk = {}
    if channel_axis is not None:
        rechunk[channel_axis % ndim] = -1
    for axis in (ndim - 2, ndim - 1):
        # a margin is taken from the neighbouring chunk only: chunks at least as large as it
        if depth[axis] and min(image.chunks[axis]) < depth[axis]:
            rechunk[axis] = max(depth[axis], max(image.chunks[axis]))
    if rechunk:
        image = image.rechunk(rechunk)
    padded = da.overlap.overlap(image, depth=depth, boundary="none")
    chunks = padded.chunks
    if out_channels is not None:
        chunks = list(chunks)
        chunks[channel_axis % ndim] = (int(out_channels),)
    result = padded.map_blocks(function, dtype=bool, chunks=tuple(chunks),
                               meta=np.empty((0,) * ndim, dtype=bool))
    return da.overlap.trim_internal(result, depth, boundary="none")
