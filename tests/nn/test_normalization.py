"""Batch-normalized morphological neurons: training and evaluation semantics, folding into a
plain neuron, and exact binarization of activated normalized networks."""

import numpy as np
import pytest
import torch
from torch import nn

from skmorph.binary import Thresholds
from skmorph.estimators import binarize_network
from skmorph.nn import BiSE, BiSEL, DenseLUI, MorphologicalNeurons, Regularizer, build_network
from skmorph.nn.layers import BATCH_EPS
from skmorph.nn.testing import activate_randomly


def randomize_statistics(banks, rng):
    """Running statistics far from any default, as after training on some data."""
    with torch.no_grad():
        for bank in banks:
            n = bank.n_neurons
            bank.running_mean.copy_(torch.as_tensor(rng.uniform(-3, 10, n)))
            bank.running_var.copy_(torch.as_tensor(rng.uniform(0.01, 20, n)))


def test_training_standardizes_over_the_batch_and_updates_running_statistics_as_batchnorm():
    torch.manual_seed(0)
    layer = BiSE(2, 3, 3, normalization="batch", dtype=torch.float64)
    bank = layer.neurons
    with torch.no_grad():
        bank.raw_bias.copy_(torch.tensor([-0.5, 0.0, 1.2]))
        bank.scale.log_scale.copy_(torch.log(torch.tensor([0.7, 2.0, 1.5])))
    reference = nn.BatchNorm2d(3, affine=False, dtype=torch.float64)
    reference.running_mean.copy_(bank.running_mean)
    reference.running_var.copy_(bank.running_var)
    for _ in range(3):
        x = torch.rand(5, 2, 7, 6, dtype=torch.float64)
        pre = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (1, 1, 1, 1),
                                                                 mode="replicate"),
                                         bank.weight)
        standardized = reference(pre)
        expected = 0.5 * torch.tanh(bank.scale()[:, None, None]
                                    * (standardized - bank.raw_bias[:, None, None])) + 0.5
        torch.testing.assert_close(layer(x), expected)
        torch.testing.assert_close(bank.running_mean, reference.running_mean)
        torch.testing.assert_close(bank.running_var, reference.running_var)


@pytest.mark.parametrize("make", [
    lambda: BiSE(2, 3, 3, normalization="batch", dtype=torch.float64),
    lambda: BiSEL(2, 3, 3, normalization="batch", dtype=torch.float64),
    lambda: DenseLUI(9, 4, normalization="batch", dtype=torch.float64),
])
def test_evaluation_is_the_plain_neuron_of_the_folded_bias_and_scale(make):
    """In evaluation a normalized bank is ``xi(p' (x . w - b))`` with ``b`` its :attr:`bias`
    and ``p'`` its :meth:`output_scale`: the same layer without normalization, given those,
    computes the same outputs."""
    rng = np.random.default_rng(0)
    layer = make()
    plain = type(layer)(*_layer_arguments(layer), bias_reparametrization="raw",
                        dtype=torch.float64)
    plain.load_state_dict({k: v for k, v in layer.state_dict().items()
                           if "running" not in k}, strict=True)
    randomize_statistics(_banks(layer), rng)
    layer.eval()
    for bank, plain_bank in zip(_banks(layer), _banks(plain), strict=True):
        with torch.no_grad():
            bank.raw_bias.copy_(torch.as_tensor(rng.normal(size=bank.n_neurons)))
        plain_bank.set_bias_and_scale(bank.bias.detach(), bank.output_scale().detach())
        std = torch.sqrt(bank.running_var + BATCH_EPS)
        torch.testing.assert_close(bank.bias, bank.running_mean + std * bank.raw_bias)
        torch.testing.assert_close(bank.output_scale(), bank.scale() / std)
    x = torch.rand(4, *_input_shape(layer), dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), plain(x))
        torch.testing.assert_close(layer(x, logits=True), plain(x, logits=True))


