"""The binarized predictor takes inputs by the rules of the estimator that made it, and its
image transform stays lean in memory."""

import numpy as np
import pytest
import scipy.sparse as sp

from skmorph.binary import BinarizedNetwork, BinaryConv, BinaryDense, LinearHead, Thresholds
from tests.memory import peak_memory


def image_network(levels=None):
    thresholds = np.full((1, 1), 0.5) if levels is None else np.array([levels])
    selems = np.ones((1, 2, 3, 3), bool)
    conv = BinaryConv(selems, [["erosion", "dilation"]], [[True, True]], ["and"], "zeros")
    return BinarizedNetwork([Thresholds(thresholds, complement=True), conv], task="image")


def tabular_network(feature_names=None):
    supports = np.eye(4, 6, dtype=bool)
    return BinarizedNetwork(
        [Thresholds(np.array([[0.5, 0.75]] * 3)), BinaryDense(supports, [1, 1, 1, 1]),
         LinearHead(np.eye(2, 4), np.zeros(2))],
        classes=np.array(["a", "b"]), feature_names=feature_names,
    )


def test_gray_images_are_refused_by_a_network_without_level_sets():
    network = image_network()
    with pytest.raises(ValueError, match="boolean-like"):
        network.transform(np.full((1, 8, 8), 0.3))
    gray = image_network(levels=[0.3, 0.6]).transform(np.full((1, 1, 8, 8), 0.4))
    assert gray.dtype == bool


def test_empty_batches_give_empty_outputs():
    assert image_network().transform(np.zeros((0, 8, 9), bool)).shape == (0, 8, 9)
    network = tabular_network()
    assert network.predict(np.zeros((0, 3))).shape == (0,)
    assert network.predict_proba(np.zeros((0, 3))).shape == (0, 2)
    assert network.transform(np.zeros((0, 3))).shape == (0, 4)


def test_sparse_input_is_refused_clearly():
    with pytest.raises(TypeError, match=r"[Ss]parse"):
        tabular_network().predict(sp.csr_matrix(np.ones((2, 3))))
    with pytest.raises(TypeError, match="sparse"):
        image_network().transform(sp.csr_matrix(np.ones((8, 8))))


def test_feature_names_are_checked_like_the_estimators_check_them():
    pandas = pytest.importorskip("pandas")
    network = tabular_network(feature_names=["x", "y", "z"])
    frame = pandas.DataFrame(np.random.default_rng(0).random((5, 3)), columns=["x", "y", "z"])
    expected = network.predict(frame)
    with pytest.raises(ValueError, match="feature names"):
        network.predict(frame[["z", "y", "x"]])
    with pytest.warns(UserWarning, match="feature names"):
        np.testing.assert_array_equal(network.predict(frame.to_numpy()), expected)
    loaded = BinarizedNetwork.from_dict(network.to_dict())
    np.testing.assert_array_equal(loaded.feature_names_in_, ["x", "y", "z"])
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(frame[["y", "x", "z"]])


def test_the_image_transform_uses_at_most_three_times_the_boolean_image():
    image = np.random.default_rng(0).random((1, 1, 2000, 2000)) < 0.5
    network = image_network()
    network.transform(image[:, :, :64, :64])  # warm up caches
    output, peak = peak_memory(lambda: network.transform(image))
    assert output.shape == image.shape
    assert peak <= 3 * image.nbytes
