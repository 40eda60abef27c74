import itertools

import numpy as np
import pytest
from scipy.optimize import minimize

from skmorph.morphology import (
    activation,
    binarize_neurons,
    project_activable,
    project_constant,
)
from skmorph.morphology._activable_search import SortedNeurons
from skmorph.morphology.projection import project_activable_on

from .neuron_factories import all_binary_inputs, random_activated


def qp_projection(weights, bias, selem, operation):
    """The generic solver: SLSQP on the projection of spec 4a (erosion in dual coordinates)."""
    k, selem = len(weights), np.asarray(selem, bool)
    target = bias if operation == "dilation" else weights.sum() - bias
    constraints = [
        {
            "type": "ineq",
            "fun": lambda x: x[k] - x[:k][~selem].sum(),
            "jac": lambda x: np.append(-(~selem).astype(float), 1.0),
        }
    ] + [
        {
            "type": "ineq",
            "fun": lambda x, i=i: x[i] - x[k],
            "jac": lambda x, i=i: np.eye(k + 1)[i] - np.eye(k + 1)[k],
        }
        for i in np.flatnonzero(selem)
    ]
    # SciPy 1.17's SLSQP may report "Inequality constraints incompatible" from the clipped
    # weights; the origin, feasible for every element, is the second start
    for start in (np.append(np.maximum(weights, 0), max(target, 0)), np.zeros(k + 1)):
        result = minimize(
            lambda x: 0.5 * ((x[:k] - weights) ** 2).sum() + 0.5 * (x[k] - target) ** 2,
            start,
            jac=lambda x: np.append(x[:k] - weights, x[k] - target),
            bounds=[(0, None)] * k + [(None, None)],
            constraints=constraints,
            method="SLSQP",
            options={"ftol": 1e-12, "maxiter": 2000},
        )
        if result.success:
            return result.fun
    raise AssertionError(result.message)


def random_neuron(rng, trial, k):
    weights = rng.random(k) * rng.choice([0.3, 1.0, 3.0])
    if trial % 3 == 0:
        weights = np.round(weights * 2) / 2  # ties and zeros
    if trial % 7 == 0:
        weights[rng.random(k) < 0.3] = 0.0
    bias = rng.normal() * weights.sum() * 0.5 + weights.sum() * rng.random()
    return weights, bias


def test_projection_on_a_given_element_matches_a_generic_qp_solver():
    rng = np.random.default_rng(0)
    for trial in range(300):
        k = int(rng.integers(1, 9))
        weights, bias = random_neuron(rng, trial, k)
        selem = rng.random(k) < 0.5
        selem[rng.integers(k)] = True
        operation = "erosion" if trial % 2 else "dilation"
        ours = project_activable_on(weights, bias, selem, operation)
        assert ours.distance[0] == pytest.approx(
            qp_projection(weights, bias, selem, operation), abs=1e-6
        )


def test_full_projection_matches_the_best_qp_over_all_elements():
    rng = np.random.default_rng(1)
    for trial in range(120):
        k = int(rng.integers(1, 6))
        weights, bias = random_neuron(rng, trial, k)
        best = min(
            qp_projection(weights, bias, selem, operation)
            for selem in itertools.product([False, True], repeat=k)
            if any(selem)
            for operation in ("dilation", "erosion")
        )
        assert project_activable(weights, bias).distance[0] == pytest.approx(best, abs=1e-6)


def test_upper_level_sets_contain_the_optimum_3x3_brute_force():
    """Documented in docs/binarization.md: brute force over all 2^9 - 1 elements."""
    rng = np.random.default_rng(2)
    subsets = np.array([s for s in itertools.product([0, 1], repeat=9) if any(s)], bool)
    n = len(subsets)
    for trial in range(60):
        weights, bias = random_neuron(rng, trial, 9)
        brute = min(
            project_activable_on(
                np.repeat(weights[None], n, 0), np.full(n, bias), subsets, [operation] * n
            ).distance.min()
            for operation in ("dilation", "erosion")
        )
        assert project_activable(weights, bias).distance[0] == pytest.approx(brute, abs=1e-12)


def test_pruned_search_equals_solving_every_candidate():
    rng = np.random.default_rng(3)
    weights = rng.exponential(size=(64, 40)) * (rng.random((64, 40)) < 0.5)
    bias = rng.random(64) * weights.sum(axis=1)
    sorted_weights = -np.sort(-weights, axis=1)
    neurons = SortedNeurons(sorted_weights)
    splits = np.arange(1, 41)[None, :].repeat(64, axis=0)
    every = np.minimum(
        neurons.solve(splits, bias[:, None] + 0 * splits).distance.min(axis=1),
        neurons.solve(splits, (weights.sum(axis=1) - bias)[:, None] + 0 * splits).distance.min(1),
    )
    np.testing.assert_allclose(project_activable(weights, bias).distance, every, atol=1e-12)
    bounds = neurons.lower_bound(splits, bias[:, None] + 0 * splits)
    assert np.all(bounds <= neurons.solve(splits, bias[:, None] + 0 * splits).distance + 1e-12)


