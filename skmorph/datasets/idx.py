"""Readers of the IDX format of MNIST and Fashion-MNIST (no download: give the files' path)."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np

__all__ = ["load_idx", "load_mnist"]

_CHUNK_BYTES = 1 << 22  # read (and decompress) at most this much at a time

_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def load_idx(path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed, detected from its content).

    The header is read and checked first; then exactly the data it announces is read (in
    chunks, decompressing only that much), so that a file whose content does not match its
    header is refused without reading, or decompressing, more than the header announced.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ndarray
        With the file's shape and element type (native byte order).
    """
    with open(path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as stream:
            return _read_idx(stream, path)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise ValueError(f"{path} is not a readable IDX file: {error}") from error


def _read_idx(stream, path) -> np.ndarray:
    magic = stream.read(4)
    if len(magic) < 4 or magic[:2] != b"\x00\x00" or magic[2] not in _TYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {magic!r})")
    dtype, ndim = _TYPES[magic[2]], magic[3]
    header = stream.read(4 * ndim)
    if len(header) != 4 * ndim:
        raise ValueError(f"{path}: the header is cut short ({ndim} dimensions announced)")
    shape = tuple(int(v) for v in np.frombuffer(header, dtype=">u4"))
    expected = math.prod(shape) * dtype.itemsize
    data = bytearray()
    while len(data) <= expected:  # one byte more than announced tells a longer file
        chunk = stream.read(min(_CHUNK_BYTES, expected + 1 - len(data)))
        if not chunk:
            break
        data += chunk
    if len(data) != expected:
        held = f"{len(data)}" if len(data) <= expected else f"more than {expected}"
        raise ValueError(
            f"{path}: the header announces shape {shape} ({expected} bytes of data) but the "
            f"file holds {held}"
        )
    array = np.frombuffer(bytes(data), dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def load_mnist(directory, subset: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of MNIST or Fashion-MNIST from their four IDX files in ``directory``.

    Looks for ``{train,t10k}-images-idx3-ubyte`` and ``{train,t10k}-labels-idx1-ubyte``, with or
    without ``.gz`` (the original file names of both datasets; Debian's
    ``dataset-fashion-mnist`` package puts them in ``/usr/share/datasets/fashion-mnist``).

    Parameters
    ----------
    directory : str or Path
    subset : {"train", "test"}

    Returns
    -------
    images : ndarray of uint8, shape (n, 28, 28)
    labels : ndarray of uint8, shape (n,)
    """
    if subset not in ("train", "test"):
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}")
    prefix = "train" if subset == "train" else "t10k"
    found = []
    for kind in ("images-idx3", "labels-idx1"):
        candidates = [Path(directory) / f"{prefix}-{kind}-ubyte{suffix}" for suffix in ("", ".gz")]
        existing = [p for p in candidates if p.exists()]
        if not existing:
            raise FileNotFoundError(
                f"no {prefix}-{kind}-ubyte[.gz] in {directory}; skmorph reads local files only"
            )
        found.append(load_idx(existing[0]))
    images, labels = found
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} labels in {directory}")
    return images, labels
