"""The closest morphological neuron: projections onto the activable set (PA) and the constant set
(PC) of Aouad & Talbot (arXiv:2401.03830), solved exactly by sorting and scanning, vectorized
over neurons.

PA. For a dilation by ``S`` the (closed) activable set is
``{(W, b) : sum_{k not in S} w_k <= b <= w_k for k in S, W >= 0}``; the projection of
``(W^, b^)`` minimizes ``1/2 (||W - W^||^2 + (b - b^)^2)`` over it. An erosion by ``S`` of
``(W, b)`` is a dilation by ``S`` of its dual ``(W, sum W - b)``, so erosions are projected in
those dual coordinates (the convention of the paper and of its reference code): the dual point
``(W^, sum W^ - b^)`` is projected onto the dilation set and mapped back.

At the optimum (KKT), with ``b*`` the new bias and ``lambda0 >= 0`` the multiplier of the sum
constraint, the weights of ``S`` below ``b*`` are raised to ``b*`` (set ``T``), the weights outside
``S`` above ``lambda0`` are lowered by ``lambda0`` (set ``K-bar``) and the others are set to 0.
``b*`` is the root of a strictly increasing piecewise-linear function, so ``T`` and ``K-bar`` are
found by bisection over the sorted weights instead of a generic QP solver
(:mod:`skmorph.morphology._activable_search`). Candidate elements are the upper level sets of the
weights; ``docs/binarization.md`` records the brute-force check that
they always contain the optimum.

PC. ``W`` is approximated by ``theta 1_S``; for fixed ``S`` the best ``theta`` is the mean of ``W``
over ``S`` and the squared distance is ``sum w^2 - (sum_S w)^2 / |S|``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skmorph.morphology._activable_search import SortedNeurons, best_candidates
from skmorph.morphology.activation import (
    DILATION,
    EROSION,
    _operations,
    activation,
    binarized_parameters,
    check_neurons,
)

__all__ = [
    "DILATION",
    "EROSION",
    "METHODS",
    "BinarizedNeurons",
    "ConstantProjection",
    "Projection",
    "activable_closed_form",
    "activable_optimum",
    "binarize_neurons",
    "calibrated_element",
    "constant_distance",
    "packed_agreement",
    "packed_calibrated_element",
    "project_activable",
    "project_activable_on",
    "project_constant",
]

CONSTANT_MODES = ("exact", "uniform", "normal")
METHODS = ("exact", "activable", "constant_exact", "constant_uniform", "constant_normal")
_CHUNK_ELEMENTS = 1 << 18  # candidates processed at once: bounds memory and stays cache-friendly
PREFIX_CHUNK = 32  # columns reduced at a time by _prefix_agreements


@dataclass(frozen=True)
class Projection:
    """Projection onto the activable set (:func:`project_activable`).

    Attributes
    ----------
    selem : ndarray of bool, shape (n_neurons, n_weights)
    operation : ndarray of str, shape (n_neurons,)
    weights : ndarray of float64, shape (n_neurons, n_weights)
        The projected weights ``W*``.
    bias : ndarray of float64, shape (n_neurons,)
        The projected bias ``b*`` (in the neuron's own coordinates, also for erosions).
    distance : ndarray of float64, shape (n_neurons,)
        ``1/2 (||W* - W^||^2 + (b* - b^)^2)``, in dual coordinates for erosions.
    raised, lowered : ndarray of bool, shape (n_neurons, n_weights)
        The active sets of the optimum: weights of S raised to the bias (``T``) and weights
        outside S lowered by the multiplier (``K-bar``).
    sum_constraint_active : ndarray of bool, shape (n_neurons,)
        Whether the constraint ``sum_{k not in S} w_k <= b`` is tight.
    """

    selem: np.ndarray
    operation: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    distance: np.ndarray
    raised: np.ndarray
    lowered: np.ndarray
    sum_constraint_active: np.ndarray


@dataclass(frozen=True)
class ConstantProjection:
    """Projection onto the constant set (:func:`project_constant`).

    Attributes
    ----------
    selem : ndarray of bool, shape (n_neurons, n_weights)
    operation : ndarray of str, shape (n_neurons,)
        From the bias: dilation if ``b <= sum(w) / 2``, else erosion.
    theta : ndarray of float64, shape (n_neurons,)
        Mean of the weights over the element (clipped at 0).
    distance : ndarray of float64, shape (n_neurons,)
        ``sum w^2 - (sum_S w)^2 / |S|``.
    """

    selem: np.ndarray
    operation: np.ndarray
    theta: np.ndarray
    distance: np.ndarray


@dataclass(frozen=True)
class BinarizedNeurons:
    """Neurons replaced by erosions/dilations (:func:`binarize_neurons`).

    Attributes
    ----------
    selem, operation
        The element and operation of each neuron.
    weights, bias : ndarray of float64
        ``(1_S, 1/2)`` or ``(1_S, |S| - 1/2)``.
    exact : ndarray of bool, shape (n_neurons,)
        Whether the neuron was activated (binarized without changing any output).
    distance : ndarray of float64, shape (n_neurons,)
        Distance of the projection used for the neurons that were approximated (0 when exact).
    """

    selem: np.ndarray
    operation: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    exact: np.ndarray
    distance: np.ndarray


# --------------------------------------------------------------------------------------------
# the closed form of the projection for known active sets: shared with the torch regularizer


def activable_optimum(weights, bias, raised, lowered, sum_active, rest):
    """Bias, multiplier and distance of the dilation projection for known active sets.

    The closed form of the PA projection (docs: "Exact and approximate binarization"), written
    with masked sums only (no full-size intermediate per term), so that the torch regularizer
    evaluates and differentiates it at the cost of a few passes over the weights. Works
    unchanged on NumPy arrays and torch tensors; masks are 0/1 floats of the dtype of ``weights``.

    Parameters
    ----------
    weights : (n, k) array;  bias : (n,) array
    raised, lowered : (n, k) 0/1 arrays
        ``T`` (weights of S raised to the bias) and ``K-bar`` (weights outside S lowered by the
        multiplier).
    sum_active : (n,) 0/1 array
        1 where the sum constraint is tight, 0 where its multiplier is 0.
    rest : (n, k) 0/1 array
        The weights outside S that are not lowered (``(1 - inside) * (1 - lowered)``): set to
        0 when the sum constraint is tight, only their negative part clipped otherwise.

    Returns
    -------
    new_bias, multiplier, distance
    """
    squares = weights * weights
    n_raised = raised.sum(-1)
    sum_raised = (weights * raised).sum(-1)
    squares_raised = (squares * raised).sum(-1)
    n_lowered = lowered.sum(-1)
    sum_lowered = (weights * lowered).sum(-1)
    squares_rest = squares * rest
    denominator = n_lowered * (n_raised + 1) + 1
    bias_tight = (sum_lowered + n_lowered * (sum_raised + bias)) / denominator
    multiplier = ((n_raised + 1) * sum_lowered - sum_raised - bias) / denominator
    bias_free = (bias + sum_raised) / (n_raised + 1)
    new_bias = sum_active * bias_tight + (1 - sum_active) * bias_free
    multiplier = sum_active * multiplier
    inside_part = n_raised * new_bias**2 - 2 * new_bias * sum_raised + squares_raised
    outside_part = sum_active * (n_lowered * multiplier**2 + squares_rest.sum(-1)) + (
        1 - sum_active
    ) * (squares_rest * (weights < 0)).sum(-1)
    distance = 0.5 * (inside_part + outside_part + (new_bias - bias) ** 2)
    return new_bias, multiplier, distance


def activable_closed_form(weights, bias, inside, raised, lowered, sum_active):
    """Projection onto the dilation activable set for known active sets (docs: "How PA is solved").

    Same arguments as :func:`activable_optimum` with ``inside`` (the element ``S``) instead of
    ``rest``; also returns the projected weights.

    Returns
    -------
    new_weights, new_bias, distance
    """
    rest = (1 - inside) * (1 - lowered)
    new_bias, multiplier, distance = activable_optimum(
        weights, bias, raised, lowered, sum_active, rest
    )
    kept_outside = rest * (1 - sum_active[..., None]) * (weights > 0)
    new_weights = (
        inside * (raised * new_bias[..., None] + (1 - raised) * weights)
        + lowered * (weights - multiplier[..., None])
        + kept_outside * weights
    )
    return new_weights, new_bias, distance


def constant_distance(weights, selem):
    """``sum w^2 - max(sum_S w, 0)^2 / |S|``: squared distance to the closest ``theta 1_S``.

    Works on NumPy arrays and torch tensors (``selem`` as 0/1 floats; differentiable).
    """
    size = selem.sum(-1)
    selected = (weights * selem).sum(-1)
    selected = selected * (selected > 0)
    return (weights**2).sum(-1) - selected**2 / size


# --------------------------------------------------------------------------------------------
# PA


def _take(array, index):
    return np.take_along_axis(array, index, axis=1)


def project_activable(weights, bias) -> Projection:
    """Project neurons onto the closest activable set (erosion or dilation): PA.

    Every upper level set of the weights is a candidate element, for both operations; the
    projection of smallest distance is returned. Exact (it is the optimum a generic QP solver
    finds, see the tests) and vectorized over neurons: ``O(n_weights log^2 n_weights)`` per
    neuron, with no generic solver.

    Parameters
    ----------
    weights : array-like of shape (n_neurons, n_weights) or (n_weights,)
    bias : array-like of shape (n_neurons,) or scalar

    Returns
    -------
    Projection
    """
    weights, bias, _ = check_neurons(weights, bias)
    n, k = weights.shape
    order = np.argsort(-weights, axis=1, kind="stable")
    sorted_weights = _take(weights, order)
    targets = np.stack([bias, weights.sum(axis=1) - bias], axis=1)  # dilation, dual (erosion)
    best_split = np.empty(n, dtype=np.int64)
    best_erosion = np.empty(n, dtype=bool)
    chunk = max(1, _CHUNK_ELEMENTS // k)
    for start in range(0, n, chunk):
        rows = slice(start, start + chunk)
        split, target = best_candidates(sorted_weights[rows], targets[rows])
        best_split[rows], best_erosion[rows] = split, target == 1
    return _finish_activable(weights, bias, order, best_split, best_erosion)


def _finish_activable(weights, bias, order, split, is_erosion) -> Projection:
    """Active sets of the chosen candidates in the original order, then the closed form."""
    n, k = weights.shape
    target = np.where(is_erosion, weights.sum(axis=1) - bias, bias)
    solution = SortedNeurons(_take(weights, order)).solve(split[:, None], target[:, None])
    n_raised, n_lowered = solution.n_raised, solution.n_lowered
    sum_active = solution.sum_active
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(k)[None, :].repeat(n, axis=0), axis=1)
    inside = rank < split[:, None]
    raised = inside & (rank >= (split - n_raised[:, 0])[:, None])
    lowered = ~inside & (rank < (split + n_lowered[:, 0])[:, None]) & sum_active
    lowered &= weights > 0
    new_weights, dual_bias, distance = activable_closed_form(
        weights,
        target,
        inside.astype(float),
        raised.astype(float),
        lowered.astype(float),
        sum_active[:, 0].astype(float),
    )
    new_bias = np.where(is_erosion, new_weights.sum(axis=1) - dual_bias, dual_bias)
    return Projection(
        selem=inside,
        operation=_operations(is_erosion),
        weights=new_weights,
        bias=new_bias,
        distance=distance,
        raised=raised,
        lowered=lowered,
        sum_constraint_active=sum_active[:, 0],
    )


def project_activable_on(weights, bias, selem, operation) -> Projection:
    """Projection onto the activable set of given elements and operations (no search over S).

    Used to check the level-set property against arbitrary elements, and to keep the element of
    activated neurons fixed.
    """
    weights, bias, _ = check_neurons(weights, bias)
    selem = np.asarray(selem, dtype=bool).reshape(weights.shape)
    is_erosion = np.asarray(operation).reshape(-1) == EROSION
    # put S first and the rest after, each part in decreasing order
    key = np.where(selem, 0, 1) * (np.abs(weights).max() * 4 + 1) - weights
    order = np.argsort(key, axis=1, kind="stable")
    return _finish_activable(weights, bias, order, selem.sum(axis=1), is_erosion)


# --------------------------------------------------------------------------------------------
# PC


def project_constant(weights, bias, mode: str = "exact") -> ConstantProjection:
    """Project neurons onto the closest constant set ``theta 1_S``: PC.

    Parameters
    ----------
    weights : array-like of shape (n_neurons, n_weights) or (n_weights,)
    bias : array-like of shape (n_neurons,) or scalar
    mode : {"exact", "uniform", "normal"}, default="exact"
        ``"exact"``: the best S, the ``j*`` largest weights maximizing
        ``(w_(1) + ... + w_(j)) / sqrt(j)`` (``O(n log n)``). ``"uniform"``: ``S = {w >= 2/3
        mean(W)}``; ``"normal"``: ``S = {w >= 3/4 mean(W)}`` (the O(n) thresholds of ternary
        weight networks).

    Returns
    -------
    ConstantProjection
    """
    weights, bias, _ = check_neurons(weights, bias)
    if mode not in CONSTANT_MODES:
        raise ValueError(f"mode must be one of {CONSTANT_MODES}, got {mode!r}")
    if mode == "exact":
        order = np.argsort(-weights, axis=1, kind="stable")
        partial = np.cumsum(_take(weights, order), axis=1)
        best = np.argmax(partial / np.sqrt(np.arange(1, weights.shape[1] + 1)), axis=1)
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(weights.shape[1])[None, :], axis=1)
        selem = rank <= best[:, None]
    else:
        fraction = 2.0 / 3.0 if mode == "uniform" else 3.0 / 4.0
        selem = weights >= fraction * weights.mean(axis=1, keepdims=True)
        empty = ~selem.any(axis=1)
        selem[empty, np.argmax(weights[empty], axis=1)] = True
    theta = np.maximum((weights * selem).sum(axis=1) / selem.sum(axis=1), 0.0)
    distance = np.maximum(constant_distance(weights, selem.astype(float)), 0.0)
    is_erosion = bias > 0.5 * weights.sum(axis=1)
    return ConstantProjection(selem, _operations(is_erosion), theta, distance)


# --------------------------------------------------------------------------------------------


def binarize_neurons(weights, bias, method: str = "activable") -> BinarizedNeurons:
    """Replace neurons by erosions/dilations: exactly where activated, by a projection elsewhere.

    Parameters
    ----------
    weights : array-like of shape (n_neurons, n_weights) or (n_weights,)
    bias : array-like of shape (n_neurons,) or scalar
    method : {"activable", "constant_exact", "constant_uniform", "constant_normal", "exact"}
        How neurons that are not activated are approximated: projection onto the activable set
        (PA) or onto the constant set (PC, in the given mode). ``"exact"`` approximates nothing
        and raises ``ValueError`` if a neuron is not activated. Activated neurons always keep
        their own element.

    Returns
    -------
    BinarizedNeurons
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    weights, bias, _ = check_neurons(weights, bias)
    exact = activation(weights, bias)
    selem, operation = exact.selem.copy(), exact.operation.copy()
    distance = np.zeros(weights.shape[0])
    todo = ~exact.activated
    if todo.any():
        if method == "exact":
            raise ValueError(
                f"method='exact' binarizes activated neurons only, but {int(todo.sum())} of "
                f"{todo.size} neurons are not activated; use 'activable' or a 'constant_*' method"
            )
        if method == "activable":
            approx = project_activable(weights[todo], bias[todo])
        else:
            approx = project_constant(weights[todo], bias[todo], mode=method.split("_")[1])
        selem[todo], operation[todo], distance[todo] = (
            approx.selem,
            approx.operation,
            approx.distance,
        )
    new_weights, new_bias = binarized_parameters(selem, operation)
    return BinarizedNeurons(selem, operation, new_weights, new_bias, exact.activated, distance)



def calibrated_element(weights: np.ndarray, inputs: np.ndarray, target: np.ndarray):
    """The erosion or dilation, by the ``m`` largest weights of a neuron, that agrees most
    often with ``target`` on the binary ``inputs``.

    A neuron that is not activated is approximated by some erosion or dilation; the
    projections (:func:`project_activable`, :func:`project_constant`) choose the one closest
    in weights. This chooses the one closest in function on data: among the erosions (AND)
    and dilations (OR) of the neuron's ``m`` largest positive weights, for every ``m``, the
    one whose output equals ``target`` (the neuron's thresholded output) on the most rows of
    ``inputs``. All ``m`` are scored at once by cumulative AND / OR along the weights sorted in
    decreasing order.

    Parameters
    ----------
    weights : array of shape (n_weights,)
    inputs : bool array of shape (n_samples, n_weights)
        What the neuron reads (windows of images, flattened like ``weights``).
    target : bool array of shape (n_samples,)

    Returns
    -------
    selem : bool array of shape (n_weights,)
    operation : {"erosion", "dilation"}
    agreement : float
        Fraction of the samples where the chosen operation outputs ``target``.
    """
    inputs = np.asarray(inputs, dtype=bool)
    return packed_calibrated_element(weights, np.packbits(inputs, axis=0),
                                     np.packbits(np.asarray(target, dtype=bool)),
                                     inputs.shape[0])


def packed_calibrated_element(weights: np.ndarray, inputs: np.ndarray, target: np.ndarray,
                              n_samples: int):
    """:func:`calibrated_element` on samples packed 8 to a byte (``np.packbits`` along the
    samples: ``inputs`` of shape ``(ceil(n_samples / 8), n_weights)``, ``target`` of shape
    ``(ceil(n_samples / 8),)``), for many neurons reading the same inputs: packed once."""
    weights = np.asarray(weights, dtype=np.float64)
    order = np.argsort(-weights, kind="stable")[: max(1, int((weights > 0).sum()))]
    chosen = inputs[:, order]
    # the padding bits are 0 in inputs and target alike: never a disagreement
    every_sample = np.packbits(np.ones(n_samples, dtype=bool))
    scores = {EROSION: _prefix_agreements(chosen, np.bitwise_and, target, n_samples,
                                          np.zeros_like(every_sample)),
              DILATION: _prefix_agreements(chosen, np.bitwise_or, target, n_samples,
                                           every_sample)}
    operation = EROSION if scores[EROSION].max() >= scores[DILATION].max() else DILATION
    size = int(scores[operation].argmax()) + 1
    selem = np.zeros(weights.shape[0], dtype=bool)
    selem[order[:size]] = True
    return selem, operation, float(scores[operation].max())


def _prefix_agreements(chosen: np.ndarray, reduce: np.ufunc, target: np.ndarray,
                       n_samples: int, saturated: np.ndarray) -> np.ndarray:
    """:func:`packed_agreement` of ``reduce`` (AND or OR) over the first ``m`` columns of
    ``chosen``, for every ``m``, computed ``PREFIX_CHUNK`` columns at a time. Once the running
    reduction is ``saturated`` (0 everywhere for an AND, 1 on every sample for an OR), more
    columns cannot change it: the remaining scores repeat the last one, uncomputed. An AND of
    a few dozen sparse maps is already 0 everywhere, while a neuron can have a thousand
    positive weights."""
    n_columns = chosen.shape[1]
    scores = np.empty(n_columns)
    running = None
    for start in range(0, n_columns, PREFIX_CHUNK):
        block = chosen[:, start:start + PREFIX_CHUNK]
        if running is not None:
            block = np.concatenate([running[:, None], block], axis=1)
        prefixes = reduce.accumulate(block, axis=1)[:, 0 if running is None else 1:]
        stop = start + prefixes.shape[1]
        scores[start:stop] = packed_agreement(prefixes, target, n_samples)
        running = prefixes[:, -1]
        if np.array_equal(running, saturated):
            scores[stop:] = scores[stop - 1]
            break
    return scores


def packed_agreement(outputs: np.ndarray, target: np.ndarray, n_samples: int) -> np.ndarray:
    """Fraction of the samples where packed ``outputs`` (one column per candidate, samples
    packed along axis 0) equal the packed ``target``, counted exactly."""
    disagreements = np.bitwise_count(outputs ^ target[:, None]).sum(axis=0, dtype=np.int64)
    return (n_samples - disagreements) / max(n_samples, 1)
