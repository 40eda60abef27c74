"""Torch side of skmorph: BiSE/LUI/BiSEL/DenseLUI layers, regularization and training."""

from skmorph.nn.distances import (
    ActivableSets,
    activable_distance,
    activable_sets,
    constant_distance,
    constant_selem,
)
from skmorph.nn.layers import (
    LUI,
    NORMALIZATIONS,
    POOLINGS,
    BiSE,
    BiSEL,
    BlockPooling,
    DenseLUI,
    MorphologicalNeurons,
)
from skmorph.nn.networks import (
    CONV_LAYERS,
    CONV_READOUTS,
    MorphologicalNetwork,
    build_network,
    conv_features,
)
from skmorph.nn.regularization import REGULARIZATIONS, Regularizer
from skmorph.nn.training import (
    TrainingOptions,
    native_bfloat16,
    resolve_device,
    torch_threads,
    train,
)

__all__ = [
    "CONV_LAYERS",
    "CONV_READOUTS",
    "LUI",
    "NORMALIZATIONS",
    "POOLINGS",
    "REGULARIZATIONS",
    "ActivableSets",
    "BiSE",
    "BiSEL",
    "BlockPooling",
    "DenseLUI",
    "MorphologicalNetwork",
    "MorphologicalNeurons",
    "Regularizer",
    "TrainingOptions",
    "activable_distance",
    "activable_sets",
    "build_network",
    "constant_distance",
    "constant_selem",
    "conv_features",
    "native_bfloat16",
    "resolve_device",
    "torch_threads",
    "train",
]