def _layer_arguments(layer):
    if isinstance(layer, DenseLUI):
        return layer.in_features, layer.out_features
    return layer.in_channels, layer.out_channels, layer.kernel_size


def _input_shape(layer):
    return (layer.in_features,) if isinstance(layer, DenseLUI) else (layer.in_channels, 6, 7)


def _banks(layer):
    return [m for m in layer.modules() if isinstance(m, MorphologicalNeurons)]


@pytest.mark.parametrize("support_size", [None, 3.0])
def test_start_is_the_unnormalized_start(support_size):
    """The normalized bank starts as the same neurons as without normalization (for the
    expected pre-activation statistics): same bias and scale in evaluation."""
    banks = {}
    for normalization in (None, "batch"):
        generator = torch.Generator().manual_seed(3)
        banks[normalization] = MorphologicalNeurons(6, (2, 3, 3), normalization=normalization,
                                                    dtype=torch.float64)
        banks[normalization].reset_parameters(0.3, generator, support_size=support_size)
    plain, normalized = banks[None], banks["batch"]
    torch.testing.assert_close(normalized.weight, plain.weight)
    torch.testing.assert_close(normalized.bias, plain.bias)
    torch.testing.assert_close(normalized.output_scale(), plain.output_scale())
    flat = plain.weight.flatten(1)
    torch.testing.assert_close(normalized.running_mean, 0.3 * flat.sum(1))
    torch.testing.assert_close(normalized.running_var, 0.21 * (flat**2).sum(1))


@pytest.mark.parametrize("seed", range(8))
def test_activated_normalized_networks_binarize_exactly(seed):
    """Property: random batch-normalized networks (convolutional with pooling, dense, binary
    output), random running statistics, every neuron set to a random activated
    erosion/dilation, random binary images: in evaluation the float network thresholded at
    1/2 equals its binarization, every time."""
    rng = np.random.default_rng(seed)
    channels = [[3], [3, 2]][seed % 2]
    height, width = 8 + seed, 9
    conv_layer = ["bise", "bisel"][seed // 2 % 2]
    network = build_network(
        in_channels=2, conv_channels=channels, kernel_sizes=3, pooling="dilation",
        n_features=channels[-1] * (height // 2 ** len(channels)) * (width // 2 ** len(channels)),
        hidden_layer_sizes=[10], n_outputs=3, output_layer="binary", conv_layer=conv_layer,
        normalization="batch", hidden_outputs=["smooth", "binary"][seed // 4],
    )
    randomize_statistics(network.neuron_banks(), rng)
    activate_randomly(network, rng)
    network.eval()
    binarized, report = binarize_network(
        network, [Thresholds(np.full((2, 1), 0.5))], method="exact", classes=np.arange(3),
        image_shape=(2, height, width),
    )
    assert report["exact_network"]
    images = rng.random((30, 2, height, width)) < rng.uniform(0.2, 0.8)
    with torch.no_grad():
        expected = network(torch.tensor(images, dtype=torch.float32)).numpy() > 0.5
    np.testing.assert_array_equal(binarized.transform(images.reshape(30, -1).astype(float)),
                                  expected)


def test_regularization_and_gradients_reach_the_normalized_parameters():
    torch.manual_seed(0)
    network = build_network(in_channels=1, conv_channels=[3], kernel_sizes=3,
                            n_features=3 * 36, n_outputs=2, normalization="batch")
    x = (torch.rand(8, 1, 6, 6) < 0.5).float()
    banks = network.neuron_banks()
    loss = network(x).square().sum() + Regularizer("activable", 1.0)(banks, 0)
    loss.backward()
    for bank in banks:
        for parameter in (bank.raw_weight, bank.raw_bias, bank.scale.log_scale):
            assert parameter.grad is not None and parameter.grad.abs().sum() > 0
        assert not any(b.requires_grad for b in bank.buffers())


def test_bad_normalization():
    with pytest.raises(ValueError, match="normalization must be one of"):
        DenseLUI(3, 2, normalization="layer")
