"""Training-step time of DenseLUI and BiSEL layers against nn.Linear / nn.Conv2d of the same shape.

Run: python benchmarks/bench_training_step.py [--batch-size 64] [--update-every 1 10 100 auto]

One step = forward, loss, backward and Adam update (and, under the ``"projected"`` weight
reparametrization, the clamp of the weights at 0 that the training loop runs after the update).

- Dense: a DenseLUI 784 -> 4096 layer on binary inputs against ``nn.Linear(784, 4096)`` and a
  sigmoid, both followed by a float 4096 -> 10 head. Regularized steps add the PA or PC
  distance of the 4096 neurons; the sets of the projections are recomputed by the exact NumPy
  solvers every ``update_every`` steps (``auto``: :func:`skmorph.nn.regularization.
  auto_update_every`), the distance for fixed sets is differentiated at every step.
- Convolutional: a BiSEL layer (``--conv-channels`` in -> out, ``--kernel-size``) with 2x2 max
  pooling on 28x28 binary images against ``nn.Conv2d`` of the same shape (as many weights) with
  a sigmoid and the same pooling, both followed by a float head. Then a BiSE layer that reads
  the complements of its inputs too (``complement_inputs=True``, twice the weights), its
  complements folded into one convolution over the inputs (:meth:`skmorph.nn.BiSE.convolve`)
  and built as channels (as before), against the same ``nn.Conv2d``. And a BiSE layer whose
  outputs are thresholded in the forward pass (``hidden_outputs="binary"``, a straight-through
  step: :func:`skmorph.nn.reparametrization.threshold_step`), as the classifier's
  convolutional layers train by default.
- Adam (``--parts adam``): a step of whole classifier networks (the image default, the same
  with a DenseLUI layer before the head, the tabular default) with Adam fused into one kernel
  per step, as :func:`skmorph.nn.train` runs it, against torch's default update.
- Paired inputs (``--parts paired``): a step of the image default network whose first layer
  folds the complements of the level sets into a convolution over the level sets
  (``paired_inputs=True`` of :class:`skmorph.nn.BiSE`, as the classifier builds it) against
  the same network convolving the 14 channels.
- Precision (``--parts precision``): a step of the image default network (and of one with 1.5
  times its channels) with its forward pass in bfloat16 under ``torch.autocast``
  (``precision="bfloat16"`` of the classifier) against float32. The speed-up needs a CPU that
  computes bfloat16 natively (AMX tiles); elsewhere bfloat16 is emulated and slower.

The baseline and the layer are timed interleaved, best of 3 runs, so that a busy moment of the
machine does not skew their ratio.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn

from skmorph.nn import (
    BiSE,
    BlockPooling,
    MorphologicalNetwork,
    Regularizer,
    build_network,
    conv_features,
    native_bfloat16,
)
from skmorph.nn.layers import pad
from skmorph.nn.regularization import auto_update_every


def step_time(model, regularizer, banks, x, y, n_steps, fused=False, precision="float32"):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    project = getattr(model, "project_", lambda: None)

    def one(step):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
            scores = model(x)
        loss = F.cross_entropy(scores.float(), y)
        if regularizer is not None:
            loss = loss + regularizer(banks, step)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        project()

    for step in range(3):
        one(step)
    start = time.perf_counter()
    for step in range(3, 3 + n_steps):
        one(step)
    return (time.perf_counter() - start) / n_steps


def interleaved(baseline, network, x, y, n_steps, repeats=3):
    """Best of ``repeats`` interleaved timings of the baseline and the network."""
    pairs = [(step_time(baseline, None, [], x, y, n_steps),
              step_time(network, None, [], x, y, n_steps)) for _ in range(repeats)]
    return min(p[0] for p in pairs), min(p[1] for p in pairs)


def dense_rows(args) -> None:
    x = (torch.rand(args.batch_size, 784) < 0.3).float()
    y = torch.randint(0, 10, (args.batch_size,))
    linear = nn.Sequential(nn.Linear(784, 4096), nn.Sigmoid(), nn.Linear(4096, 10))
    print("\n(a) DenseLUI 784 -> 4096 vs nn.Linear")
    print("| weights | regularization | sets recomputed every | step (ms) | vs nn.Linear "
          "| vs unregularized |")
    print("|---|---|---:|---:|---:|---:|")
    for weights in args.weights:
        network = build_network(n_features=784, hidden_layer_sizes=[4096], n_outputs=10,
                                weight_reparametrization=weights)
        baseline, plain = interleaved(linear, network, x, y, args.steps)
        print(f"| {weights} | none | - | {plain * 1e3:.1f} | {plain / baseline:.2f}x | 1.00x |")
        if weights != args.regularized_weights:
            continue
        banks = network.neuron_banks()
        n_weights = sum(bank.n_neurons * bank.n_weights for bank in banks)
        for kind in ["constant_exact", "constant_uniform", "constant_normal", "activable"]:
            for every in args.update_every:
                every = auto_update_every(kind, n_weights) if every == "auto" else int(every)
                label = f"{every} (auto)" if every == auto_update_every(kind, n_weights) \
                    else str(every)
                steps = args.steps if kind != "activable" or every > 1 else 3
                regularizer = Regularizer(kind, weight=1e-3, update_every=every)
                t = step_time(network, regularizer, banks, x, y, max(steps, every))
                print(f"| {weights} | {kind} | {label} | {t * 1e3:.1f} | {t / baseline:.2f}x "
                      f"| {t / plain:.2f}x |")


def conv_rows(args) -> None:
    c_in, c_out = args.conv_channels
    k = args.kernel_size
    x = (torch.rand(args.batch_size, c_in, 28, 28) < 0.3).float()
    y = torch.randint(0, 10, (args.batch_size,))
    conv = nn.Sequential(nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.Sigmoid(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(c_out * 14 * 14, 10))
    print(f"\n(b) {c_in} -> {c_out} channels, {k}x{k}, 2x2 pooling, on 28x28 images vs "
          f"nn.Conv2d")
    print("| layer | weights | step (ms) | nn.Conv2d step (ms) | vs nn.Conv2d |")
    print("|---|---|---:|---:|---:|")
    for layer in ("bise", "bisel"):
        for weights in args.weights:
            network = build_network(in_channels=c_in, conv_channels=[c_out], kernel_sizes=k,
                                    pooling="dilation", n_features=c_out * 14 * 14,
                                    n_outputs=10, weight_reparametrization=weights,
                                    conv_layer=layer)
            baseline, plain = interleaved(conv, network, x, y, args.steps)
            print(f"| {layer} | {weights} | {plain * 1e3:.1f} | {baseline * 1e3:.1f} "
                  f"| {plain / baseline:.2f}x |", flush=True)
    network = build_network(in_channels=c_in, conv_channels=[c_out], kernel_sizes=k,
                            pooling="dilation", n_features=c_out * 14 * 14, n_outputs=10,
                            weight_reparametrization="projected", hidden_outputs="binary",
                            conv_layer="bise")
    baseline, plain = interleaved(conv, network, x, y, args.steps)
    print(f"| bise, outputs thresholded (hidden_outputs='binary') | projected | "
          f"{plain * 1e3:.1f} | {baseline * 1e3:.1f} | {plain / baseline:.2f}x |", flush=True)
    for name, kind in (("bise reading complements too, folded", BiSE),
                       ("bise reading complements too, built", BuiltComplementsBiSE)):
        layer = kind(c_in, c_out, k, complement_inputs=True, weight_reparametrization="projected")
        network = MorphologicalNetwork([layer], head=nn.Linear(c_out * 14 * 14, 10),
                                       pools=[BlockPooling("dilation")])
        baseline, plain = interleaved(conv, network, x, y, args.steps)
        print(f"| {name} | projected | {plain * 1e3:.1f} | {baseline * 1e3:.1f} "
              f"| {plain / baseline:.2f}x |", flush=True)


class BuiltComplementsBiSE(BiSE):
    """The convolution over the inputs and their complements built as channels (before
    :meth:`BiSE.convolve` folded them): the baseline of the folded one."""

    def convolve(self, x, weight, bias=None):
        return F.conv2d(pad(self.read(x), self.kernel_size, self.padding), weight, bias)


def adam_rows(args) -> None:
    """A step of whole classifier networks with Adam fused into one kernel per step (what
    :func:`skmorph.nn.train` runs on the CPU and CUDA) against torch's default update, a
    few elementwise passes over every parameter tensor."""
    print("\n(c) Adam fused vs torch's default update, whole networks, projected weights\n")
    print("| network | parameters | default Adam step (ms) | fused Adam step (ms) | speed-up |")
    print("|---|---:|---:|---:|---:|")
    levels = 14  # the classifier's 7 level sets and their complements
    features = conv_features(levels, 28, 28, [64, 128], [2, 2], "all")
    image = dict(in_channels=levels, conv_channels=[64, 128], kernel_sizes=[5, 3],
                 pooling="dilation", conv_layer="bise", conv_readout="all", n_features=features)
    images = (args.batch_size, levels, 28, 28)
    networks = {
        "BiSE 64x5x5-128x3x3, OR pooling, head on every layer (the image default)":
            (image, images),
        "the same with a DenseLUI 256 layer before the head":
            ({**image, "hidden_layer_sizes": [256]}, images),
        "DenseLUI 1568 -> 512 (the tabular default)":
            (dict(n_features=1568, hidden_layer_sizes=[512]), (args.batch_size, 1568)),
    }
    for name, (options, shape) in networks.items():
        network = build_network(n_outputs=10, hidden_outputs="binary",
                                weight_reparametrization="projected", **options)
        x = (torch.rand(shape) < 0.3).float()
        y = torch.randint(0, 10, (args.batch_size,))
        pairs = [(step_time(network, None, [], x, y, args.steps),
                  step_time(network, None, [], x, y, args.steps, fused=True))
                 for _ in range(3)]
        default, fused = min(p[0] for p in pairs), min(p[1] for p in pairs)
        n_parameters = sum(p.numel() for p in network.parameters())
        print(f"| {name} | {n_parameters:,} | {default * 1e3:.1f} | {fused * 1e3:.1f} | "
              f"{default / fused:.2f}x |", flush=True)


def paired_rows(args) -> None:
    """A step of the image default network (three BiSE layers, 14 level sets with their
    complements in) whose first layer folds the given complements in (``paired_inputs``, what
    the classifier builds) against the same network convolving all 14 channels."""
    print("\n(d) the image default, first layer folding the input complements vs convolving "
          "them\n")
    print("| network | step, all 14 channels (ms) | step, 7 channels folded (ms) | speed-up |")
    print("|---|---:|---:|---:|")
    levels, channels = 14, [64, 128, 128]
    options = dict(in_channels=levels, conv_channels=channels, kernel_sizes=[5, 3, 3],
                   pooling="dilation", conv_layer="bise", conv_readout="all", n_outputs=10,
                   n_features=conv_features(levels, 28, 28, channels, [2] * 3, "all"),
                   hidden_outputs="binary", weight_reparametrization="projected")
    plain = build_network(**options)
    paired = build_network(paired_inputs=True, **options)
    paired.load_state_dict(plain.state_dict())
    x = (torch.rand(args.batch_size, levels // 2, 28, 28) < 0.3).float()
    x = torch.cat([x, 1 - x], dim=1)
    y = torch.randint(0, 10, (args.batch_size,))
    pairs = [(step_time(plain, None, [], x, y, args.steps, fused=True),
              step_time(paired, None, [], x, y, args.steps, fused=True)) for _ in range(3)]
    built, folded = min(p[0] for p in pairs), min(p[1] for p in pairs)
    print(f"| BiSE 64x5x5-128x3x3-128x3x3, OR pooling, head on every layer | "
          f"{built * 1e3:.1f} | {folded * 1e3:.1f} | {built / folded:.2f}x |", flush=True)


def precision_rows(args) -> None:
    """A step of the image default network (and of one with 1.5 times its channels) with its
    forward pass in float32 and in bfloat16 (``torch.autocast``, as ``precision="bfloat16"``
    of the classifier trains it), interleaved."""
    print("\n(e) the image default, forward passes in float32 vs bfloat16\n")
    print(f"bfloat16 native here (AMX tiles): {native_bfloat16(torch.device('cpu'))}\n")
    print("| network | step, float32 (ms) | step, bfloat16 (ms) | speed-up |")
    print("|---|---:|---:|---:|")
    levels = 14
    x = (torch.rand(args.batch_size, levels // 2, 28, 28) < 0.3).float()
    x = torch.cat([x, 1 - x], dim=1)
    y = torch.randint(0, 10, (args.batch_size,))
    for channels in ([64, 128, 128], [96, 192, 192]):
        network = build_network(
            in_channels=levels, conv_channels=channels, kernel_sizes=[5, 3, 3],
            pooling="dilation", conv_layer="bise", conv_readout="all", n_outputs=10,
            n_features=conv_features(levels, 28, 28, channels, [2] * 3, "all"),
            hidden_outputs="binary", weight_reparametrization="projected", paired_inputs=True)
        pairs = [(step_time(network, None, [], x, y, args.steps, fused=True),
                  step_time(network, None, [], x, y, args.steps, fused=True,
                            precision="bfloat16")) for _ in range(3)]
        single, half = min(p[0] for p in pairs), min(p[1] for p in pairs)
        shape = "-".join(f"{c}x{k}x{k}" for c, k in zip(channels, [5, 3, 3], strict=True))
        print(f"| BiSE {shape}, OR pooling, head on every layer | {single * 1e3:.1f} | "
              f"{half * 1e3:.1f} | {single / half:.2f}x |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--update-every", nargs="+", default=["1", "10", "100", "auto"])
    parser.add_argument("--weights", nargs="+", default=["positive", "identity", "projected"])
    parser.add_argument("--regularized-weights", default="projected")
    parser.add_argument("--conv-channels", type=int, nargs=2, default=[8, 32])
    parser.add_argument("--kernel-size", type=int, default=5)
    parser.add_argument("--parts", nargs="+",
                        default=["dense", "conv", "adam", "paired", "precision"],
                        choices=["dense", "conv", "adam", "paired", "precision"])
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"batch {args.batch_size}, best of 3 runs of {args.steps} steps")
    if "dense" in args.parts:
        dense_rows(args)
    if "conv" in args.parts:
        conv_rows(args)
    if "adam" in args.parts:
        adam_rows(args)
    if "paired" in args.parts:
        paired_rows(args)
    if "precision" in args.parts:
        precision_rows(args)


if __name__ == "__main__":
    main()
