"""binarization="calibrated": approximated neurons chosen by agreement on data."""

import numpy as np
import pytest
import torch

from skmorph import BiMoNNClassifier
from skmorph.binary import BinarizedNetwork, BinaryConv, BinaryDense, Thresholds
from skmorph.estimators import binarize_network, calibrate_network, set_layer_operator
from skmorph.morphology import calibrated_element, projection
from skmorph.nn import BiSEL, build_network


@pytest.mark.parametrize("operation", ["erosion", "dilation"])
@pytest.mark.parametrize("seed", range(4))
def test_calibrated_element_finds_the_operation_of_the_largest_weights(operation, seed):
    """Targets made by an erosion/dilation of the m largest weights: that element is found,
    with agreement 1."""
    rng = np.random.default_rng(seed)
    weights = rng.random(20)
    m = 1 + seed * 2
    element = np.zeros(20, bool)
    element[np.argsort(-weights)[:m]] = True
    inputs = rng.random((500, 20)) < (0.85 if operation == "erosion" else 0.1)
    target = inputs[:, element].all(1) if operation == "erosion" else inputs[:, element].any(1)
    selem, found, agreement = calibrated_element(weights, inputs, target)
    assert agreement == 1.0
    chosen = inputs[:, selem].all(1) if found == "erosion" else inputs[:, selem].any(1)
    np.testing.assert_array_equal(chosen, target)
    # zero weights are never in the element
    weights[np.argsort(-weights)[m:]] = 0
    selem, _, _ = calibrated_element(weights, inputs, target)
    assert not selem[weights == 0].any()


@pytest.mark.parametrize("conv_layer", ["bise", "bisel"])
def test_calibration_keeps_activated_neurons_and_raises_agreement(conv_layer):
    """BiSE and DenseLUI layers are calibrated (BiSEL layers are not, but the layers after
    them are, on what the binarized BiSELs output)."""
    torch.manual_seed(0)
    network = build_network(in_channels=2, conv_channels=[6, 5], kernel_sizes=3,
                            pooling="dilation", n_features=6 * 4 * 4 + 5 * 2 * 2,
                            hidden_layer_sizes=[7], n_outputs=3, conv_layer=conv_layer,
                            conv_readout="all")
    with torch.no_grad():  # random weights: most neurons not activated
        for bank in network.neuron_banks():
            bank.raw_weight.normal_(0, 1)
    binarized, _ = binarize_network(network, [Thresholds(np.full((2, 1), 0.5))],
                                    classes=np.arange(3), image_shape=(2, 8, 8))
    before = list(binarized.layers)
    images = torch.rand(60, 2, 8, 8) < 0.5
    entries = calibrate_network(network, binarized, images.float())
    expected = ["conv0", "conv1", "dense0"] if conv_layer == "bise" else ["dense0"]
    assert [entry["layer"] for entry in entries] == expected
    for entry in entries:
        assert entry["agreement_after"] >= entry["agreement_before"]
    for old, new in zip(before, binarized.layers, strict=True):
        if isinstance(new, BinaryConv):
            exact = new.combine_exact
            np.testing.assert_array_equal(old.selems[exact], new.selems[exact])
    X = images.reshape(60, -1).numpy().astype(float)
    copy = BinarizedNetwork.from_dict(binarized.to_dict())
    np.testing.assert_array_equal(copy.predict(X), binarized.predict(X))


def test_classifier_calibrated_binarization(digits):
    X_train, X_test, y_train, y_test = digits
    model = BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(4, 6), max_epochs=3,
                             binarization="calibrated", random_state=0, device="cpu")
    model.fit(X_train[:300], y_train[:300])
    report = model.binarization_report_
    assert report["method"] == "calibrated"
    assert [entry["layer"] for entry in report["calibration"]] == ["conv0", "conv1"]
    assert 0 <= model.score(X_test, y_test) <= 1
    # without data there is nothing to calibrate on: the projection is kept, and said so
    _, report = model.binarize("calibrated", return_report=True)
    assert "needs data" in report["calibration"]
    with pytest.raises(ValueError, match="binarization"):
        BiMoNNClassifier(binarization="closest").fit(X_train[:50], y_train[:50])


