"""Bit-packed binary images: rows packed into ``uint64`` words.

Column ``j`` of a row lives in word ``j // 64`` at bit ``j % 64`` (little-endian bit order), so a
shift of the image by ``k`` columns is a shift of each row, read as one long integer, by ``k`` bits,
with carries across words. Rows stay rows, so a vertical shift is a row offset.

Invariant: the padding bits of the last word of each row (columns ``width`` and beyond) are zero.
Every function here keeps it, which is what makes shifts with zero fill correct.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

import numpy as np

from skmorph._validation import check_binary_array

WORD_BITS = 64

__all__ = ["PackedImage", "pack", "unpack"]


def _n_words(width: int) -> int:
    return -(-width // WORD_BITS)


def column_mask(width: int, start: int, stop: int) -> np.ndarray:
    """Words with the bits of columns ``[start, stop)`` set (clipped to ``[0, width)``)."""
    start, stop = max(start, 0), min(stop, width)
    bits = np.zeros(_n_words(width) * WORD_BITS, dtype=bool)
    if stop > start:
        bits[start:stop] = True
    return np.packbits(bits, bitorder="little").view(np.uint64)


class PackedImage:
    """A binary image or batch of images, stored as rows of ``uint64`` words.

    Use :func:`pack` to build one and :meth:`unpack` to get booleans back. The morphology
    functions of :mod:`skmorph.morphology` accept and return ``PackedImage`` objects unchanged in
    kind, so chained operations never repack.

    Parameters
    ----------
    words : ndarray of uint64, shape (..., height, n_words)
        The packed rows; padding bits beyond ``width`` must be zero.
    width : int
        Number of columns of the images.
    """

    __slots__ = ("width", "words")

    def __init__(self, words: np.ndarray, width: int):
        words = np.asarray(words)
        if words.dtype != np.uint64 or words.ndim < 2:
            raise ValueError("words must be a uint64 array of shape (..., height, n_words)")
        if words.shape[-1] != _n_words(width):
            raise ValueError(
                f"width={width} needs {_n_words(width)} words per row, got {words.shape[-1]}"
            )
        self.words = words
        self.width = int(width)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the unpacked boolean array."""
        return (*self.words.shape[:-1], self.width)

    @property
    def nbytes(self) -> int:
        return self.words.nbytes

    def unpack(self) -> np.ndarray:
        """Return the images as a boolean array of shape ``self.shape``."""
        return unpack(self)

    def _mask_padding(self) -> PackedImage:
        tail = self.width % WORD_BITS
        if tail:
            self.words[..., -1] &= np.uint64((1 << tail) - 1)
        return self

    def __and__(self, other: PackedImage) -> PackedImage:
        return PackedImage(self.words & _words_like(self, other), self.width)

    def __or__(self, other: PackedImage) -> PackedImage:
        return PackedImage(self.words | _words_like(self, other), self.width)

    def __invert__(self) -> PackedImage:
        return PackedImage(~self.words, self.width)._mask_padding()

    def andnot(self, other: PackedImage) -> PackedImage:
        """Pixels set in ``self`` and not in ``other`` (set difference)."""
        return PackedImage(self.words & ~_words_like(self, other), self.width)

    def count(self) -> np.ndarray:
        """Number of set pixels of each image (shape ``self.shape[:-2]``)."""
        return np.bitwise_count(self.words).sum(axis=(-1, -2), dtype=np.int64)

    def copy(self) -> PackedImage:
        return PackedImage(self.words.copy(), self.width)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PackedImage):
            return NotImplemented
        return self.width == other.width and np.array_equal(self.words, other.words)

    __hash__ = None  # mutable container

    def __repr__(self) -> str:
        return f"PackedImage(shape={self.shape}, nbytes={self.nbytes})"


def _words_like(image: PackedImage, other: PackedImage) -> np.ndarray:
    if not isinstance(other, PackedImage) or other.width != image.width:
        raise ValueError("both operands must be PackedImage objects of the same width")
    return other.words


def pack(image) -> PackedImage:
    """Pack a boolean-like image or batch of shape ``(..., H, W)`` into a :class:`PackedImage`."""
    if isinstance(image, PackedImage):
        return image
    image = check_binary_array(image, "image")
    width = image.shape[-1]
    packed = np.packbits(image, axis=-1, bitorder="little")
    n_bytes = _n_words(width) * 8
    if packed.shape[-1] != n_bytes:  # whole words: zero bytes after the last pixel
        words = np.zeros((*packed.shape[:-1], n_bytes), dtype=np.uint8)
        words[..., : packed.shape[-1]] = packed
        packed = words
    packed = np.ascontiguousarray(packed)
    return PackedImage(packed.view(np.uint64), width)


