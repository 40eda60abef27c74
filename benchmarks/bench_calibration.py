"""Approximated neurons chosen closest in weights (PA, ``binarization="activable"``) or closest
in function on data (``binarization="calibrated"``), on one trained network.

Run: python benchmarks/bench_calibration.py                       # the digits, 8x8
     python benchmarks/bench_calibration.py --data /usr/share/datasets/fashion-mnist --epochs 4

A convolutional ``BiMoNNClassifier`` (``--channels``, 2x2 OR pooling, the head reading every
layer) is fitted once per seed; its network is then binarized both ways with
``binarize(method, X_train, y_train)`` (the head refitted on the binarized features each
time), and both predictors are scored on the test set, next to the float network. Digits: the
first 1000 images train, the rest test; ``--data``: the official split of the IDX files.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits

from skmorph import BiMoNNClassifier
from skmorph.datasets import load_mnist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", help="folder with the four IDX files (default: digits)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--channels", type=int, nargs="+", default=None,
                        help="default: 16 32 on the digits, the classifier's 64 128 else")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    if args.data:
        X_train, y_train = load_mnist(args.data, "train")
        X_test, y_test = load_mnist(args.data, "test")
        X_train = X_train.reshape(len(X_train), -1) / 255.0
        X_test = X_test.reshape(len(X_test), -1) / 255.0
        shape, channels, batch = (28, 28), args.channels or [64, 128], 128
    else:
        X, y = load_digits(return_X_y=True)
        X_train, y_train, X_test, y_test = X[:1000], y[:1000], X[1000:], y[1000:]
        shape, channels, batch = (8, 8), args.channels or [16, 32], 64
    print("| seed | float | activable (PA) | calibrated | approximated neurons: agreement "
          "before -> after | calibration + head refit (s) |")
    print("|---:|---:|---:|---:|---|---:|")
    for seed in args.seeds:
        model = BiMoNNClassifier(input_shape=shape, hidden_channels=tuple(channels),
                                 max_epochs=args.epochs, n_iter_no_change=args.epochs,
                                 batch_size=batch, random_state=seed, device="cpu")
        model.fit(X_train, y_train)
        floating = model.set_params(inference="float").score(X_test, y_test)
        scores = {}
        for method in ("activable", "calibrated"):
            start = time.perf_counter()
            network, report = model.binarize(method, X_train, y_train, return_report=True)
            seconds = time.perf_counter() - start
            scores[method] = float(np.mean(network.predict(X_test) == y_test))
        agreement = ", ".join(f"{entry['layer']} {entry['agreement_before']:.3f} -> "
                              f"{entry['agreement_after']:.3f} ({entry['n_calibrated']})"
                              for entry in report["calibration"])
        print(f"| {seed} | {floating:.4f} | {scores['activable']:.4f} | "
              f"{scores['calibrated']:.4f} | {agreement} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
