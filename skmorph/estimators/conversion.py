"""Turn a trained torch network into a :class:`~skmorph.binary.BinarizedNetwork`, with a report."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from skmorph.binary import BinarizedNetwork, BinaryConv, BinaryDense, BinaryPooling, LinearHead
from skmorph.binary.layers import pack_samples, unpack_samples
from skmorph.morphology.activation import EROSION
from skmorph.morphology.bitpack import pack
from skmorph.morphology.projection import (
    METHODS,
    BinarizedNeurons,
    packed_agreement,
    packed_calibrated_element,
)
from skmorph.nn import BiSE, BiSEL, DenseLUI, MorphologicalNetwork

__all__ = ["binarize_network", "calibrate_network", "set_layer_operator", "set_operator"]

CALIBRATION_WINDOWS = 40  # windows drawn per calibration image, for each convolutional layer


def _report_entry(name: str, neurons: BinarizedNeurons) -> dict:
    approximated = ~neurons.exact
    distances = neurons.distance[approximated]
    return {
        "layer": name,
        "n_neurons": int(neurons.exact.size),
        "n_exact": int(neurons.exact.sum()),
        "n_approximated": int(approximated.sum()),
        "mean_distance": float(distances.mean()) if distances.size else 0.0,
        "max_distance": float(distances.max()) if distances.size else 0.0,
    }


def _conv_layer(index: int, layer: BiSEL, method: str, report: list) -> BinaryConv:
    c_in, c_out = layer.in_channels, layer.out_channels
    kh, kw = layer.kernel_size
    bises = layer.bises.binarize(method)
    report.append(_report_entry(f"conv{index}.bise", bises))

    def by_output(values, *shape):  # neuron i * c_out + j -> [j, i]
        return np.swapaxes(np.asarray(values).reshape(c_in, c_out, *shape), 0, 1)

    selems = by_output(bises.selem, kh, kw)
    operations, exact = by_output(bises.operation), by_output(bises.exact)
    if layer.luis is None:
        active, combine, combine_exact = np.ones((c_out, 1), bool), ["or"] * c_out, None
    else:
        luis = layer.luis.binarize(method)
        report.append(_report_entry(f"conv{index}.lui", luis))
        active = luis.selem
        combine = np.where(luis.operation == EROSION, "and", "or")
        combine_exact = luis.exact
    return BinaryConv(
        selems, operations, active, combine, layer.padding, exact, combine_exact
    )


def _bise_layer(index: int, layer: BiSE, method: str, report: list) -> BinaryConv:
    """A BiSE over several channels as a BinaryConv: the erosion by an element spanning the
    channels is the intersection over channels of the erosions by its slices (the dilation the
    union of the dilations); channels whose slice is empty are not read."""
    neurons = layer.neurons.binarize(method)
    report.append(_report_entry(f"conv{index}", neurons))
    c_out, c_in = layer.out_channels, layer.read_channels
    selems = neurons.selem.reshape(c_out, c_in, *layer.kernel_size)
    operations = np.repeat(neurons.operation[:, None], c_in, axis=1)
    combine = np.where(neurons.operation == EROSION, "and", "or")
    exact = np.repeat(neurons.exact[:, None], c_in, axis=1)
    return BinaryConv(selems, operations, selems.any(axis=(2, 3)), combine, layer.padding,
                      exact, neurons.exact, complement_inputs=layer.complement_inputs)


def _dense_layer(index: int, layer: DenseLUI, method: str, report: list) -> BinaryDense:
    neurons = layer.neurons.binarize(method)
    report.append(_report_entry(f"dense{index}", neurons))
    sizes = neurons.selem.sum(axis=1)
    thresholds = np.where(neurons.operation == EROSION, sizes, 1)
    return BinaryDense(neurons.selem, thresholds)


def _bisel_levels(layer: BiSEL, v1: float, v2: float) -> tuple[float, float]:
    """Output levels of a BiSEL layer, or NaN when its binarization is not guaranteed exact.

    Only the BiSEs whose channel the LUI of their output reads must be activated: the LUI's
    conditions already allow any value in [0, 1] on the channels outside its element.
    """
    activated, out_low, out_high = layer.bises.neuron_output_levels(v1, v2)
    c_in, c_out = layer.in_channels, layer.out_channels
    activated = activated.reshape(c_in, c_out)
    if layer.luis is None:
        if not activated.all():
            return math.nan, math.nan
        return float(out_low.max()), float(out_high.min())
    used = layer.luis.activation().selem  # (c_out, c_in), the channels each LUI reads
    needed = used.T  # (c_in, c_out) like the BiSE neurons
    if not activated[needed].all():
        return math.nan, math.nan
    lows, highs = out_low.reshape(c_in, c_out)[needed], out_high.reshape(c_in, c_out)[needed]
    if lows.size == 0:
        return math.nan, math.nan
    return layer.luis.output_levels(float(lows.max()), float(highs.min()))


def exactness_levels(network: MorphologicalNetwork) -> list[tuple[float, float]]:
    """Almost-binary levels after each layer, starting from binary inputs.

    The float network thresholded at 1/2 equals its binarization on every binary input when
    every entry is finite (each layer activated for the levels of its inputs); ``nan`` marks the
    first layer where the guarantee stops. A dense part that reads every convolutional layer
    (``conv_readout="all"``) reads the least binary of their levels.
    """
    levels, v1, v2 = [], 0.0, 1.0
    read_all = getattr(network, "conv_readout", "last") == "all" and len(network.conv_layers)
    first_dense = network.dense_layers[0] if len(network.dense_layers) else None
    for layer in [*network.conv_layers, *network.dense_layers]:
        if read_all and layer is first_dense and not math.isnan(v1):
            # levels are nan from the first layer without the guarantee on: none here
            v1, v2 = max(low for low, _ in levels), min(high for _, high in levels)
        if math.isnan(v1):
            levels.append((math.nan, math.nan))
            continue
        if isinstance(layer, BiSEL):
            v1, v2 = _bisel_levels(layer, v1, v2)
        elif isinstance(layer, BiSE) and layer.complement_inputs:
            # the complements of values in [0, v1] u [v2, 1] lie in [0, 1 - v2] u [1 - v1, 1]
            v1, v2 = layer.neurons.output_levels(max(v1, 1 - v2), min(v2, 1 - v1))
        else:
            v1, v2 = layer.neurons.output_levels(v1, v2)
        levels.append((v1, v2))
    return levels


def binarize_network(
    network: MorphologicalNetwork,
    input_layers: list,
    *,
    method: str = "activable",
    task: str = "classification",
    classes=None,
    image_shape=None,
    feature_names=None,
) -> tuple[BinarizedNetwork, dict]:
    """Binarize every morphological layer of ``network`` with ``method``.

    Parameters
    ----------
    network : MorphologicalNetwork
    input_layers : list
        The NumPy input stage (``Thresholds``) that precedes the network.
    method : {"activable", "constant_exact", "constant_uniform", "constant_normal", "exact"}
        How neurons that are not activated are approximated (activated ones are exact).

    Returns
    -------
    binarized : BinarizedNetwork
    report : dict
        ``layers``: per bank, neurons binarized exactly vs approximated and the projection
        distances of the approximated ones; ``exact_network``: whether the float network
        thresholded at 1/2 is guaranteed to equal the binarized one on binary inputs (every
        neuron that the next layer reads activated for the almost-binary levels of its inputs;
        only meaningful without a float head); ``method``.
    """
    if method not in METHODS:
        raise ValueError(f"binarization must be one of {METHODS}, got {method!r}")
    layers, entries = list(input_layers), []
    for index, (layer, pool) in enumerate(zip(network.conv_layers, network.conv_pools(),
                                              strict=True)):
        convert = _conv_layer if isinstance(layer, BiSEL) else _bise_layer
        layers.append(convert(index, layer, method, entries))
        if pool is not None:  # max/min pooling keeps almost-binary levels: exact as it is
            layers.append(BinaryPooling(pool.operation, pool.size))
    for index, layer in enumerate(network.dense_layers):
        layers.append(_dense_layer(index, layer, method, entries))
    if network.head is not None:
        weight = network.head.weight.detach().to("cpu").numpy()
        bias = network.head.bias.detach().to("cpu").numpy()
        layers.append(LinearHead(weight, bias))
    levels = exactness_levels(network)
    report = {
        "method": method,
        "layers": entries,
        "exact_network": all(not math.isnan(v1) for v1, _ in levels),
        "n_neurons": sum(entry["n_neurons"] for entry in entries),
        "n_exact": sum(entry["n_exact"] for entry in entries),
    }
    binarized = BinarizedNetwork(layers, task=task, classes=classes, image_shape=image_shape,
                                 feature_names=feature_names,
                                 conv_readout=getattr(network, "conv_readout", "last"))
    return binarized, report


def _windows(images: torch.Tensor, kernel_size, padding: str, positions: torch.Tensor):
    """The windows ``(n, positions, C * kh * kw)`` of ``images`` at the flat ``positions``
    (one row per image), padded as the layer pads."""
    kh, kw = kernel_size
    n, channels, _, width = images.shape
    padded = F.pad(images, (kw // 2, kw // 2, kh // 2, kh // 2),
                   mode="replicate" if padding == "replicate" else "constant")
    # gathered at the drawn positions only: unfolding every position first (F.unfold) made
    # H * W windows per image to keep a few dozen of them
    tops = (positions // width)[:, :, None, None] + torch.arange(kh)[:, None]
    lefts = (positions % width)[:, :, None, None] + torch.arange(kw)
    windows = padded.permute(0, 2, 3, 1)[torch.arange(n)[:, None, None, None], tops, lefts]
    return windows.permute(0, 1, 4, 2, 3).reshape(n, positions.shape[1], channels * kh * kw)


def _calibrate_bank(layer, bits: np.ndarray, target: np.ndarray, selems: np.ndarray,
                    operations: np.ndarray, exact: np.ndarray, name: str) -> dict:
    """Re-choose, in place, the element and operation of every approximated neuron of
    ``layer`` (flat ``selems``) from its windows ``bits`` and thresholded outputs ``target``;
    returns the layer's report entry."""
    weights, _ = layer.neurons.numpy_parameters()
    before, after = [], []
    n_samples = bits.shape[0]
    bits, target = np.packbits(bits, axis=0), np.packbits(target, axis=0)  # once per bank
    for neuron in np.flatnonzero(~exact):
        reduce = np.bitwise_and if operations[neuron] == EROSION else np.bitwise_or
        current = (reduce.reduce(bits[:, selems[neuron]], axis=1, keepdims=True)
                   if selems[neuron].any() else  # empty: constant, the padding bits 0
                   np.packbits(np.full((n_samples, 1), reduce is np.bitwise_and), axis=0))
        before.append(float(packed_agreement(current, target[:, neuron], n_samples)[0]))
        selems[neuron], operations[neuron], agreement = packed_calibrated_element(
            weights[neuron], bits, target[:, neuron], n_samples)
        after.append(agreement)
    return _calibration_entry(name, before, after)


