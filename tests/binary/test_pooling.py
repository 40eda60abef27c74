"""Binary pooling: the bit-level layer against its definition, and exactness through networks."""

import json
import pickle

import numpy as np
import pytest
import torch

from skmorph.binary import BinarizedNetwork, BinaryConv, BinaryPooling, Thresholds
from skmorph.estimators import binarize_network
from skmorph.morphology import pack
from skmorph.nn import BlockPooling, build_network, conv_features
from skmorph.nn.testing import activate_randomly as activate


def block_reference(images: np.ndarray, operation: str, size: int) -> np.ndarray:
    height, width = images.shape[-2] // size, images.shape[-1] // size
    blocks = images[..., : height * size, : width * size].reshape(
        *images.shape[:-2], height, size, width, size)
    return blocks.any(axis=(-3, -1)) if operation == "dilation" else blocks.all(axis=(-3, -1))


@pytest.mark.parametrize("operation", ["dilation", "erosion"])
@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_binary_pooling_equals_its_definition(operation, size):
    rng = np.random.default_rng(size)
    # widths around word boundaries, odd sizes (dropped last column), tiny images
    for height, width in [(4, 4), (5, 7), (9, 63), (8, 64), (7, 65), (3, 129), (6, 200)]:
        images = rng.random((3, 2, height, width)) < rng.uniform(0.1, 0.9)
        pooled = BinaryPooling(operation, size)(pack(images))
        np.testing.assert_array_equal(pooled.unpack(), block_reference(images, operation, size))
        # bits beyond the width stay zero: complements and shifts rely on it
        assert pooled.shape[-1] == width // size
        assert np.array_equal(pack(pooled.unpack()).words, pooled.words)


@pytest.mark.parametrize("operation", ["dilation", "erosion"])
def test_torch_pooling_is_max_or_min_of_blocks(operation):
    x = torch.rand(2, 3, 9, 11)
    pooled = BlockPooling(operation, 2)(x).numpy()
    blocks = x.numpy()[..., :8, :10].reshape(2, 3, 4, 2, 5, 2)
    expected = blocks.max(axis=(3, 5)) if operation == "dilation" else blocks.min(axis=(3, 5))
    np.testing.assert_allclose(pooled, expected)


@pytest.mark.parametrize("conv_readout", ["last", "all"])
@pytest.mark.parametrize("conv_layer", ["bisel", "bise", "bise, complements", "bise, paired"])
@pytest.mark.parametrize("seed", range(6))
def test_pooled_network_binarizes_exactly(seed, conv_layer, conv_readout):
    """Property: random activated networks with pooling after their BiSELs, random binary
    images: the float network thresholded at 1/2 equals the binarized network, every time;
    the dense part reading the last conv layer's maps or those of every conv layer; BiSE
    layers after the first reading the complements of their inputs or not; the first layer
    reading inputs given with their complements (paired inputs, the classifier's level sets
    with include_complement=True)."""
    complements = conv_layer.endswith("complements")
    paired = conv_layer.endswith("paired")
    conv_layer = conv_layer.split(",")[0]
    rng = np.random.default_rng(seed)
    channels = [[3], [3, 2], [2, 3, 2]][seed % 3]
    pooling = [["dilation", "erosion", None][(seed + i) % 3] for i in range(len(channels))]
    pooling[0] = pooling[0] or "dilation"
    size = 2 + seed % 2
    height, width = 3 * size ** len(channels) + seed, 2 * size ** len(channels) + 1
    n_features = conv_features(2, height, width, channels,
                               [None if p is None else size for p in pooling], conv_readout)
    network = build_network(
        in_channels=2, conv_channels=channels, kernel_sizes=3, pooling=pooling, pool_size=size,
        n_features=n_features, hidden_layer_sizes=[12],
        n_outputs=4, output_layer="binary", padding=["zeros", "replicate"][seed % 2],
        conv_layer=conv_layer, conv_readout=conv_readout, conv_complements=complements,
        paired_inputs=paired,
    )
    assert network.n_conv_features(2, height, width) == n_features
    assert [getattr(layer, "complement_inputs", False) for layer in network.conv_layers] == [
        complements and index > 0 for index in range(len(channels))]
    assert getattr(network.conv_layers[0], "paired_inputs", False) == paired
    activate(network, rng)
    # paired: one channel, thresholded into the level set and its complement
    channels_in = 1 if paired else 2
    binarized, report = binarize_network(
        network, [Thresholds(np.full((channels_in, 1), 0.5), complement=paired)],
        method="exact", classes=np.arange(4), image_shape=(channels_in, height, width),
    )
    assert report["exact_network"] and binarized.conv_readout == conv_readout
    images = rng.random((40, channels_in, height, width)) < rng.uniform(0.2, 0.8)
    inputs = np.concatenate([images, ~images], axis=1) if paired else images
    with torch.no_grad():
        expected = network(torch.tensor(inputs, dtype=torch.float32)).numpy() > 0.5
    X = images.reshape(40, -1).astype(float)
    np.testing.assert_array_equal(binarized.transform(X), expected)
    for copy in (pickle.loads(pickle.dumps(binarized)),
                 BinarizedNetwork.from_dict(json.loads(json.dumps(binarized.to_dict())))):
        np.testing.assert_array_equal(copy.transform(X), expected)


