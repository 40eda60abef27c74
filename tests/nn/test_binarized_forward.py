"""Training on the binarized network: hidden_outputs="binarized", projected weights, and the
automatic refresh rates."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skmorph.binary import Thresholds
from skmorph.estimators import binarize_network
from skmorph.nn import Regularizer, build_network
from skmorph.nn.regularization import auto_update_every


def _classifier_network(conv_layer, seed, **options):
    network = build_network(
        in_channels=2, conv_channels=[4, 3], kernel_sizes=[3, 5], pooling="dilation",
        n_features=3 * 3 * 2, hidden_layer_sizes=[7], n_outputs=3, conv_layer=conv_layer,
        **options,
    )
    network.reset_parameters(0.4, torch.Generator().manual_seed(seed))
    with torch.no_grad():  # far from activated: random weights, biases and scales
        for bank in network.neuron_banks():
            bank.raw_weight.uniform_(-2, 2)
            bank.raw_bias.add_(torch.randn(bank.n_neurons))
    return network


@pytest.mark.parametrize("conv_layer", ["bise", "bisel"])
@pytest.mark.parametrize("method", ["activable", "constant_uniform"])
@pytest.mark.parametrize("seed", range(3))
def test_binarized_forward_equals_the_binarized_network(conv_layer, method, seed):
    """Property: whatever the neurons (activated or not), the network's forward pass under
    hidden_outputs="binarized" is its binarized network, head included."""
    network = _classifier_network(conv_layer, seed)
    network.set_hidden_outputs("binarized", binarization=method)
    binarized, report = binarize_network(network, [Thresholds(np.full((2, 1), 0.5))],
                                         method=method, classes=np.arange(3),
                                         image_shape=(2, 12, 9))
    assert report["n_exact"] < report["n_neurons"]  # approximated neurons are covered too
    rng = np.random.default_rng(seed)
    images = rng.random((30, 2, 12, 9)) < rng.uniform(0.2, 0.8)
    with torch.no_grad():
        scores = network(torch.tensor(images, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(binarized.decision_function(images.reshape(30, -1)), scores,
                               rtol=1e-5, atol=1e-5)


def test_binarized_forward_passes_the_smooth_gradient():
    network = _classifier_network("bise", 0).set_hidden_outputs("binarized")
    images = (torch.rand(16, 2, 12, 9) < 0.5).float()
    loss = F.cross_entropy(network(images), torch.randint(0, 3, (16,)))
    loss.backward()
    for bank in network.neuron_banks():
        assert bank.raw_weight.grad is not None and bank.raw_weight.grad.abs().sum() > 0


def test_refresh_follows_the_weights():
    network = _classifier_network("bise", 1).set_hidden_outputs("binarized")
    bank = network.neuron_banks()[0]
    before = bank.binarized_weight().clone()
    with torch.no_grad():
        bank.raw_weight.mul_(-1)
    assert torch.equal(bank.binarized_weight(), before)  # kept until refreshed
    network.refresh_binarization()
    assert not torch.equal(bank.binarized_weight(), before)


def test_projected_weights_stay_non_negative_and_reach_zero():
    network = build_network(n_features=30, hidden_layer_sizes=[20], n_outputs=4,
                            weight_reparametrization="projected")
    optimizer = torch.optim.Adam(network.parameters(), lr=0.1)
    x, y = (torch.rand(64, 30) < 0.5).float(), torch.randint(0, 4, (64,))
    for _ in range(20):
        loss = F.cross_entropy(network(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        network.project_()
    weight = network.dense_layers[0].neurons.weight
    assert weight.min() >= 0 and (weight == 0).any()


def test_auto_refresh_rates_grow_with_the_number_of_weights():
    assert auto_update_every("constant_exact", 64 * 274) == 1
    assert auto_update_every("activable", 256 * 274) > 1
    assert auto_update_every("activable", 4096 * 784) > auto_update_every("activable", 256 * 274)
    assert auto_update_every("constant_uniform", 4096 * 784) < auto_update_every(
        "activable", 4096 * 784)
    network = build_network(n_features=784, hidden_layer_sizes=[512], n_outputs=2)
    regularizer = Regularizer("constant_exact", 1e-3, update_every="auto")
    regularizer(network.neuron_banks(), 0)
    assert regularizer.update_every == auto_update_every("constant_exact", 512 * 784)
    with pytest.raises(ValueError, match="update_every"):
        Regularizer("activable", 1e-3, update_every="often")