def _calibration_entry(name: str, before: list, after: list) -> dict:
    """A layer's calibration report: neurons calibrated, their mean agreement before and
    after (1 for a layer without any, whose neurons are all exact)."""
    return {"layer": name, "n_calibrated": len(after),
            "agreement_before": float(np.mean(before)) if before else 1.0,
            "agreement_after": float(np.mean(after)) if after else 1.0}


def calibrate_network(network: MorphologicalNetwork, binarized: BinarizedNetwork,
                      inputs: torch.Tensor, random_state: int = 0) -> list[dict]:
    """Calibrate the approximated neurons of ``binarized`` on data, in place.

    Every neuron of a BiSE or DenseLUI layer that is not activated (so only approximated by
    the projection) gets instead the erosion or dilation, by a set of its largest weights,
    whose output on the binarized network's own inputs to that layer agrees most often with
    the float neuron's thresholded output (:func:`skmorph.morphology.projection.
    calibrated_element`). Layers are calibrated in order, each on the outputs of the already
    calibrated binarized layers before it, on ``CALIBRATION_WINDOWS`` random windows per image
    for convolutional layers. Activated neurons (exact) are left as they are; BiSEL layers are
    not calibrated.

    Parameters
    ----------
    network : MorphologicalNetwork
        The float network that ``binarized`` was binarized from (by :func:`binarize_network`).
    binarized : BinarizedNetwork
    inputs : tensor
        Binary network inputs (images ``(n, C, H, W)`` or rows ``(n, features)``).

    Returns
    -------
    list of dict
        Per calibrated layer: approximated neurons and their mean agreement with the float
        neurons' thresholded outputs before and after.
    """
    generator = torch.Generator().manual_seed(random_state)
    convs = [i for i, layer in enumerate(binarized.layers) if isinstance(layer, BinaryConv)]
    denses = [i for i, layer in enumerate(binarized.layers) if isinstance(layer, BinaryDense)]
    # which layers are calibrated (BiSE and DenseLUI ones, but the output layer of a fully
    # binarized network, which keeps its projection), and which of their neurons are exact
    exact = {f"conv{position}": binarized.layers[convs[position]].combine_exact
             for position, layer in enumerate(network.conv_layers) if isinstance(layer, BiSE)}
    n_calibrated_dense = len(network.dense_layers) - int(network.binary_output)
    exact.update({f"dense{position}": layer.neurons.binarize("activable").exact
                  for position, layer in enumerate(network.dense_layers[:n_calibrated_dense])})
    if all(neurons.all() for neurons in exact.values()):
        # every neuron exact (each layer frozen by layerwise_epochs, say): no pass over the data
        return [_calibration_entry(name, [], []) for name in exact]
    entries, maps = [], []
    smooth, bits = inputs.float(), inputs.float()
    with torch.no_grad():
        for position, (layer, pool) in enumerate(zip(network.conv_layers, network.conv_pools(),
                                                     strict=True)):
            smooth_out = layer(smooth)
            binary = binarized.layers[convs[position]]
            name = f"conv{position}"
            if isinstance(layer, BiSE):
                n, _, height, width = smooth_out.shape
                # drawn for exact layers too: the windows of the layers after them stay the same
                windows = torch.randint(height * width, (n, CALIBRATION_WINDOWS),
                                        generator=generator)
                if exact[name].all():
                    entries.append(_calibration_entry(name, [], []))
                else:
                    window_bits = _windows(layer.read(bits), layer.kernel_size, layer.padding,
                                           windows)
                    target = (smooth_out.flatten(2).transpose(1, 2)[
                        torch.arange(n)[:, None], windows] > 0.5)
                    selems = binary.selems.reshape(binary.out_channels, -1).copy()
                    operations = binary.operations[:, 0].copy()
                    entries.append(_calibrate_bank(
                        layer, window_bits.flatten(0, 1).numpy() > 0.5,
                        target.flatten(0, 1).numpy(), selems, operations, exact[name], name))
                    selems = selems.reshape(binary.selems.shape)
                    binary = BinaryConv(selems,
                                        np.repeat(operations[:, None], binary.in_channels, 1),
                                        selems.any(axis=(2, 3)),
                                        np.where(operations == EROSION, "and", "or"),
                                        binary.padding, binary.exact, binary.combine_exact,
                                        complement_inputs=binary.complement_inputs)
                    binarized.layers[convs[position]] = binary
            # what the predictor computes, on packed bits (any BinaryConv, BiSEL ones included)
            bits = torch.as_tensor(binary(pack(bits.numpy() > 0.5)).unpack(), dtype=torch.float32)
            smooth = smooth_out
            if pool is not None:
                smooth, bits = pool(smooth), pool(bits)
            maps.append((smooth.flatten(1), bits.flatten(1)))
        if len(network.dense_layers):
            if maps and getattr(network, "conv_readout", "last") == "all":
                smooth = torch.cat([m for m, _ in maps], 1)
                bits = torch.cat([b for _, b in maps], 1)
            else:
                smooth, bits = smooth.flatten(1), bits.flatten(1)
        for position, layer in enumerate(network.dense_layers):
            smooth_out = layer(smooth)
            binary = binarized.layers[denses[position]]
            name = f"dense{position}"
            if name in exact and exact[name].all():
                entries.append(_calibration_entry(name, [], []))
            elif name in exact:
                selems = binary.supports.copy()
                operations = _dense_operations(binary)
                entries.append(_calibrate_bank(layer, bits.numpy() > 0.5,
                                               smooth_out.numpy() > 0.5, selems, operations,
                                               exact[name], name))
                binary = BinaryDense(selems, np.where(operations == EROSION, selems.sum(1), 1))
                binarized.layers[denses[position]] = binary
            n = bits.shape[0]  # the predictor's own layer, on packed samples
            packed = binary(pack_samples(bits.numpy().T > 0.5), n)
            bits = torch.as_tensor(unpack_samples(packed, n).T, dtype=torch.float32)
            smooth = smooth_out
    return entries


