"""Diagnostic for the convolutional classifier: a CNN of the benchmark BiMoNN's shape
(Conv2d 64x5x5 - 128x3x3, 2x2 max pooling, a linear head on both layers' pooled maps) whose
activations are binary: BatchNorm, then a step (outputs 0/1, straight-through gradient
clipped to |x| <= 1). Real weights of any sign: how far binary activations alone fall below
the float CNN (ReLU) of the same shape. Gray images, Adam 1e-3 with a cosine schedule, batch
128, seed 0; ``relu`` as first argument gives the float CNN. A third argument ``levels``
feeds it what the BiMoNN reads instead of the gray images: the level sets of the classifier's
``n_thresholds=3`` quantile thresholds of the pixels and their complements, encoded by the
classifier's own input layer (:class:`skmorph.binary.Thresholds`; on Fashion-MNIST two levels,
0 and 163 of 255, so 4 binary channels), so that what the input encoding alone costs shows.

``quantized`` feeds it one channel, the fraction of the levels below each pixel (the gray
image quantized to the levels): what a first layer whose weights are shared by the levels of
a pixel can read. A fourth and fifth argument set ``n_thresholds`` (default 3) and the
strategy of :func:`skmorph.preprocessing.learn_thresholds` (default ``quantile``).

A sixth argument ``flip`` flips a random half of every training batch left to right (the
augmentation of ``BiMoNNClassifier(augmentation="hflip")``).

Run: python benchmarks/binary_activation_cnn.py binary 10 [gray|levels|quantized] [n] [strategy]
[flip]

Prints per epoch: mean training loss, accuracy on 10 000 training images (ten blocks of 1000
spread over the set) and on the test set.
"""

import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from skmorph.binary import Thresholds
from skmorph.datasets import load_mnist
from skmorph.preprocessing import learn_thresholds

DATA = "/usr/share/datasets/fashion-mnist"


class Step(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).to(grad.dtype)


class BinaryActivation(nn.Module):
    def forward(self, x):
        return Step.apply(x)


def main() -> None:
    activation = sys.argv[1] if len(sys.argv) > 1 else "binary"
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    X_train, y_train = load_mnist(DATA, "train")
    X_test, y_test = load_mnist(DATA, "test")
    inputs = sys.argv[3] if len(sys.argv) > 3 else "gray"
    X_train = torch.as_tensor(X_train, dtype=torch.float32).view(-1, 1, 28, 28) / 255
    X_test = torch.as_tensor(X_test, dtype=torch.float32).view(-1, 1, 28, 28) / 255
    n_thresholds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    strategy = sys.argv[5] if len(sys.argv) > 5 else "quantile"
    flip = len(sys.argv) > 6 and sys.argv[6] == "flip"
    if inputs in ("levels", "quantized"):
        levels = learn_thresholds(X_train.reshape(-1, 1).numpy(), n_thresholds, strategy)
        print("levels (of 255):", np.round(255 * levels[0]).tolist(), flush=True)
        encoder = Thresholds(levels, complement=inputs == "levels")
        X_train, X_test = (torch.as_tensor(encoder.images(X.numpy()), dtype=torch.float32)
                           for X in (X_train, X_test))
        if inputs == "quantized":  # the number of levels below each pixel, over their count
            X_train, X_test = (X.mean(1, keepdim=True) for X in (X_train, X_test))
    y_train = torch.as_tensor(y_train.astype(np.int64))
    y_test = torch.as_tensor(y_test.astype(np.int64))
    torch.manual_seed(0)

    def act(channels):
        if activation == "binary":
            return nn.Sequential(nn.BatchNorm2d(channels), BinaryActivation())
        return nn.ReLU()

    stages = nn.ModuleList([
        nn.Sequential(nn.Conv2d(X_train.shape[1], 64, 5, padding=2), act(64), nn.MaxPool2d(2)),
        nn.Sequential(nn.Conv2d(64, 128, 3, padding=1), act(128), nn.MaxPool2d(2)),
    ])
    head = nn.Linear(64 * 196 + 128 * 49, 10)
    model = nn.ModuleDict({"stages": stages, "head": head})

    def forward(x):
        maps = []
        for stage in stages:
            x = stage(x)
            maps.append(x.flatten(1))
        return head(torch.cat(maps, 1))

    def accuracy(X, y, starts, size=1000):
        return np.mean([(forward(X[i:i + size]).argmax(1) == y[i:i + size]).float().mean()
                        .item() for i in starts])

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps = epochs * -(-len(X_train) // 128)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    generator = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for index in torch.randperm(len(X_train), generator=generator).split(128):
            batch = X_train[index]
            if flip:
                flipped = torch.rand(len(index), generator=generator) < 0.5
                batch = torch.where(flipped[:, None, None, None], batch.flip(3), batch)
            loss = F.cross_entropy(forward(batch), y_train[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            cosine.step()
            total += loss.item() * len(index)
        model.eval()
        with torch.no_grad():
            test = accuracy(X_test, y_test, range(0, 10000, 1000))
            train = accuracy(X_train, y_train, range(0, 60000, 6000))
        name = f"{activation} {inputs}" + (" flip" if flip else "")
        print(f"{name} epoch {epoch + 1} loss {total / len(X_train):.4f} train acc "
              f"{train:.4f} test acc {test:.4f} {time.perf_counter() - start:.0f}s",
              flush=True)


if __name__ == "__main__":
    main()
