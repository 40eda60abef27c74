"""The regularization toward binarizable weights: ``lambda * sum of distances``.

See the user guide, "Regularization", and Aouad & Talbot (arXiv:2401.03830).
"""

from __future__ import annotations

import numpy as np
import torch

from skmorph.nn.distances import (
    activable_distance,
    activable_sets,
    constant_distance,
    constant_selem,
)
from skmorph.nn.layers import MorphologicalNeurons

__all__ = ["REGULARIZATIONS", "Regularizer", "auto_update_every"]

REGULARIZATIONS = (None, "activable", "constant_exact", "constant_uniform", "constant_normal")
# Weights whose sets one step may recompute, amortized: the exact NumPy searches cost about
# 100 ns (PC: a sort) and 1.5 us (PA: the active-set search) per weight, a DenseLUI step about
# 7 ns per weight on 2 CPU cores (benchmarks/bench_training_step.py)
_WEIGHTS_PER_REFRESH_STEP = {"activable": 1 << 12, "constant": 1 << 15}


def auto_update_every(kind: str | None, n_weights: int) -> int:
    """Steps between recomputations of the projection sets for ``n_weights`` weights in all.

    Deterministic (it depends on the sizes only, so that a seed gives the same network on any
    machine), and chosen so that the recomputation, spread over the steps in between, costs
    about as much as the rest of a step: every step or two for small networks (2 for the
    digits' 256 x 274 layer under PC), about every hundred steps for a 4096 x 784 layer under
    PC, every few hundred under PA.
    """
    if kind is None:
        return 1
    per_step = _WEIGHTS_PER_REFRESH_STEP["activable" if kind == "activable" else "constant"]
    return max(1, int(n_weights) // per_step)


class Regularizer:
    """``weight * sum over neurons of the distance to the activable (PA) or constant (PC) set``.

    Parameters
    ----------
    kind : {None, "activable", "constant_exact", "constant_uniform", "constant_normal"}
    weight : float
        The regularization weight lambda.
    delay : int, default=0
        Number of optimization steps before the term is switched on.
    update_every : int or "auto", default=1
        The sets of each projection (element, active sets) are recomputed by the exact NumPy
        solver every ``update_every`` steps and kept fixed in between; the distance for fixed
        sets is recomputed (and differentiated) at every step. ``"auto"``: from the number of
        weights of the banks, at the first call (:func:`auto_update_every`).
    """

    def __init__(self, kind=None, weight: float = 0.0, delay: int = 0, update_every=1):
        if kind not in REGULARIZATIONS:
            raise ValueError(f"regularization must be one of {REGULARIZATIONS}, got {kind!r}")
        if update_every != "auto" and (isinstance(update_every, bool)
                                       or not isinstance(update_every, (int, np.integer))):
            raise ValueError(f"update_every must be a positive int or 'auto', got "
                             f"{update_every!r}")
        self.kind, self.weight = kind, float(weight)
        self.delay = int(delay)
        self.update_every = update_every if update_every == "auto" else max(int(update_every), 1)
        self._sets: dict[int, object] = {}
        self._refreshed_at = None

    @property
    def enabled(self) -> bool:
        return self.kind is not None and self.weight > 0

    def distance(self, banks: list[MorphologicalNeurons], step: int) -> torch.Tensor:
        """Sum of the distances of all neurons of ``banks`` (without the weight)."""
        if self.update_every == "auto":
            self.update_every = auto_update_every(
                self.kind, sum(bank.n_neurons * bank.n_weights for bank in banks))
        refresh = self._refreshed_at is None or step - self._refreshed_at >= self.update_every
        if refresh:
            self._refreshed_at = step
        total = 0.0
        for index, bank in enumerate(banks):
            weights, bias = bank.weight.flatten(1), bank.bias
            if refresh or index not in self._sets:
                with torch.no_grad():
                    if self.kind == "activable":
                        self._sets[index] = activable_sets(weights, bias)
                    else:
                        self._sets[index] = constant_selem(weights, self.kind.split("_")[1])
            if self.kind == "activable":
                total = total + activable_distance(weights, bias, self._sets[index]).sum()
            else:
                total = total + constant_distance(weights, selem=self._sets[index]).sum()
        return total

    def __call__(self, banks: list[MorphologicalNeurons], step: int) -> torch.Tensor | float:
        """The loss term at optimization step ``step`` (0 before the delay or when disabled)."""
        if not self.enabled or step < self.delay:
            return 0.0
        return self.weight * self.distance(banks, step)
