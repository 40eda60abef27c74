import pickle

import numpy as np
import pytest
import torch
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skmorph.binary import BinarizedNetwork, BinaryConv, BinaryDense, Thresholds, layers
from skmorph.estimators import binarize_network
from skmorph.morphology import dilation, erosion, pack
from skmorph.nn import build_network
from skmorph.nn.testing import activate_randomly as activate


@pytest.mark.parametrize("padding", ["zeros", "replicate"])
@pytest.mark.parametrize("channels", [[1], [3, 1], [2, 3, 2]])
def test_convolutional_network_binarizes_exactly_including_borders(padding, channels):
    rng = np.random.default_rng(len(channels))
    network = build_network(
        in_channels=2, conv_channels=channels, kernel_sizes=[3, 5, 3][: len(channels)],
        padding=padding,
    )
    activate(network, rng)
    binarized, report = binarize_network(
        network, [Thresholds(np.full((2, 1), 0.5))], method="exact", task="image"
    )
    assert report["exact_network"] and report["n_exact"] == report["n_neurons"]
    for shape in [(6, 2, 9, 13), (2, 2, 31, 70)]:  # small images: borders everywhere
        images = rng.random(shape) < rng.uniform(0.2, 0.8)
        with torch.no_grad():
            expected = network(torch.tensor(images, dtype=torch.float32)).numpy() > 0.5
        np.testing.assert_array_equal(binarized.transform(images.astype(float)), expected)


@pytest.mark.parametrize("channels", [[3, 1], [2, 3, 2]])
def test_binary_hidden_outputs_binarize_exactly_at_any_scale(channels):
    """Hidden outputs thresholded forward: exact for activated neurons whatever their scale."""
    rng = np.random.default_rng(7)
    network = build_network(
        in_channels=2, conv_channels=channels, kernel_sizes=3, hidden_outputs="binary"
    )
    activate(network, rng, scale=0.3)  # far too soft for the smooth network's guarantee
    binarized, report = binarize_network(
        network, [Thresholds(np.full((2, 1), 0.5))], method="exact", task="image"
    )
    assert report["exact_network"]
    images = rng.random((8, 2, 12, 15)) < 0.5
    with torch.no_grad():
        expected = network(torch.tensor(images, dtype=torch.float32)).numpy() > 0.5
    np.testing.assert_array_equal(binarized.transform(images.astype(float)), expected)
    smooth = build_network(in_channels=2, conv_channels=channels, kernel_sizes=3)
    smooth.load_state_dict(network.state_dict())
    assert not binarize_network(smooth, [Thresholds(np.full((2, 1), 0.5))],
                                method="exact", task="image")[1]["exact_network"]


@pytest.mark.parametrize("hidden", [[16], [32, 8]])
def test_dense_network_binarizes_exactly(hidden):
    rng = np.random.default_rng(7)
    network = build_network(n_features=40, hidden_layer_sizes=hidden, n_outputs=5,
                            output_layer="binary")
    activate(network, rng)
    binarized, report = binarize_network(
        network, [Thresholds(np.full((40, 1), 0.5))], method="exact", classes=np.arange(5)
    )
    assert report["exact_network"]
    X = (rng.random((3000, 40)) < rng.uniform(0.1, 0.9, (3000, 1))).astype(float)
    with torch.no_grad():
        expected = network(torch.tensor(X, dtype=torch.float32)).numpy() > 0.5
    np.testing.assert_array_equal(binarized.transform(X), expected)


def test_float_head_sees_the_binary_features():
    rng = np.random.default_rng(8)
    network = build_network(n_features=30, hidden_layer_sizes=[20], n_outputs=3)
    activate(network, rng)
    binarized, _ = binarize_network(
        network, [Thresholds(np.full((30, 1), 0.5))], classes=np.array(["a", "b", "c"])
    )
    X = (rng.random((500, 30)) < 0.5).astype(float)
    with torch.no_grad():
        hidden = network.dense_layers[0](torch.tensor(X, dtype=torch.float32)) > 0.5
        scores = network.head(hidden.float()).numpy()
    np.testing.assert_array_equal(binarized.transform(X), hidden.numpy())
    np.testing.assert_allclose(binarized.decision_function(X), scores, rtol=1e-5, atol=1e-5)
    assert set(binarized.predict(X)) <= {"a", "b", "c"}
    np.testing.assert_allclose(binarized.predict_proba(X).sum(axis=1), 1.0)


