"""Torch side of skmorph: BiSE/LUI/BiSEL/DenseLUI layers, regularization and training."""

from skmorph.nn.distances import (
    ActivableSets,
    activable_distance,
    activable_sets,
    constant_distance,
    constant_selem,
)

__all__ = [
    "ActivableSets",
    "activable_distance",
    "activable_sets",
    "constant_distance",
    "constant_selem",
]
