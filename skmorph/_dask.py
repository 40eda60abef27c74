"""Chunked, lazy application of skmorph's operators to dask arrays.

Imported only when a ``dask.array.Array`` is given (dask is then installed): core skmorph never
imports dask. Each chunk is read with a margin of the operator's whole reach (the sum of the
radii of its successive elements), computed in memory on packed bits, and trimmed; chunks at
the image border get no margin there, so the operator's own border rule (zeros or replicate)
applies exactly as in the in-memory call. The result equals the in-memory result pixel for
pixel, whatever the chunking. Boolean images go through :func:`map_packed_operator`: packed
chunk by chunk first, so that the margins are taken, moved and concatenated as packed words.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["is_dask_array", "map_image_operator", "map_packed_operator"]


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
        # (an image no taller or wider than the reach is one chunk along that axis)
        if depth[axis] >= image.shape[axis]:
            rechunk[axis], depth[axis] = -1, 0
        elif depth[axis] and min(image.chunks[axis]) < depth[axis]:
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


def map_packed_operator(image, function: Callable, *, reach: tuple[int, int]):
    """Apply ``function`` (:class:`~skmorph.morphology.bitpack.PackedImage` -> PackedImage of
    the same shape) lazily to the boolean dask array ``image`` of shape (..., H, W).

    Each chunk is packed on its own (column chunks are made multiples of 64 pixels, except the
    last, so that the packed chunks are the packed image cut into word columns), the packed
    chunks get margins of the reach in rows and of whole words in columns, ``function`` runs
    on them, and only the chunk's own rows and words are unpacked. Moving and concatenating
    the margins costs an eighth of what it costs on boolean chunks.

    Returns
    -------
    dask.array.Array of bool, chunked like ``image`` (after the rechunking above)
    """
    import dask.array as da

    from skmorph.morphology.bitpack import WORD_BITS, PackedImage, pack, unpack

    ndim = image.ndim
    rows, cols = ndim - 2, ndim - 1
    reach_rows, margin_words = int(reach[0]), -(-int(reach[1]) // WORD_BITS)
    # every chunk at least as large as the margin it lends (dask's overlap would merge them)
    # (an image no taller or wider than the reach is one chunk along that axis)
    heights = image.chunks[rows]
    if reach_rows >= sum(heights):
        heights = (sum(heights),)
    elif reach_rows and min(heights) < reach_rows:
        heights = da.overlap.ensure_minimum_chunksize(reach_rows, heights)
    widths = image.chunks[cols]
    least = max(margin_words, 1) * WORD_BITS
    misfit = any(w % WORD_BITS or w < least for w in widths[:-1]) or widths[-1] < least
    if least >= sum(widths):
        widths = (sum(widths),)
    elif len(widths) > 1 and misfit:
        size = max(least, -(-max(widths) // WORD_BITS) * WORD_BITS)
        total = sum(widths)
        widths = (size,) * (total // size) + ((total % size,) if total % size else ())
        if len(widths) > 1 and widths[-1] < least:  # the last one joins its neighbour
            widths = (*widths[:-2], widths[-2] + widths[-1])
    if (heights, widths) != image.chunks[rows:]:
        image = image.rechunk({rows: heights, cols: widths})
    word_chunks = tuple(-(-w // WORD_BITS) for w in widths)
    packed = image.map_blocks(lambda block: pack(block).words, dtype=np.uint64,
                              chunks=(*image.chunks[:-1], word_chunks),
                              meta=np.empty((0,) * ndim, dtype=np.uint64))
    depth = {axis: 0 for axis in range(ndim)}
    depth[rows] = reach_rows if len(heights) > 1 else 0
    depth[cols] = margin_words if len(widths) > 1 else 0
    padded = da.overlap.overlap(packed, depth=depth, boundary="none")

    def chunk_result(words, block_info=None):
        location = block_info[0]["chunk-location"]
        i, j = location[rows], location[cols]
        top = reach_rows if i > 0 else 0
        left = margin_words if j > 0 else 0
        right_words = words.shape[-1] - left - word_chunks[j]
        right = min(right_words * WORD_BITS, widths[j + 1]) if right_words else 0
        block = PackedImage(np.ascontiguousarray(words), left * WORD_BITS + widths[j] + right)
        result = function(block).words[..., top : top + heights[i], left : left + word_chunks[j]]
        return unpack(PackedImage(np.ascontiguousarray(result), widths[j]))

    return padded.map_blocks(chunk_result, dtype=bool, chunks=image.chunks,
                             meta=np.empty((0,) * ndim, dtype=bool))
