"""Screens of the convolutional classifier's start and training on part of Fashion-MNIST.

Run: python benchmarks/screen_conv_start.py --data /usr/share/datasets/fashion-mnist
[--supports 2 4] [--scale-factor 1] [--window-start] [--batch-size 128] [--learning-rate 2e-3]
[--augmentation shift] [--channels 64 128] [--kernel-sizes 5 3] [--train-size 20000]
[--epochs 3] [--seed 0]

One fit of ``BiMoNNClassifier(input_shape=(28, 28), n_thresholds=7,
threshold_strategy="uniform", conv_start="data", hidden_outputs="binary",
refit_head=False, binarization="activable", layerwise_epochs=0)`` on the first
``--train-size`` training images, scored on the whole test set, then how many large weights
(over a tenth of the neuron's largest) the median neuron of each layer has after training.
What the options change (experiments, not options of the estimator, so they patch the
module):

- ``--supports a b``: the weights of the starting elements of the data start (first layer,
  later ones; the classifier's ``DATA_START_SUPPORTS``);
- ``--scale-factor f``: the starting scale ``p`` of the elements multiplied by ``f`` (a
  smaller ``p``: a smooth neuron, a wider surrogate gradient under ``hidden_outputs="binary"``);
- ``--window-start``: each starting element drawn from a training window (for an erosion,
  literals that are 1 in a random window of a random image; for a dilation, ones that are 0),
  as a Tsetlin machine's clauses start from a sample, instead of uniformly over the window.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

import skmorph.estimators.classifier as classifier_module
import skmorph.nn.networks as networks_module
from skmorph import BiMoNNClassifier
from skmorph.datasets import load_mnist
from skmorph.nn.layers import MorphologicalNeurons


def scaled_starts(factor: float) -> None:
    """Make every element start (``reset_parameters(selem=...)``) with ``p`` times ``factor``."""
    reset = MorphologicalNeurons.reset_parameters

    def reset_scaled(bank, *args, **kwargs):
        reset(bank, *args, **kwargs)
        if kwargs.get("selem") is not None:
            with torch.no_grad():
                bank.scale.log_scale.add_(math.log(factor))

    MorphologicalNeurons.reset_parameters = reset_scaled


def random_windows(layer, x: torch.Tensor, n: int, generator) -> torch.Tensor:
    """``n`` windows of ``layer``'s size at random images and positions of ``x``, flattened
    as the layer's weights (channel, row, column), as booleans."""
    rows, cols = layer.kernel_size
    padded = F.pad(x, (cols // 2, cols // 2, rows // 2, rows // 2), mode="replicate")
    images = torch.randint(len(x), (n,), generator=generator)
    tops = torch.randint(x.shape[2], (n,), generator=generator)
    lefts = torch.randint(x.shape[3], (n,), generator=generator)
    windows = [padded[i, :, t:t + rows, c:c + cols]
               for i, t, c in zip(images, tops, lefts, strict=True)]
    return torch.stack(windows).flatten(1) > 0.5


def window_candidates(layer, x: torch.Tensor, size: int, generator):
    """Candidate elements drawn from training windows (see the module): the draw of
    ``skmorph.nn.networks._candidate_elements`` that ``--window-start`` puts in its place."""
    n, k = layer.neurons.n_neurons, layer.neurons.n_weights
    erosion = torch.rand(n, generator=generator) < 0.5
    windows = random_windows(layer, x, n, generator)
    allowed = torch.where(erosion[:, None], windows, ~windows)
    # allowed literals first, in a random order
    keys = torch.rand(n, k, generator=generator) + 2 * (~allowed).float()
    masks = torch.zeros(n, k, dtype=torch.bool)
    masks[torch.arange(n)[:, None], keys.argsort(1)[:, :size]] = True
    return masks, erosion


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="folder with the four IDX files")
    parser.add_argument("--supports", type=float, nargs=2, default=[2, 4])
    parser.add_argument("--scale-factor", type=float, default=1.0)
    parser.add_argument("--window-start", action="store_true")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--augmentation", default=None, choices=["hflip", "shift"])
    parser.add_argument("--channels", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--kernel-sizes", type=int, nargs="+", default=[5, 3])
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    classifier_module.DATA_START_SUPPORTS = tuple(args.supports)
    if args.scale_factor != 1:
        scaled_starts(args.scale_factor)
    if args.window_start:
        networks_module._candidate_elements = window_candidates
    images, y = load_mnist(args.data, "train")
    test_images, y_test = load_mnist(args.data, "test")
    X = images.reshape(len(images), -1)[:args.train_size]
    X_test = test_images.reshape(len(test_images), -1)
    model = BiMoNNClassifier(
        input_shape=(28, 28), hidden_channels=tuple(args.channels),
        kernel_size=tuple(args.kernel_sizes), hidden_layer_sizes=(), n_thresholds=7,
        threshold_strategy="uniform", conv_start="data", hidden_outputs="binary",
        binarization="activable", layerwise_epochs=0, refit_head=False,
        max_epochs=args.epochs, n_iter_no_change=args.epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate, augmentation=args.augmentation,
        random_state=args.seed, device="cpu", verbose=1)
    start = time.perf_counter()
    model.fit(X, y[:args.train_size])
    seconds = time.perf_counter() - start
    binarized = model.score(X_test, y_test)
    floating = model.set_params(inference="float").score(X_test, y_test)
    large = []
    for layer in model.network_.conv_layers:
        weights = layer.neurons.weight.detach().flatten(1)
        counts = (weights > 0.1 * weights.max(1, keepdim=True).values).sum(1)
        large.append(float(np.median(counts.numpy())))
    report = model.binarization_report_
    options = {name: value for name, value in vars(args).items() if name != "data"}
    print(f"| {options} | {floating:.4f} | {binarized:.4f} | "
          f"{report['n_exact']}/{report['n_neurons']} | {large} | {seconds:.0f} |")


if __name__ == "__main__":
    main()
