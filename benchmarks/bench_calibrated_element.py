"""Calibration of approximated neurons on packed bits vs the unpacked definition.

Run: python benchmarks/bench_calibrated_element.py

``binarization="calibrated"`` scores, for every approximated neuron of a layer, the erosions and
dilations by its m largest weights (every m) on the windows of 2000 training images, 40 per
image (:func:`skmorph.estimators.calibrate_network`). The baseline, measured in the same run,
is the unpacked definition (cumulative AND / OR along the sorted weights on one boolean per
window and weight); skmorph packs the windows of a layer once, 8 to a byte, and counts
disagreements with popcounts (:func:`skmorph.morphology.packed_calibrated_element`). Windows
are random bits of the shapes of the Fashion-MNIST benchmark network (first layer: 14 level
sets x 5x5; second: 64 maps x 3x3); the weights are random; both give the same elements.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from skmorph.morphology import packed_calibrated_element


def unpacked(weights, inputs, target):
    """The definition: one boolean per window and weight."""
    order = np.argsort(-weights, kind="stable")[: max(1, int((weights > 0).sum()))]
    chosen, target = inputs[:, order], target[:, None]
    erosions = (np.logical_and.accumulate(chosen, axis=1) == target).mean(axis=0)
    dilations = (np.logical_or.accumulate(chosen, axis=1) == target).mean(axis=0)
    scores = erosions if erosions.max() >= dilations.max() else dilations
    return order[: int(scores.argmax()) + 1], float(scores.max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=80_000)
    parser.add_argument("--neurons", type=int, default=60, help="approximated, per layer")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"# {args.windows} windows, {args.neurons} approximated neurons per layer")
    print("| layer inputs | unpacked (s) | packed, incl. packing (s) | speed-up |")
    print("|---|---:|---:|---:|")
    for name, n_inputs in (("14 x 5 x 5", 350), ("64 x 3 x 3", 576)):
        inputs = rng.random((args.windows, n_inputs)) < 0.3
        targets = rng.random((args.windows, args.neurons)) < 0.5
        weights = rng.normal(size=(args.neurons, n_inputs))
        start = time.perf_counter()
        expected = [unpacked(weights[k], inputs, targets[:, k]) for k in range(args.neurons)]
        baseline = time.perf_counter() - start
        start = time.perf_counter()
        packed, packed_targets = np.packbits(inputs, axis=0), np.packbits(targets, axis=0)
        found = [packed_calibrated_element(weights[k], packed, packed_targets[:, k],
                                           args.windows) for k in range(args.neurons)]
        seconds = time.perf_counter() - start
        for (order, agreement), (selem, _, score) in zip(expected, found, strict=True):
            assert score == agreement and set(np.flatnonzero(selem)) == set(order)
        print(f"| {name} | {baseline:.2f} | {seconds:.2f} | {baseline / seconds:.1f}x |",
              flush=True)


if __name__ == "__main__":
    main()
