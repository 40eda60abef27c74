"""The classifier's head refit: from the float head, stopped on held-out samples."""

import numpy as np
import pytest
import torch

from skmorph.estimators.classifier import HEAD_MIN_SAMPLES, _refit_head


class Features:
    """A stand-in for a binarized network whose features are its (binary) inputs."""

    @staticmethod
    def transform(X):
        return np.asarray(X, dtype=bool)


def _data(n_samples, n_classes, seed):
    """Binary features: each class turns on its own block of 5 features, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(n_classes, size=n_samples)
    X = rng.random((n_samples, 5 * n_classes + 10)) < 0.1
    for k in range(n_classes):
        X[labels == k, 5 * k:5 * k + 5] |= rng.random(((labels == k).sum(), 5)) < 0.8
    return X.astype(float), labels


def _head(weight, bias):
    linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(weight))
        linear.bias.copy_(torch.as_tensor(bias))
    return linear


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("n_samples", [HEAD_MIN_SAMPLES // 2, 3 * HEAD_MIN_SAMPLES])
def test_the_refit_learns_from_a_blank_start(n_classes, n_samples):
    X, labels = _data(n_samples, n_classes, seed=n_classes)
    start = _head(np.zeros((n_classes, X.shape[1])), np.zeros(n_classes))
    head = _refit_head(Features(), X, np.arange(n_classes), labels, start)
    assert head.weight.shape == (n_classes, X.shape[1])
    test, test_labels = _data(1000, n_classes, seed=10 + n_classes)
    assert np.mean(head.scores(test > 0.5).argmax(1) == test_labels) > 0.9


@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_start_that_no_round_beats_on_the_held_out_part_is_kept(n_classes):
    """A start that classifies every sample right cannot be improved on the held-out part:
    the refit returns it (the two-class head as the equivalent pair of logits)."""
    X, labels = _data(3 * HEAD_MIN_SAMPLES, n_classes, seed=0)
    weight = np.zeros((n_classes, X.shape[1]))
    for k in range(n_classes):
        weight[k, 5 * k:5 * k + 5] = 50.0
    start = _head(weight, np.zeros(n_classes))
    perfect = (X @ weight.T).argmax(1) == labels
    X, labels = X[perfect], labels[perfect]  # keep what the start gets right
    head = _refit_head(Features(), X, np.arange(n_classes), labels, start)
    if n_classes > 2:
        np.testing.assert_allclose(head.weight, weight, rtol=1e-6)
    else:
        np.testing.assert_allclose(head.weight[1] - head.weight[0], weight[1] - weight[0],
                                   rtol=1e-6)
    np.testing.assert_array_equal(head.scores(X > 0.5).argmax(1), labels)
