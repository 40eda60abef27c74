"""scikit-learn estimators built on the torch layers, and the binarization of fitted networks."""

from skmorph.estimators.classifier import BiMoNNClassifier
from skmorph.estimators.conversion import binarize_network
from skmorph.estimators.transformer import MorphologicalTransformer

__all__ = ["BiMoNNClassifier", "MorphologicalTransformer", "binarize", "binarize_network"]


def binarize(estimator, method: str = "activable", *, return_report: bool = False):
    """Binarize a fitted estimator's network with ``method``, without retraining.

    Parameters
    ----------
    estimator : BiMoNNClassifier or MorphologicalTransformer
        A fitted estimator.
    method : {"activable", "constant_exact", "constant_uniform", "constant_normal", "exact"}
        How neurons that are not activated are approximated (activated ones are always exact);
        ``"exact"`` raises if a neuron is not activated.
    return_report : bool, default=False
        Also return the binarization report (see ``binarization_report_``).

    Returns
    -------
    BinarizedNetwork, or (BinarizedNetwork, dict) with ``return_report=True``
    """
    network, report = estimator._binarize(method)
    return (network, report) if return_report else network