def _random_binary_layers(binarized, network, rng):
    """Binary layers of the shapes of ``binarized``'s, with random elements and operations,
    of the kinds that the float layers of ``network`` binarize to."""
    layers = []
    binaries = [layer for layer in binarized.layers if isinstance(layer, (BinaryConv,
                                                                          BinaryDense))]
    for layer, floating in zip(binaries, [*network.conv_layers, *network.dense_layers],
                               strict=True):
        if isinstance(layer, BinaryDense):
            supports = rng.random(layer.supports.shape) < 0.3
            supports[:, 0] = True
            sizes = supports.sum(1)
            layers.append(BinaryDense(supports, np.where(rng.random(len(sizes)) < 0.5, sizes, 1)))
            continue
        selems = rng.random(layer.selems.shape) < 0.3
        c_out, c_in = layer.selems.shape[:2]
        if isinstance(floating, BiSEL):  # every neuron (pair of channels) reads something
            selems[..., 1, 1] = True
            operations = rng.choice(["erosion", "dilation"], (c_out, c_in))
            active = rng.random((c_out, c_in)) < 0.6
            active[:, 0] = True
            combine = rng.choice(["and", "or"], c_out)
        else:  # a BiSE: one operation per output, over the channels its element spans
            selems[:, 0, 1, 1] = True
            operation = rng.choice(["erosion", "dilation"], c_out)
            operations = np.repeat(operation[:, None], c_in, axis=1)
            active = selems.any(axis=(2, 3))
            combine = np.where(operation == "erosion", "and", "or")
        layers.append(BinaryConv(selems, operations, active, combine, layer.padding,
                                 complement_inputs=layer.complement_inputs))
    return layers


@pytest.mark.parametrize("conv_layer", ["bise", "bisel"])
@pytest.mark.parametrize("seed", range(3))
def test_set_layer_operator_makes_each_layer_its_binary_layer_exactly(conv_layer, seed):
    """Random binary layers set into the float network, one by one: every neuron activated,
    the network binarizes back to them, and its thresholded output on binary images is
    theirs."""
    rng = np.random.default_rng(seed)
    network = build_network(in_channels=2, conv_channels=[5, 4], kernel_sizes=3,
                            pooling="dilation", n_features=4 * 2 * 2, hidden_layer_sizes=[6],
                            n_outputs=3, conv_layer=conv_layer, hidden_outputs="binary",
                            conv_complements=conv_layer == "bise")
    inputs = [Thresholds(np.full((2, 1), 0.5))]
    binarized, _ = binarize_network(network, inputs, classes=np.arange(3),
                                    image_shape=(2, 8, 8))
    targets = _random_binary_layers(binarized, network, rng)
    floats = [*network.conv_layers, *network.dense_layers]
    generator = torch.Generator().manual_seed(seed)
    for layer, binary in zip(floats, targets, strict=True):
        set_layer_operator(layer, binary, generator)
    again, report = binarize_network(network, inputs, classes=np.arange(3),
                                     image_shape=(2, 8, 8))
    assert report["n_exact"] == report["n_neurons"]
    for binary, expected in zip([layer for layer in again.layers
                                 if isinstance(layer, (BinaryConv, BinaryDense))], targets,
                                strict=True):
        if isinstance(binary, BinaryConv):
            np.testing.assert_array_equal(binary.selems, expected.selems)
            np.testing.assert_array_equal(binary.active, expected.active)
            several = expected.active & (expected.selems.sum(axis=(2, 3)) > 1)
            # (by one pixel, erosion and dilation are the same operation)
            np.testing.assert_array_equal(binary.operations[several],
                                          expected.operations[several])
            combined = expected.active.sum(axis=1) > 1
            np.testing.assert_array_equal(binary.combine[combined], expected.combine[combined])
        else:
            np.testing.assert_array_equal(binary.supports, expected.supports)
            np.testing.assert_array_equal(binary.thresholds, expected.thresholds)
    images = rng.random((20, 2, 8, 8)) < 0.5
    features = again.transform(images.reshape(20, -1).astype(float))
    network.eval()
    with torch.no_grad():
        hidden = []
        hook = network.head.register_forward_hook(lambda m, i, o: hidden.append(i[0]))
        network(torch.as_tensor(images, dtype=torch.float32))
        hook.remove()
    np.testing.assert_array_equal(features, hidden[0].numpy() > 0.5)


def test_set_layer_operator_checks_the_layer_it_sets():
    network = build_network(in_channels=2, conv_channels=[5], kernel_sizes=3,
                            n_features=5 * 8 * 8, hidden_layer_sizes=[6], n_outputs=3)
    dense = BinaryDense(np.ones((6, 5 * 8 * 8), bool), np.ones(6))
    conv = BinaryConv(np.ones((4, 2, 3, 3), bool), np.full((4, 2), "erosion"),
                      np.ones((4, 2), bool), np.full(4, "and"), "replicate")
    generator = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match=r"BinaryDense .* cannot set a BiSEL"):
        set_layer_operator(network.conv_layers[0], dense, generator)
    with pytest.raises(ValueError, match=r"\(4, 2\) cannot set a BiSEL of .* \(5, 2\)"):
        set_layer_operator(network.conv_layers[0], conv, generator)
    with pytest.raises(ValueError, match=r"BinaryConv .* cannot set a DenseLUI"):
        set_layer_operator(network.dense_layers[0], conv, generator)


