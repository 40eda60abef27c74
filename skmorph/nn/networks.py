"""Networks of BiSEL / DenseLUI layers with an optional float head, and their builder."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn import functional as F

from skmorph.morphology.activation import DILATION, EROSION
from skmorph.nn.layers import BiSE, BiSEL, BlockPooling, DenseLUI, MorphologicalNeurons
from skmorph.nn.reparametrization import check_option

__all__ = [
    "CONV_LAYERS",
    "CONV_READOUTS",
    "HIDDEN_OUTPUTS",
    "START_ELEMENTS",
    "MorphologicalNetwork",
    "build_network",
]

HIDDEN_OUTPUTS = ("smooth", "binary", "binarized")
START_ELEMENTS = ("subwindows", "pairs")
CONV_LAYERS = ("bisel", "bise")
CONV_READOUTS = ("last", "all")


class MorphologicalNetwork(nn.Module):
    """A convolutional part (BiSEL or BiSE layers), a dense part (DenseLUI layers) and an
    optional head.

    Images ``(N, C, H, W)`` go through the convolutional layers (each optionally followed by a
    :class:`~skmorph.nn.BlockPooling`), are flattened if dense layers follow, and the head (a
    float ``nn.Linear``) maps the last binary layer to class scores. Without dense layers and
    head the network is image-to-image.

    ``hidden_outputs="binary"`` makes every bank of neurons except the network's output (the
    last bank when there is no head) pass its outputs thresholded at 1/2, with a
    straight-through gradient (see :attr:`MorphologicalNeurons.straight_through`): each layer
    then learns on the binary values that it reads once the network is binarized, instead of
    soft values that binarization would discard. ``"binarized"`` goes further: the hidden
    banks output what their binarized neurons (the erosions and dilations of
    :meth:`MorphologicalNeurons.binarize`, refreshed by :meth:`refresh_binarization`) output,
    with the gradient of the smooth neurons (see
    :attr:`MorphologicalNeurons.binarized_forward`): trained this way, the network's hidden
    part *is* its binarization, neurons that are not activated included. ``"smooth"``
    (default) is the paper's network.

    ``conv_readout`` says what the dense part (or the head) reads from the convolutional part:
    the maps of its last layer (``"last"``, the paper's networks) or the maps of every
    convolutional layer, each after its pooling, flattened and concatenated (``"all"``: the
    features of every scale, fine ones from the first layer and coarse ones from the last;
    binarized, these are bits that the binarized network computes anyway).

    ``head_dropout`` zeroes each feature the head reads with that probability in training
    (inverted dropout: the kept ones are scaled by ``1 / (1 - head_dropout)``, so the head
    needs no rescaling afterwards); outside training, and in the binarized network, the head
    reads every feature.
    """

    def __init__(
        self,
        conv_layers: Sequence[BiSEL | BiSE] = (),
        dense_layers: Sequence[DenseLUI] = (),
        head: nn.Linear | None = None,
        binary_output: bool = False,
        hidden_outputs: str = "smooth",
        pools: Sequence[BlockPooling | None] | None = None,
        conv_readout: str = "last",
        head_dropout: float = 0.0,
    ):
        super().__init__()
        if not 0 <= head_dropout < 1:
            raise ValueError(f"head_dropout must be in [0, 1), got {head_dropout!r}")
        if head_dropout and head is None:
            raise ValueError("head_dropout needs a head (a float nn.Linear output layer)")
        self.head_dropout = float(head_dropout)
        self.conv_readout = check_option(conv_readout, "conv_readout", CONV_READOUTS)
        self.conv_layers = nn.ModuleList(conv_layers)
        pools = [None] * len(self.conv_layers) if pools is None else list(pools)
        if len(pools) != len(self.conv_layers):
            raise ValueError(f"pools must have one entry (or None) per convolutional layer "
                             f"({len(self.conv_layers)}), got {len(pools)}")
        self.pools = nn.ModuleList(nn.Identity() if p is None else p for p in pools)
        self.dense_layers = nn.ModuleList(dense_layers)
        self.head = head
        self.binary_output = binary_output  # the last dense layer is the (binary) output layer
        self.set_hidden_outputs(hidden_outputs)

    def forward(self, x: torch.Tensor, logits: bool = False) -> torch.Tensor:
        """The network's outputs; with ``logits=True`` and no head, the logits of the last
        morphological layer instead of its outputs in ``[0, 1]`` (a head's outputs are scores
        either way). Inside :meth:`frozen_prefix`, ``x`` is what that method gave for the
        samples, not the images."""
        layers = [*self.conv_layers, *self.dense_layers]
        last = layers[-1] if layers and self.head is None else None
        flat = len(self.dense_layers) or self.head is not None
        read_all = self._reads_every_map()
        frozen, first = [], 0
        prefix = getattr(self, "_prefix", None)
        if prefix is not None:
            first, shape = prefix
            x = x.to(next(self.parameters()).dtype)
            frozen = [x] if read_all else []
            x = x[:, x.shape[1] - math.prod(shape):].reshape(-1, *shape)
        x, maps = self._conv_part(x, first, len(self.conv_layers), last, logits)
        maps = frozen + maps if read_all else []
        if maps:
            x = torch.cat(maps, dim=1)
        elif flat:
            x = x.flatten(1)
        for layer in self.dense_layers:
            x = layer(x, logits=logits and layer is last)
        if self.head is None:
            return x
        # networks pickled before head_dropout existed have no such attribute
        dropout = getattr(self, "head_dropout", 0.0)
        return self.head(F.dropout(x, dropout, self.training) if dropout else x)

    @contextmanager
    def frozen_prefix(self, n_layers: int, inputs: torch.Tensor, device=None,
                      batch_size: int = 256) -> Iterator[torch.Tensor]:
        """Run the first ``n_layers`` convolutional layers once: within the ``with`` block the
        network reads, instead of images, the features this yields for ``inputs``.

        For training the layers after frozen ones (layer-by-layer binarization): the frozen
        layers' outputs are the same at every epoch, so they are computed once instead of at
        every step. The features of a sample are what the later layers read from the frozen
        ones: the pooled maps of the last frozen layer, preceded with ``conv_readout="all"`` by
        those of the layers before it (the head reads them all), flattened; bytes (0/1) when
        the hidden outputs are thresholded, else floats. The frozen layers must not change
        inside the block, nor depend on the batch (``normalization="batch"`` in training).

        ``device``: where the prefix runs (by default where the network is); the features
        are on the device of ``inputs``, computed ``batch_size`` samples at a time.
        """
        if not 1 <= n_layers <= len(self.conv_layers):
            raise ValueError(f"n_layers must be in [1, {len(self.conv_layers)}] (the "
                             f"convolutional layers), got {n_layers!r}")
        if getattr(self, "_prefix", None) is not None:
            raise RuntimeError("the network already reads a frozen prefix")
        read_all = self._reads_every_map()
        binary = self.hidden_outputs != "smooth"
        home = next(self.parameters()).device
        device = home if device is None else torch.device(device)
        if not len(inputs):
            raise ValueError("inputs has no samples")
        parts, shape = [], None
        training = self.training
        self.to(device).eval()
        try:
            with torch.no_grad():
                for start in range(0, len(inputs), batch_size):
                    last_map, maps = self._conv_part(
                        inputs[start:start + batch_size].to(device), 0, n_layers)
                    shape = tuple(last_map.shape[1:])
                    features = torch.cat(maps, dim=1) if read_all else maps[-1]
                    parts.append(features.to(inputs.device,
                                             torch.uint8 if binary else features.dtype))
        finally:
            self.to(home).train(training)
        self._prefix = (n_layers, shape)
        try:
            yield torch.cat(parts)
        finally:
            del self._prefix

    def _reads_every_map(self) -> bool:
        """Whether the dense part (or the head) reads every convolutional layer's maps
        (``conv_readout="all"``), not the last layer's only."""
        flat = len(self.dense_layers) or self.head is not None
        return bool(flat) and getattr(self, "conv_readout", "last") == "all"

    def _conv_part(self, x: torch.Tensor, first: int, stop: int, last=None,
                   logits: bool = False) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Convolutional layers ``first`` to ``stop - 1``, each with its pooling, on ``x``:
        the last output and every layer's output flattened (logits for ``last``)."""
        maps = []
        steps = zip(self.conv_layers[first:stop], self.conv_pools()[first:stop], strict=True)
        for layer, pool in steps:
            x = layer(x, logits=logits and layer is last)
            if pool is not None:
                x = pool(x)
            maps.append(x.flatten(1))
        return x, maps

    def conv_pools(self) -> list[BlockPooling | None]:
        """The pooling after each convolutional layer, ``None`` where there is none."""
        pools = getattr(self, "pools", None)  # absent from networks pickled before pooling
        if pools is None:
            return [None] * len(self.conv_layers)
        return [p if isinstance(p, BlockPooling) else None for p in pools]

    def image_shape_after(self, height: int, width: int) -> tuple[int, int]:
        """Height and width of the images leaving the convolutional part."""
        for pool in self.conv_pools():
            if pool is not None:
                height, width = pool.output_shape(height, width)
        return height, width

    def n_conv_features(self, in_channels: int, height: int, width: int) -> int:
        """Number of features that the convolutional part passes to the dense part (or the
        head) for images ``(in_channels, height, width)``, following :attr:`conv_readout`."""
        return conv_features(in_channels, height, width,
                             [layer.out_channels for layer in self.conv_layers],
                             [None if pool is None else pool.size for pool in self.conv_pools()],
                             getattr(self, "conv_readout", "last"))

    def set_hidden_outputs(self, hidden_outputs: str,
                           binarization: str = "activable") -> MorphologicalNetwork:
        """Switch the hidden banks to ``"smooth"``, ``"binary"`` or ``"binarized"`` outputs
        (see the class); ``binarization`` is the method of the binarized neurons."""
        self.hidden_outputs = check_option(hidden_outputs, "hidden_outputs", HIDDEN_OUTPUTS)
        banks = self.neuron_banks()
        for bank in banks if self.head is not None else banks[:-1]:
            bank.straight_through = hidden_outputs == "binary"
            bank.binarized_forward = hidden_outputs == "binarized"
            bank.binarization_method = binarization
            bank._binarized = None  # recomputed at the first forward pass
        return self

    def refresh_binarization(self) -> MorphologicalNetwork:
        """Recompute the binarized neurons of the banks with ``binarized_forward``."""
        for bank in self.neuron_banks():
            if bank.binarized_forward:
                bank.refresh_binarization()
        return self

    def neuron_banks(self) -> list[MorphologicalNeurons]:
        """Every bank of morphological neurons, in the order data flows through them."""
        return [m for m in self.modules() if isinstance(m, MorphologicalNeurons)]

    def reset_parameters(
        self,
        input_mean: float = 0.5,
        generator=None,
        dense_support_size: float | None = None,
        conv_operations: Sequence[str] | None = None,
        channel_support_fraction: float = 0.2,
        start_elements: str = "subwindows",
    ) -> None:
        """Initialize every layer; the first bank sees inputs of mean ``input_mean``.

        ``dense_support_size`` starts the hidden DenseLUI layers as random activated OR/AND
        units of about that many inputs (see :meth:`MorphologicalNeurons.reset_parameters`);
        a binary output layer keeps the dense initialization, which it needs to learn.
        ``conv_operations`` (one ``"erosion"`` or ``"dilation"`` per BiSEL layer) starts the
        BiSEs of each layer as activated erosions or dilations: by their whole window when the
        layer has one BiSE, by random sub-windows of about ``channel_support_fraction`` of it
        when it has several (started alike, the BiSEs of a layer would receive alike gradients
        and stay alike). With ``start_elements="pairs"`` those BiSEs start instead on the
        centre pixel and one pixel of its 8-neighbourhood, the BiSEs of a layer taking the
        directions 0, 45, 90 and 135 degrees in a random order (elements that thin structures,
        such as one-pixel-wide lines, do not saturate). The LUIs keep the reference
        initialization, in the middle of their range.
        """
        check_option(start_elements, "start_elements", START_ELEMENTS)
        selems = {}
        hidden = self.dense_layers[:-1] if self.binary_output else self.dense_layers
        starts = {id(layer.neurons): (dense_support_size, None) for layer in hidden}
        if conv_operations is not None:
            if len(conv_operations) != len(self.conv_layers):
                raise ValueError(
                    f"conv_operations must have one entry per BiSEL layer "
                    f"({len(self.conv_layers)}), got {conv_operations!r}"
                )
            for layer, operation in zip(self.conv_layers, conv_operations, strict=True):
                bank = layer.bises if isinstance(layer, BiSEL) else layer.neurons
                support = bank.n_weights if bank.n_neurons == 1 else max(
                    1.0, channel_support_fraction * bank.n_weights
                )
                starts[id(bank)] = (support, operation)
                if bank.n_neurons > 1 and start_elements == "pairs":
                    selems[id(bank)] = _centre_pairs(bank.n_neurons, layer.kernel_size,
                                                     generator)
        for index, bank in enumerate(self.neuron_banks()):
            support, operation = starts.get(id(bank), (None, None))
            bank.reset_parameters(
                input_mean if index == 0 else 0.5,
                generator=generator,
                support_size=support,
                operation=operation,
                selem=selems.get(id(bank)),
            )
        if self.head is not None:
            bound = 1 / math.sqrt(self.head.in_features)
            with torch.no_grad():
                for parameter in (self.head.weight, self.head.bias):
                    values = torch.rand(parameter.shape, generator=generator, dtype=parameter.dtype)
                    parameter.copy_((2 * values - 1).to(parameter.device) * bound)

    def signed_start_(self, inputs: torch.Tensor, generator=None) -> MorphologicalNetwork:
        """Start the first layer as random threshold functions of any sign over all its inputs.

        The first layer (a BiSE or a DenseLUI) must read its inputs followed by their
        complements (the classifier's ``include_complement=True``): its weights are those of
        :meth:`MorphologicalNeurons.reset_signed_`, each neuron's bias is the median of its
        pre-activations on ``inputs`` (half of the training outputs start on) and its scale
        ``p`` gives them unit standard deviation. A dense start of any sign, as a float
        convolution starts: the sparse activated start reads a handful of input bits per
        neuron, and the paper's dense start, all weights positive, weighs a level set and its
        complement alike, which cancel (benchmarks/README.md, "A first layer of any sign").
        """
        layers = [*self.conv_layers, *self.dense_layers]
        first = layers[0] if layers else None
        if not isinstance(first, (BiSE, DenseLUI)):
            raise ValueError(f"a signed start needs a BiSE or DenseLUI first layer, got "
                             f"{type(first).__name__}")
        bank = first.neurons
        bank.reset_signed_(generator)
        with torch.no_grad():
            pre = first.pre_activation(inputs.to(bank.raw_weight.device, bank.raw_weight.dtype))
            pre = pre.movedim(1, -1).reshape(-1, bank.n_neurons)
            if bank.normalization == "batch":
                bank.running_mean.copy_(pre.mean(0))
                bank.running_var.copy_(pre.var(0))
            spread = pre.std(0).clamp(min=torch.finfo(pre.dtype).eps)
            bank.set_bias_and_scale(pre.median(0).values, 1 / spread)
        return self

    def data_start_(self, inputs: torch.Tensor, support_sizes: Sequence[float],
                    generator=None, n_candidates: int = 16,
                    min_rate: float = 0.05) -> MorphologicalNetwork:
        """Start the convolutional layers as random activated erosions and dilations that are
        not constant on ``inputs``, layer after layer.

        Each neuron starts as an erosion or a dilation (drawn at random) by ``support_sizes[i]``
        random weights of its window (layer ``i``), as
        :meth:`MorphologicalNeurons.reset_parameters` starts it from ``selem``; an element
        whose output fires on fewer than ``min_rate`` or more than ``1 - min_rate`` of the
        pixels of ``inputs`` is drawn again, ``n_candidates`` draws at most (then the one
        that fires closest to half of the pixels is kept). The next layer's elements are
        drawn on this layer's thresholded and pooled outputs.

        Why: on level sets of very unequal densities (many input levels) a random element is
        mostly constant: an erosion of a few sparse level sets never fires, a dilation of
        dense complements always does, and a neuron whose output is constant on the data
        starts with almost no gradient (benchmarks/README.md, "A start that fires").
        """
        layers = self._bise_layers("a data start")
        if len(support_sizes) != len(layers):
            raise ValueError(f"support_sizes must have one entry per convolutional layer "
                             f"({len(layers)}), got {support_sizes!r}")
        if not 0 <= min_rate < 0.5:
            raise ValueError(f"min_rate must be in [0, 0.5), got {min_rate!r}")
        bank = layers[0].neurons
        x = inputs.to(bank.raw_weight.device, bank.raw_weight.dtype)
        for layer, pool, support in zip(layers, self.conv_pools(), support_sizes, strict=True):
            selem, operation = _firing_elements(layer, x, support, generator, n_candidates,
                                                min_rate)
            layer.neurons.reset_parameters(float(x.mean()), generator, selem=selem,
                                           operation=operation)
            x = _fired(layer, x)
            if pool is not None:
                x = pool(x)
        return self

    def conv_firing_rates(self, inputs: torch.Tensor) -> list[torch.Tensor]:
        """Per convolutional layer, the share of the pixels of ``inputs`` on which each
        neuron's thresholded output fires, every layer reading the previous one's thresholded,
        pooled outputs (the neurons as they stand, without batch statistics). A neuron that
        fires almost never or almost always is constant on the data (see
        :meth:`data_start_`)."""
        layers = self._bise_layers("firing rates")
        bank = layers[0].neurons
        x = inputs.to(bank.raw_weight.device, bank.raw_weight.dtype)
        rates = []
        for layer, pool in zip(layers, self.conv_pools(), strict=True):
            x = _fired(layer, x)
            rates.append(x.to(torch.float64).mean(dim=(0, 2, 3)))
            if pool is not None:
                x = pool(x)
        return rates

    def _bise_layers(self, what: str) -> list[BiSE]:
        layers = list(self.conv_layers)
        if not layers or not all(isinstance(layer, BiSE) for layer in layers):
            raise ValueError(f"{what} needs convolutional BiSE layers (conv_layer='bise')")
        return layers

    def project_(self) -> MorphologicalNetwork:
        """Project every bank's weights back to their constraints (see
        :meth:`MorphologicalNeurons.project_`); called after each optimizer step."""
        for bank in self.neuron_banks():
            bank.project_()
        return self

    def activated_fraction(self, counts: list[tuple[int, int]] | None = None) -> float:
        """Fraction of morphological neurons that are activated for binary inputs (from
        ``counts`` of :meth:`activated_counts` when already computed)."""
        counts = self.activated_counts() if counts is None else counts
        return float(sum(c for c, _ in counts) / max(sum(n for _, n in counts), 1))

    def activated_counts(self) -> list[tuple[int, int]]:
        """``(activated neurons, neurons)`` of each bank, in the order of :meth:`neuron_banks`."""
        return [(int(b.activation().activated.sum()), b.n_neurons) for b in self.neuron_banks()]


def _fired(layer: BiSE, x: torch.Tensor) -> torch.Tensor:
    """The thresholded outputs of ``layer``'s neurons on ``x`` (0/1, the dtype of ``x``)."""
    with torch.no_grad():
        return (layer.pre_activation(x) > layer.neurons.bias.view(1, -1, 1, 1)).to(x.dtype)


def _firing_elements(layer: BiSE, x: torch.Tensor, support: float, generator,
                     n_candidates: int, min_rate: float) -> tuple[torch.Tensor, list[str]]:
    """Per neuron of ``layer``, an element of ``support`` weights and an operation whose
    output on ``x`` is not constant (see :meth:`MorphologicalNetwork.data_start_`)."""
    bank = layer.neurons
    n, k = bank.n_neurons, bank.n_weights
    size = int(min(max(1, round(support)), k))
    selem = torch.zeros(n, k, dtype=torch.bool)
    erosion = torch.zeros(n, dtype=torch.bool)
    best_gap = torch.full((n,), math.inf, dtype=torch.float64)
    settled = torch.zeros(n, dtype=torch.bool)
    for _ in range(max(1, int(n_candidates))):
        masks, draw_erosion = _candidate_elements(layer, x, size, generator)
        weight = masks.view(n, *bank.weight_shape).to(x)
        with torch.no_grad():
            sums = layer.convolve(x, weight).movedim(1, -1).reshape(-1, n)
        needed = torch.where(draw_erosion, size - 0.5, 0.5).to(sums)
        rate = (sums > needed).to(torch.float64).mean(0).cpu()
        gap = (rate - 0.5).abs()
        better = ~settled & (gap < best_gap)
        selem[better], erosion[better] = masks[better], draw_erosion[better]
        best_gap[better] = gap[better]
        settled |= (rate >= min_rate) & (rate <= 1 - min_rate)
        if settled.all():
            break
    return selem, [EROSION if e else DILATION for e in erosion.tolist()]


def _candidate_elements(layer: BiSE, x: torch.Tensor, size: int,
                        generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One candidate element per neuron of ``layer`` (``size`` weights drawn uniformly over
    the window, as flat masks) and whether it is an erosion (else a dilation), for
    :func:`_firing_elements`; ``x`` is unused here and there for other draws (the screens of
    ``benchmarks/screen_conv_start.py`` draw from data windows)."""
    n, k = layer.neurons.n_neurons, layer.neurons.n_weights
    positions = torch.rand(n, k, generator=generator).argsort(1)[:, :size]
    masks = torch.zeros(n, k, dtype=torch.bool)
    masks[torch.arange(n)[:, None], positions] = True
    return masks, torch.rand(n, generator=generator) < 0.5


def _centre_pairs(n: int, kernel_size: tuple[int, int], generator) -> torch.Tensor:
    """``n`` flat masks: the centre of the window and one pixel of its 8-neighbourhood.

    The neighbours go through the line directions in a random order (0, 45, 90 and 135
    degrees, where the window has them), one of the two opposite neighbours drawn at random, so
    that the BiSEs of a layer start in different directions as long as there are directions
    left (alike starts would stay alike).
    """
    rows, cols = kernel_size
    directions = [(dy, dx) for dy, dx in ((0, 1), (-1, 1), (-1, 0), (-1, -1))
                  if abs(dy) <= rows // 2 and abs(dx) <= cols // 2]
    masks = torch.zeros(n, rows, cols, dtype=torch.bool)
    masks[:, rows // 2, cols // 2] = True
    if directions:
        order = torch.randperm(len(directions), generator=generator)
        picked = torch.tensor(directions)[order[torch.arange(n) % len(directions)]]
        signs = 2 * torch.randint(2, (n, 1), generator=generator) - 1
        picked = picked * signs
        masks[torch.arange(n), rows // 2 + picked[:, 0], cols // 2 + picked[:, 1]] = True
    return masks.flatten(1)


def conv_features(in_channels: int, height: int, width: int, channels: Sequence[int],
                  pool_sizes: Sequence[int | None], readout: str = "last") -> int:
    """Features leaving a convolutional part of ``channels`` outputs per layer, each layer
    followed by a pooling of ``pool_sizes`` (``None``: none), read as ``readout`` ("last" or
    "all", see :class:`MorphologicalNetwork`), for images ``(in_channels, height, width)``."""
    sizes = []
    for out_channels, pool_size in zip(channels, pool_sizes, strict=True):
        if pool_size is not None:
            height, width = height // pool_size, width // pool_size
        sizes.append(out_channels * height * width)
    if not sizes:
        return in_channels * height * width
    return sum(sizes) if readout == "all" else sizes[-1]


def build_network(
    *,
    in_channels: int | None = None,
    conv_channels: Sequence[int] = (),
    kernel_sizes: int | Sequence[int] = 3,
    n_features: int | None = None,
    hidden_layer_sizes: Sequence[int] = (),
    n_outputs: int | None = None,
    output_layer: str = "linear",
    padding: str = "replicate",
    hidden_outputs: str = "smooth",
    pooling: str | Sequence[str | None] | None = None,
    pool_size: int = 2,
    conv_layer: str = "bisel",
    conv_readout: str = "last",
    conv_complements: bool = False,
    paired_inputs: bool = False,
    head_dropout: float = 0.0,
    **neuron_options,
) -> MorphologicalNetwork:
    """Build a :class:`MorphologicalNetwork`.

    Parameters
    ----------
    in_channels : int, optional
        Channels of the input images, for a convolutional part of ``conv_channels`` BiSEL layers.
    conv_channels : sequence of int
        Output channels of each BiSEL layer.
    kernel_sizes : int or sequence of int
        Kernel size of every BiSEL layer, or one per layer.
    n_features : int, optional
        Number of features entering the dense part (flattened images or tabular features).
    hidden_layer_sizes : sequence of int
        Widths of the DenseLUI layers.
    n_outputs : int, optional
        Number of outputs of the head. ``output_layer="linear"`` adds a float ``nn.Linear``
        head (the paper's classification networks); ``"binary"`` a last DenseLUI layer, so the
        whole network is binarized. ``None``: no head.
    padding : {"replicate", "zeros"}
    hidden_outputs : {"smooth", "binary"}
        See :class:`MorphologicalNetwork`.
    pooling : {"dilation", "erosion"}, None or a sequence of them
        A :class:`~skmorph.nn.BlockPooling` after every BiSEL layer, or one entry per layer.
    pool_size : int
        Block size of the poolings.
    conv_layer : {"bisel", "bise"}
        ``"bisel"``: :class:`~skmorph.nn.BiSEL` layers (an erosion or dilation per pair of
        input and output channels, then a union or intersection per output: the most
        expressive, and ``in_channels`` times the activations of a convolution);
        ``"bise"``: :class:`~skmorph.nn.BiSE` layers (one erosion or dilation per output, by
        an element spanning all input channels: the cost of a convolution).
    conv_readout : {"last", "all"}
        What the dense part or the head reads: the last convolutional layer's maps, or those
        of every layer (see :class:`MorphologicalNetwork`); ``n_features`` must count them.
    conv_complements : bool
        BiSE layers after the first read the complements of their input maps too
        (``complement_inputs`` of :class:`~skmorph.nn.BiSE`): their neurons become general
        threshold functions of the maps instead of increasing ones. Needs
        ``conv_layer="bise"``.
    paired_inputs : bool
        The second half of the input channels are the complements of the first half: the
        first BiSE layer convolves the first half only (``paired_inputs`` of
        :class:`~skmorph.nn.BiSE`: the same layer at half the cost). Needs
        ``conv_layer="bise"``.
    head_dropout : float
        Dropout on the features the head reads, in training (see
        :class:`MorphologicalNetwork`); needs ``output_layer="linear"``.
    **neuron_options
        Passed to every layer (``threshold``, reparametrizations, ``normalization``, ``device``,
        ``dtype``).
    """
    conv_channels = list(conv_channels)
    if isinstance(kernel_sizes, int):
        kernel_sizes = [kernel_sizes] * len(conv_channels)
    kernel_sizes = list(kernel_sizes)
    if len(kernel_sizes) != len(conv_channels):
        raise ValueError(
            f"kernel_sizes must be an int or have one entry per convolutional layer "
            f"({len(conv_channels)}), got {kernel_sizes}"
        )
    if output_layer not in ("linear", "binary"):
        raise ValueError(f"output_layer must be 'linear' or 'binary', got {output_layer!r}")
    if head_dropout and (n_outputs is None or output_layer != "linear"):
        raise ValueError(f"head_dropout={head_dropout!r} needs a float head: n_outputs and "
                         f"output_layer='linear' (got output_layer={output_layer!r})")
    poolings = [pooling] * len(conv_channels) if pooling is None or isinstance(
        pooling, str) else list(pooling)
    if len(poolings) != len(conv_channels):
        raise ValueError(
            f"pooling must be None, a str or have one entry per convolutional layer "
            f"({len(conv_channels)}), got {pooling!r}"
        )
    pools = [None if p is None else BlockPooling(p, pool_size) for p in poolings]
    bisel = check_option(conv_layer, "conv_layer", CONV_LAYERS) == "bisel"
    for name, value in (("conv_complements", conv_complements),
                        ("paired_inputs", paired_inputs)):
        if value and bisel:
            raise ValueError(f"{name}=True needs conv_layer='bise' (BiSEL layers read each "
                             f"input channel alone)")
    conv_layers = []
    channels = in_channels
    for index, (out_channels, kernel_size) in enumerate(zip(conv_channels, kernel_sizes,
                                                            strict=True)):
        if bisel:
            layer = BiSEL(channels, out_channels, kernel_size, padding, **neuron_options)
        else:
            layer = BiSE(channels, out_channels, kernel_size, padding,
                         complement_inputs=bool(conv_complements and index),
                         paired_inputs=bool(paired_inputs and not index), **neuron_options)
        conv_layers.append(layer)
        channels = out_channels
    dense_layers = []
    features = n_features
    for width in hidden_layer_sizes:
        dense_layers.append(DenseLUI(features, width, **neuron_options))
        features = width
    head = None
    if n_outputs is not None:
        if output_layer == "binary":
            dense_layers.append(DenseLUI(features, n_outputs, **neuron_options))
        else:
            factory = {k: neuron_options[k] for k in ("device", "dtype") if k in neuron_options}
            head = nn.Linear(features, n_outputs, **factory)
    binary_output = n_outputs is not None and output_layer == "binary"
    return MorphologicalNetwork(conv_layers, dense_layers, head, binary_output, hidden_outputs,
                                pools, conv_readout, head_dropout)