def test_pooling_parameters_are_checked():
    with pytest.raises(ValueError, match="pooling"):
        BlockPooling("average")
    with pytest.raises(ValueError, match="pool_size"):
        BlockPooling("dilation", 0)
    with pytest.raises(ValueError, match="operation"):
        BinaryPooling("max")
    with pytest.raises(ValueError, match="pooling"):
        build_network(in_channels=1, conv_channels=[2, 2], pooling=["dilation"])
    with pytest.raises(ValueError, match="conv_complements"):
        build_network(in_channels=1, conv_channels=[2, 2], conv_complements=True)
    with pytest.raises(ValueError, match="paired_inputs=True needs conv_layer='bise'"):
        build_network(in_channels=2, conv_channels=[2], paired_inputs=True)


def readout_network(rng, n_outputs):
    """An activated network of two conv layers on 8x8 images whose head reads both, and its
    exact binarization."""
    network = build_network(in_channels=1, conv_channels=[2, 3], kernel_sizes=3,
                            pooling="dilation", n_features=2 * 16 + 3 * 4, n_outputs=n_outputs,
                            conv_readout="all")
    activate(network, rng)
    binarized, _ = binarize_network(network, [Thresholds(np.full((1, 1), 0.5))],
                                    method="exact", classes=np.arange(n_outputs),
                                    image_shape=(1, 8, 8))
    return network, binarized


def test_every_conv_layer_read_in_layer_order():
    """conv_readout="all": the features are each layer's pooled maps, flattened, first layer
    first: the binarized features are the float network's hidden maps thresholded."""
    rng = np.random.default_rng(0)
    network, binarized = readout_network(rng, n_outputs=2)
    images = rng.random((5, 1, 8, 8)) < 0.5
    x = torch.tensor(images, dtype=torch.float32)
    with torch.no_grad():
        first = network.pools[0](network.conv_layers[0](x))
        second = network.pools[1](network.conv_layers[1](first))
    expected = torch.cat([first.flatten(1), second.flatten(1)], 1).numpy() > 0.5
    np.testing.assert_array_equal(binarized.transform(images.reshape(5, -1).astype(float)),
                                  expected)
    with pytest.raises(ValueError, match="conv_readout"):
        build_network(in_channels=1, conv_channels=[2], conv_readout="first")


@pytest.mark.parametrize("n_images", [1, 1100])
def test_head_on_conv_maps_reads_them_unpacked(n_images):
    """A head right after the conv part scores the unpacked maps (no packing of the samples):
    the same scores as the head on the packed features, and as the float head's weights on
    the binarized features; beyond one block of samples as for one image."""
    from skmorph.binary.layers import LinearHead, pack_samples

    rng = np.random.default_rng(1)
    _, binarized = readout_network(rng, n_outputs=3)
    head = binarized.layers[-1]
    assert isinstance(head, LinearHead)
    X = (rng.random((n_images, 64)) < 0.5).astype(float)
    features = binarized.transform(X)
    scores = binarized.decision_function(X)
    # the same float32 sums, perhaps in another order
    np.testing.assert_allclose(scores, head(pack_samples(features.T), n_images), atol=1e-5)
    np.testing.assert_allclose(scores, features @ head.weight.T.astype(float) + head.bias,
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding", ["zeros", "replicate"])
def test_conv_with_complement_inputs_reads_the_complements(padding):
    """A BinaryConv with complement inputs on x equals the same layer without them on
    [x, not x], at widths around word boundaries (the complements' bits beyond the width
    stay zero)."""
    rng = np.random.default_rng(3)
    selems = rng.random((3, 4, 3, 3)) < 0.4
    selems[..., 1, 1] = True
    operations = rng.choice(["erosion", "dilation"], size=(3, 4))
    active = rng.random((3, 4)) < 0.7
    combine = ["or", "and", "or"]
    with_complements = BinaryConv(selems, operations, active, combine, padding,
                                  complement_inputs=True)
    plain = BinaryConv(selems, operations, active, combine, padding)
    for width in (5, 63, 64, 65):
        images = rng.random((2, 2, 6, width)) < 0.5
        output = with_complements(pack(images))
        expected = plain(pack(np.concatenate([images, ~images], axis=1)))
        np.testing.assert_array_equal(output.unpack(), expected.unpack())
        assert np.array_equal(pack(output.unpack()).words, output.words)
    with pytest.raises(ValueError, match="complement_inputs"):
        BinaryConv(selems[:, :3], operations[:, :3], active[:, :3], combine, padding,
                   complement_inputs=True)