def _set_neurons(bank, selems: np.ndarray, operations: np.ndarray, generator) -> None:
    """Make every neuron of ``bank`` the activated erosion/dilation by its row of ``selems``."""
    elements = torch.as_tensor(np.asarray(selems, bool).reshape(bank.n_neurons, -1))
    states = {}
    for operation in ("erosion", "dilation"):
        bank.reset_parameters(0.5, generator, selem=elements, operation=operation)
        states[operation] = {key: value.clone() for key, value in bank.state_dict().items()}
    erosion = torch.as_tensor(np.asarray(operations).reshape(-1) == EROSION)
    bank.load_state_dict({
        key: torch.where(erosion.reshape(-1, *[1] * (value.dim() - 1)), value,
                         states["dilation"][key])
        for key, value in states["erosion"].items()
    })


def set_operator(network: MorphologicalNetwork, layers: list[BinaryConv], generator) -> None:
    """Set the BiSEL layers of ``network`` to the activated neurons of the binary ``layers``.

    Every BiSE becomes the activated erosion or dilation by its element, every LUI the
    activated union or intersection of its active channels (the starting weights of
    :meth:`skmorph.nn.MorphologicalNeurons.reset_parameters` with an element), so that the
    network binarizes back to ``layers`` exactly, and its output thresholded at 1/2 is theirs.
    """
    if len(layers) != len(network.conv_layers):
        raise ValueError(
            f"{len(layers)} binary layers for a network of {len(network.conv_layers)} BiSELs"
        )
    if not all(isinstance(layer, BiSEL) for layer in network.conv_layers):
        raise ValueError("set_operator sets BiSEL layers; this network has BiSE layers")
    for layer, binary in zip(network.conv_layers, layers, strict=True):
        set_layer_operator(layer, binary, generator)