@pytest.mark.parametrize(("seed", "max_weights", "chunk"),
                         [(0, 30, 32), (1, 30, 32), (2, 30, 32), (3, 120, 5), (4, 120, 5)])
def test_calibrated_element_counts_like_the_unpacked_definition(seed, max_weights, chunk,
                                                                monkeypatch):
    """On bits packed 8 samples to a byte: the same element, operation and agreement as
    scoring every erosion/dilation of the m largest weights on the unpacked samples, for
    sample counts that leave padding bits; also when the prefixes are reduced a few columns
    at a time and the reduction stops where the AND is 0 everywhere or the OR 1 everywhere."""
    monkeypatch.setattr(projection, "PREFIX_CHUNK", chunk)
    rng = np.random.default_rng(seed)
    for _ in range(50):
        n_samples = int(rng.integers(1, 200))
        n_weights = int(rng.integers(1, max_weights))
        weights = rng.normal(size=n_weights)
        inputs = rng.random((n_samples, n_weights)) < rng.random()
        target = rng.random(n_samples) < rng.random()
        order = np.argsort(-weights, kind="stable")[:max(1, int((weights > 0).sum()))]
        best = (-1.0, None, None)
        for operation, reduce in (("erosion", np.all), ("dilation", np.any)):
            for size in range(1, len(order) + 1):
                agreement = np.mean(reduce(inputs[:, order[:size]], axis=1) == target)
                if agreement > best[0]:  # the first best: erosions first, smaller first
                    best = (agreement, operation, order[:size])
        selem, operation, agreement = calibrated_element(weights, inputs, target)
        assert agreement == best[0]
        assert operation == best[1]
        np.testing.assert_array_equal(np.flatnonzero(selem), np.sort(best[2]))


@pytest.mark.parametrize(("shape", "kernel_size", "padding"),
                         [((5, 3, 9, 11), (3, 5), "replicate"), ((4, 6, 8, 8), (5, 5), "zeros"),
                          ((2, 1, 6, 7), (1, 3), "replicate")])
def test_calibration_windows_are_those_of_unfold(shape, kernel_size, padding):
    """The windows gathered at the drawn positions are the columns F.unfold makes there."""
    from skmorph.estimators.conversion import _windows

    generator = torch.Generator().manual_seed(0)
    images = (torch.rand(shape, generator=generator) < 0.5).float()
    positions = torch.randint(shape[2] * shape[3], (shape[0], 13), generator=generator)
    kh, kw = kernel_size
    padded = torch.nn.functional.pad(images, (kw // 2, kw // 2, kh // 2, kh // 2),
                                     mode="replicate" if padding == "replicate" else "constant")
    columns = torch.nn.functional.unfold(padded, kernel_size).transpose(1, 2)
    expected = columns[torch.arange(shape[0])[:, None], positions]
    assert torch.equal(_windows(images, kernel_size, padding, positions), expected)


def test_a_network_of_exact_neurons_is_calibrated_without_reading_data(monkeypatch):
    """Every layer set to a binary operator (as layerwise_epochs leaves it): nothing to
    calibrate, and no pass over the data (inputs that a pass would reject are not read)."""
    network = build_network(in_channels=2, conv_channels=[5, 4], kernel_sizes=3,
                            pooling="dilation", n_features=4 * 2 * 2, hidden_layer_sizes=[6],
                            n_outputs=3, hidden_outputs="binary", conv_layer="bise")
    inputs = [Thresholds(np.full((2, 1), 0.5))]
    binarized, _ = binarize_network(network, inputs, classes=np.arange(3),
                                    image_shape=(2, 8, 8))
    generator = torch.Generator().manual_seed(0)
    targets = _random_binary_layers(binarized, network, np.random.default_rng(0))
    for layer, binary in zip([*network.conv_layers, *network.dense_layers], targets,
                             strict=True):
        set_layer_operator(layer, binary, generator)
    binarized, _ = binarize_network(network, inputs, classes=np.arange(3),
                                    image_shape=(2, 8, 8))
    entries = calibrate_network(network, binarized, torch.full((3, 7), float("nan")))
    assert entries == [{"layer": name, "n_calibrated": 0, "agreement_before": 1.0,
                        "agreement_after": 1.0} for name in ("conv0", "conv1", "dense0")]
