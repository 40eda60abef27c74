"""Knowledge distillation: a float CNN teacher of a convolutional network's shape, the
teacher's softened targets, and the loss that mixes them with the labels.

Hinton, Vinyals and Dean, *Distilling the knowledge in a neural network* (arXiv:1503.02531):
the student learns the labels and the teacher's class probabilities softened by a temperature
``T``, whose small probabilities tell which wrong classes look like the right one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from skmorph.nn.networks import conv_features

__all__ = ["FloatCNN", "distillation_loss", "fit_float_cnn", "soften"]

TEACHER_LEARNING_RATE = 1e-3  # Adam, cosine schedule (benchmarks/bench_classification.py)


class FloatCNN(nn.Module):
    """``nn.Conv2d`` (zero padding) - ReLU - max pooling stages and a linear head that reads the
    pooled maps of the last stage or of every stage (``readout``, as ``conv_readout`` of
    :class:`~skmorph.nn.MorphologicalNetwork`): the float network of the same shape as a
    convolutional BiMoNN, on gray images standardized by ``mean`` and ``std`` per channel.

    Parameters
    ----------
    in_channels : int
    image_shape : (int, int)
    channels : sequence of int
        Output channels of each convolution.
    kernel_sizes : sequence of int
        Odd kernel size of each convolution.
    pool_size : int or None
        Max pooling block after each convolution; ``None``: no pooling.
    n_classes : int
    readout : {"last", "all"}
    mean, std : tensors of shape (in_channels,)
    """

    def __init__(self, in_channels: int, image_shape: tuple[int, int],
                 channels: Sequence[int], kernel_sizes: Sequence[int], pool_size: int | None,
                 n_classes: int, readout: str, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        n_features = conv_features(in_channels, *image_shape, channels,
                                   [pool_size] * len(channels), readout)
        stages = []
        for out_channels, kernel in zip(channels, kernel_sizes, strict=True):
            pool = nn.Identity() if pool_size is None else nn.MaxPool2d(pool_size)
            stages.append(nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2), nn.ReLU(),
                pool))
            in_channels = out_channels
        self.stages = nn.ModuleList(stages)
        self.read_all = readout == "all"
        self.head = nn.Linear(n_features, n_classes)
        self.register_buffer("mean", mean.view(1, -1, 1, 1))
        self.register_buffer("std", std.view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (logits) of images ``(N, C, H, W)``."""
        x = (x - self.mean) / self.std
        maps = []
        for stage in self.stages:
            x = stage(x)
            maps.append(x.flatten(1))
        return self.head(torch.cat(maps, 1) if self.read_all else maps[-1])

    @torch.no_grad()
    def log_probabilities(self, images: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
        """Log class probabilities of ``images``, in batches, in evaluation mode."""
        self.eval()
        return torch.cat([F.log_softmax(self(images[start:start + batch_size]), dim=1)
                          for start in range(0, len(images), batch_size)])


def fit_float_cnn(images: torch.Tensor, labels: torch.Tensor, *, channels: Sequence[int],
                  kernel_sizes: Sequence[int], pool_size: int | None, readout: str,
                  n_classes: int, max_epochs: int, batch_size: int,
                  generator: torch.Generator,
                  learning_rate: float = TEACHER_LEARNING_RATE,
                  precision: str = "float32") -> FloatCNN:
    """Train a :class:`FloatCNN` on ``images`` ``(N, C, H, W)`` (float, on the device to train
    on) and integer ``labels``: Adam, cross-entropy, the learning rate decayed to 0 along a half
    cosine over ``max_epochs`` epochs. ``generator`` (a CPU generator) draws the starting
    weights and the batches."""
    mean = images.mean(dim=(0, 2, 3))
    std = images.std(dim=(0, 2, 3)).clamp(min=1e-6)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=generator)))
        model = FloatCNN(images.shape[1], tuple(images.shape[2:]), channels, kernel_sizes,
                         pool_size, n_classes, readout, mean, std).to(images.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    steps = max_epochs * math.ceil(len(images) / batch_size)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1))
    model.train()
    for _ in range(max_epochs):
        for index in torch.randperm(len(images), generator=generator).split(batch_size):
            index = index.to(images.device)
            with torch.autocast(images.device.type, dtype=torch.bfloat16,
                                enabled=precision == "bfloat16"):
                scores = model(images[index])
            loss = F.cross_entropy(scores.float(), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            cosine.step()
    return model.eval()


def soften(log_probabilities: torch.Tensor, temperature: float) -> torch.Tensor:
    """The teacher's class probabilities at ``temperature``: ``softmax(log p / T)`` (for a
    network's own probabilities, the softmax of its logits divided by ``T``)."""
    return F.softmax(log_probabilities / temperature, dim=1)


def distillation_loss(weight: float, temperature: float
                      ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss of a student's class scores against targets ``(N, 1 + n_classes)``: the label
    (column 0), then the teacher's probabilities softened at ``temperature`` (:func:`soften`).

    ``(1 - weight) * cross_entropy(scores, labels) + weight * T**2 * KL(teacher || student at
    T)``; the ``T**2`` keeps the soft term's gradients on the scale of the hard one's.
    """

    def loss(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        labels, teacher = targets[:, 0].long(), targets[:, 1:]
        soft = F.kl_div(F.log_softmax(scores / temperature, dim=1), teacher,
                        reduction="batchmean")
        hard = F.cross_entropy(scores, labels)
        return (1 - weight) * hard + weight * temperature**2 * soft

    return loss
