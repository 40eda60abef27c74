"""When a thresholded linear neuron *is* an erosion or a dilation.

The conditions of Aouad & Talbot (arXiv:2401.03830); see the docs page "Exact and approximate
binarization", section "Activated neurons are binarized exactly".

A neuron with weights ``w`` and bias ``b`` computes ``[x . w > b]`` on binary inputs ``x``. It is
*activated* when that function equals a dilation (OR over a set ``S`` of inputs) or an erosion
(AND over ``S``) on every binary input; then ``(1_S, 1/2)`` or ``(1_S, |S| - 1/2)`` computes the
same function, so binarization is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skmorph._validation import check_finite

__all__ = [
    "ActivationResult",
    "activation",
    "binarized_parameters",
    "check_neurons",
    "output_bounds",
]

DILATION, EROSION = "dilation", "erosion"


@dataclass(frozen=True)
class ActivationResult:
    """Outcome of :func:`activation` for a batch of neurons.

    Attributes
    ----------
    activated : ndarray of bool, shape (n_neurons,)
        Whether each neuron is exactly an erosion or a dilation.
    selem : ndarray of bool, shape (n_neurons, n_weights)
        The structuring element of each neuron (for neurons that are not activated: the
        candidate read off the weights for the operation the bias points to).
    operation : ndarray of str, shape (n_neurons,)
        ``"dilation"`` or ``"erosion"``.
    """

    activated: np.ndarray
    selem: np.ndarray
    operation: np.ndarray


def check_neurons(weights, bias) -> tuple[np.ndarray, np.ndarray, bool]:
    """Validate ``weights`` (n, k) or (k,) and ``bias`` (n,) or scalar; return float64 copies.

    The third value tells whether a single neuron was given (1-D weights), so that callers can
    return results of the same kind.
    """
    weights = check_finite(weights, "weights").astype(np.float64)
    single = weights.ndim == 1
    if single:
        weights = weights[None, :]
    if weights.ndim != 2 or weights.shape[1] == 0:
        raise ValueError(
            f"weights must have shape (n_neurons, n_weights) or (n_weights,) with n_weights >= 1, "
            f"got shape {weights.shape}"
        )
    bias = check_finite(bias, "bias").astype(np.float64).reshape(-1)
    if bias.shape != (weights.shape[0],):
        raise ValueError(
            f"bias must have one value per neuron ({weights.shape[0]}), got shape {bias.shape}"
        )
    return weights, bias, single


def _operations(is_erosion: np.ndarray) -> np.ndarray:
    return np.where(is_erosion, EROSION, DILATION)


def activation(weights, bias, v1: float = 0.0, v2: float = 1.0) -> ActivationResult:
    """Test which neurons are exactly erosions or dilations.

    Implements the activation conditions for inputs in ``[0, v1] U [v2, 1]`` (binary
    inputs: ``v1=0, v2=1``); with ``S`` the structuring element and ``w+`` the positive part:

    - dilation by S iff ``sum_{k not in S} w+_k + v1 sum_S w < b < v2 min_S w + sum_{w<0} w``
    - erosion by S  iff ``sum w+ - (1 - v1) min_S w < b < v2 sum_S w + sum_{w<0} w``

    Parameters
    ----------
    weights : array-like of shape (n_neurons, n_weights) or (n_weights,)
    bias : array-like of shape (n_neurons,) or scalar
    v1, v2 : float, default=0 and 1
        Bounds of the almost-binary inputs, ``0 <= v1 < v2 <= 1``.

    Returns
    -------
    ActivationResult
        For a single neuron (1-D weights), the fields are indexed by neuron all the same, with
        one neuron.
    """
    weights, bias, _ = check_neurons(weights, bias)
    v1, v2 = _check_levels(v1, v2)
    # strict inequalities with a margin for the rounding of the float64 sums, so that a neuron
    # declared activated is activated
    margin = 8 * np.finfo(np.float64).eps * (np.abs(weights).sum(axis=1) + np.abs(bias))
    total_positive = np.maximum(weights, 0.0).sum(axis=1)
    total_negative = np.minimum(weights, 0.0).sum(axis=1)
    # the largest S that satisfies the upper bound; a smaller S only makes the lower bound harder
    dil_selem = (weights > 0) & (v2 * weights + total_negative[:, None] > (bias + margin)[:, None])
    ero_selem = (weights > 0) & ((1.0 - v1) * weights > (total_positive - bias + margin)[:, None])
    activated = {}
    for operation, selem in ((DILATION, dil_selem), (EROSION, ero_selem)):
        low, high = output_bounds(weights, selem, operation, v1, v2)
        activated[operation] = selem.any(axis=1) & (low < bias - margin) & (bias + margin < high)
    is_dilation = activated[DILATION]
    is_erosion = activated[EROSION] & ~is_dilation
    is_activated = is_dilation | is_erosion
    # not activated: report the candidate of the operation the bias points to
    prefer_erosion = np.where(is_activated, is_erosion, bias > 0.5 * weights.sum(axis=1))
    selem = np.where(prefer_erosion[:, None], ero_selem, dil_selem)
    return ActivationResult(is_activated, selem, _operations(prefer_erosion))


def _check_levels(v1, v2) -> tuple[float, float]:
    v1, v2 = float(v1), float(v2)
    if not 0.0 <= v1 < v2 <= 1.0:
        raise ValueError(f"v1 and v2 must satisfy 0 <= v1 < v2 <= 1, got v1={v1}, v2={v2}")
    return v1, v2


def output_bounds(weights, selem, operation, v1: float = 0.0, v2: float = 1.0):
    """Bounds of ``x . w`` for inputs in ``[0, v1] U [v2, 1]``, per neuron.

    Returns ``(low, high)``: ``low`` is the largest value of ``x . w`` over the inputs where the
    operation by ``selem`` gives 0, ``high`` the smallest over the inputs where it gives 1. The
    neuron computes the operation iff ``low < b < high`` (the activation conditions), and a
    following smooth threshold maps its outputs to ``[0, xi(p (low - b))] U [xi(p (high - b)), 1]``,
    which is how almost-binary ranges propagate through a network.

    Parameters
    ----------
    weights : ndarray of shape (n_neurons, n_weights)
    selem : ndarray of bool, shape (n_neurons, n_weights)
    operation : str or array of str, shape (n_neurons,)
    v1, v2 : float
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    selem = np.atleast_2d(np.asarray(selem, dtype=bool))
    is_erosion = np.broadcast_to(np.asarray(operation) == EROSION, weights.shape[:1])
    positive = np.maximum(weights, 0.0)
    total_positive = positive.sum(axis=1)
    total_negative = np.minimum(weights, 0.0).sum(axis=1)
    inside_sum = (positive * selem).sum(axis=1)
    inside_min = np.where(selem, weights, np.inf).min(axis=1)
    low = np.where(
        is_erosion,
        total_positive - (1.0 - v1) * inside_min,
        total_positive - (1.0 - v1) * inside_sum,
    )
    high = np.where(is_erosion, v2 * inside_sum, v2 * inside_min) + total_negative
    return low, high


def binarized_parameters(selem, operation) -> tuple[np.ndarray, np.ndarray]:
    """Binary weights and bias of the neurons that compute ``operation`` by ``selem``.

    Returns ``(1_S, 1/2)`` for a dilation and ``(1_S, |S| - 1/2)`` for an erosion: on binary
    inputs ``[x . 1_S > 1/2]`` is the OR over S and ``[x . 1_S > |S| - 1/2]`` the AND.

    Parameters
    ----------
    selem : array-like of bool, shape (n_neurons, n_weights)
    operation : array-like of str, shape (n_neurons,)

    Returns
    -------
    weights : ndarray of float64, shape (n_neurons, n_weights)
    bias : ndarray of float64, shape (n_neurons,)
    """
    selem = np.atleast_2d(np.asarray(selem, dtype=bool))
    operation = np.atleast_1d(np.asarray(operation))
    unknown = set(np.unique(operation).tolist()) - {DILATION, EROSION}
    if unknown:
        raise ValueError(f"operation must be 'dilation' or 'erosion', got {sorted(unknown)}")
    weights = selem.astype(np.float64)
    bias = np.where(operation == EROSION, weights.sum(axis=1) - 0.5, 0.5)
    return weights, bias
