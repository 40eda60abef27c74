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


def test_a_class_of_one_sample_is_refitted_with_the_others():
    """A class of one sample where a held-out split would put it (the split is seeded, so
    that place is known): a held-out part would leave the fit without that class and
    scikit-learn's warm start without its row, so the refit takes no held-out part."""
    from sklearn.model_selection import train_test_split

    from skmorph.estimators.classifier import HEAD_HELD_OUT

    n_samples = 3 * HEAD_MIN_SAMPLES
    X, labels = _data(n_samples, 3, seed=0)
    labels[labels == 2] = 1
    _, held_out = train_test_split(np.arange(n_samples), random_state=0,
                                   test_size=max(1, round(HEAD_HELD_OUT * n_samples)))
    labels[held_out[0]] = 2  # class 2: one sample, where the split holds samples out
    start = _head(np.zeros((3, X.shape[1])), np.zeros(3))
    head = _refit_head(Features(), X, np.arange(3), labels, start)
    assert head.weight.shape == (3, X.shape[1])
    others = labels != 2
    assert np.mean(head.scores(X[others] > 0.5).argmax(1) == labels[others]) > 0.9
