"""Reproduce the operator-learning experiments of the BiMoNN papers with MorphologicalTransformer.

Run: python benchmarks/bench_operator_learning.py [--train 1000] [--test 200] [--epochs 60]
     [--seeds 0 1 2] [--targets ...] [--param NAME=VALUE ...]

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
import re
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
# elements that no constructor of skmorph.morphology makes (so not in the program search's
# dictionary): what gradient descent and the polish must find on their own (--elements)
OTHER_SELEMS = {
    "irregular(7)": np.array([[0, 0, 1, 1, 0, 0, 0],
                              [0, 1, 1, 1, 1, 0, 0],
                              [0, 1, 1, 1, 1, 1, 0],
                              [1, 1, 1, 1, 1, 1, 0],
                              [0, 0, 1, 1, 1, 1, 1],
                              [0, 0, 0, 1, 1, 1, 0],
                              [0, 0, 0, 0, 1, 0, 0]], bool),
    "L(5)": np.pad(np.array([[1, 0, 0, 0, 0], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0],
                             [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], bool), 1),
}


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


def _formula(model, limit: int = 60) -> str:
    """The learned formula, shortened; elements drawn row by row are summarized."""
    (formula,) = model.formula()
    formula = re.sub(r"\[[.#/]+\]", "[drawn]", formula)
    return formula if len(formula) <= limit else formula[: limit - 3] + "..."


def _parse_param(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise SystemExit(f"--param expects NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def _fit(train, target, seed, args, extra, **params):
    start = time.perf_counter()
    model = MorphologicalTransformer(random_state=seed, max_epochs=args.epochs, device="cpu",
                                     **{**params, **extra})
    model.fit(train, target)
    return model, time.perf_counter() - start


def _cells(values) -> str:
    """One cell for several seeds: the values joined (a single value for one seed)."""
    return " · ".join(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--targets", nargs="*", default=list(TARGETS))
    parser.add_argument("--elements", nargs="*", default=list(SELEMS),
                        choices=[*SELEMS, *OTHER_SELEMS],
                        help="structuring elements of the Diskorect rows")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="random_state of the models; each row is trained once per seed "
                             "(the images stay those of seed 0)")
    parser.add_argument("--no-sticks", action="store_true", help="skip the noisy sticks")
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
          f"max {args.epochs} epochs, model seeds {args.seeds} (cells: one value per seed)")
    print("| target | element | complements | float error | binarized error | exact neurons "
          "| same SEs | kept start | seconds | formula |")
    print("|---|---|---|---:|---:|---:|---|---|---:|---|")
    for name in args.targets:
        operation, hidden, complement = TARGETS[name]
        complement = complement or args.complement == "always"
        for selem_name in args.elements:
            selem = {**SELEMS, **OTHER_SELEMS}[selem_name]
            target = operation(test, selem)
            cells = {key: [] for key in ("float", "binarized", "exact", "same", "start", "time",
                                         "formula")}
            for seed in args.seeds:
                model, seconds = _fit(train, operation(train, selem), seed, args, extra,
                                      hidden_channels=hidden, kernel_size=7,
                                      include_complement=complement)
                binarized = model.score(test, target)
                floating = model.set_params(inference="float").score(test, target)
                report = model.binarization_report_
                same = same_elements(model, selem, "tophat" in name)
                cells["float"].append(f"{1 - floating:.3f}")
                cells["binarized"].append(f"{1 - binarized:.3f}")
                cells["exact"].append(f"{report['n_exact']}/{report['n_neurons']}")
                cells["same"].append("yes" if same else "no")
                start = model.start_operations_
                cells["start"].append(start if isinstance(start, str) else ", ".join(start))
                cells["time"].append(f"{seconds:.0f}")
                cells["formula"].append(_formula(model))
            print(f"| {name} | {selem_name} | {'yes' if complement else 'no'} | "
                  + " | ".join(_cells(values) for values in cells.values()) + " |", flush=True)
    if not args.no_sticks:
        noisy_sticks(args, extra)


def noisy_sticks(args, extra) -> None:
    noisy, clean = make_noisy_sticks(args.train + args.test, random_state=0)
    lines = [line(5, angle) for angle in (0, 45, 90)]
    ideal = np.logical_or.reduce([opening(noisy[args.train :], s) for s in lines])
    ideal_dice = dice_scores(ideal, clean[args.train :]).mean()
    print(f"\nnoisy sticks ([1, 3, 1], 5x5), ideal operator Dice {ideal_dice:.4f}:")
    for seed in args.seeds:
        model, seconds = _fit(noisy[: args.train], clean[: args.train], seed, args, extra,
                              hidden_channels=(3,), kernel_size=5, loss="mse",
                              include_complement=args.complement == "always")
        report = model.binarization_report_
        print(f"seed {seed}: binarized Dice "
              f"{model.score(noisy[args.train:], clean[args.train:]):.4f}, line elements found "
              f"(0, 45, 90 degrees) {elements_found(model, lines)}, exact neurons "
              f"{report['n_exact']}/{report['n_neurons']}, {seconds:.0f} s; "
              f"{_formula(model, 200)}", flush=True)
        if len(args.seeds) == 1:
            print(model.describe())


if __name__ == "__main__":
    main()
