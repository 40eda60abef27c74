"""The head refit of the binarized classifier: started from the float network's head (warm)
against from zero (cold), by L-BFGS iterations: time and test accuracy of the binarized
predictor with each head; and the classifier's own refit (started from the float head,
stopped on a held-out tenth of the training images).

Reads a classifier pickled by ``bench_classification.py --conv ... --save-model model.pkl``
and its data (Fashion-MNIST from Debian's ``dataset-fashion-mnist``, official split). The
binarized features of the training and test images are computed once; each row times one
``LogisticRegression`` fit on them (what ``BiMoNNClassifier`` does after training).

Run: python benchmarks/bench_head_refit.py --model model.pkl \
         --data /usr/share/datasets/fashion-mnist --iterations 200 100 50 25
"""

from __future__ import annotations

import argparse
import pickle
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from skmorph.binary import LinearHead
from skmorph.datasets import load_mnist
from skmorph.estimators.classifier import _refit_head


def fit_head(features, labels, head, max_iter: int, warm: bool):
    model = LogisticRegression(C=1.0, max_iter=max_iter, warm_start=warm)
    if warm:
        model.coef_ = head.weight.astype(np.float64)
        model.intercept_ = head.bias.astype(np.float64)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        model.fit(features, labels)
    return model, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--iterations", type=int, nargs="+", default=[200, 100, 50, 25])
    args = parser.parse_args()
    with open(args.model, "rb") as file:
        model = pickle.load(file)
    X_train, y_train = load_mnist(args.data, "train")
    X_test, y_test = load_mnist(args.data, "test")
    # the pixels in [0, 1], as bench_classification.py trains on them
    X_train = X_train.reshape(len(X_train), -1).astype(np.float32) / 255
    X_test = X_test.reshape(len(X_test), -1).astype(np.float32) / 255
    binarized = model.binarized_
    float_head = model.network_.head
    head = LinearHead(float_head.weight.detach().numpy(), float_head.bias.detach().numpy())
    train = binarized.transform(X_train).astype(np.float32)
    test = binarized.transform(X_test).astype(np.float32)
    train_labels = np.searchsorted(model.classes_, y_train)
    test_labels = np.searchsorted(model.classes_, y_test)
    float_head_accuracy = np.mean(head.scores(test > 0.5).argmax(1) == test_labels)
    print(f"# {args.model}: {train.shape[1]} binary features, {len(train)} training images; "
          f"the float network's head on them: test accuracy {float_head_accuracy:.4f}")
    print("| start | L-BFGS iterations | fit (s) | iterations run | test accuracy |")
    print("|---|---:|---:|---:|---:|")
    for max_iter in args.iterations:
        for warm in (False, True):
            fitted, seconds = fit_head(train, train_labels, head, max_iter, warm)
            accuracy = np.mean(fitted.predict(test) == test_labels)
            print(f"| {'float head' if warm else 'zero'} | {max_iter} | {seconds:.0f} "
                  f"| {int(np.max(fitted.n_iter_))} | {accuracy:.4f} |", flush=True)
    del train  # the classifier's refit computes its own features
    start = time.perf_counter()
    refitted = _refit_head(binarized, X_train, model.classes_, train_labels, float_head)
    seconds = time.perf_counter() - start
    accuracy = np.mean(refitted.scores(test > 0.5).argmax(1) == test_labels)
    print(f"| float head, the classifier's refit (held-out stop, features included) | - "
          f"| {seconds:.0f} | - | {accuracy:.4f} |", flush=True)


if __name__ == "__main__":
    main()
