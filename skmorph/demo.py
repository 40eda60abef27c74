"""The README's main job, runnable with ``python -m skmorph``.

Trains a BiMoNNClassifier (default parameters) on scikit-learn's digits, binarizes it, prints
the float and binarized test accuracies, and draws the learned structuring elements.
"""

from __future__ import annotations

import argparse
import copy
import pickle
import time


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m skmorph", description=__doc__)
    parser.add_argument("--output", default="skmorph_digits_selems.png",
                        help="where to draw the learned structuring elements (PNG)")
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from skmorph import BiMoNNClassifier
    from skmorph.plotting import dense_supports

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=args.random_state, stratify=y
    )
    print(f"skmorph: BiMoNNClassifier on scikit-learn's digits ({len(X_train)} training, "
          f"{len(X_test)} test images of 8x8 pixels)")
    start = time.perf_counter()
    model = BiMoNNClassifier(random_state=args.random_state).fit(X_train, y_train)
    seconds = time.perf_counter() - start
    # inference is read when predicting: the same fitted model scores with either network
    float_accuracy = copy.copy(model).set_params(inference="float").score(X_test, y_test)
    report = model.binarization_report_
    dense = model.binarized_.layers[1]
    print(f"trained in {seconds:.1f} s ({len(model.history_)} epochs)")
    print(f"test accuracy: float network {float_accuracy:.4f}, "
          f"binarized predictor {model.score(X_test, y_test):.4f}")
    print(f"binarized hidden layer: {report['n_exact']} of {report['n_neurons']} units exactly "
          f"binarized, {report['n_neurons'] - report['n_exact']} approximated "
          f"({report['method']} projection); {dense.describe()}")
    print(f"binarized predictor: {len(pickle.dumps(model.binarized_)) / 1024:.0f} KiB pickled, "
          f"runs without torch")
    supports = dense_supports(model)
    order = np.argsort(-np.abs(supports).sum(axis=1))[:32]
    try:
        from skmorph.plotting import plot_selems

        plot_selems(
            [supports[u].reshape(8, 8) for u in order],
            titles=[f"unit {u}: {kind}" for u, kind in zip(order, dense.unit_kinds()[order],
                                                           strict=True)],
            path=args.output,
            suptitle="learned structuring elements of 32 hidden units "
                     "(blue: pixel bright, red: pixel dark)",
        )
        print(f"learned structuring elements drawn in {args.output}")
    except ImportError:
        print("install matplotlib (pip install -e '.[plot]') to draw the learned structuring "
              "elements")


if __name__ == "__main__":
    main()
