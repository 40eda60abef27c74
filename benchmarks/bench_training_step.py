"""Training-step time of a DenseLUI 784 -> 4096 layer against nn.Linear of the same shape.

Run: python benchmarks/bench_training_step.py [--batch-size 64] [--update-every 1 10 100]

One step = forward, loss, backward and Adam update on a batch of binary inputs, with the layer
followed by a float 4096 -> 10 head in both models. Regularized steps add the PA or PC distance of
the 4096 neurons; the sets of the projections are recomputed by the exact NumPy solvers every
``update_every`` steps (the distance for fixed sets is differentiated at every step).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn

from skmorph.nn import Regularizer, build_network


def step_time(model, regularizer, banks, x, y, n_steps):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def one(step):
        loss = F.cross_entropy(model(x), y)
        if regularizer is not None:
            loss = loss + regularizer(banks, step)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for step in range(3):
        one(step)
    start = time.perf_counter()
    for step in range(3, 3 + n_steps):
        one(step)
    return (time.perf_counter() - start) / n_steps


def baseline_and_plain(linear, network, banks, x, y, n_steps, repeats=3):
    """Best of ``repeats`` interleaved timings of nn.Linear and the plain DenseLUI network, so
    that a busy moment of the machine does not skew their ratio."""
    pairs = [(step_time(linear, None, [], x, y, n_steps),
              step_time(network, None, banks, x, y, n_steps)) for _ in range(repeats)]
    return min(p[0] for p in pairs), min(p[1] for p in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--update-every", type=int, nargs="+", default=[1, 10, 100])
    args = parser.parse_args()
    torch.manual_seed(0)
    x = (torch.rand(args.batch_size, 784) < 0.3).float()
    y = torch.randint(0, 10, (args.batch_size,))
    linear = nn.Sequential(nn.Linear(784, 4096), nn.Sigmoid(), nn.Linear(4096, 10))
    network = build_network(n_features=784, hidden_layer_sizes=[4096], n_outputs=10)
    banks = network.neuron_banks()
    baseline, plain = baseline_and_plain(linear, network, banks, x, y, args.steps)
    threads = torch.get_num_threads()
    print(f"# torch {torch.__version__}, {threads} threads, batch {args.batch_size}")
    print(f"nn.Linear step: {baseline * 1e3:.1f} ms (best of 3 runs of {args.steps} steps)")
    print("| regularization | sets recomputed every | step (ms) | vs nn.Linear |")
    print("|---|---:|---:|---:|")
    print(f"| none | - | {plain * 1e3:.1f} | {plain / baseline:.2f}x |")
    identity = build_network(n_features=784, hidden_layer_sizes=[4096], n_outputs=10,
                             weight_reparametrization="identity")
    baseline_again, plain_identity = baseline_and_plain(
        linear, identity, identity.neuron_banks(), x, y, args.steps
    )
    print(f"| none, identity weight reparametrization | - | {plain_identity * 1e3:.1f} "
          f"| {plain_identity / baseline_again:.2f}x |")
    for kind in ["constant_exact", "constant_uniform", "constant_normal", "activable"]:
        for every in args.update_every:
            steps = args.steps if kind != "activable" or every > 1 else 3
            regularizer = Regularizer(kind, weight=1e-3, update_every=every)
            t = step_time(network, regularizer, banks, x, y, max(steps, every))
            print(f"| {kind} | {every} | {t * 1e3:.1f} | {t / baseline:.2f}x |")


if __name__ == "__main__":
    main()