def test_classifier_with_a_convolutional_front_takes_flat_images():
    rng = np.random.default_rng(9)
    network = build_network(in_channels=1, conv_channels=[2], kernel_sizes=3,
                            n_features=2 * 8 * 8, hidden_layer_sizes=[10], n_outputs=4,
                            output_layer="binary")
    activate(network, rng)
    binarized, _ = binarize_network(network, [Thresholds([[0.5]])], classes=np.arange(4),
                                    image_shape=(1, 8, 8))
    X = (rng.random((50, 64)) < 0.5).astype(float)
    with torch.no_grad():
        expected = network(torch.tensor(X.reshape(50, 1, 8, 8), dtype=torch.float32)) > 0.5
    np.testing.assert_array_equal(binarized.transform(X), expected.numpy())
    assert binarized.n_features_in_ == 64


def test_dense_units_by_count_threshold_and_by_or_and():
    rng = np.random.default_rng(10)
    supports = rng.random((40, 70)) < 0.2
    supports[0] = False  # empty support
    thresholds = rng.integers(0, 6, 40)
    thresholds[1:10] = 1  # OR units
    thresholds[10:20] = supports[10:20].sum(1)  # AND units
    layer = BinaryDense(supports, thresholds)
    X = rng.random((130, 70)) < 0.3
    network = BinarizedNetwork([Thresholds(np.full((70, 1), 0.5)), layer], classes=None)
    expected = (X.astype(int) @ supports.T.astype(int)) >= thresholds
    np.testing.assert_array_equal(network.transform(X.astype(float)), expected)
    assert set(layer.unit_kinds()[1:20]) == {"or", "and"}


def test_conv_layer_semantics_against_morphology():
    rng = np.random.default_rng(11)
    selems = rng.random((2, 2, 3, 5)) < 0.5
    selems[..., 1, 2] = True
    layer = BinaryConv(selems, [["dilation", "erosion"], ["erosion", "erosion"]],
                       [[True, True], [False, True]], ["or", "and"], "zeros")
    images = rng.random((3, 2, 17, 23)) < 0.6
    out = layer(pack(images)).unpack()
    expected0 = dilation(images[:, 0], selems[0, 0][::-1, ::-1]) | erosion(images[:, 1],
                                                                           selems[0, 1])
    np.testing.assert_array_equal(out[:, 0], expected0)
    np.testing.assert_array_equal(out[:, 1], erosion(images[:, 1], selems[1, 1]))
    levels = Thresholds([[0.5], [0.5]], complement=True)
    np.testing.assert_array_equal(levels.images(images.astype(float))[:, 2:], ~images)
    tabular = Thresholds([[0.5, 1.5]], complement=True).bits(np.array([[0.0], [1.0], [2.0]]))
    np.testing.assert_array_equal(tabular, [[0, 0, 1, 1], [1, 0, 0, 1], [1, 1, 0, 0]])


def make_binarized(rng):
    network = build_network(in_channels=2, conv_channels=[3, 1], kernel_sizes=3,
                            padding="replicate")
    activate(network, rng)
    inputs = [Thresholds([[0.5, np.nan], [0.2, 0.7]], complement=True)]
    network.conv_layers[0] = type(network.conv_layers[0])(6, 3, 3)
    activate(network, rng)
    return binarize_network(network, inputs, method="activable", task="image")[0]


def test_json_export_round_trips_exactly(tmp_path):
    rng = np.random.default_rng(12)
    image_net = make_binarized(rng)
    dense_net = BinarizedNetwork(
        [Thresholds(rng.random((12, 3))), BinaryDense(rng.random((9, 36)) < 0.3,
                                                      rng.integers(1, 4, 9))],
        classes=np.array(["x", "y", "z", "w", "v", "u", "t", "s", "r"]),
    )
    for network, X in [
        (image_net, rng.random((4, 2, 15, 21))),
        (dense_net, rng.random((50, 12))),
    ]:
        path = tmp_path / "network.json"
        network.save(path)
        loaded = BinarizedNetwork.load(path)
        np.testing.assert_array_equal(loaded.transform(X), network.transform(X))
        assert loaded.to_dict() == network.to_dict()
    with pytest.raises(ValueError, match=r"not a skmorph\.BinarizedNetwork"):
        BinarizedNetwork.from_dict({"format": "other"})


