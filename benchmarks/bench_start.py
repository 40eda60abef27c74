"""How many convolutional neurons start constant on the data, under each ``conv_start``.

Run: python benchmarks/bench_start.py --data /usr/share/datasets/fashion-mnist

For each input setting (``--levels``: ``n_thresholds`` and ``threshold_strategy``) and each
``conv_start`` of ``BiMoNNClassifier(input_shape=(28, 28))`` (the benchmark's network: BiSE
64x5x5 -> 128x3x3, 2x2 OR pooling), the network is fitted for one epoch at a learning rate of
1e-9 on the first ``--images`` training images (its weights stay where they started), and the
neurons are counted whose thresholded output fires on fewer than 5% or more than 95% of the
pixels of those images (each layer reading the previous one's thresholded, pooled outputs).
A neuron constant on the data starts with almost no gradient. No timing: a few seconds.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from skmorph import BiMoNNClassifier
from skmorph.datasets import load_mnist

SETTINGS = {"2": (3, "quantile"), "7": (7, "uniform")}


def constant_neurons(model, images: np.ndarray, min_rate: float = 0.05) -> list[int]:
    """Per convolutional layer, the neurons firing on fewer than ``min_rate`` or more than
    ``1 - min_rate`` of the pixels."""
    levels = model.binarized_.layers[0].images(images[:, None])
    rates = model.network_.conv_firing_rates(torch.as_tensor(levels))
    return [int(((rate < min_rate) | (rate > 1 - min_rate)).sum()) for rate in rates]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="folder with the four IDX files")
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--levels", nargs="+", default=list(SETTINGS), choices=list(SETTINGS),
                        help="2: n_thresholds=3 (quantiles); 7: n_thresholds=7 uniform")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    images, labels = load_mnist(args.data, "train")
    images, labels = images[: args.images], labels[: args.images]
    print(f"# {args.data}: first {args.images} training images; neurons of (64, 128) "
          f"constant on them (firing on < 5% or > 95% of the pixels)")
    print("| input levels | conv_start | seed | constant, layer 1 (of 64) | "
          "constant, layer 2 (of 128) |")
    print("|---|---|---:|---:|---:|")
    for key in args.levels:
        n_thresholds, strategy = SETTINGS[key]
        for start in ("random", "data"):
            for seed in args.seeds:
                model = BiMoNNClassifier(
                    input_shape=(28, 28), n_thresholds=n_thresholds,
                    threshold_strategy=strategy, conv_start=start, max_epochs=1,
                    learning_rate=1e-9, random_state=seed, device="cpu",
                ).fit(images.reshape(len(images), -1), labels)
                first, second = constant_neurons(model, images)
                print(f"| {key} ({strategy}) | {start} | {seed} | {first} | {second} |",
                      flush=True)


if __name__ == "__main__":
    main()
