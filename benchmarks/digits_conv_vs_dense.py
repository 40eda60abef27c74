"""The convolutional classifier's defaults on the digits against the dense defaults.

Run: python benchmarks/digits_conv_vs_dense.py [--seeds 0 1 2] [--conv-readout all]
    [--channels 64 128 --kernel-sizes 5 3] [--teacher none]

``BiMoNNClassifier(input_shape=(8, 8), random_state=seed)`` (the automatic convolutional
front; ``--conv-readout`` sets what its head reads, ``--channels`` / ``--kernel-sizes`` its
``hidden_channels`` / ``kernel_size``, ``--teacher`` its ``teacher``: the options of a
``bench_classification.py --conv`` row) and ``BiMoNNClassifier(random_state=seed)`` (the dense
default) on scikit-learn's digits, the 75/25 split stratified with seed 0 of
``compare_classifier_defaults.py``; binarized (and float) test accuracy per seed.
"""

import argparse
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skmorph import BiMoNNClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--conv-readout", default="all", choices=["last", "all"])
    parser.add_argument("--channels", type=int, nargs="+", default=None,
                        help="hidden_channels of the convolutional classifier (default: 'auto')")
    parser.add_argument("--kernel-sizes", type=int, nargs="+", default=None,
                        help="kernel_size of the convolutional classifier (default: 'auto')")
    parser.add_argument("--teacher", choices=["auto", "none", "cnn"], default="auto",
                        help="teacher of the convolutional classifier (default: 'auto')")
    args = parser.parse_args()
    options = {"conv_readout": args.conv_readout,
               "teacher": None if args.teacher == "none" else args.teacher}
    if args.channels is not None:
        options["hidden_channels"] = tuple(args.channels)
    if args.kernel_sizes is not None:
        options["kernel_size"] = tuple(args.kernel_sizes)
    described = ", ".join(f"{name}={value!r}" for name, value in options.items())
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    print("| model | seed | binarized | float | fit (s) |")
    print("|---|---:|---:|---:|---:|")
    for seed in args.seeds:
        for name, model in [
            (f"convolutional ({described})",
             BiMoNNClassifier(input_shape=(8, 8), **options, random_state=seed, device="cpu")),
            ("dense default", BiMoNNClassifier(random_state=seed, device="cpu")),
        ]:
            start = time.perf_counter()
            model.fit(X_train, y_train)
            seconds = time.perf_counter() - start
            binarized = model.score(X_test, y_test)
            floating = model.set_params(inference="float").score(X_test, y_test)
            print(f"| {name} | {seed} | {binarized:.4f} | {floating:.4f} | {seconds:.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
