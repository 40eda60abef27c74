"""Random neurons inside the activable sets, shared by the exactness tests."""

from __future__ import annotations

import itertools

import numpy as np


def random_activated(rng, n_weights, operation, v1=0.0, v2=1.0, zeros=False):
    """Weights, bias and element of a random neuron activated as ``operation`` (spec section 3).

    Inside weights are ``c * u`` with ``u`` in [1, 2], outside weights are small (some exactly 0
    with ``zeros=True``); ``c`` is chosen so that the conditions for inputs in
    ``[0, v1] U [v2, 1]`` have room, and the bias is drawn strictly between the two bounds.
    """
    selem = rng.random(n_weights) < rng.uniform(0.2, 0.8)
    selem[rng.integers(n_weights)] = True
    outside = rng.random(n_weights) * rng.uniform(0.01, 1.0)
    if zeros:
        outside *= rng.random(n_weights) < 0.5
    u = rng.uniform(1.0, 2.0, n_weights)

    def room(selem):
        if operation == "dilation":
            return v2 * u[selem].min() - v1 * u[selem].sum()
        return (1 - v1) * u[selem].min() - (1 - v2) * u[selem].sum()

    if room(selem) <= 0:  # a single element always has room since v1 < v2
        selem = np.zeros(n_weights, bool)
        selem[rng.integers(n_weights)] = True
    outside_sum = outside[~selem].sum()
    scale = (outside_sum + rng.uniform(0.1, 1.0)) / room(selem)
    weights = np.where(selem, scale * u, outside)
    inside = weights[selem]
    if operation == "dilation":
        low = outside_sum + v1 * inside.sum()
        high = v2 * inside.min()
    else:
        low = weights.sum() - (1 - v1) * inside.min()
        high = v2 * inside.sum()
    bias = rng.uniform(low, high)
    return weights, bias, selem


def all_binary_inputs(n_weights):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n_weights)))


def morphological_output(inputs, selem, operation):
    on = inputs[:, selem] > 0.5
    return on.any(axis=1) if operation == "dilation" else on.all(axis=1)
