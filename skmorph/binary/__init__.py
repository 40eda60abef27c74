"""Binarized networks: NumPy only, bit-packed, torch-free (see :class:`BinarizedNetwork`)."""

from skmorph.binary.layers import (
    BinaryConv,
    BinaryDense,
    BinaryPooling,
    LinearHead,
    Thresholds,
    selem_picture,
)
from skmorph.binary.network import BinarizedNetwork, dice_scores

__all__ = [
    "BinarizedNetwork",
    "BinaryConv",
    "BinaryDense",
    "BinaryPooling",
    "LinearHead",
    "Thresholds",
    "dice_scores",
    "selem_picture",
]
