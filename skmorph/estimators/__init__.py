"""scikit-learn estimators built on the torch layers, and the binarization of fitted networks."""

from skmorph.estimators._params import InvalidParameterError
from skmorph.estimators.classifier import BiMoNNClassifier
from skmorph.estimators.conversion import (
    binarize_network,
    calibrate_network,
    set_layer_operator,
)
from skmorph.estimators.transformer import MorphologicalTransformer

__all__ = [
    "BiMoNNClassifier",
    "InvalidParameterError",
    "MorphologicalTransformer",
    "binarize",
    "binarize_network",
    "calibrate_network",
    "set_layer_operator",
]


def binarize(estimator, method: str = "activable", X=None, y=None, *,
             return_report: bool = False):
    """Binarize a fitted estimator's network with ``method``, without retraining.

    The same as ``estimator.binarize(method, X, y, return_report=return_report)``: see
    :meth:`BiMoNNClassifier.binarize`. The estimator is left unchanged.

    Parameters
    ----------
    estimator : BiMoNNClassifier or MorphologicalTransformer
        A fitted estimator.
    method : {"activable", "constant_exact", "constant_uniform", "constant_normal", "exact"}
        How neurons that are not activated are approximated (activated ones are always exact);
        ``"exact"`` raises if a neuron is not activated.
    X, y : array-like, optional
        The data the classifier's binarized head is refitted on (``refit_head=True``); without
        them it keeps the float network's head. Ignored by the transformer.
    return_report : bool, default=False
        Also return the binarization report (see ``binarization_report_``).

    Returns
    -------
    BinarizedNetwork, or (BinarizedNetwork, dict) with ``return_report=True``
    """
    return estimator.binarize(method, X, y, return_report=return_report)