def test_pickle_and_frozen_pipeline():
    rng = np.random.default_rng(13)
    network = build_network(n_features=20, hidden_layer_sizes=[8], n_outputs=3)
    activate(network, rng)
    binarized, _ = binarize_network(network, [Thresholds(np.full((20, 1), 0.0))],
                                    classes=np.array([3, 5, 7]))
    X = rng.normal(size=(40, 20))
    restored = pickle.loads(pickle.dumps(binarized))
    np.testing.assert_array_equal(restored.predict(X), binarized.predict(X))
    pipeline = make_pipeline(FunctionTransformer(lambda x: x * 2), FrozenEstimator(binarized))
    pipeline.fit(X, np.zeros(40))  # frozen: nothing is refitted
    np.testing.assert_array_equal(pipeline.predict(X), binarized.predict(X * 2))
    assert 0.0 <= pipeline.score(X, binarized.predict(X * 2)) == 1.0


def test_summary_memory_and_bad_input():
    rng = np.random.default_rng(14)
    network = make_binarized(rng)
    text = network.summary()
    assert ("BinaryConv" in text and "union" in text) or "intersection" in text
    assert network.nbytes == sum(network.memory_report().values()) > 0
    with pytest.raises(ValueError, match="channels"):
        network.transform(rng.random((2, 3, 8, 8)))
    with pytest.raises(ValueError, match="NaN"):
        network.transform(np.full((1, 2, 8, 8), np.nan))
    dense = BinarizedNetwork([Thresholds(np.zeros((4, 1))), BinaryDense(np.ones((2, 4)), [1, 1])],
                             classes=np.array([0, 1]))
    with pytest.raises(ValueError, match="expecting 4"):
        dense.predict(np.zeros((3, 5)))


@pytest.mark.parametrize("path", ["gather all outputs", "gather one by one", "term by term"])
@pytest.mark.parametrize("padding", ["zeros", "replicate"])
@pytest.mark.parametrize("seed", range(4))
def test_conv_outputs_of_one_reduction_equal_their_terms(padding, seed, path, monkeypatch):
    """Outputs that are one OR over dilations (or one AND over erosions) are computed from the
    input shifted once per column offset and gathered in groups of outputs (small images),
    or term by term as large images are; they equal the union/intersection of their terms."""
    if path == "gather one by one":
        monkeypatch.setattr(layers, "_GATHER_WORDS", 1)
    elif path == "term by term":
        monkeypatch.setattr(layers, "_GATHER_MAX_WORDS", 0)
    rng = np.random.default_rng(seed)
    c_out, c_in, kh, kw = 6, 4, [3, 5, 1, 3][seed], [3, 3, 5, 1][seed]
    selems = rng.random((c_out, c_in, kh, kw)) < 0.4
    selems[..., kh // 2, kw // 2] |= rng.random((c_out, c_in)) < 0.5
    active = selems.any(axis=(2, 3)) & (rng.random((c_out, c_in)) < 0.8)
    active[0] = False  # an output reading nothing
    selems[1, 0, kh // 2, kw // 2], active[1] = True, False
    active[1, 0] = True  # an output of one term (computed in its place, term by term)
    combine = np.array(["or", "and"] * 3)
    operations = np.where(combine[:, None] == "or", "dilation", "erosion").repeat(c_in, 1)
    operations[5, 0] = "dilation"  # a mixed output: the general path
    layer = BinaryConv(selems, operations, active, combine, padding)
    assert layer._single_reductions().tolist() == [False, True, True, True, True,
                                                   not active[5, 0]]
    images = rng.random((5, c_in, 9, 70)) < rng.uniform(0.2, 0.8)
    out = layer(pack(images)).unpack()
    for j in range(c_out):
        terms = []
        for i in np.flatnonzero(active[j]):
            if operations[j, i] == "dilation":
                terms.append(dilation(images[:, i], selems[j, i][::-1, ::-1], padding=padding))
            else:
                terms.append(erosion(images[:, i], selems[j, i], padding=padding))
        if not terms:
            expected = np.full(images[:, 0].shape, combine[j] == "and")
        elif combine[j] == "or":
            expected = np.logical_or.reduce(terms)
        else:
            expected = np.logical_and.reduce(terms)
        np.testing.assert_array_equal(out[:, j], expected, err_msg=f"output {j}")


@pytest.mark.parametrize("level", [-0.5, 0.0, 0.3, 0.999, 1.0, 1.5])
def test_boolean_images_are_their_own_level_sets(level):
    """Boolean images skip the float comparison; the bits are those of ``x > level``."""
    rng = np.random.default_rng(21)
    images = rng.random((3, 2, 5, 70)) < 0.5
    thresholds = Thresholds(np.full((2, 1), level), complement=True)
    expected = thresholds.packed_images(images.astype(np.float64)).words
    np.testing.assert_array_equal(thresholds.packed_images(images).words, expected)