def test_projected_neurons_are_in_the_closed_activable_set():
    rng = np.random.default_rng(4)
    weights = rng.random((200, 9)) * 2
    bias = rng.random(200) * weights.sum(axis=1)
    result = project_activable(weights, bias)
    tol = 1e-9
    assert np.all(result.weights >= -tol)
    for i in range(200):
        w, b, s = result.weights[i], result.bias[i], result.selem[i]
        if result.operation[i] == "dilation":
            assert w[~s].sum() <= b + tol and np.all(b <= w[s] + tol)
        else:  # erosion: the dual neuron is a dilation
            dual = w.sum() - b
            assert w[~s].sum() <= dual + tol and np.all(dual <= w[s] + tol)
    assert np.all(result.raised <= result.selem) and not np.any(result.lowered & result.selem)


@pytest.mark.parametrize("operation", ["dilation", "erosion"])
def test_activated_neurons_are_their_own_projection(operation):
    rng = np.random.default_rng(5)
    for _ in range(100):
        weights, bias, selem = random_activated(rng, 9, operation)
        result = project_activable(weights, bias)
        assert result.distance[0] == pytest.approx(0.0, abs=1e-12)
        np.testing.assert_array_equal(result.selem[0], selem)
        np.testing.assert_allclose(result.weights[0], weights, atol=1e-12)
        assert result.bias[0] == pytest.approx(bias, abs=1e-9)


def test_constant_projection_exact_matches_brute_force():
    rng = np.random.default_rng(6)
    subsets = np.array([s for s in itertools.product([0, 1], repeat=8) if any(s)], bool)
    for trial in range(200):
        weights, bias = random_neuron(rng, trial, 8)
        distances = (weights**2).sum() - (subsets * weights).sum(1) ** 2 / subsets.sum(1)
        result = project_constant(weights, bias)
        assert result.distance[0] == pytest.approx(distances.min(), abs=1e-12)
        selem = result.selem[0]
        assert result.theta[0] == pytest.approx(weights[selem].mean())
        # the element is an upper level set in sorted order
        assert weights[selem].min() >= weights[~selem].max(initial=-np.inf)


@pytest.mark.parametrize(("mode", "fraction"), [("uniform", 2 / 3), ("normal", 3 / 4)])
def test_constant_projection_thresholds(mode, fraction):
    rng = np.random.default_rng(7)
    weights = rng.random((50, 25))
    result = project_constant(weights, np.zeros(50), mode=mode)
    np.testing.assert_array_equal(
        result.selem, weights >= fraction * weights.mean(axis=1, keepdims=True)
    )
    exact = project_constant(weights, np.zeros(50), mode="exact")
    assert np.all(exact.distance <= result.distance + 1e-12)


def test_constant_projection_operation_follows_the_bias():
    weights = np.ones((2, 4))
    result = project_constant(weights, [1.0, 3.0])
    assert list(result.operation) == ["dilation", "erosion"]


@pytest.mark.parametrize(
    ("weights", "bias"),
    [
        ([0.0, 0.0, 0.0], 0.1),  # zero weights
        ([1.0, 1.0, 1.0], 1.5),  # all equal
        ([2.0], -3.0),  # single weight, bias below range
        ([1.0, 2.0], 10.0),  # bias above range
        ([1.0, -1.0, 0.5], 0.7),  # a negative weight
    ],
)
def test_edge_cases_are_handled(weights, bias):
    pa = project_activable(weights, bias)
    pc = project_constant(weights, bias)
    assert np.isfinite(pa.distance).all() and np.isfinite(pc.distance).all()
    assert pa.selem.any() and pc.selem.any()
    binarized = binarize_neurons(weights, bias)
    assert binarized.selem.any()


def test_binarize_neurons_keeps_activated_elements_and_projects_the_rest():
    rng = np.random.default_rng(8)
    activated = [random_activated(rng, 9, op) for op in ("dilation", "erosion") * 5]
    weights = np.array([w for w, _, _ in activated] + [np.ones(9)])
    bias = np.array([b for _, b, _ in activated] + [4.5])  # the last one is a majority vote
    inputs = all_binary_inputs(9)
    for method in ("activable", "constant_exact", "constant_uniform", "constant_normal"):
        result = binarize_neurons(weights, bias, method=method)
        np.testing.assert_array_equal(result.exact, [True] * 10 + [False])
        assert np.all(result.distance[:-1] == 0)
        np.testing.assert_array_equal(
            inputs @ result.weights[:10].T > result.bias[:10], inputs @ weights[:10].T > bias[:10]
        )
    assert binarize_neurons(weights, bias, method="activable").distance[-1] > 0
    with pytest.raises(ValueError, match="1 of 11 neurons are not activated"):
        binarize_neurons(weights, bias, method="exact")
    exact_only = binarize_neurons(weights[:10], bias[:10], method="exact")
    assert exact_only.exact.all()
    assert np.all(activation(exact_only.weights, exact_only.bias).activated)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: project_activable([1.0, np.nan], 0.5), "NaN"),
        (lambda: project_constant([1.0, 1.0], np.inf), "NaN"),
        (lambda: project_constant([1.0, 1.0], 0.5, mode="ternary"), "mode"),
        (lambda: binarize_neurons([1.0, 1.0], 0.5, method="nearest"), "method"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
