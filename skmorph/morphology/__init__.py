"""Binary mathematical morphology and the exact binarization math, in NumPy only.

This subpackage never imports torch.
"""

from skmorph.morphology.bitpack import PackedImage, pack, unpack
from skmorph.morphology.operations import (
    black_tophat,
    closing,
    dilation,
    erosion,
    opening,
    white_tophat,
)
from skmorph.morphology.selem import cross, diamond, disk, line, pad_selem, square

__all__ = [
    "PackedImage",
    "black_tophat",
    "closing",
    "cross",
    "diamond",
    "dilation",
    "disk",
    "erosion",
    "line",
    "opening",
    "pack",
    "pad_selem",
    "square",
    "unpack",
    "white_tophat",
]
