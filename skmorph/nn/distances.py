"""Differentiable distances to the activable (PA) and constant (PC) sets, for regularization.

The sets (which weights form the element, which are raised or lowered at the optimum) are chosen by
the exact NumPy solvers of :mod:`skmorph.morphology.projection` on detached weights; the distance
for those fixed sets is the closed form of the same module, evaluated on tensors so that autograd
differentiates it. For fixed sets both distances are smooth, and the PA distance is the envelope of
the projection, so its gradient is the gradient of the projection distance wherever the sets do not
change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from skmorph.morphology.activation import EROSION
from skmorph.morphology.projection import (
    activable_optimum,
    project_activable,
    project_constant,
)
from skmorph.morphology.projection import (
    constant_distance as _constant_closed_form,
)

__all__ = [
    "ActivableSets",
    "activable_distance",
    "activable_sets",
    "constant_distance",
    "constant_selem",
]


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to("cpu", torch.float64).numpy()


@dataclass
class ActivableSets:
    """The element, operation and active sets of the PA projection, as 0/1 tensors."""

    inside: torch.Tensor
    raised: torch.Tensor
    lowered: torch.Tensor
    sum_active: torch.Tensor
    is_erosion: torch.Tensor
    rest: torch.Tensor  # outside S and not lowered

    def to(self, reference: torch.Tensor) -> ActivableSets:
        kwargs = {"device": reference.device, "dtype": reference.dtype}
        return ActivableSets(**{k: v.to(**kwargs) for k, v in self.__dict__.items()})


def activable_sets(weights: torch.Tensor, bias: torch.Tensor) -> ActivableSets:
    """Solve the PA projection of each neuron exactly (NumPy, no gradient) and keep its sets."""
    projection = project_activable(_numpy(weights), _numpy(bias).reshape(-1))
    sets = ActivableSets(
        inside=torch.from_numpy(projection.selem),
        raised=torch.from_numpy(projection.raised),
        lowered=torch.from_numpy(projection.lowered),
        sum_active=torch.from_numpy(projection.sum_constraint_active),
        is_erosion=torch.from_numpy(projection.operation == EROSION),
        rest=torch.from_numpy(~projection.selem & ~projection.lowered),
    )
    return sets.to(weights)


def activable_distance(
    weights: torch.Tensor, bias: torch.Tensor, sets: ActivableSets | None = None
) -> torch.Tensor:
    """PA distance of each neuron, differentiable in ``weights`` (n, k) and ``bias`` (n,).

    ``sets`` may pass sets computed earlier (by :func:`activable_sets`) to skip the search; the
    distance is then the projection distance for those fixed sets.
    """
    if sets is None:
        sets = activable_sets(weights, bias)
    sets = sets.to(weights)
    # erosions are projected in dual coordinates (bias sum(w) - b)
    target = sets.is_erosion * (weights.sum(-1) - bias) + (1 - sets.is_erosion) * bias
    return activable_optimum(
        weights, target, sets.raised, sets.lowered, sets.sum_active, sets.rest
    )[2]


def constant_selem(weights: torch.Tensor, mode: str = "exact") -> torch.Tensor:
    """The element of the PC projection of each neuron (0/1 tensor like ``weights``)."""
    zeros = np.zeros(weights.shape[0])
    selem = project_constant(_numpy(weights), zeros, mode=mode).selem
    return torch.from_numpy(selem).to(device=weights.device, dtype=weights.dtype)


def constant_distance(
    weights: torch.Tensor, mode: str = "exact", selem: torch.Tensor | None = None
) -> torch.Tensor:
    """PC distance ``sum w^2 - (sum_S w)^2 / |S|`` of each neuron, differentiable in ``weights``.

    ``selem`` may pass an element computed earlier (by :func:`constant_selem`).
    """
    if selem is None:
        selem = constant_selem(weights, mode)
    return _constant_closed_form(weights, selem.to(weights))
