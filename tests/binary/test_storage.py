"""Compact storage of dense supports: index lists or packed words, whichever is smaller."""

import json
import pickle

import numpy as np
import pytest

from skmorph.binary import BinarizedNetwork, BinaryDense, LinearHead, Thresholds


def classifier(rng, n_inputs, support_size, complement=False):
    supports = np.zeros((4096, n_inputs), bool)
    for unit in range(4096):
        supports[unit, rng.choice(n_inputs, support_size, replace=False)] = True
    thresholds = np.where(rng.random(4096) < 0.5, 1, support_size)
    rows = n_inputs // 2 if complement else n_inputs
    return BinarizedNetwork(
        [Thresholds(np.full((rows, 1), 0.5), complement=complement),
         BinaryDense(supports, thresholds),
         LinearHead(rng.normal(size=(10, 4096)), rng.normal(size=10))],
        classes=np.arange(10),
    )


@pytest.mark.parametrize(
    ("n_inputs", "support_size", "complement", "ratio"),
    [(784, 392, False, 20), (1568, 784, True, 20), (784, 2, False, 50), (1568, 2, True, 50)],
)
def test_the_default_classifier_pickles_small(n_inputs, support_size, complement, ratio):
    rng = np.random.default_rng(0)
    network = classifier(rng, n_inputs, support_size, complement)
    float_bytes = (n_inputs * 4096 + 4096 * 10 + 4096 + 10) * 4  # its float network
    data = pickle.dumps(network)
    assert len(data) <= float_bytes / ratio
    restored = pickle.loads(data)
    X = rng.random((50, n_inputs // 2 if complement else n_inputs))
    np.testing.assert_array_equal(restored.predict_proba(X), network.predict_proba(X))
    text = json.dumps(network.to_dict())
    assert len(text) < 4 * len(data)
    loaded = BinarizedNetwork.from_dict(json.loads(text))
    np.testing.assert_array_equal(loaded.predict_proba(X), network.predict_proba(X))


@pytest.mark.parametrize("seed", range(5))
def test_pickled_supports_round_trip_exactly(seed):
    rng = np.random.default_rng(seed)
    n_inputs = int(rng.integers(1, 300))
    supports = rng.random((int(rng.integers(1, 40)), n_inputs)) < rng.choice([0.01, 0.5])
    thresholds = np.maximum(supports.sum(axis=1), 1)
    layer = BinaryDense(supports, thresholds)
    restored = pickle.loads(pickle.dumps(layer))
    np.testing.assert_array_equal(restored.supports, supports)
    np.testing.assert_array_equal(restored.thresholds, thresholds)
    assert restored.thresholds.dtype == np.int64
    np.testing.assert_array_equal(restored.packed_supports, layer.packed_supports)
