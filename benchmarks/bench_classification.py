"""The classification study of the BiMoNN paper (arXiv:2401.03830): DenseLUI(784 -> 4096) +
float head, four regularization configurations and PA, against a float MLP and a
BinaryConnect-style baseline; and the convolutional BiMoNN against a float CNN of its shape.

Run: python benchmarks/bench_classification.py \
         --data /usr/share/datasets/fashion-mnist --epochs 3
     python benchmarks/bench_classification.py \
         --data /usr/share/datasets/fashion-mnist --conv --epochs 8 --seeds 0

The convolutional BiMoNN's training options left out of the command (``--n-thresholds``,
``--threshold-strategy``, ``--conv-start``, ``--hidden-outputs``, ``--binarization``,
``--layerwise-epochs``) are the estimator's ``"auto"``, resolved in its table row, and
``--batch-size 64 --learning-rate 1e-3`` are its defaults with convolutional layers; before
2026-12-03 (fourth session) they were the script's own defaults (``n_thresholds=3`` at
quantiles, random start, smooth outputs, activable binarization, no layer-by-layer pass,
batch 128, lr 1e-2): the commands of older sections of benchmarks/README.md ran with those.
``--channels 64 128 128 --kernel-sizes 5 3 3 --teacher auto`` (three layers, distilled from a
float CNN) are the estimator's defaults since 2026-12-04 (seventh session); before, the script's
defaults were ``--channels 64 128 --kernel-sizes 5 3`` and no teacher (``--teacher none``
now), as in the commands of older sections.

``--conv``: ``BiMoNNClassifier(input_shape=(28, 28), ...)`` with the architecture of
``--channels`` / ``--kernel-sizes`` (BiSE layers, each followed by 2x2 OR pooling, a float head
on the pooled binary maps of every layer (``--conv-readout all``, the default) or of the last
one, refitted on the binarized maps) on the gray images (its level sets learned by the
classifier), against ``nn.Conv2d`` layers of the same shape with ReLU and max pooling on the
gray images, whose head reads the same maps; every model gets ``--epochs`` epochs, batch
``--batch-size``, Adam at ``--learning-rate`` (the float CNN at ``--cnn-learning-rate``).
``--regularization activable --regularization-weight 0.01 --regularization-delay-epochs 6``
adds the PA term after 6 epochs; ``--teacher cnn`` (what ``auto`` resolves to here) distils the
BiMoNN from a float CNN of its shape trained first within its fit (``teacher="cnn"``), ``--teacher
none`` trains it on the labels alone; ``--warmup`` is its
``learning_rate_warmup``; ``--first-layer-start signed`` its ``first_layer_start``;
``--augmentation hflip`` / ``shift`` its ``augmentation`` (random left-right flips or
one-pixel shifts in training);
``--conv-start data`` its ``conv_start`` (starting elements that fire on the data);
``--head-dropout`` its ``head_dropout`` (dropout on the features the head reads);
``--gap-report`` prints where the binarization gap lies (the
hidden outputs thresholded, the head refitted on them, the predictor's own bits).
``--dense-baselines`` adds the study's float MLP and BinaryConnect rows (784-4096-10),
trained on the gray images. ``--device cuda`` trains it on a GPU (its binarized predictor
runs in NumPy anywhere);
``--save-predictions`` writes that predictor's test predictions, which
``benchmarks/predict_saved.py --expected`` compares on another machine.

Data: the IDX files of Fashion-MNIST (Debian's ``dataset-fashion-mnist``) or MNIST, the official
60 000 / 10 000 split, images binarized to one level set (pixel >= 128: 784 bits). Every model
gets the same budget (epochs, batch 64, Adam lr 1e-3, seed 0). Then a GridSearchCV over
``regularization_weight`` on scikit-learn's digits picks lambda on the binarized score.
"""

from __future__ import annotations

import argparse
import pickle
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from torch import nn

from skmorph import BiMoNNClassifier
from skmorph.datasets import load_mnist
from skmorph.preprocessing import STRATEGIES

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
    model = BiMoNNClassifier(
        hidden_layer_sizes=(4096,), include_complement=False, refit_head=False,
        regularization_weight=args.weight, regularization_update_every=10,
        max_epochs=args.epochs, n_iter_no_change=args.epochs, batch_size=64,
        learning_rate=1e-3, random_state=0, device="cpu", verbose=args.verbose,
    ).set_params(**params)
    return fit_and_score(model, data)


