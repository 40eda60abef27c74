"""The binarized predictor against the float torch model, in one run on this machine.

Run: python benchmarks/bench_binarized.py [--quick]

(a) Dense classifier 784 -> 4096 -> 10: throughput (samples/s) of ``BinarizedNetwork.predict``
    against the float torch model (``nn.Linear`` 784 -> 4096, sigmoid, ``nn.Linear`` 4096 -> 10,
    in ``torch.no_grad``) at batch sizes 1 to 10 000, for hidden units whose supports (the
    number of inputs each OR/AND unit reads) have the given size.
(b) Two-layer BiSEL network, 7x7 elements, 1 -> 4 -> 4 channels, on a 2048 x 2048 image:
    ``BinarizedNetwork.transform`` against the float torch network.
(c) Pickled size of the whole binarized 784 -> 4096 -> 10 predictor against the float32
    parameters of the same model.
(d) The convolutional classifier of the classification benchmark (28x28 gray images, 3 level
    sets and complements, BiSE 6 -> 64 (5x5) -> 128 (3x3) channels, each followed by 2x2 OR
    pooling, a float head on the 128 x 7 x 7 pooled bits): images/s of ``predict`` against the
    float torch network of the same shape (thresholds in torch, BiSE layers, max pooling, head,
    in ``torch.no_grad``) at batch sizes 1 to 10 000. ``--conv-model`` takes the predictor that
    ``bench_classification.py --conv --save-binarized`` wrote (its levels, layers and any
    DenseLUI layers give the shape of both models; the float network thresholds its hidden
    outputs, as the classifier's trains them); without it, random activated neurons of the
    shape above.
"""

from __future__ import annotations

import argparse
import json
import pickle
import time

import numpy as np
import torch
from torch import nn

from skmorph.binary import BinarizedNetwork, BinaryConv, BinaryDense, LinearHead, Thresholds
from skmorph.estimators import binarize_network
from skmorph.nn import build_network, conv_features
from skmorph.nn.testing import activate_randomly


def best(function, repeat=3):
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def dense_models(support_size, rng):
    supports = np.zeros((4096, 784), bool)
    for unit in range(4096):
        supports[unit, rng.choice(784, support_size, replace=False)] = True
    thresholds = np.where(rng.random(4096) < 0.5, 1, support_size)  # half OR, half AND
    head_w, head_b = rng.normal(size=(10, 4096)) * 0.05, rng.normal(size=10)
    binarized = BinarizedNetwork(
        [Thresholds(np.full((784, 1), 0.5)), BinaryDense(supports, thresholds),
         LinearHead(head_w, head_b)],
        classes=np.arange(10),
    )
    return binarized


def float_model():
    model = nn.Sequential(nn.Linear(784, 4096), nn.Sigmoid(), nn.Linear(4096, 10)).eval()
    return model


def part_a(rng, batches, supports):
    model = float_model()
    print("\n(a) dense 784 -> 4096 -> 10: samples/s (speed-up over float torch, strategy)\n")
    print("| batch | float torch | " + " | ".join(f"\\|S\\| = {s}" for s in supports) + " |")
    print("|---:|---:|" + "---:|" * len(supports))
    networks = {s: dense_models(s, rng) for s in supports}
    for batch in batches:
        X = (rng.random((batch, 784)) < 0.3).astype(np.float32)
        tensor = torch.from_numpy(X)

        def torch_predict(tensor=tensor):
            with torch.no_grad():
                return model(tensor).argmax(1)

        t_float = best(torch_predict)
        cells = []
        for s in supports:
            t = best(lambda s=s, X=X: networks[s].predict(X))
            costs = networks[s].layers[1].estimated_costs(batch)
            chosen = min(costs, key=costs.get)
            cells.append(f"{batch / t:,.0f} ({t_float / t:.1f}x, {chosen})")
        print(f"| {batch} | {batch / t_float:,.0f} | " + " | ".join(cells) + " |")
    return networks


def part_b(rng, size):
    network = build_network(in_channels=1, conv_channels=[4, 4], kernel_sizes=7)
    activate_randomly(network, rng)
    binarized, _ = binarize_network(network, [Thresholds([[0.5]])], method="exact",
                                         task="image")
    image = (rng.random((1, 1, size, size)) < 0.5).astype(np.float32)
    with torch.no_grad():
        expected = network(torch.from_numpy(image)).numpy() > 0.5
    assert np.array_equal(binarized.transform(image), expected)
    with torch.no_grad():
        t_float = best(lambda: network(torch.from_numpy(image)))
    t_binary = best(lambda: binarized.transform(image))
    sizes = [layer.selems.sum(axis=(2, 3)) for layer in binarized.layers[1:]]
    print(f"\n(b) BiSEL 1 -> 4 -> 4, 7x7, image {size}x{size}: float torch {t_float:.3f} s, "
          f"binarized {t_binary:.4f} s, speed-up {t_float / t_binary:.1f}x "
          f"(element sizes {int(np.mean([s.mean() for s in sizes]))} pixels on average; "
          f"outputs identical: True)")


