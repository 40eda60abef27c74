"""BiSE, LUI, BiSEL and DenseLUI layers of Aouad & Talbot (arXiv:2401.03830).

Every layer is built from :class:`MorphologicalNeurons`: a bank of neurons
``xi(p (x . w - b))`` with reparametrized weights and bias and a learnable scale ``p``. The bank
knows how to test its neurons for activation, binarize them and measure their distance to the
activable or constant sets, always through the NumPy functions of :mod:`skmorph.morphology`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from skmorph.morphology.activation import (
    DILATION,
    EROSION,
    ActivationResult,
    activation,
    output_bounds,
)
from skmorph.morphology.projection import BinarizedNeurons, binarize_neurons
from skmorph.nn.reparametrization import (
    BIAS_REPARAMETRIZATIONS,
    THRESHOLDS,
    WEIGHT_REPARAMETRIZATIONS,
    Scale,
    check_option,
    inverse_softplus,
    raw_weight_for,
    reparametrize_bias,
    reparametrize_weight,
    smooth_threshold,
    threshold_step,
)

__all__ = [
    "LUI",
    "NORMALIZATIONS",
    "PADDINGS",
    "POOLINGS",
    "BiSE",
    "BiSEL",
    "BlockPooling",
    "DenseLUI",
    "MorphologicalNeurons",
]

PADDINGS = ("replicate", "zeros")
POOLINGS = ("dilation", "erosion")
NORMALIZATIONS = (None, "batch")
BATCH_MOMENTUM = 0.1  # weight of each batch in the running statistics (as nn.BatchNorm)
BATCH_EPS = 1e-5


class MorphologicalNeurons(nn.Module):
    """A bank of ``n_neurons`` smooth morphological neurons with ``weight_shape`` weights each.

    Parameters
    ----------
    n_neurons : int
    weight_shape : tuple of int
        Shape of each neuron's weights (e.g. ``(in_channels, kh, kw)`` for a BiSE).
    threshold : {"tanh", "sigmoid"}, default="tanh"
        The smooth threshold ``xi``.
    weight_reparametrization : {"positive", "dual", "identity", "projected"}, default="positive"
        See :func:`skmorph.nn.reparametrization.reparametrize_weight`; ``"projected"`` needs
        :meth:`project_` after every optimizer step (the training loop calls it).
    bias_reparametrization : {"softplus", "raw", "clamped", "clamped_detached"}, default="softplus"
        Not used with ``normalization="batch"``.
    normalization : {None, "batch"}, default=None
        ``"batch"``: the neurons compute ``xi(p ((x . w - mu) / sigma - beta))``, with ``mu``
        and ``sigma`` the mean and standard deviation of each neuron's pre-activation over the
        batch (and pixels) in training, running averages of them in evaluation (batch
        normalization, Ioffe & Szegedy, arXiv:1502.03167), and ``beta`` (the raw bias
        parameter, free) the threshold in standard deviations from the mean. The threshold
        then follows the pre-activations as the weights learn, and the scale ``p`` acts on
        standardized pre-activations, so the gradient reaches every neuron whatever the size
        of its weights. In evaluation it is a plain neuron ``xi(p' (x . w - b))`` with
        ``b = mu + sigma beta`` and ``p' = p / sigma`` (:attr:`bias`, :meth:`output_scale`):
        activation, binarization and regularization read those, so binarization stays exact
        where neurons are activated. :meth:`reset_parameters` starts the neurons as without
        normalization, for pre-activations of the expected mean and deviation.

    Attributes
    ----------
    straight_through : bool
        When True (set by :class:`~skmorph.nn.MorphologicalNetwork` on hidden banks with
        ``hidden_outputs="binary"``), the outputs are thresholded at 1/2 in the forward pass,
        with the gradient of the smooth outputs in the backward pass (straight-through
        estimator); logits are left smooth.
    binarized_forward : bool
        When True (hidden banks under ``hidden_outputs="binarized"``), the outputs are those of
        the binarized neurons (the erosions/dilations that :meth:`binarize` gives, as last
        computed by :meth:`refresh_binarization`) in the forward pass, with the gradient of the
        smooth outputs in the backward pass: the network trains on exactly what it will be
        after binarization.
    """

    normalization = None  # the default of banks pickled before the option

    def __init__(
        self,
        n_neurons: int,
        weight_shape: tuple[int, ...],
        *,
        threshold: str = "tanh",
        weight_reparametrization: str = "positive",
        bias_reparametrization: str = "softplus",
        normalization: str | None = None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.threshold = check_option(threshold, "threshold", THRESHOLDS)
        self.weight_reparametrization = check_option(
            weight_reparametrization, "weight_reparametrization", WEIGHT_REPARAMETRIZATIONS
        )
        self.bias_reparametrization = check_option(
            bias_reparametrization, "bias_reparametrization", BIAS_REPARAMETRIZATIONS
        )
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got "
                             f"{normalization!r}")
        self.normalization = normalization
        self.weight_shape = tuple(int(s) for s in weight_shape)
        self.n_weights = math.prod(self.weight_shape)
        self.raw_weight = nn.Parameter(torch.empty(n_neurons, *self.weight_shape, **factory))
        self.raw_bias = nn.Parameter(torch.empty(n_neurons, **factory))
        self.scale = Scale(n_neurons, **factory)
        if normalization == "batch":
            self.register_buffer("running_mean", torch.zeros(n_neurons, **factory))
            self.register_buffer("running_var", torch.ones(n_neurons, **factory))
        self.straight_through = False
        self.binarized_forward = False
        self.binarization_method = "activable"
        self._binarized: tuple[torch.Tensor, torch.Tensor] | None = None
        self.reset_parameters()

    @property
    def n_neurons(self) -> int:
        return self.raw_bias.shape[0]

    @property
    def weight(self) -> torch.Tensor:
        """Weights of shape ``(n_neurons, *weight_shape)`` after reparametrization."""
        return reparametrize_weight(self.raw_weight, self.weight_reparametrization, self.n_weights)

    @property
    def bias(self) -> torch.Tensor:
        return self.bias_for(None)

    def bias_for(self, weight: torch.Tensor | None) -> torch.Tensor:
        """The bias, given this bank's current weights if already computed (the clamped
        reparametrizations need them; the others do not compute them). Under batch
        normalization, the bias of the neurons in evaluation: ``mu + sigma beta`` from the
        running statistics."""
        if self.normalization == "batch":
            return self.running_mean + self._running_std() * self.raw_bias
        if self.bias_reparametrization in ("raw", "softplus"):
            return reparametrize_bias(self.raw_bias, self.bias_reparametrization, None)
        weight = self.weight if weight is None else weight
        return reparametrize_bias(self.raw_bias, self.bias_reparametrization, weight.flatten(1))

    def _running_std(self) -> torch.Tensor:
        return torch.sqrt(self.running_var + BATCH_EPS)

    def output_scale(self) -> torch.Tensor:
        """The scale ``p`` that multiplies ``x . w - b``: under batch normalization, ``p``
        divided by the running standard deviation of the pre-activations."""
        scale = self.scale()
        return scale / self._running_std() if self.normalization == "batch" else scale

    def set_bias_and_scale(self, bias: torch.Tensor, scale: torch.Tensor) -> None:
        """Make the neurons ``xi(scale (x . w - bias))`` (in evaluation under batch
        normalization: ``beta`` and ``p`` are set for the current running statistics)."""
        with torch.no_grad():
            if self.normalization == "batch":
                std = self._running_std()
                self.raw_bias.copy_((bias - self.running_mean) / std)
                scale = scale * std
            elif self.bias_reparametrization == "raw":
                self.raw_bias.copy_(bias)
            else:
                self.raw_bias.copy_(inverse_softplus(bias))
            self.scale.log_scale.copy_(torch.log(scale))

    def reset_parameters(
        self,
        input_mean: float = 0.5,
        generator=None,
        support_size: float | None = None,
        operation: str | Sequence[str] | None = None,
        selem: torch.Tensor | None = None,
    ) -> None:
        """Initialize so that outputs start unsaturated (the paper's scheme), or sparse.

        Default (the paper's scheme): weights uniform in ``[1/2, 3/2]`` (mean 1), the bias
        ``input_mean * sum(w)`` with 1% noise (the mean pre-activation on inputs of that mean),
        and the scale ``p`` that gives the pre-activation of Bernoulli(``input_mean``) inputs
        unit standard deviation.

        With ``support_size``, each neuron starts as a random *activated* erosion or dilation of
        about ``support_size`` of its inputs (weights in ``[1, 3/2]`` there, near 0 elsewhere,
        the bias in the middle of its activation interval, ``p`` mapping the interval's ends to
        ``xi(-3)`` and ``xi(3)``). Wide dense layers start close to binarizable this way
        instead of as majority votes over all their inputs. ``operation`` (``"erosion"`` or
        ``"dilation"``) makes every neuron start as that operation instead of a random one;
        with ``support_size=n_weights`` a BiSE starts as that operation by its whole window
        (except a dilation under the clamped bias reparametrizations, whose range starts at the
        mean of the two smallest weights: it starts as the dilation by all but the smallest).
        ``selem`` (boolean, ``(n_neurons, n_weights)`` or ``(n_neurons, *weight_shape)``) gives
        the starting elements themselves instead of random ones (``support_size`` is then
        ignored). Under batch normalization the running statistics start as those of the
        pre-activations on Bernoulli(``input_mean``) inputs, and ``beta`` and ``p`` give the
        same starting neurons for them.
        """
        per_neuron = operation is not None and not isinstance(operation, str)
        if per_neuron:
            operation = np.asarray(operation)
            if operation.shape != (self.n_neurons,) or not np.isin(
                    operation, (EROSION, DILATION)).all():
                raise ValueError(f"operation must be None, 'erosion', 'dilation' or one of "
                                 f"them per neuron ({self.n_neurons}), got {operation!r}")
        elif operation not in (None, EROSION, DILATION):
            raise ValueError(f"operation must be None, 'erosion' or 'dilation', got {operation!r}")
        mean = float(np.clip(input_mean, 0.05, 0.95))
        factory = {"device": self.raw_weight.device, "dtype": self.raw_weight.dtype}

        def uniform(*shape):  # drawn on the CPU so that a CPU generator works for any device
            return torch.rand(shape, generator=generator, dtype=factory["dtype"]).to(**factory)

        n, k = self.n_neurons, self.n_weights
        with torch.no_grad():
            if selem is not None:
                selem = torch.as_tensor(selem, dtype=torch.bool).to(factory["device"])
                if selem.numel() != n * k:
                    raise ValueError(
                        f"selem must hold {n} x {k} values (one element per neuron), got shape "
                        f"{tuple(selem.shape)}"
                    )
                selem = selem.reshape(n, k)
            elif support_size is not None:
                selem = uniform(n, k) < min(float(support_size) / k, 1.0)
                selem[torch.arange(n), (uniform(n) * k).long().clamp(max=k - 1)] = True
            if selem is None:
                weights = 0.5 + uniform(n, k)
            else:
                weights = torch.where(selem, 1 + 0.5 * uniform(n, k), 0.5 / k * uniform(n, k))
            # under "dual" the weights are normalized to sum to n_weights
            self.raw_weight.copy_(
                raw_weight_for(weights.view_as(self.raw_weight), self.weight_reparametrization)
            )
            flat = self.weight.flatten(1)
            if selem is None:
                bias = mean * flat.sum(1) * (1 + 0.01 * (2 * uniform(n) - 1))
                scale = 1 / torch.sqrt(mean * (1 - mean) * (flat**2).sum(1))
            else:
                inside_min = torch.where(selem, flat, torch.inf).min(1).values
                inside_sum = (flat * selem).sum(1)
                total = flat.sum(1)
                draw = uniform(n)  # drawn in any case, so that the random stream is the same
                if per_neuron:
                    erosion = torch.as_tensor(operation == EROSION).to(draw.device)
                elif operation is None:
                    erosion = draw < 0.5
                else:
                    erosion = torch.full_like(draw, operation == EROSION, dtype=torch.bool)
                low = torch.where(erosion, total - inside_min, total - inside_sum)
                high = torch.where(erosion, inside_sum, inside_min)
                bias, scale = (low + high) / 2, 6 / (high - low)
            if self.normalization == "batch":
                # the statistics of the pre-activation on Bernoulli(mean) inputs
                self.running_mean.copy_(mean * flat.sum(1))
                self.running_var.copy_(mean * (1 - mean) * (flat**2).sum(1))
            self.set_bias_and_scale(bias, scale)

    def reset_signed_(self, generator=None) -> None:
        """Weights of random threshold functions of any sign, for a bank whose inputs come
        in pairs: each neuron's first weight axis reads its inputs, then their complements.

        Each neuron draws one standard normal weight per input (and window position), as a
        float layer starts (dense, of any sign). A weight ``w`` on an input ``x`` is the
        positive weight ``-w`` on its complement ``1 - x`` up to a constant, so the draw's
        magnitude goes on the input when it is positive, on the complement when it is
        negative, and a hundredth of a uniform draw on the other of the two (a positive
        weight, which keeps its gradient under every reparametrization). The bias and the
        scale are left to the caller (:meth:`MorphologicalNetwork.signed_start_` sets them
        from data).
        """
        if self.weight_shape[0] % 2:
            raise ValueError(f"a signed start needs inputs in pairs (inputs then complements) "
                             f"on the first weight axis, got weight shape {self.weight_shape}")
        half = (self.n_neurons, self.weight_shape[0] // 2, *self.weight_shape[1:])
        factory = {"device": self.raw_weight.device, "dtype": self.raw_weight.dtype}
        draws = torch.randn(half, generator=generator, dtype=factory["dtype"])
        noise = torch.rand((2, *half), generator=generator, dtype=factory["dtype"]) / 100
        weights = torch.cat([draws.clamp(min=0) + noise[0], (-draws).clamp(min=0) + noise[1]], 1)
        with torch.no_grad():
            self.raw_weight.copy_(
                raw_weight_for(weights.to(**factory), self.weight_reparametrization)
            )

    def refresh_binarization(self) -> None:
        """Compute the binarized neurons (:meth:`binarize` by ``binarization_method``) that
        ``binarized_forward`` uses; the training loop calls it every few steps."""
        neurons = self.binarize(self.binarization_method)
        factory = {"device": self.raw_weight.device, "dtype": self.raw_weight.dtype}
        selem = torch.as_tensor(neurons.selem).to(**factory).view_as(self.raw_weight)
        sizes = neurons.selem.sum(axis=1)
        # an erosion fires when all |S| inputs are 1, a dilation when one is
        needed = np.where(neurons.operation == EROSION, sizes, 1) - 0.5
        self._binarized = (selem, torch.as_tensor(needed).to(**factory))

    def binarized_weight(self) -> torch.Tensor | None:
        """The 0/1 elements of the binarized neurons (shaped like :attr:`weight`) when
        ``binarized_forward`` is on, else None: layers then also compute the binarized
        pre-activation with them and pass it to :meth:`output`."""
        if not self.binarized_forward:
            return None
        if self._binarized is None or self._binarized[0].device != self.raw_weight.device:
            self.refresh_binarization()
        return self._binarized[0]

    def project_(self) -> None:
        """Clamp the weights at 0 under the ``"projected"`` reparametrization (in place; a
        no-op under the others, whose weights are non-negative by construction or free)."""
        if self.weight_reparametrization == "projected":
            with torch.no_grad():
                self.raw_weight.clamp_(min=0)

    def pre_activation_to_output(
        self, pre: torch.Tensor, channel_dim: int = 1, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``xi(p (pre - b))`` with ``p`` and ``b`` broadcast along ``channel_dim``.

        ``weight`` passes the weights the caller already computed (see :meth:`bias_for`).
        """
        return smooth_threshold(self._scaled(pre, channel_dim, weight), self.threshold)

    def pre_activation_to_logit(
        self, pre: torch.Tensor, channel_dim: int = 1, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The logit ``l`` with ``sigmoid(l) = xi(p (pre - b))`` (``tanh(x) / 2 + 1/2`` is
        ``sigmoid(2 x)``): losses computed from it, such as
        ``binary_cross_entropy_with_logits``, keep their gradient where ``xi`` saturates."""
        return self.scaled_output(self._scaled(pre, channel_dim, weight), logits=True)

    def output(self, pre: torch.Tensor, logits: bool, channel_dim: int = 1,
               weight: torch.Tensor | None = None,
               binarized_pre: torch.Tensor | None = None) -> torch.Tensor:
        """:meth:`pre_activation_to_logit` if ``logits`` else :meth:`pre_activation_to_output`.

        ``binarized_pre`` (the inputs summed over the binarized elements, see
        :meth:`binarized_weight`) makes the forward outputs those of the binarized neurons.
        """
        if logits or binarized_pre is None:
            return self.scaled_output(self._scaled(pre, channel_dim, weight), logits)
        outputs = self.pre_activation_to_output(pre, channel_dim, weight)
        shape = [1] * pre.dim()
        shape[channel_dim] = -1
        hard = (binarized_pre > self._binarized[1].view(shape)).to(outputs.dtype)
        return hard + (outputs - outputs.detach())

    def scaled_output(self, scaled: torch.Tensor, logits: bool = False) -> torch.Tensor:
        """The outputs from the scaled pre-activations ``scaled = p (pre - b)``: ``xi(scaled)``,
        thresholded at 1/2 with the smooth gradient if :attr:`straight_through`, or the
        logits (see :meth:`pre_activation_to_logit`)."""
        if logits:
            return 2 * scaled if self.threshold == "tanh" else scaled
        if self.straight_through:
            return threshold_step(scaled, self.threshold)
        return smooth_threshold(scaled, self.threshold)

    def forward_with(self, linear, x: torch.Tensor, logits: bool = False) -> torch.Tensor:
        """The neurons' outputs (or logits) on ``x``, for a layer whose pre-activations are
        ``linear(x, weight)`` (a convolution, a linear map; it also takes a bias).

        ``p (x . w - b)`` is one call of ``linear`` with folded weights and bias where
        :meth:`folds_scale` allows it (no elementwise pass over the outputs); the binarized
        forward pass (:meth:`binarized_weight`) adds the call on the binarized elements.
        (Not named ``apply``: that is :meth:`torch.nn.Module.apply`, which visits submodules.)
        """
        weight = self.weight
        elements = None if logits else self.binarized_weight()
        if elements is None and self.folds_scale():
            return self.scaled_output(linear(x, *self.folded(weight)), logits)
        hard = None if elements is None else linear(x.detach(), elements)
        return self.output(linear(x, weight), logits, weight=weight, binarized_pre=hard)

    def folds_scale(self) -> bool:
        """Whether ``p (x . w - b)`` is one affine map of ``x`` with weights ``p w`` and bias
        ``-p b`` (:meth:`folded`): always but under batch normalization in training, whose
        statistics come from the batch."""
        return not (self.normalization == "batch" and self.training)

    def folded(self, weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(p w, -p b)`` from the reparametrized ``weight``: the weights and bias of the
        affine map ``p (x . w - b)`` (see :meth:`folds_scale`), computed on the parameters
        instead of on every output."""
        scale, bias = self.output_scale(), self.bias_for(weight)
        return weight * scale.view(-1, *[1] * (weight.dim() - 1)), -scale * bias

    def _scaled(self, pre, channel_dim, weight):
        shape = [1] * pre.dim()
        shape[channel_dim] = -1
        if self.normalization == "batch" and self.training:
            # p ((pre - mean) / std - beta) in one kernel, which also updates the running stats
            scale = self.scale()
            return F.batch_norm(pre.movedim(channel_dim, 1), self.running_mean,
                                self.running_var, scale, -scale * self.raw_bias, training=True,
                                momentum=BATCH_MOMENTUM, eps=BATCH_EPS).movedim(1, channel_dim)
        scale, bias = self.output_scale().view(shape), self.bias_for(weight).view(shape)
        return scale * (pre - bias)

    # ---- the NumPy side: activation and binarization

    def numpy_parameters(self) -> tuple[np.ndarray, np.ndarray]:
        """Flat weights ``(n_neurons, n_weights)`` and bias, detached, as float64 arrays."""
        with torch.no_grad():
            weights = self.weight.flatten(1).to("cpu", torch.float64).numpy()
            bias = self.bias.to("cpu", torch.float64).numpy()
        return weights, bias

    def activation(self, v1: float = 0.0, v2: float = 1.0) -> ActivationResult:
        """Which neurons are exactly erosions/dilations for inputs in ``[0, v1] U [v2, 1]``."""
        return activation(*self.numpy_parameters(), v1=v1, v2=v2)

    def binarize(self, method: str = "activable") -> BinarizedNeurons:
        """Binarized neurons (flat elements); see :func:`skmorph.morphology.binarize_neurons`."""
        return binarize_neurons(*self.numpy_parameters(), method=method)

    def neuron_output_levels(
        self, v1: float, v2: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per neuron, for inputs in ``[0, v1] U [v2, 1]``: whether it is activated, and the
        highest output on its 0 side and the lowest on its 1 side (meaningful where activated).

        A :attr:`straight_through` bank's outputs are binary: 0 and 1.
        """
        weights, bias = self.numpy_parameters()
        result = activation(weights, bias, v1=v1, v2=v2)
        if self.straight_through:
            return result.activated, np.zeros(len(bias)), np.ones(len(bias))
        low, high = output_bounds(weights, result.selem, result.operation, v1, v2)
        with torch.no_grad():
            scale = self.output_scale().to("cpu", torch.float64).numpy()
        xi = lambda x: smooth_threshold(torch.from_numpy(x), self.threshold).numpy()  # noqa: E731
        return result.activated, xi(scale * (low - bias)), xi(scale * (high - bias))

    def output_levels(self, v1: float, v2: float) -> tuple[float, float]:
        """Almost-binary levels of the outputs when the inputs lie in ``[0, v1] U [v2, 1]``.

        Returns ``(v1_out, v2_out)`` if every neuron is activated for those inputs, else
        ``(nan, nan)``: the guarantee of exact binarization does not propagate past this bank.
        A :attr:`straight_through` bank's outputs are binary: ``(0, 1)``.
        """
        activated, low, high = self.neuron_output_levels(v1, v2)
        if not activated.all():
            return math.nan, math.nan
        return float(low.max()), float(high.min())

    def extra_repr(self) -> str:
        return (
            f"n_neurons={self.n_neurons}, weight_shape={self.weight_shape}, "
            f"threshold={self.threshold!r}, weights={self.weight_reparametrization!r}, "
            f"bias={self.bias_reparametrization!r}"
            + (f", normalization={self.normalization!r}" if self.normalization else "")
        )


def _pair(value, name: str) -> tuple[int, int]:
    size = (value, value) if isinstance(value, int) else tuple(value)
    if len(size) != 2 or any((not isinstance(s, int)) or s < 1 or s % 2 == 0 for s in size):
        raise ValueError(f"{name} must be an odd positive int or a pair of them, got {value!r}")
    return size


def pad(x: torch.Tensor, kernel_size: tuple[int, int], padding: str) -> torch.Tensor:
    """Pad images so that a convolution by ``kernel_size`` keeps their size."""
    rows, cols = kernel_size[0] // 2, kernel_size[1] // 2
    if rows == 0 and cols == 0:
        return x
    if padding == "replicate":
        return F.pad(x, (cols, cols, rows, rows), mode="replicate")
    return F.pad(x, (cols, cols, rows, rows))


class BiSE(nn.Module):
    """BiSE layer: one smooth erosion/dilation per output channel.

    ``y_j = xi(p_j (x * W_j - b_j))`` where ``*`` is a 2-D convolution over all input channels
    with "same" output size; pixels outside the image come from ``padding``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
        Odd kernel size.
    padding : {"replicate", "zeros"}, default="replicate"
        Padding of the input; the binarized layer uses the same, so exactness holds at borders.
    complement_inputs : bool, default=False
        Read the complements ``1 - x`` of the input channels too (after them): each neuron's
        element then spans ``2 * in_channels`` channels, and the erosions and dilations are no
        longer increasing in ``x``: binarized, an erosion reads some pixels set and others
        unset (a hit-or-miss), a dilation is any OR of pixels and of their complements. On
        binary inputs the complements are binary too, so exact binarization holds as it does
        without them.
    paired_inputs : bool, default=False
        The input channels already hold their complements: the second half of them are
        ``1 - x`` of the first half (the classifier's level sets with
        ``include_complement=True``). The layer is the BiSE over all ``in_channels`` channels,
        as without the option, but convolves the first half only and folds the weights of the
        second half in (as for ``complement_inputs``): half the cost of the convolution.
    **neuron_options
        ``threshold``, ``weight_reparametrization``, ``bias_reparametrization``,
        ``normalization``, ``device``, ``dtype`` (see :class:`MorphologicalNeurons`).

    Shape: input ``(N, in_channels, H, W)``, output ``(N, out_channels, H, W)`` in ``[0, 1]``.
    """

    complement_inputs = False  # the defaults of layers pickled before the options
    paired_inputs = False

    def __init__(self, in_channels, out_channels, kernel_size, padding="replicate",
                 complement_inputs: bool = False, paired_inputs: bool = False, **options):
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.padding = check_option(padding, "padding", PADDINGS)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.complement_inputs = bool(complement_inputs)
        self.paired_inputs = bool(paired_inputs)
        if self.paired_inputs and (self.complement_inputs or self.in_channels % 2):
            raise ValueError(f"paired_inputs needs an even number of input channels (inputs "
                             f"then their complements) and complement_inputs=False, got "
                             f"in_channels={self.in_channels}, complement_inputs="
                             f"{self.complement_inputs}")
        self.neurons = MorphologicalNeurons(
            out_channels, (self.read_channels, *self.kernel_size), **options
        )

    @property
    def read_channels(self) -> int:
        """Channels that the elements span: the inputs, and their complements if read."""
        return self.in_channels * (2 if self.complement_inputs else 1)

    def read(self, x: torch.Tensor) -> torch.Tensor:
        """The channels that the neurons read: ``x``, then ``1 - x`` with complement inputs."""
        return torch.cat([x, 1 - x], dim=1) if self.complement_inputs else x

    def convolve(self, x: torch.Tensor, weight: torch.Tensor,
                 bias: torch.Tensor | None = None) -> torch.Tensor:
        """:meth:`read` ``(x)``, padded, correlated with ``weight`` of shape
        ``(n, read_channels, kh, kw)``, plus ``bias`` (one per neuron) if given: "same" output
        size.

        With complement inputs the complements are not built: a weight on ``1 - x`` is its
        opposite on ``x`` plus itself on the constant image 1 (padded as the inputs are: 0
        outside under zero padding), so one convolution over ``in_channels`` channels does it;
        under replicate padding the padded constant image is 1 everywhere, so its part is a
        constant per neuron, added as the convolution's bias. With paired inputs the
        complements given (the second half of ``x``) are not read, for the same reason.
        """
        if self.paired_inputs:
            x = x[:, : self.in_channels // 2]
        padded = pad(x, self.kernel_size, self.padding)
        if not (self.complement_inputs or self.paired_inputs):
            return F.conv2d(padded, weight, bias)
        half = weight.shape[1] // 2
        direct, on_complements = weight[:, :half], weight[:, half:]
        if self.padding == "replicate":
            constant = on_complements.sum(dim=(1, 2, 3))
            return F.conv2d(padded, direct - on_complements,
                            constant if bias is None else constant + bias)
        ones = pad(torch.ones_like(x[:1]), self.kernel_size, self.padding)
        return F.conv2d(padded, direct - on_complements) + F.conv2d(ones, on_complements, bias)

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """``x * W_j`` for every neuron ``j``, before the bias and the threshold."""
        return self.convolve(x, self.neurons.weight)

    def forward(self, x: torch.Tensor, logits: bool = False) -> torch.Tensor:
        """Outputs in ``[0, 1]``, or their logits (see
        :meth:`MorphologicalNeurons.pre_activation_to_logit`) with ``logits=True``."""
        return self.neurons.forward_with(self.convolve, x, logits)

    def extra_repr(self) -> str:
        complements = ", complement_inputs=True" if self.complement_inputs else ""
        complements += ", paired_inputs=True" if self.paired_inputs else ""
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"padding={self.padding!r}{complements}"
        )


class LUI(BiSE):
    """Logical union/intersection of channels: a BiSE with a 1x1 kernel.

    Activated, output ``j`` is the OR (union) or AND (intersection) of a subset of the input
    channels.
    """

    def __init__(self, in_channels, out_channels, **options):
        options.pop("padding", None)
        super().__init__(in_channels, out_channels, 1, padding="zeros", **options)


class DenseLUI(nn.Module):
    """Fully connected LUI: each output unit a smooth OR/AND of its inputs.

    Shape: input ``(N, in_features)``, output ``(N, out_features)`` in ``[0, 1]``.
    """

    def __init__(self, in_features, out_features, **options):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.neurons = MorphologicalNeurons(out_features, (in_features,), **options)

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """``x . w_j`` for every unit ``j``, before the bias and the threshold."""
        return F.linear(x, self.neurons.weight)

    def forward(self, x: torch.Tensor, logits: bool = False) -> torch.Tensor:
        """Outputs in ``[0, 1]``, or their logits with ``logits=True``."""
        return self.neurons.forward_with(F.linear, x, logits)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class BiSEL(nn.Module):
    """BiSEL: a BiSE per (input, output) channel pair, then a LUI per output.

    The BiSE of pair ``(i, j)`` sees only input channel ``i``; the LUI of output ``j`` combines
    the ``in_channels`` maps ``psi_ij(x_i)``. Binarized, output ``j`` is a union or intersection
    over a subset of ``i`` of erosions/dilations of ``x_i``. With one input channel the LUI is the
    identity.

    Parameters are those of :class:`BiSE`. Shape: ``(N, in_channels, H, W)`` to
    ``(N, out_channels, H, W)``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, padding="replicate", **options):
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.padding = check_option(padding, "padding", PADDINGS)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        # neuron i * out_channels + j is the BiSE of pair (i, j)
        self.bises = MorphologicalNeurons(
            in_channels * out_channels, (1, *self.kernel_size), **options
        )
        self.luis = MorphologicalNeurons(out_channels, (in_channels,), **options) if (
            in_channels > 1
        ) else None

    def forward(self, x: torch.Tensor, logits: bool = False) -> torch.Tensor:
        """Outputs in ``[0, 1]``, or the logits of the last step with ``logits=True``."""
        padded = pad(x, self.kernel_size, self.padding)
        weight = self.bises.weight
        pre = F.conv2d(padded, weight, groups=self.in_channels)
        bise_logits = logits and self.luis is None
        elements = None if bise_logits else self.bises.binarized_weight()
        hard = None if elements is None else F.conv2d(padded.detach(), elements,
                                                        groups=self.in_channels)
        maps = self.bises.output(pre, bise_logits, weight=weight, binarized_pre=hard)
        if self.luis is None:
            return maps
        n, _, height, width = maps.shape
        maps = maps.view(n, self.in_channels, self.out_channels, height, width)
        weight = self.luis.weight
        pre = torch.einsum("nijhw,ji->njhw", maps, weight)
        elements = None if logits else self.luis.binarized_weight()
        hard = None if elements is None else torch.einsum("nijhw,ji->njhw", maps.detach(),
                                                          elements)
        return self.luis.output(pre, logits, weight=weight, binarized_pre=hard)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"padding={self.padding!r}"
        )


class BlockPooling(nn.Module):
    """Binary pooling: a dilation (max) or erosion (min) by a ``size x size`` block, subsampled.

    Output pixel ``(r, c)`` is the max (``"dilation"``, an OR on binary images) or the min
    (``"erosion"``, an AND) of the input block ``[r*size, (r+1)*size) x [c*size, (c+1)*size)``;
    rows and columns beyond the last whole block are dropped. It has no parameters, and it
    keeps almost-binary levels: inputs in ``[0, v1] U [v2, 1]`` give outputs in the same set,
    so a network stays exactly binarizable through it (the binarized layer is
    :class:`skmorph.binary.BinaryPooling`). Max and min commute with the monotone smooth
    threshold, so pooling logits pools the outputs.
    """

    def __init__(self, operation: str = "dilation", size: int = 2):
        super().__init__()
        self.operation = check_option(operation, "pooling", POOLINGS)
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"pool_size must be a positive int, got {size!r}")
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.operation == "dilation":
            return F.max_pool2d(x, self.size)
        return -F.max_pool2d(-x, self.size)

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        return height // self.size, width // self.size

    def extra_repr(self) -> str:
        return f"{self.operation!r}, size={self.size}"
