"""Reproduce the operator-learning experiments (spec 7.1 and 7.2) with MorphologicalTransformer.

Run: python benchmarks/bench_operator_learning.py [--train 1000] [--test 200] [--epochs 60]

Diskorect: for each target (dilation, erosion, opening, closing, white and black top-hat) and
element (disk of radius 3, horizontal stick of length 7, 7x7 diagonal cross), a network is trained
on ``make_diskorect`` pairs (one BiSEL layer for dilation/erosion, two for the others) and scored
on held-out images: error = 1 - Dice, float (thresholded at 1/2) and binarized; "same SEs" says
whether every learned element equals the target one (top-hats: apart from one-pixel elements,
which carry the input through).
Noisy sticks: a [1, 3, 1] network with 5x5 kernels against the ideal operator. Complements of
the input are fed for the top-hats only (``--complement always``: for every target).
"""

from __future__ import annotations

import argparse
import ast
import time

import numpy as np

from skmorph import MorphologicalTransformer
from skmorph.binary import dice_scores
from skmorph.datasets import make_diskorect, make_noisy_sticks
from skmorph.morphology import (
    black_tophat,
    closing,
    cross,
    dilation,
    disk,
    erosion,
    line,
    opening,
    white_tophat,
)

# target: (operation, hidden channels, complements fed); complements only where the operator is
# not increasing (the top-hats), as an increasing network cannot represent those without them
TARGETS = {
    "dilation": (dilation, (), False),
    "erosion": (erosion, (), False),
    "opening": (opening, (1,), False),
    "closing": (closing, (1,), False),
    "white_tophat": (white_tophat, (2,), True),
    "black_tophat": (black_tophat, (2,), True),
}
SELEMS = {"disk(3)": disk(3), "stick(7)": line(7, 0), "diagonal cross(7)": cross(7, True)}


def _terms(model) -> list:
    return [t for layer in model.learned_operations() for out in layer for t in out["terms"]]


def _equal_up_to_reflection(learned, selem) -> bool:
    return np.array_equal(learned, selem) or np.array_equal(learned, selem[::-1, ::-1])


def same_elements(model, selem, identity_allowed: bool = False) -> bool:
    """Whether every term of every layer uses the target element (or its reflection).

    With ``identity_allowed`` (the top-hats, whose ideal network also carries the input through
    a branch), terms by the one-pixel element are skipped, but one term at least must use the
    target element.
    """
    terms = _terms(model)
    if identity_allowed:
        terms = [t for t in terms if t[2].sum() != 1 or not t[2][t[2].shape[0] // 2,
                                                                 t[2].shape[1] // 2]]
    return bool(terms) and all(_equal_up_to_reflection(t[2], selem) for t in terms)


def elements_found(model, selems) -> list[bool]:
    """For each element, whether some term of the learned operator uses it."""
    terms = _terms(model)
    return [any(_equal_up_to_reflection(t[2], s) for t in terms) for s in selems]


def _parse_param(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise SystemExit(f"--param expects NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--targets", nargs="*", default=list(TARGETS))
    parser.add_argument("--complement", choices=["auto", "always"], default="auto",
                        help="feed input complements for the top-hats only (auto) or always")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="an extra MorphologicalTransformer parameter for every model "
                             "(VALUE a Python literal, or a plain string), e.g. "
                             "--param finetune_epochs=0 --param hidden_outputs=binary")
    args = parser.parse_args()
    extra = dict(_parse_param(text) for text in args.param)
    if extra:
        print(f"# extra parameters: {extra}")
    images = make_diskorect(args.train + args.test, random_state=0)
    train, test = images[: args.train], images[args.train :]
    print(f"# diskorect 50x50, {args.train} training / {args.test} test images, "
          f"max {args.epochs} epochs, seed 0")
    print("| target | element | complements | float error | binarized error | exact neurons "
          "| same SEs | kept start | seconds |")
    print("|---|---|---|---:|---:|---:|---|---|---:|")
    for name in args.targets:
        operation, hidden, complement = TARGETS[name]
        complement = complement or args.complement == "always"
        for selem_name, selem in SELEMS.items():
            start = time.perf_counter()
            model = MorphologicalTransformer(
                hidden_channels=hidden, kernel_size=7, include_complement=complement,
                random_state=0, max_epochs=args.epochs, device="cpu", **extra,
            ).fit(train, operation(train, selem))
            target = operation(test, selem)
            binarized = model.score(test, target)
            model.set_params(inference="float")
            floating = model.score(test, target)
            report = model.binarization_report_
            print(
                f"| {name} | {selem_name} | {'yes' if complement else 'no'} "
                f"| {1 - floating:.3f} | {1 - binarized:.3f} "
                f"| {report['n_exact']}/{report['n_neurons']} "
                f"| {'yes' if same_elements(model, selem, 'tophat' in name) else 'no'} "
                f"| {', '.join(model.start_operations_)} "
                f"| {time.perf_counter() - start:.0f} |",
                flush=True,
            )
    noisy, clean = make_noisy_sticks(args.train + args.test, random_state=0)
    lines = [line(5, angle) for angle in (0, 45, 90)]
    ideal = np.logical_or.reduce([opening(noisy[args.train :], s) for s in lines])
    start = time.perf_counter()
    model = MorphologicalTransformer(hidden_channels=(3,), kernel_size=5, loss="mse",
                                     include_complement=args.complement == "always",
                                     random_state=0, max_epochs=args.epochs, device="cpu",
                                     **extra)
    model.fit(noisy[: args.train], clean[: args.train])

    ideal_dice = dice_scores(ideal, clean[args.train :]).mean()
    print(f"\nnoisy sticks ([1, 3, 1], 5x5): binarized Dice "
          f"{model.score(noisy[args.train:], clean[args.train:]):.4f}, ideal operator Dice "
          f"{ideal_dice:.4f}, line elements found (0, 45, 90 degrees) "
          f"{elements_found(model, lines)}, exact neurons {model.binarization_report_['n_exact']}/"
          f"{model.binarization_report_['n_neurons']}, "
          f"{time.perf_counter() - start:.0f} s")
    print(model.describe())


if __name__ == "__main__":
    main()
