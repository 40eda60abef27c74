"""skmorph: binarized morphological neural networks for scikit-learn.

The NumPy side (:mod:`skmorph.morphology`, :mod:`skmorph.binary`, :mod:`skmorph.datasets`) never
imports torch. The estimators, which train with torch, are exposed lazily so that importing
``skmorph`` or unpickling a binarized predictor does not import torch.
"""

from importlib import import_module

__version__ = "0.1.0.dev0"

# public name -> module that defines it; resolved on first access
_LAZY = {
    "BiMoNNClassifier": "skmorph.estimators",
    "MorphologicalTransformer": "skmorph.estimators",
    "binarize": "skmorph.estimators",
    "BinarizedNetwork": "skmorph.binary",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'skmorph' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
