"""MorphologicalNetwork.frozen_prefix: the later layers read the frozen layers' outputs
computed once, and compute what they compute on the images."""

import pytest
import torch

from skmorph.nn import build_network
from skmorph.nn.networks import conv_features


def _network(readout, hidden_outputs, dense=(), conv_layer="bise", seed=0):
    """Three convolutional layers (pooled, not, pooled) for 9 x 10 images of 3 channels."""
    channels, pools = [5, 6, 4], ["dilation", None, "erosion"]
    network = build_network(
        in_channels=3, conv_channels=channels, kernel_sizes=[3, 3, 1],
        n_features=conv_features(3, 9, 10, channels, [2, None, 2], readout),
        hidden_layer_sizes=list(dense), n_outputs=3, pooling=pools, conv_layer=conv_layer,
        conv_readout=readout, hidden_outputs=hidden_outputs,
    )
    network.reset_parameters(0.5, torch.Generator().manual_seed(seed))
    return network


@pytest.mark.parametrize("readout", ["all", "last"])
@pytest.mark.parametrize("hidden_outputs", ["binary", "smooth"])
@pytest.mark.parametrize("dense", [(), (7,)])
@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_the_network_computes_the_same_from_its_frozen_prefix(readout, hidden_outputs, dense,
                                                              n_layers):
    network = _network(readout, hidden_outputs, dense)
    images = (torch.rand(11, 3, 9, 10, generator=torch.Generator().manual_seed(1)) < 0.5)
    images = images.float()
    expected = network(images)
    rows = torch.tensor([3, 0, 10])
    # (a batch of these rows, not the whole batch sliced: float sums may run in another order)
    expected_rows = network(images[rows])
    with network.frozen_prefix(n_layers, images, batch_size=4) as features:
        assert len(features) == len(images)
        # bytes where the frozen layers' outputs are thresholded
        assert features.dtype == (torch.uint8 if hidden_outputs == "binary"
                                  else torch.float32)
        torch.testing.assert_close(network(features[rows]), expected_rows, rtol=0, atol=0)
        torch.testing.assert_close(network(features), expected, rtol=0, atol=0)
    # outside the block the network reads images again
    torch.testing.assert_close(network(images), expected, rtol=0, atol=0)
    assert network.training


def test_training_from_the_frozen_prefix_gives_the_gradients_of_training_on_images():
    network = _network("all", "binary", (7,))
    images = (torch.rand(8, 3, 9, 10, generator=torch.Generator().manual_seed(2)) < 0.5).float()
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    for layer in network.conv_layers[:2]:
        layer.requires_grad_(False)
    torch.nn.functional.cross_entropy(network(images), labels).backward()
    expected = {name: p.grad.clone() for name, p in network.named_parameters() if p.requires_grad}
    network.zero_grad()
    with network.frozen_prefix(2, images) as features:
        torch.nn.functional.cross_entropy(network(features), labels).backward()
    found = {name: p.grad for name, p in network.named_parameters() if p.requires_grad}
    assert found.keys() == expected.keys() and any("conv_layers.2" in k for k in found)
    for name, grad in expected.items():
        torch.testing.assert_close(found[name], grad, rtol=1e-6, atol=1e-7, msg=name)


def test_bisel_layers_read_a_frozen_prefix_too():
    network = _network("all", "binary", conv_layer="bisel")
    images = (torch.rand(5, 3, 9, 10, generator=torch.Generator().manual_seed(3)) < 0.5).float()
    expected = network(images)
    with network.frozen_prefix(1, images) as features:
        torch.testing.assert_close(network(features), expected, rtol=0, atol=0)


def test_bad_frozen_prefixes():
    network = _network("all", "binary")
    images = torch.zeros(2, 3, 9, 10)
    for n_layers in (0, 4):
        with pytest.raises(ValueError, match=r"n_layers must be in \[1, 3\]"):
            with network.frozen_prefix(n_layers, images):
                pass
    with pytest.raises(ValueError, match="no samples"):
        with network.frozen_prefix(1, images[:0]):
            pass
    with network.frozen_prefix(1, images):
        with pytest.raises(RuntimeError, match="already reads a frozen prefix"):
            with network.frozen_prefix(2, images):
                pass
    # an error inside the block leaves the network reading images
    with pytest.raises(KeyError):
        with network.frozen_prefix(1, images):
            raise KeyError("inside")
    assert network(images).shape == (2, 3)
