import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skmorph.nn import conv_features
from skmorph.nn.distillation import FloatCNN, distillation_loss, fit_float_cnn, soften


def test_the_loss_is_the_cross_entropy_without_the_teacher_term():
    scores = torch.randn(8, 3, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    teacher = soften(torch.log_softmax(torch.randn(8, 3), 1), 4.0)
    targets = torch.cat([labels[:, None].float(), teacher], 1)
    assert torch.allclose(distillation_loss(0.0, 4.0)(scores, targets),
                          F.cross_entropy(scores, labels))


@pytest.mark.parametrize("temperature", [1.0, 4.0])
def test_the_teacher_term_vanishes_when_the_student_scores_as_the_teacher(temperature):
    logits = torch.randn(16, 5, generator=torch.Generator().manual_seed(1))
    targets = torch.cat([torch.zeros(16, 1), soften(torch.log_softmax(logits, 1),
                                                    temperature)], 1)
    loss = distillation_loss(1.0, temperature)
    assert loss(logits, targets).item() == pytest.approx(0.0, abs=1e-6)
    assert loss(logits.flip(1), targets).item() > 0.1


def test_softening_flattens_the_probabilities_and_keeps_their_order():
    log_p = torch.log(torch.tensor([[0.7, 0.2, 0.1]]))
    soft = soften(log_p, 4.0)
    assert torch.allclose(soft.sum(1), torch.ones(1))
    assert soft[0, 0] < 0.7 and soft[0, 2] > 0.1
    assert torch.equal(soft.argsort(), log_p.argsort())
    assert torch.allclose(soften(log_p, 1.0), log_p.exp())


@pytest.mark.parametrize("readout", ["last", "all"])
def test_the_float_cnn_head_reads_the_maps_a_morphological_network_of_its_shape_reads(readout):
    model = FloatCNN(2, (12, 10), [3, 4], [5, 3], 2, 7, readout, torch.zeros(2), torch.ones(2))
    assert model.head.in_features == conv_features(2, 12, 10, [3, 4], [2, 2], readout)
    assert model(torch.rand(5, 2, 12, 10)).shape == (5, 7)
    log_p = model.log_probabilities(torch.rand(5, 2, 12, 10), batch_size=2)
    assert torch.allclose(log_p.exp().sum(1), torch.ones(5))


def test_fit_float_cnn_learns_a_separable_task_and_is_reproducible():
    rng = np.random.default_rng(0)
    labels = torch.as_tensor(rng.integers(0, 2, 200))
    images = torch.as_tensor(rng.random((200, 1, 8, 8)), dtype=torch.float32)
    images[labels == 1, :, :4] += 1.0  # class 1: a brighter top half

    def fitted():
        return fit_float_cnn(images, labels, channels=[4], kernel_sizes=[3], pool_size=2,
                             readout="last", n_classes=2, max_epochs=5, batch_size=16,
                             generator=torch.Generator().manual_seed(0), learning_rate=1e-2)

    model = fitted()
    accuracy = (model.log_probabilities(images).argmax(1) == labels).float().mean()
    assert accuracy > 0.95
    assert torch.equal(model.log_probabilities(images), fitted().log_probabilities(images))
