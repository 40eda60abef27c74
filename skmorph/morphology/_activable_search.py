"""Exact search of the projection onto the dilation activable set, for many candidates at once.

For a candidate element ``S`` and target bias ``b^``, the optimal bias ``b*`` is the root of

    Phi(b) = b - b^ - lambda0(b) + sum_{k in S} (b - w_k)+

where ``lambda0(b) >= 0`` is the multiplier of the sum constraint (the amount by which the outside
weights must be lowered so that their positive parts sum to ``b``; 0 when they already fit).
``Phi`` is continuous, strictly increasing and piecewise linear, with breakpoints at the weights of
``S`` and at the biases ``P_j`` where an outside weight starts being lowered. Bisection over the
two sorted lists finds the linear piece that holds the root; the closed form of the PA
projection then gives ``b*`` and ``lambda0``. Root ``< 0`` means the corner ``b* = 0``.

Candidates are described by a split of weights sorted in decreasing order: positions
``[0, split)`` are ``S`` and the rest is outside, each part in decreasing order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _n_steps(k: int) -> int:
    return int(np.ceil(np.log2(k + 2))) + 1


def _bisect_count(holds, maximum, k: int):
    """Largest ``c`` in ``[0, maximum]`` with ``holds(c)`` true for all ``1..c`` (vectorized).

    ``holds`` must be monotone (true on a prefix of ``1, 2, ...``); it is called with counts
    clipped to ``[1, max(maximum, 1)]`` and its result is ignored where ``maximum`` is 0.
    """
    low = np.zeros_like(maximum)
    high = maximum.copy()
    upper = np.maximum(maximum, 1)
    for _ in range(_n_steps(k)):
        searching = low < high
        if not searching.any():
            break
        mid = (low + high + 1) // 2
        ok = holds(np.minimum(np.maximum(mid, 1), upper))
        low = np.where(searching & ok, mid, low)
        high = np.where(searching & ~ok, mid - 1, high)
    return low


@dataclass
class Solution:
    """Active sets and optimum of the dilation projection for each candidate."""

    n_raised: np.ndarray  # |T|: weights of S raised to b*
    n_lowered: np.ndarray  # |K-bar|: outside weights lowered by lambda0
    sum_active: np.ndarray  # sum constraint tight (lambda0 > 0, or the corner b* = 0)
    bias: np.ndarray
    multiplier: np.ndarray
    distance: np.ndarray


class SortedNeurons:
    """Weights sorted in decreasing order with prefix sums, for O(1) sums over sorted ranges.

    ``rows`` selects the neurons the candidate arrays refer to (one row of candidates per
    selected neuron), so that a subset can be searched without copying the prefix sums.
    """

    def __init__(self, sorted_weights: np.ndarray):
        n, self.k = sorted_weights.shape
        self.rows = np.arange(n)[:, None]
        zero = np.zeros((n, 1))

        def prefix(values):
            return np.concatenate([zero, np.cumsum(values, axis=1)], axis=1)

        self.w = sorted_weights
        self.sum = prefix(sorted_weights)
        self.sum_positive = prefix(np.maximum(sorted_weights, 0.0))
        self.sum_squares = prefix(sorted_weights**2)
        self.sum_negative_squares = prefix(np.minimum(sorted_weights, 0.0) ** 2)

    def subset(self, rows: np.ndarray) -> SortedNeurons:
        view = object.__new__(SortedNeurons)
        view.__dict__.update(self.__dict__)
        view.rows = np.asarray(rows)[:, None]
        return view

    def at(self, array: np.ndarray, index: np.ndarray) -> np.ndarray:
        return array[self.rows, index]

    def between(self, prefix: np.ndarray, start, stop) -> np.ndarray:
        """Sum of sorted positions ``[start, stop)`` from a prefix-sum array."""
        return self.at(prefix, stop) - self.at(prefix, start)

    # ---- the outside list: u_j (positive parts) and the breakpoints P_j

    def outside_breakpoint(self, split, j):
        """``(P_j, u_j)`` with ``P_j = sum_{i<j} (u_i - u_j)``: the bias at which ``u_j``
        starts being lowered."""
        u_j = np.maximum(self.at(self.w, np.minimum(split + j - 1, self.k - 1)), 0.0)
        before = self.between(self.sum_positive, split, split + j - 1)
        return before - (j - 1) * u_j, u_j

    def multiplier(self, split, b):
        """``lambda0(b)``: how much the outside weights are lowered when the bias is ``b``."""
        count = _bisect_count(
            lambda j: self.outside_breakpoint(split, j)[0] <= b, self.k - split, self.k
        )
        lowered = self.between(self.sum_positive, split, split + count)
        return np.where(count > 0, np.maximum(lowered - b, 0.0) / np.maximum(count, 1), 0.0)

    # ---- searches

    def _raised(self, split, b_hat, multiplier_at):
        """``(a, sum_T)``: how many weights of S lie below the root, and their sum.

        ``multiplier_at(b)`` is the lambda0 term of Phi (exact, or 0 for the lower bound)."""
        total_inside = self.at(self.sum, split)

        def below_root(count):
            position = split - count
            weight = self.at(self.w, position)
            value = np.maximum(weight, 0.0)
            below = count - 1  # weights of S after ``position``: all <= weight
            below_sum = total_inside - self.at(self.sum, position + 1)
            phi = value - b_hat - multiplier_at(value) + below * value - below_sum
            return (weight < 0) | (phi < 0)

        n_raised = _bisect_count(below_root, split, self.k)
        return n_raised, self.between(self.sum, split - n_raised, split)

    def solve(self, split, target) -> Solution:
        """Exact optimum for every candidate (``split`` and ``target`` of the same shape)."""
        n_raised, sum_raised = self._raised(split, target, lambda b: self.multiplier(split, b))

        def phi_linear(b, multiplier):  # Phi on the piece where |T| = n_raised
            return b * (1 + n_raised) - target - sum_raised - multiplier

        def below_bias(j):
            breakpoint, u_j = self.outside_breakpoint(split, j)
            return phi_linear(breakpoint, u_j) <= 0

        n_lowered = _bisect_count(below_bias, self.k - split, self.k)
        end = np.full_like(split, self.k)
        total_outside = self.between(self.sum_positive, split, end)
        sum_active = phi_linear(total_outside, 0.0) > 0
        lowered_sum = self.between(self.sum_positive, split, split + n_lowered)
        bias = np.where(
            sum_active,
            (n_lowered * (target + sum_raised) + lowered_sum) / (n_lowered * (1 + n_raised) + 1),
            (target + sum_raised) / (1 + n_raised),
        )
        # the corner b* = 0 (Phi(0) >= 0): every outside weight goes to 0
        negative_inside = self.at(self.sum, split) - self.at(self.sum_positive, split)
        corner = -target - self.multiplier(split, np.zeros_like(target)) - negative_inside >= 0
        bias = np.where(corner, 0.0, bias)
        sum_active |= corner
        n_lowered = np.where(corner, 0, n_lowered)
        multiplier = np.where(
            sum_active & (n_lowered > 0), (lowered_sum - bias) / np.maximum(n_lowered, 1), 0.0
        )
        squares_raised = self.between(self.sum_squares, split - n_raised, split)
        inside_part = n_raised * bias**2 - 2 * bias * sum_raised + squares_raised
        outside_part = np.where(
            sum_active,
            n_lowered * multiplier**2 + self.between(self.sum_squares, split + n_lowered, end),
            self.between(self.sum_negative_squares, split, end),
        )
        distance = 0.5 * (inside_part + outside_part + (bias - target) ** 2)
        return Solution(n_raised, n_lowered, sum_active, bias, multiplier, distance)

    def lower_bound(self, split, target) -> np.ndarray:
        """A lower bound of the distance of every candidate, at a fraction of the cost of
        :meth:`solve`: the larger of the two relaxations that drop the sum constraint, or the
        constraints on S."""
        n_raised, sum_raised = self._raised(split, target, lambda b: 0.0)
        bias = np.maximum((target + sum_raised) / (1 + n_raised), 0.0)
        squares_raised = self.between(self.sum_squares, split - n_raised, split)
        without_sum = n_raised * bias**2 - 2 * bias * sum_raised + squares_raised
        without_sum += (bias - target) ** 2

        # without the S constraints: root of b - b^ - lambda0(b)
        def below_bias(j):
            breakpoint, u_j = self.outside_breakpoint(split, j)
            return breakpoint - target - u_j <= 0

        n_lowered = _bisect_count(below_bias, self.k - split, self.k)
        end = np.full_like(split, self.k)
        lowered_sum = self.between(self.sum_positive, split, split + n_lowered)
        tight = self.between(self.sum_positive, split, end) > target
        bias = (n_lowered * target + lowered_sum) / (n_lowered + 1)
        multiplier = np.where(n_lowered > 0, (lowered_sum - bias) / np.maximum(n_lowered, 1), 0)
        without_selem = np.where(
            tight,
            n_lowered * multiplier**2
            + self.between(self.sum_squares, split + n_lowered, end)
            + (bias - target) ** 2,
            self.between(self.sum_negative_squares, split, end),
        )
        return 0.5 * np.maximum(without_sum, without_selem)


def best_candidates(sorted_weights: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, ...]:
    """Best split and target index for each neuron, over every split and every target.

    ``targets`` has shape (n_neurons, n_targets) (the bias and the dual bias). Candidates are
    ranked by a lower bound and solved exactly in rounds of growing size until no remaining
    candidate's bound is below the best distance found: the result is exact, and most
    candidates are never solved.
    """
    n, k = sorted_weights.shape
    n_targets = targets.shape[1]
    sw = SortedNeurons(sorted_weights)
    splits = np.tile(np.arange(1, k + 1), n_targets)[None, :].repeat(n, axis=0)
    target_of = np.repeat(np.arange(n_targets), k)[None, :].repeat(n, axis=0)
    candidate_targets = np.take_along_axis(targets, target_of, axis=1)
    bounds = sw.lower_bound(splits, candidate_targets)
    # ties prefer the first target (dilation), then the smallest element
    ranking = np.lexsort((np.arange(n_targets * k)[None, :].repeat(n, axis=0), bounds), axis=1)
    bounds = np.take_along_axis(bounds, ranking, axis=1)
    best = np.full(n, np.inf)
    best_index = np.zeros(n, dtype=np.int64)
    done = 0
    width = 4
    active = np.arange(n)
    while active.size and done < n_targets * k:
        columns = ranking[active, done : done + width]
        solution = sw.subset(active).solve(
            splits[active[:, None], columns], candidate_targets[active[:, None], columns]
        )
        round_best = np.argmin(solution.distance, axis=1)
        round_distance = solution.distance[np.arange(active.size), round_best]
        improved = round_distance < best[active]
        best[active] = np.where(improved, round_distance, best[active])
        best_index[active] = np.where(
            improved, columns[np.arange(active.size), round_best], best_index[active]
        )
        done += width
        width *= 2
        if done >= n_targets * k:
            break
        active = active[bounds[active, done] < best[active]]
    best_split = best_index % k + 1
    return best_split, best_index // k