def _dense_operations(binary: BinaryDense) -> np.ndarray:
    """The operation of each unit: an erosion is the threshold at its element's size (of
    more than one input, where it differs from a dilation)."""
    sizes = binary.supports.sum(axis=1)
    return np.where((binary.thresholds == sizes) & (sizes > 1), EROSION, "dilation")


def set_layer_operator(layer: BiSE | BiSEL | DenseLUI, binary: BinaryConv | BinaryDense,
                       generator) -> None:
    """Set one layer of a float network to the activated neurons of its binary layer.

    Every neuron becomes the activated erosion or dilation by its element in ``binary`` (a
    BiSEL's LUIs the activated union or intersection of their active channels), with the
    starting weights of :meth:`skmorph.nn.MorphologicalNeurons.reset_parameters`: the layer
    then binarizes back to ``binary`` exactly, and on binary inputs its output thresholded at
    1/2 is ``binary``'s. ``binary`` is the layer as :func:`binarize_network` (or
    :func:`calibrate_network`) made it from ``layer``.
    """
    if isinstance(layer, BiSEL):
        expected = (layer.out_channels, layer.in_channels)
    elif isinstance(layer, BiSE):
        expected = (layer.out_channels, layer.read_channels)
    else:
        expected = (layer.out_features, layer.in_features)
    found = (binary.selems.shape[:2] if isinstance(binary, BinaryConv)
             else binary.supports.shape)
    if isinstance(binary, BinaryConv) == isinstance(layer, DenseLUI) or found != expected:
        raise ValueError(f"a {type(binary).__name__} of shape {found} cannot set a "
                         f"{type(layer).__name__} of (outputs, inputs) {expected}")
    with torch.no_grad():
        if isinstance(layer, BiSEL):
            # BiSE neuron i * c_out + j reads input i for output j
            _set_neurons(layer.bises, np.swapaxes(binary.selems, 0, 1),
                         np.swapaxes(binary.operations, 0, 1), generator)
            if layer.luis is not None:
                _set_neurons(layer.luis, binary.active,
                             np.where(binary.combine == "and", EROSION, "dilation"), generator)
        elif isinstance(layer, BiSE):
            _set_neurons(layer.neurons, binary.selems.reshape(layer.out_channels, -1),
                         binary.operations[:, 0], generator)
        else:
            _set_neurons(layer.neurons, binary.supports, _dense_operations(binary), generator)