def fit_and_score(model, data, save=None, save_predictions=None):
    """Float and binarized test accuracy, fraction of exact neurons, fit seconds; ``save``:
    write the binarized predictor (JSON), ``save_predictions``: its test predictions (.npy,
    for ``benchmarks/predict_saved.py --expected`` on another machine)."""
    X_train, y_train, X_test, y_test = data
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    binarized = model.score(X_test, y_test)
    model.set_params(inference="float")
    floating = model.score(X_test, y_test)
    if save:
        model.binarized_.save(save)
    if save_predictions:
        np.save(save_predictions, model.binarized_.predict(X_test))
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


def baseline_rows(data, args, inputs: str = "", seed_column: str = "") -> None:
    """Print the table rows of the float MLP and the BinaryConnect network (seed 0)."""
    for kind in ("float MLP", "BinaryConnect (STE)"):
        accuracy, seconds = baseline(kind, data, args)
        floating, binary = ((f"{accuracy:.4f}", "-") if kind == "float MLP"
                            else ("-", f"{accuracy:.4f}"))
        print(f"| {kind}, 784-4096-10{inputs} | {seed_column}{floating} | {binary} | - "
              f"| {seconds:.0f} |", flush=True)


def options_described(args, fitted: dict) -> str:
    """The options of the convolutional BiMoNN (``fitted``: its resolved parameters) that
    differ from the paper's network, as ", option, option" for its table row."""
    hidden_outputs, layerwise = fitted["hidden_outputs"], fitted["layerwise_epochs"]
    options = [
        (args.conv_complements, "later layers read maps and complements"),
        (args.warmup, f"warmup {args.warmup:g}"),
        (hidden_outputs != "smooth", f"hidden outputs {hidden_outputs}"),
        (args.normalization, f"{args.normalization} normalization"),
        (fitted["conv_start"] != "random", f"{fitted['conv_start']} start"),
        (layerwise, f"layerwise binarization ({layerwise} epochs per layer)"),
        (args.refit_head != "auto", f"refit_head {args.refit_head}"),
        (args.head_dropout, f"head dropout {args.head_dropout:g}"),
        (args.augmentation, f"{args.augmentation} augmentation"),
        (fitted["precision"] == "bfloat16", "bfloat16 forward passes"),
        (fitted["teacher"], f"distilled from a float CNN (weight {args.distillation_weight:g}, "
                            f"T {args.distillation_temperature:g}"
                            f"{teacher_epochs_described(fitted)})"),
    ]
    return "".join(f", {text}" for given, text in options if given)


def teacher_epochs_described(fitted: dict) -> str:
    """", N epochs" for a teacher trained for other than ``teacher_epochs="auto"``."""
    epochs = fitted["teacher_epochs"]
    return "" if epochs == "auto" else f", {epochs} epochs"


def device_name(device: str) -> str:
    """``device`` and, for a CUDA one, the GPU's name."""
    if torch.device(device).type == "cuda" and torch.cuda.is_available():
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return device


def auto(value):
    """An option left out of the command: the estimator's ``"auto"``."""
    return "auto" if value is None else value


