"""binarization="calibrated": approximated neurons chosen by agreement on data."""

import numpy as np
import pytest
import torch

from skmorph import BiMoNNClassifier
from skmorph.binary import BinarizedNetwork, BinaryConv, Thresholds
from skmorph.estimators import binarize_network, calibrate_network
from skmorph.morphology import calibrated_element
from skmorph.nn import build_network


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
