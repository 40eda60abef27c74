import numpy as np
import pytest

from skmorph.morphology import activation, binarized_parameters

from .neuron_factories import all_binary_inputs, morphological_output, random_activated


@pytest.mark.parametrize("operation", ["dilation", "erosion"])
def test_activated_neurons_binarize_exactly_on_every_binary_input_3x3(operation):
    rng = np.random.default_rng(0)
    inputs = all_binary_inputs(9)
    for _ in range(200):
        weights, bias, selem = random_activated(rng, 9, operation, zeros=rng.random() < 0.3)
        result = activation(weights, bias)
        assert result.activated[0]
        np.testing.assert_array_equal(result.selem[0], selem)
        # a single-element set is both; dilation is reported
        assert result.operation[0] == operation or selem.sum() == 1
        binary_weights, binary_bias = binarized_parameters(result.selem, result.operation)
        float_output = inputs @ weights > bias
        np.testing.assert_array_equal(inputs @ binary_weights[0] > binary_bias[0], float_output)
        np.testing.assert_array_equal(float_output, morphological_output(inputs, selem, operation))


@pytest.mark.parametrize("operation", ["dilation", "erosion"])
def test_activated_neurons_binarize_exactly_on_random_inputs_7x7(operation):
    rng = np.random.default_rng(1)
    for _ in range(100):
        weights, bias, selem = random_activated(rng, 49, operation)
        # inputs near the decision: mostly the element, with a few pixels flipped
        base = rng.random((400, 49)) < rng.uniform(0.05, 0.95)
        flips = rng.random((400, 49)) < 0.05
        inputs = np.where(rng.random((400, 1)) < 0.5, selem ^ flips, base).astype(float)
        result = activation(weights, bias)
        assert result.activated[0]
        binary_weights, binary_bias = binarized_parameters(result.selem, result.operation)
        np.testing.assert_array_equal(
            inputs @ binary_weights[0] > binary_bias[0], inputs @ weights > bias
        )


@pytest.mark.parametrize("operation", ["dilation", "erosion"])
def test_almost_binary_inputs(operation):
    rng = np.random.default_rng(2)
    for _ in range(100):
        v1, v2 = rng.uniform(0, 0.1), rng.uniform(0.85, 1.0)
        weights, bias, selem = random_activated(rng, 9, operation, v1, v2)
        result = activation(weights, bias, v1=v1, v2=v2)
        assert result.activated[0]
        np.testing.assert_array_equal(result.selem[0], selem)
        binary = rng.random((500, 9)) < 0.5
        high, low = rng.uniform(v2, 1.0, binary.shape), rng.uniform(0, v1, binary.shape)
        almost = np.where(binary, high, low)
        expected = morphological_output(binary.astype(float), selem, result.operation[0])
        np.testing.assert_array_equal(almost @ weights > bias, expected)


def test_almost_binary_is_stricter_than_binary():
    weights, bias = np.array([1.0, 1.0, 0.3]), 0.5  # dilation by the first two for binary inputs
    assert activation(weights, bias).activated[0]
    assert not activation(weights, bias, v1=0.2, v2=0.6).activated[0]


def test_vectorized_over_neurons_matches_one_by_one():
    rng = np.random.default_rng(3)
    weights = rng.random((300, 9)) * (rng.random((300, 9)) < 0.7)
    bias = rng.random(300) * weights.sum(axis=1)
    together = activation(weights, bias)
    for i in range(0, 300, 37):
        alone = activation(weights[i], bias[i])
        assert alone.activated[0] == together.activated[i]
        np.testing.assert_array_equal(alone.selem[0], together.selem[i])
    # the decision is exact: compare with all binary inputs
    inputs = all_binary_inputs(9)
    for i in range(300):
        float_output = inputs @ weights[i] > bias[i]
        result = activation(weights[i], bias[i])
        candidate = morphological_output(inputs, result.selem[0], result.operation[0])
        is_morphological = result.selem[0].any() and np.array_equal(candidate, float_output)
        assert result.activated[0] == is_morphological


@pytest.mark.parametrize(
    ("weights", "bias", "activated", "operation", "selem"),
    [
        ([2.0], 1.0, True, "dilation", [True]),  # a single weight: a translation
        ([1.0, 1.0, 1.0], 0.5, True, "dilation", [True, True, True]),  # all equal: union
        ([1.0, 1.0, 1.0], 2.5, True, "erosion", [True, True, True]),  # all equal: intersection
        ([1.0, 1.0, 1.0], 1.5, False, "dilation", [False, False, False]),  # majority vote
        ([1.0, 1.0, 0.0], 0.5, True, "dilation", [True, True, False]),  # a zero weight
        ([1.0, 1.0, 0.0], 1.5, True, "erosion", [True, True, False]),
        ([1.0, 2.0], -1.0, False, "dilation", [True, True]),  # bias below range: constant 1
        ([1.0, 2.0], 5.0, False, "erosion", [True, True]),  # above range: constant 0
        ([0.0, 0.0], 0.0, False, "dilation", [False, False]),  # all zero
        ([1.0, 1.0], 1.0, False, "dilation", [False, False]),  # on the boundary: not strict
        ([1.0, -0.5, 1.0], 0.25, True, "dilation", [True, False, True]),  # negative weight
    ],
)
def test_edge_cases(weights, bias, activated, operation, selem):
    result = activation(weights, bias)
    assert result.activated[0] == activated
    assert result.operation[0] == operation
    np.testing.assert_array_equal(result.selem[0], selem)
    if activated:
        inputs = all_binary_inputs(len(weights))
        binary_weights, binary_bias = binarized_parameters(result.selem, result.operation)
        np.testing.assert_array_equal(
            inputs @ binary_weights[0] > binary_bias[0], inputs @ np.array(weights) > bias
        )


def test_negative_weights_property():
    rng = np.random.default_rng(4)
    inputs = all_binary_inputs(8)
    for _ in range(500):
        weights = rng.normal(size=8)
        bias = rng.normal() * 2
        result = activation(weights, bias)
        output = inputs @ weights > bias
        matches = np.array_equal(
            output, morphological_output(inputs, result.selem[0], result.operation[0])
        )
        assert result.activated[0] == (matches and result.selem[0].any())


@pytest.mark.parametrize(
    ("weights", "bias", "error", "message"),
    [
        ([1.0, np.nan], 0.5, ValueError, "weights contains NaN"),
        ([1.0, 1.0], np.inf, ValueError, "bias contains NaN"),
        ([[1.0, 1.0]], [0.5, 0.5], ValueError, "one value per neuron"),
        (np.ones((2, 2, 2)), [0.5, 0.5], ValueError, "shape"),
        (np.ones((2, 0)), [0.5, 0.5], ValueError, "shape"),
    ],
)
def test_bad_input(weights, bias, error, message):
    with pytest.raises(error, match=message):
        activation(weights, bias)


def test_bad_almost_binary_bounds():
    with pytest.raises(ValueError, match="v1 and v2"):
        activation([1.0], 0.5, v1=0.6, v2=0.5)


def test_binarized_parameters_rejects_unknown_operation():
    with pytest.raises(ValueError, match="operation"):
        binarized_parameters([[True]], ["opening"])