def unpack(image: PackedImage) -> np.ndarray:
    """Unpack a :class:`PackedImage` into a boolean array of shape ``image.shape``."""
    as_bytes = np.ascontiguousarray(image.words).view(np.uint8)
    bits = np.unpackbits(as_bytes, axis=-1, count=image.width, bitorder="little")
    return bits.view(bool)


def shift_columns(
    image: PackedImage,
    offset: int,
    padding: str = "zeros",
    edge: np.ndarray | None = None,
    out: np.ndarray | None = None,
    scratch: np.ndarray | None = None,
) -> np.ndarray:
    """Words of the image read ``offset`` columns away: ``out[..., j] = in[..., j + offset]``.

    Columns read from outside the image take 0 (``padding="zeros"``) or the value of the nearest
    border column (``padding="replicate"``). ``edge`` may pass precomputed border bits; ``out``
    (overwritten whole) and ``scratch`` (any content), arrays shaped like the words, spare the
    allocations.
    """
    words, width = image.words, image.width
    n = words.shape[-1]
    words = np.ascontiguousarray(words)
    contiguous = out is not None and out.flags.c_contiguous
    target = out if contiguous else np.empty(words.shape, np.uint64)
    shift = min(abs(offset), width)
    q, r = divmod(shift, WORD_BITS)
    if offset != 0 and q < n:
        _shift_words(words, target, q, r, offset > 0, scratch)
        image_tail = width % WORD_BITS
        if offset < 0 and image_tail:
            target[..., -1] &= np.uint64((1 << image_tail) - 1)
    elif offset == 0:
        target[...] = words
    else:  # the whole image is read from outside
        target[...] = 0
    if padding == "replicate" and offset != 0:
        if edge is None:
            edge = edge_bits(image, "right" if offset > 0 else "left")
        if offset > 0:
            fill = column_mask(width, width - shift, width)
        else:
            fill = column_mask(width, 0, shift)
        target |= edge[..., None] * fill
    if out is not None and target is not out:
        out[...] = target
        return out
    return target


def _shift_words(words, out, q: int, r: int, leftward: bool, scratch) -> None:
    """``out`` (C-contiguous, like ``words``) = each row's bits moved ``64 q + r`` columns,
    toward column 0 (``leftward``: column ``j`` reads ``j + shift``) or away from it, zeros
    coming in.

    The words are shifted as one flat stream (long contiguous runs, several times faster
    than row by row); the few columns that then read a neighbouring row are set afterwards.
    """
    n = words.shape[-1]
    src, dst = words.reshape(-1), out.reshape(-1)
    size = src.size
    spare = None if scratch is None else scratch.reshape(-1)
    if leftward:  # out[j] = in[j + q] >> r | in[j + q + 1] << (64 - r)
        if r == 0:
            dst[: size - q] = src[q:]
        else:
            np.right_shift(src[q:], np.uint64(r), out=dst[: size - q])
            _or_shifted(dst[: size - q - 1], src[q + 1 :], np.left_shift, WORD_BITS - r,
                        spare)
            out[..., n - q - 1] = words[..., n - 1] >> np.uint64(r)
        out[..., n - q :] = 0
    else:  # out[j] = in[j - q] << r | in[j - q - 1] >> (64 - r)
        if r == 0:
            dst[q:] = src[: size - q]
        else:
            np.left_shift(src[: size - q], np.uint64(r), out=dst[q:])
            _or_shifted(dst[q + 1 :], src[: size - q - 1], np.right_shift, WORD_BITS - r,
                        spare)
            out[..., q] = words[..., 0] << np.uint64(r)
        out[..., :q] = 0


def _or_shifted(target, source, shift, bits, scratch) -> None:
    """In place: ``target |= shift(source, bits)``, in ``scratch`` when given."""
    if scratch is None:
        target |= shift(source, np.uint64(bits))
        return
    part = scratch[..., : source.shape[-1]]
    shift(source, np.uint64(bits), out=part)
    target |= part


