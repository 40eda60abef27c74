"""Smooth thresholds and the reparametrizations of BiSE weights and biases."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "BIAS_REPARAMETRIZATIONS",
    "THRESHOLDS",
    "WEIGHT_REPARAMETRIZATIONS",
    "bias_range",
    "inverse_softplus",
    "reparametrize_bias",
    "reparametrize_weight",
    "smooth_threshold",
    "straight_through_binary",
    "threshold_step",
]

THRESHOLDS = ("tanh", "sigmoid")
WEIGHT_REPARAMETRIZATIONS = ("positive", "dual", "identity", "projected")
BIAS_REPARAMETRIZATIONS = ("raw", "softplus", "clamped", "clamped_detached")


def smooth_threshold(x: torch.Tensor, kind: str) -> torch.Tensor:
    """``xi(x)``: ``tanh(x) / 2 + 1/2`` (``"tanh"``) or ``1 / (1 + exp(-x))`` (``"sigmoid"``)."""
    if kind == "tanh":
        return 0.5 * torch.tanh(x) + 0.5
    return torch.sigmoid(x)


def straight_through_binary(outputs: torch.Tensor) -> torch.Tensor:
    """``outputs > 1/2`` forward, the gradient of ``outputs`` backward (straight-through)."""
    hard = (outputs > 0.5).to(outputs.dtype)
    return hard + (outputs - outputs.detach())


class _ThresholdStep(torch.autograd.Function):
    """``x > 0`` forward, the derivative of ``xi(x)`` backward: :func:`threshold_step`."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, kind: str) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.kind = kind
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        if ctx.kind == "tanh":
            slope = 0.5 * (1 - torch.tanh(x).square())
        else:
            sigmoid = torch.sigmoid(x)
            slope = sigmoid * (1 - sigmoid)
        return grad * slope, None


def threshold_step(x: torch.Tensor, kind: str) -> torch.Tensor:
    """``x > 0`` forward (where ``xi(x) > 1/2``) and the gradient of ``xi(x)`` backward.

    The straight-through output of a neuron from its scaled pre-activation
    ``x = p (pre - b)``: :func:`straight_through_binary` of ``xi(x)`` (up to rounding: in
    floating point ``xi(x)`` rounds to 1/2 for tiny positive ``x``, which this thresholds to
    1), in one elementwise pass forward and one backward instead of about eight. ``kind`` is
    the smooth threshold ``xi``: ``"tanh"`` or ``"sigmoid"``.
    """
    return _ThresholdStep.apply(x, kind)


def inverse_smooth_threshold(y: float, kind: str) -> float:
    """``xi^{-1}(y)`` for ``0 < y < 1``."""
    return math.atanh(2 * y - 1) if kind == "tanh" else math.log(y / (1 - y))


def inverse_softplus(x: torch.Tensor) -> torch.Tensor:
    """``softplus^{-1}(x) = log(exp(x) - 1)``, stable for large ``x`` (``x >= 0``).

    ``softplus`` never reaches 0: ``x`` is taken at least the smallest positive normal number
    of its dtype, so that a 0 (a random draw of a small weight can be exactly 0) gives a
    finite raw parameter (about -87 in float32) instead of ``-inf``, which the optimizer
    would carry into the weights.
    """
    x = x.clamp(min=torch.finfo(x.dtype).tiny)
    return x + torch.log(-torch.expm1(-x))


def reparametrize_weight(raw: torch.Tensor, kind: str, total: float) -> torch.Tensor:
    """Weights from raw parameters of shape (n_neurons, ...).

    ``"positive"``: ``softplus(raw)``; ``"dual"``: ``total * softplus(raw) / sum softplus(raw)``
    per neuron (the weights of each neuron sum to ``total``); ``"identity"``: ``raw``;
    ``"projected"``: ``raw``, kept non-negative by a projection (clamping at 0) after every
    optimizer step (:meth:`skmorph.nn.MorphologicalNeurons.project_`) instead of a function in
    the graph: no pass over the weights in the forward and backward passes, and weights can
    reach exactly 0.
    """
    if kind in ("identity", "projected"):
        return raw
    positive = F.softplus(raw)
    if kind == "positive":
        return positive
    sums = positive.flatten(1).sum(1).view(-1, *([1] * (raw.dim() - 1)))
    return total * positive / sums


def raw_weight_for(weights: torch.Tensor, kind: str) -> torch.Tensor:
    """Raw parameters that give ``weights`` (positive) under the reparametrization ``kind``."""
    if kind in ("identity", "projected"):
        return weights
    return inverse_softplus(weights)


def bias_range(flat_weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The useful range of the bias: ``[(w_(1) + w_(2)) / 2, sum w - w_(1) / 2]`` per neuron.

    Outside it the neuron's output is constant on binary inputs. With one weight the lower bound
    is ``w_(1) / 2``.
    """
    k = flat_weights.shape[1]
    smallest = torch.topk(flat_weights, min(2, k), dim=1, largest=False).values
    low = smallest.mean(1) if k >= 2 else 0.5 * smallest[:, 0]
    high = flat_weights.sum(1) - 0.5 * smallest[:, 0]
    return low, high


def reparametrize_bias(
    raw: torch.Tensor, kind: str, flat_weights: torch.Tensor | None
) -> torch.Tensor:
    """Bias from its raw parameter.

    ``"raw"``: ``raw``; ``"softplus"``: ``softplus(raw)``; ``"clamped"``: ``softplus(raw)``
    clamped to :func:`bias_range` (gradient flows through the bounds to the weights);
    ``"clamped_detached"``: the same with bounds computed from detached weights.
    ``flat_weights`` (n, k) is only used by the clamped kinds.
    """
    if kind == "raw":
        return raw
    bias = F.softplus(raw)
    if kind == "softplus":
        return bias
    weights = flat_weights.detach() if kind == "clamped_detached" else flat_weights
    low, high = bias_range(weights)
    return torch.maximum(torch.minimum(bias, high), low)


def check_option(value, name: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


class Scale(nn.Module):
    """The learnable positive scale ``p`` of each neuron, stored as its logarithm."""

    def __init__(self, n_neurons: int, **factory):
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(n_neurons, **factory))

    def forward(self) -> torch.Tensor:
        return self.log_scale.exp()