def part_c(networks, rng):
    print("\n(c) pickled and JSON size of the binarized 784 -> 4096 -> 10 predictor (and of "
          "the default classifier's 1568 inputs: bits and complements)\n")
    print("| inputs | support size | pickled bytes | JSON bytes | float32 parameters | "
          "pickle ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n_inputs in (784, 1568):
        float_bytes = (n_inputs * 4096 + 4096 * 10 + 4096 + 10) * 4
        for s, network in networks.items():
            if n_inputs != 784:
                network = _with_inputs(network, n_inputs, s, rng)
            size = len(pickle.dumps(network))
            text = len(json.dumps(network.to_dict()))
            print(f"| {n_inputs} | {s} | {size:,} | {text:,} | {float_bytes:,} | "
                  f"1/{float_bytes / size:.1f} |")


def _with_inputs(network, n_inputs, support_size, rng):
    """The same network with its hidden units reading ``n_inputs`` inputs (complements on)."""
    thresholds, dense, head = network.layers
    supports = np.zeros((dense.n_units, n_inputs), bool)
    for unit in range(dense.n_units):
        supports[unit, rng.choice(n_inputs, support_size, replace=False)] = True
    return BinarizedNetwork([Thresholds(thresholds.thresholds, complement=True),
                             BinaryDense(supports, dense.thresholds), head],
                            classes=network.classes)


def conv_models(rng, path=None):
    binarized = None if path is None else BinarizedNetwork.load(path)
    levels = np.array([[0.1, 0.3, 0.6]]) if path is None else binarized.layers[0].thresholds
    n_levels = int((~np.isnan(levels[0])).sum())
    channels, kernel_sizes, widths = [64, 128], [5, 3], []
    if binarized is not None:  # the shape of the trained predictor
        convs = [layer for layer in binarized.layers if isinstance(layer, BinaryConv)]
        channels = [layer.out_channels for layer in convs]
        kernel_sizes = [layer.selems.shape[-1] for layer in convs]
        widths = [layer.n_units for layer in binarized.layers if isinstance(layer, BinaryDense)]
    readout = "all" if binarized is None else binarized.conv_readout  # the classifier's default
    network = build_network(in_channels=2 * n_levels, conv_channels=channels,
                            kernel_sizes=kernel_sizes, pooling="dilation", conv_layer="bise",
                            n_features=conv_features(2 * n_levels, 28, 28, channels,
                                                     [2] * len(channels), readout),
                            hidden_layer_sizes=widths, n_outputs=10, conv_readout=readout,
                            hidden_outputs="smooth" if binarized is None else "binary").eval()
    if binarized is not None:  # the float network of its shape (its weights do not matter)
        return network, binarized, levels, "trained"
    activate_randomly(network, rng)
    binarized, _ = binarize_network(network, [Thresholds(levels, complement=True)],
                                    method="exact", classes=np.arange(10),
                                    image_shape=(1, 28, 28))
    return network, binarized, levels, "random activated"


def part_d(rng, batches, path=None):
    network, binarized, levels, kind = conv_models(rng, path)
    thresholds = torch.as_tensor(levels[0][~np.isnan(levels[0])], dtype=torch.float32)

    def torch_predict(tensor):
        with torch.no_grad():
            bits = (tensor.view(-1, 1, 28, 28) > thresholds.view(1, -1, 1, 1)).float()
            return network(torch.cat([bits, 1 - bits], dim=1)).argmax(1)

    widths = [2 * len(thresholds)] + [layer.out_channels for layer in network.conv_layers]
    dense = "".join(f", DenseLUI {layer.out_features}" for layer in network.dense_layers)
    print(f"\n(d) convolutional classifier ({kind} neurons, {len(thresholds)} levels), BiSE "
          f"{' -> '.join(map(str, widths))}, 2x2 OR pooling{dense}, head on "
          f"{network.head.in_features} bits (conv_readout={network.conv_readout!r}): images/s "
          f"(speed-up over float torch)\n")
    print("| batch | float torch | binarized |")
    print("|---:|---:|---:|")
    for batch in batches:
        X = rng.random((batch, 784)).astype(np.float32)
        tensor = torch.from_numpy(X)
        t_float = best(lambda tensor=tensor: torch_predict(tensor))
        t_binary = best(lambda X=X: binarized.predict(X))
        print(f"| {batch} | {batch / t_float:,.0f} | {batch / t_binary:,.0f} "
              f"({t_float / t_binary:.1f}x) |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--sizes-only", action="store_true",
                        help="only (c), the stored sizes (no timing)")
    parser.add_argument("--conv-model", help="JSON predictor for (d) (see the docstring)")
    parser.add_argument("--parts", nargs="+", default=["a", "b", "c", "d"])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    if args.sizes_only:
        part_c({s: dense_models(s, rng) for s in (2, 8, 32, 128, 392)}, rng)
        return
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads")
    batches = [1, 10, 100] if args.quick else [1, 10, 100, 1000, 10000]
    supports = [2, 64] if args.quick else [2, 8, 32, 128, 392]
    if "a" in args.parts or "c" in args.parts:
        networks = part_a(rng, batches, supports)
    if "b" in args.parts:
        part_b(rng, 256 if args.quick else 2048)
    if "c" in args.parts:
        part_c(networks, rng)
    if "d" in args.parts:
        part_d(rng, batches, args.conv_model)


if __name__ == "__main__":
    main()