def edge_bits(image: PackedImage, side: str) -> np.ndarray:
    """The first (``side="left"``) or last (``"right"``) column as 0/1 ``uint64`` per row."""
    if side == "left":
        return image.words[..., 0] & np.uint64(1)
    last = image.width - 1
    return (image.words[..., last // WORD_BITS] >> np.uint64(last % WORD_BITS)) & np.uint64(1)


def column_shifts(
    image: PackedImage, offsets: Iterable[int], padding: str = "zeros"
) -> dict[int, np.ndarray]:
    """The image read at each distinct column offset (:func:`shift_columns`), as words by
    offset; the border columns that ``"replicate"`` padding copies are read once."""
    edges = {}
    if padding == "replicate":
        edges = {"left": edge_bits(image, "left"), "right": edge_bits(image, "right")}
    return {int(dj): shift_columns(image, int(dj), padding,
                                   edges.get("right" if dj > 0 else "left"))
            for dj in set(offsets)}


def combine_shifts(
    image: PackedImage,
    offsets: Iterable[tuple[int, int]],
    reduce: str,
    padding: str = "zeros",
    out: np.ndarray | None = None,
) -> PackedImage:
    """AND (``reduce="and"``) or OR (``"or"``) of the image read at each ``(row, col)`` offset.

    ``out[i, j] = reduce over (di, dj) of in[i + di, j + dj]``, with pixels outside the image given
    by ``padding`` (``"zeros"`` or ``"replicate"``). This is the one kernel behind erosion,
    dilation and the binarized convolutional layers. The offsets are combined row by row: each
    distinct set of column offsets (a row of the element) is combined once along the rows of
    the image, from one horizontal shift per distinct column offset, then the rows of the
    element are combined vertically. The cost is one shift per distinct column offset, at
    most one in-place AND/OR per column of each distinct row pattern (when each pattern
    contains the previous one, only per column it adds), and one per row of the element
    (disk(3): 7 shifts, 6 + 7 operations instead of one per offset, 29), in four arrays of
    the image's size when the patterns are nested. ``out``, an array (or view) shaped like the
    image's words, receives the result in place of a new array.
    """
    if reduce not in ("and", "or"):
        raise ValueError(f"reduce must be 'and' or 'or', got {reduce!r}")
    if padding not in ("zeros", "replicate"):
        raise ValueError(f"padding must be 'zeros' or 'replicate', got {padding!r}")
    by_row: dict[int, set[int]] = {}
    for di, dj in offsets:
        by_row.setdefault(int(di), set()).add(int(dj))
    if not by_row:
        raise ValueError("offsets must not be empty")
    words = np.ascontiguousarray(image.words)  # once, not at every shift (a channel's view)
    image = PackedImage(words, image.width)
    height = words.shape[-2]
    combine = np.bitwise_and if reduce == "and" else np.bitwise_or
    rows_of: dict[frozenset, list[int]] = {}
    for di, columns in by_row.items():
        rows_of.setdefault(frozenset(columns), []).append(di)
    # Row patterns taken from the smallest: when each contains the one before (disks, squares,
    # diamonds), one horizontal combination grows from pattern to pattern and every column
    # offset is shifted once, into a reused buffer; otherwise each distinct shift is kept.
    # Few, reused buffers matter as much as few operations: a process that returns freed
    # memory to the system at once (dask's workers do) pays page faults for every new array.
    patterns = sorted(rows_of, key=len)
    nested = all(a <= b for a, b in pairwise(patterns))
    edges = {}
    if padding == "replicate":
        edges = {"left": edge_bits(image, "left"), "right": edge_bits(image, "right")}
    scratch, shifted = np.empty_like(words), np.empty_like(words)
    kept: dict[int, np.ndarray] = {}

    def read(dj: int, into: np.ndarray) -> np.ndarray:
        if dj in kept:
            return kept[dj]
        result = shift_columns(image, dj, padding, edges.get("right" if dj > 0 else "left"),
                               out=into if nested else np.empty_like(words), scratch=scratch)
        if not nested:
            kept[dj] = result
        return result

    acc = np.empty_like(words) if out is None else out
    acc[...] = np.uint64(2**64 - 1) if reduce == "and" else 0
    horizontal = np.empty_like(words)
    previous: frozenset = frozenset()
    for columns in patterns:
        grown = nested and bool(previous)
        new = sorted(columns - previous) if grown else sorted(columns)
        for index, dj in enumerate(new):
            if index == 0 and not grown:
                source = read(dj, horizontal)
                if source is not horizontal:
                    horizontal[...] = source
            else:
                combine(horizontal, read(dj, shifted), out=horizontal)
        previous = columns
        for di in rows_of[columns]:
            _combine_rows(acc, horizontal, di, height, padding, combine)
    return PackedImage(acc, image.width)._mask_padding()


def _combine_rows(acc, words, offset, height, padding, combine) -> None:
    """In place: ``acc[..., i, :] = combine(acc[..., i, :], words[..., i + offset, :])``."""
    shift = min(abs(offset), height)
    if offset >= 0:
        inside, outside = slice(0, height - shift), slice(height - shift, height)
        source, border_row = slice(shift, height), slice(height - 1, height)
    else:
        inside, outside = slice(shift, height), slice(0, shift)
        source, border_row = slice(0, height - shift), slice(0, 1)
    combine(acc[..., inside, :], words[..., source, :], out=acc[..., inside, :])
    if shift == 0:
        return
    if padding == "replicate":
        combine(acc[..., outside, :], words[..., border_row, :], out=acc[..., outside, :])
    elif combine is np.bitwise_and:
        acc[..., outside, :] = 0
