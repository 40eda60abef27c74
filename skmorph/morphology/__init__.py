"""Binary mathematical morphology and the exact binarization math, in NumPy only.

This subpackage never imports torch.
"""

from skmorph.morphology.activation import ActivationResult, activation, binarized_parameters
from skmorph.morphology.bitpack import PackedImage, pack, unpack
from skmorph.morphology.operations import (
    black_tophat,
    closing,
    dilation,
    erosion,
    opening,
    white_tophat,
)
from skmorph.morphology.projection import (
    BinarizedNeurons,
    ConstantProjection,
    Projection,
    binarize_neurons,
    calibrated_element,
    packed_calibrated_element,
    project_activable,
    project_constant,
)
from skmorph.morphology.selem import cross, diamond, disk, line, pad_selem, square

__all__ = [
    "ActivationResult",
    "BinarizedNeurons",
    "ConstantProjection",
    "PackedImage",
    "Projection",
    "activation",
    "binarize_neurons",
    "binarized_parameters",
    "black_tophat",
    "calibrated_element",
    "closing",
    "cross",
    "diamond",
    "dilation",
    "disk",
    "erosion",
    "line",
    "opening",
    "pack",
    "packed_calibrated_element",
    "pad_selem",
    "project_activable",
    "project_constant",
    "square",
    "unpack",
    "white_tophat",
]
