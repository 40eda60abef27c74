import numpy as np
import pytest
import torch

from skmorph.morphology import project_activable, project_constant
from skmorph.nn import activable_distance, activable_sets, constant_distance, constant_selem


def random_layer(seed, n=40, k=9):
    rng = np.random.default_rng(seed)
    weights = rng.random((n, k)) * rng.choice([0.5, 2.0], size=(n, 1))
    bias = rng.random(n) * weights.sum(axis=1)
    return weights, bias


def test_torch_activable_distance_equals_numpy():
    weights, bias = random_layer(0)
    expected = project_activable(weights, bias).distance
    for dtype in (torch.float64, torch.float32):
        w, b = torch.tensor(weights, dtype=dtype), torch.tensor(bias, dtype=dtype)
        got = activable_distance(w, b)
        assert got.dtype == dtype
        tolerance = 1e-12 if dtype == torch.float64 else 1e-4
        np.testing.assert_allclose(got.numpy(), expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("mode", ["exact", "uniform", "normal"])
def test_torch_constant_distance_equals_numpy(mode):
    weights, bias = random_layer(1)
    expected = project_constant(weights, bias, mode=mode).distance
    got = constant_distance(torch.tensor(weights), mode=mode)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_activable_distance_gradients_are_right():
    weights, bias = random_layer(2, n=12, k=6)
    w = torch.tensor(weights, requires_grad=True)
    b = torch.tensor(bias, requires_grad=True)
    sets = activable_sets(w, b)
    assert torch.autograd.gradcheck(lambda w, b: activable_distance(w, b, sets), (w, b))


@pytest.mark.parametrize("mode", ["exact", "uniform", "normal"])
def test_constant_distance_gradients_are_right(mode):
    weights, _ = random_layer(3, n=12, k=6)
    w = torch.tensor(weights, requires_grad=True)
    selem = constant_selem(w, mode)
    assert torch.autograd.gradcheck(lambda w: constant_distance(w, selem=selem), (w,))


def test_activable_gradient_matches_finite_differences_of_the_numpy_projection():
    """The envelope property: the gradient for fixed sets is the gradient of the full projection."""
    weights, bias = random_layer(4, n=1, k=7)
    w = torch.tensor(weights, requires_grad=True)
    b = torch.tensor(bias, requires_grad=True)
    activable_distance(w, b).sum().backward()
    eps = 1e-6
    for i in range(7):
        up, down = weights.copy(), weights.copy()
        up[0, i] += eps
        down[0, i] -= eps
        numeric = (
            project_activable(up, bias).distance[0] - project_activable(down, bias).distance[0]
        ) / (2 * eps)
        assert w.grad[0, i].item() == pytest.approx(numeric, abs=1e-5)
    numeric = (
        project_activable(weights, bias + eps).distance[0]
        - project_activable(weights, bias - eps).distance[0]
    ) / (2 * eps)
    assert b.grad[0].item() == pytest.approx(numeric, abs=1e-5)


def test_activated_neurons_have_zero_distance_and_gradient():
    weights = torch.tensor([[2.0, 2.0, 0.1, 0.1]], dtype=torch.float64, requires_grad=True)
    bias = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    distance = activable_distance(weights, bias)
    distance.sum().backward()
    assert distance.item() == 0.0
    assert torch.all(weights.grad == 0) and torch.all(bias.grad == 0)