def conv_bimonn(data, args, seed):
    """Scores of the convolutional BiMoNN (see :func:`fit_and_score`) and its resolved
    parameters (``"auto"`` replaced by what the estimator chose)."""
    model = BiMoNNClassifier(
        input_shape=(28, 28), hidden_channels=tuple(args.channels),
        kernel_size=tuple(args.kernel_sizes), hidden_layer_sizes=tuple(args.hidden_layer_sizes),
        n_thresholds=auto(args.n_thresholds), threshold_strategy=auto(args.threshold_strategy),
        max_epochs=args.epochs, n_iter_no_change=args.epochs,
        batch_size=args.batch_size, learning_rate=args.learning_rate, random_state=seed,
        weight_reparametrization=args.weight_reparametrization,
        learning_rate_schedule=args.schedule, conv_readout=args.conv_readout,
        binarization=auto(args.binarization), device=args.device,
        verbose=args.verbose, regularization=args.regularization,
        conv_complements=args.conv_complements,
        learning_rate_warmup=args.warmup,
        teacher=None if args.teacher == "none" else args.teacher,
        hidden_outputs=auto(args.hidden_outputs), normalization=args.normalization,
        first_layer_start=args.first_layer_start, augmentation=args.augmentation,
        conv_start=auto(args.conv_start), layerwise_epochs=auto(args.layerwise_epochs),
        head_dropout=args.head_dropout,
        refit_head={"auto": "auto", "yes": True, "no": False}[args.refit_head],
        teacher_epochs=auto(args.teacher_epochs),
        distillation_weight=args.distillation_weight,
        distillation_temperature=args.distillation_temperature,
        precision=auto(args.precision),
        regularization_weight=args.regularization_weight,
        regularization_delay=args.regularization_delay_epochs
        * -(-len(data[1]) // args.batch_size),
    )
    scores = fit_and_score(model, data, args.save_binarized, args.save_predictions)
    if args.gap_report:
        gap_report(model, data)
    if args.save_model:
        with open(args.save_model, "wb") as file:
            pickle.dump(model, file)
    return scores, model._fit_params


def head_features(network, model, X, thresholded):
    """The features that the float head reads (hidden outputs thresholded at 1/2 or not) and
    the float network's predictions."""
    network.eval().set_hidden_outputs("binary" if thresholded else "smooth")
    features, predictions = [], []
    hook = network.head.register_forward_hook(lambda m, i, o: features.append(i[0]))
    with torch.no_grad():
        for start in range(0, len(X), 2000):
            scores = network(model._encode(X[start:start + 2000], vars(model)))
            predictions.append(scores.argmax(1))
    hook.remove()
    network.set_hidden_outputs("smooth")
    return torch.cat(features).numpy(), model.classes_[torch.cat(predictions).numpy()]


def gap_report(model, data) -> None:
    """Where the float network's test accuracy goes on the way to the binarized predictor's:
    the hidden outputs thresholded (same head), the head refitted on those thresholded
    features (as the predictor's head is on its own), and the predictor's bits themselves."""
    X_train, y_train, X_test, y_test = data
    network = model.network_
    _, smooth = head_features(network, model, X_test, False)
    train_bits, _ = head_features(network, model, X_train, True)
    test_bits, thresholded = head_features(network, model, X_test, True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        refit = LogisticRegression(C=1.0, max_iter=200).fit(train_bits, y_train)
    predictor_bits = model.binarized_.transform(X_test).astype(np.float32)
    weight = network.head.weight.detach().numpy()
    bias = network.head.bias.detach().numpy()
    float_head = model.classes_[(predictor_bits @ weight.T + bias).argmax(1)]
    print(f"gap report (test accuracy): float network {np.mean(smooth == y_test):.4f}; hidden "
          f"outputs thresholded at 1/2 {np.mean(thresholded == y_test):.4f}; head refitted on "
          f"the thresholded features {refit.score(test_bits, y_test):.4f}; binarized predictor "
          f"{model.binarized_.score(X_test, y_test):.4f} (its bits equal the thresholded ones "
          f"{np.mean(predictor_bits == test_bits):.2%} of the time; the float head on its bits "
          f"{np.mean(float_head == y_test):.4f})", flush=True)


class ConvReadout(nn.Module):
    """Conv2d-ReLU-max pooling stages; the linear head reads the last stage's maps or (like
    ``conv_readout="all"``) every stage's, flattened and concatenated."""

    def __init__(self, stages, head, read_all):
        super().__init__()
        self.stages, self.head, self.read_all = nn.ModuleList(stages), head, read_all

    def forward(self, x):
        maps = []
        for stage in self.stages:
            x = stage(x)
            maps.append(x.flatten(1))
        return self.head(torch.cat(maps, 1) if self.read_all else maps[-1])


def float_cnn(data, args, seed, precision: str = "float32"):
    """Test accuracy and training time of a float CNN of the BiMoNN's shape, its forward
    passes in ``precision`` as the BiMoNN's (``torch.autocast`` for bfloat16)."""
    X_train, y_train, X_test, y_test = (torch.as_tensor(a) for a in data)
    X_train = X_train.float().view(-1, 1, 28, 28)
    X_test = X_test.float().view(-1, 1, 28, 28)
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        stages, channels, size, features = [], 1, 28, []
        for out, kernel in zip(args.channels, args.kernel_sizes, strict=True):
            stages.append(nn.Sequential(nn.Conv2d(channels, out, kernel, padding=kernel // 2),
                                        nn.ReLU(), nn.MaxPool2d(2)))
            channels, size = out, size // 2
            features.append(channels * size * size)
        read_all = args.conv_readout == "all"
        model = ConvReadout(stages, nn.Linear(sum(features) if read_all else features[-1], 10),
                            read_all)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.cnn_learning_rate)
    steps = args.epochs * -(-len(X_train) // args.batch_size)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    start = time.perf_counter()
    for _ in range(args.epochs):
        model.train()
        for index in torch.randperm(len(X_train), generator=generator).split(args.batch_size):
            with torch.autocast("cpu", dtype=torch.bfloat16,
                                enabled=precision == "bfloat16"):
                scores = model(X_train[index])
            loss = F.cross_entropy(scores.float(), y_train[index].long())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if args.schedule == "cosine":
                cosine.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        accuracy = np.mean([(model(X_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000])
                            .float().mean().item() for i in range(0, len(X_test), 1000)])
    return accuracy, seconds


def conv_study(args, train_images, train_labels, test_images, test_labels) -> None:
    data = (train_images.reshape(len(train_images), -1).astype(np.float32) / 255,
            train_labels.astype(np.int64),
            test_images.reshape(len(test_images), -1).astype(np.float32) / 255,
            test_labels.astype(np.int64))
    shape = "-".join(f"{c}x{k}x{k}" for c, k in zip(args.channels, args.kernel_sizes,
                                                     strict=True))
    print(f"# {args.data}: {len(train_labels)} train / {len(test_labels)} test, gray images, "
          f"{args.epochs} epochs, batch {args.batch_size}, Adam lr {args.learning_rate} "
          f"({args.schedule} schedule; float CNN: lr {args.cnn_learning_rate}), "
          f"{args.weight_reparametrization} weights, "
          f"{torch.get_num_threads()} threads, BiMoNN trained on {device_name(args.device)}")
    print("| model | seed | float test accuracy | binarized test accuracy | neurons exact "
          "| training time (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    readout = "every layer" if args.conv_readout == "all" else "the last layer"
    regularization = "" if args.regularization is None else (
        f", {args.regularization} regularization {args.regularization_weight:g} from epoch "
        f"{args.regularization_delay_epochs + 1}")
    for seed in args.seeds:
        (floating, binarized, exact, seconds), fitted = conv_bimonn(data, args, seed)
        maps = options_described(args, fitted)
        strategy = fitted["threshold_strategy"]
        levels = "" if strategy == "quantile" else f" {strategy}"
        dense = "".join(f", DenseLUI {width}" for width in args.hidden_layer_sizes)
        print(f"| BiMoNN, BiSE {shape}, 2x2 OR pooling{dense}, "
              f"n_thresholds={fitted['n_thresholds']}"
              f"{levels} + complements{maps}, "
              f"{'first DenseLUI' if dense else 'head'} reads {readout}, "
              f"{fitted['binarization']} binarization"
              f"{regularization} | {seed} "
              f"| {floating:.4f} | {binarized:.4f} | {exact:.1%} | {seconds:.0f} |", flush=True)
        if args.skip_cnn:
            continue
        accuracy, seconds = float_cnn(data, args, seed, fitted["precision"])
        precision = (", bfloat16 forward passes" if fitted["precision"] == "bfloat16" else "")
        print(f"| float CNN, Conv2d {shape}, ReLU, 2x2 max pooling, head reads {readout}"
              f"{precision} | "
              f"{seed} | {accuracy:.4f} | - | - | {seconds:.0f} |", flush=True)
    if args.dense_baselines:
        baseline_rows(data, args, " on the gray images", seed_column="0 | ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="folder with the four IDX files")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--weight", type=float, default=1e-3, help="regularization weight")
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS))
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--conv", action="store_true", help="the convolutional study instead")
    parser.add_argument("--channels", type=int, nargs="+", default=[64, 128, 128])
    parser.add_argument("--kernel-sizes", type=int, nargs="+", default=[5, 3, 3])
    parser.add_argument("--hidden-layer-sizes", type=int, nargs="*", default=[],
                        help="DenseLUI layers between the convolutional part and the head")
    parser.add_argument("--n-thresholds", type=int, default=None,
                        help="n_thresholds of the convolutional BiMoNN (default: its 'auto')")
    parser.add_argument("--threshold-strategy", default=None, choices=STRATEGIES,
                        help="threshold_strategy of the convolutional BiMoNN (default: 'auto')")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--cnn-learning-rate", type=float, default=1e-3)
    parser.add_argument("--weight-reparametrization", default="projected")
    parser.add_argument("--schedule", default="cosine", choices=["plateau", "cosine"])
    parser.add_argument("--conv-readout", default="all", choices=["last", "all"],
                        help="what the heads read: the last conv layer or every one")
    parser.add_argument("--skip-cnn", action="store_true", help="no float CNN rows")
    parser.add_argument("--dense-baselines", action="store_true",
                        help="with --conv, also the float MLP and BinaryConnect rows of the "
                        "study, on the gray images, after the seeds")
    parser.add_argument("--binarization", default=None,
                        help="binarization of the convolutional BiMoNN (default: 'auto')")
    parser.add_argument("--save-binarized", help="write the binarized predictor (JSON) there, "
                        "for benchmarks/bench_binarized.py --conv-model")
    parser.add_argument("--save-predictions", help="write the binarized predictor's test "
                        "predictions there (.npy), for benchmarks/predict_saved.py --expected")
    parser.add_argument("--device", default="cpu",
                        help="device of the convolutional BiMoNN's training (cpu, cuda)")
    parser.add_argument("--save-model", help="pickle the fitted convolutional BiMoNN there "
                        "(float network and binarized predictor), for further analysis")
    parser.add_argument("--regularization", default=None,
                        help="regularization of the convolutional BiMoNN (e.g. activable)")
    parser.add_argument("--regularization-weight", type=float, default=1e-3)
    parser.add_argument("--regularization-delay-epochs", type=int, default=0,
                        help="epochs before the regularization starts")
    parser.add_argument("--conv-complements", action="store_true",
                        help="conv layers after the first read the complements of their maps too")
    parser.add_argument("--warmup", type=float, default=0.0,
                        help="learning_rate_warmup of the convolutional BiMoNN")
    parser.add_argument("--hidden-outputs", default=None,
                        choices=["smooth", "binary", "binarized"],
                        help="hidden_outputs of the convolutional BiMoNN (default: 'auto')")
    parser.add_argument("--normalization", choices=["batch"], default=None,
                        help="normalization of the convolutional BiMoNN's neurons")
    parser.add_argument("--augmentation", choices=["hflip", "shift"], default=None,
                        help="augmentation of the convolutional BiMoNN")
    parser.add_argument("--first-layer-start", choices=["signed"], default=None,
                        help="first_layer_start of the convolutional BiMoNN")
    parser.add_argument("--conv-start", choices=["random", "data"], default=None,
                        help="conv_start of the convolutional BiMoNN (default: 'auto')")
    parser.add_argument("--head-dropout", type=float, default=0.0,
                        help="head_dropout of the convolutional BiMoNN")
    parser.add_argument("--layerwise-epochs", type=int, default=None,
                        help="layerwise_epochs of the convolutional BiMoNN (default: 'auto')")
    parser.add_argument("--refit-head", choices=["auto", "yes", "no"], default="auto",
                        help="refit_head of the convolutional BiMoNN")
    parser.add_argument("--teacher", choices=["auto", "none", "cnn"], default="auto",
                        help="teacher of the convolutional BiMoNN: 'cnn' distils it from a "
                        "float CNN of its shape (default: its 'auto', which is 'cnn')")
    parser.add_argument("--teacher-epochs", type=int, default=None,
                        help="epochs of the float CNN teacher (teacher_epochs; default "
                             "'auto': half of --epochs, rounded up)")
    parser.add_argument("--distillation-weight", type=float, default=0.7)
    parser.add_argument("--distillation-temperature", type=float, default=4.0)
    parser.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default=None,
                        help="precision of the convolutional BiMoNN's training (default: its "
                             "'auto'), and of the float CNN's")
    parser.add_argument("--gap-report", action="store_true",
                        help="after the convolutional BiMoNN, where its binarization gap lies")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    train_images, train_labels = load_mnist(args.data, "train")
    test_images, test_labels = load_mnist(args.data, "test")
    if args.conv:
        conv_study(args, train_images, train_labels, test_images, test_labels)
        return
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
    baseline_rows(data, args)

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
