"""The classification study of the BiMoNN paper (arXiv:2401.03830): DenseLUI(784 -> 4096) +
float head, four regularization configurations and PA, against a float MLP and a
BinaryConnect-style baseline.

Run: python benchmarks/bench_classification.py \
         --data /usr/share/datasets/fashion-mnist --epochs 3

Data: the IDX files of Fashion-MNIST (Debian's ``dataset-fashion-mnist``) or MNIST, the official
60 000 / 10 000 split, images binarized to one level set (pixel >= 128: 784 bits). Every model
gets the same budget (epochs, batch 64, Adam lr 1e-3, seed 0). Then a GridSearchCV over
``regularization_weight`` on scikit-learn's digits picks lambda on the binarized score.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from torch import nn

from skmorph import BiMoNNClassifier
from skmorph.datasets import load_mnist

CONFIGS = {
    "no regularization": {},
    "PC exact": {"regularization": "constant_exact"},
    "PC uniform": {"regularization": "constant_uniform"},
    "PC normal": {"regularization": "constant_normal"},
    "PC uniform, dual weights": {"regularization": "constant_uniform",
                                 "weight_reparametrization": "dual"},
    "PA": {"regularization": "activable", "regularization_update_every": 1000},
}


def bimonn(name, params, data, args):
    X_train, y_train, X_test, y_test = data
    model = BiMoNNClassifier(
        hidden_layer_sizes=(4096,), include_complement=False, refit_head=False,
        regularization_weight=args.weight, regularization_update_every=10,
        max_epochs=args.epochs, n_iter_no_change=args.epochs, batch_size=64,
        learning_rate=1e-3, random_state=0, device="cpu", verbose=args.verbose,
    ).set_params(**params)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    binarized = model.score(X_test, y_test)
    model.set_params(inference="float")
    floating = model.score(X_test, y_test)
    report = model.binarization_report_
    return floating, binarized, report["n_exact"] / report["n_neurons"], seconds


class BinaryConnectLinear(nn.Linear):
    """Weights binarized to +-1 (times a per-layer scale) in the forward pass; the straight-
    through estimator passes the gradient to the real-valued weights, clipped to [-1, 1]."""

    def forward(self, x):
        scale = self.weight.abs().mean().detach()
        binary = self.weight + (torch.sign(self.weight) * scale - self.weight).detach()
        return F.linear(x, binary, self.bias)


def baseline(kind, data, args):
    X_train, y_train, X_test, y_test = (torch.as_tensor(a) for a in data)
    X_train, X_test = X_train.float(), X_test.float()
    generator = torch.Generator().manual_seed(0)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        if kind == "float MLP":
            model = nn.Sequential(nn.Linear(784, 4096), nn.ReLU(), nn.Linear(4096, 10))
        else:
            model = nn.Sequential(BinaryConnectLinear(784, 4096), nn.BatchNorm1d(4096), nn.ReLU(),
                                  BinaryConnectLinear(4096, 10), nn.BatchNorm1d(10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(args.epochs):
        model.train()
        for index in torch.randperm(len(X_train), generator=generator).split(64):
            loss = F.cross_entropy(model(X_train[index]), y_train[index].long())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if kind != "float MLP":
                with torch.no_grad():
                    for module in model:
                        if isinstance(module, BinaryConnectLinear):
                            module.weight.clamp_(-1, 1)
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        accuracy = (model(X_test).argmax(1) == y_test).float().mean().item()
    return accuracy, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="folder with the four IDX files")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--weight", type=float, default=1e-3, help="regularization weight")
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS))
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    train_images, train_labels = load_mnist(args.data, "train")
    test_images, test_labels = load_mnist(args.data, "test")
    data = (
        (train_images.reshape(len(train_images), -1) >= 128).astype(np.float32),
        train_labels.astype(np.int64),
        (test_images.reshape(len(test_images), -1) >= 128).astype(np.float32),
        test_labels.astype(np.int64),
    )
    print(f"# {args.data}: {len(train_labels)} train / {len(test_labels)} test, one level set "
          f"(pixel >= 128), {args.epochs} epochs, batch 64, Adam lr 1e-3, seed 0, "
          f"lambda {args.weight}")
    print("| model | float test accuracy | binarized test accuracy | hidden neurons exact "
          "| training time (s) |")
    print("|---|---:|---:|---:|---:|")
    for name in args.configs:
        floating, binarized, exact, seconds = bimonn(name, CONFIGS[name], data, args)
        print(f"| BiMoNN, {name} | {floating:.4f} | {binarized:.4f} | {exact:.1%} "
              f"| {seconds:.0f} |", flush=True)
    for kind in ("float MLP", "BinaryConnect (STE)"):
        accuracy, seconds = baseline(kind, data, args)
        binary = f"{accuracy:.4f}" if kind != "float MLP" else "-"
        floating = f"{accuracy:.4f}" if kind == "float MLP" else "-"
        print(f"| {kind}, 784-4096-10 | {floating} | {binary} | - | {seconds:.0f} |", flush=True)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    search = GridSearchCV(
        BiMoNNClassifier(regularization="constant_exact", random_state=0, device="cpu"),
        {"regularization_weight": [1e-4, 1e-3, 1e-2, 1e-1]}, cv=3, n_jobs=2,
    ).fit(X_train, y_train)
    scores = ", ".join(f"{w:g}: {s:.4f}" for w, s in zip(
        search.cv_results_["param_regularization_weight"],
        search.cv_results_["mean_test_score"], strict=True))
    print(f"\nGridSearchCV on the digits (PC exact, cv=3, binarized accuracy per lambda: "
          f"{scores}): best lambda {search.best_params_['regularization_weight']:g}, "
          f"binarized test accuracy {search.score(X_test, y_test):.4f}")


if __name__ == "__main__":
    main()
