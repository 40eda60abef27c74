"""Are the top-hats representable and stable? Start the benchmark's top-hat network at the ideal.

Run: python benchmarks/ideal_tophat.py [--epochs 30]

The ``hidden_channels=(2,)`` network with input complements of ``bench_operator_learning.py``
can compute a top-hat exactly: white top-hat = X AND erosion(dilation(complement of X)) (the
complement of the opening), black top-hat = (complement of X) AND erosion(dilation(X)) (the
closing). Layer 1: a dilation by the element of one input channel and the identity (the
one-pixel element) of the other, each selected by its LUI; layer 2: an erosion by the element
and the identity, intersected. This script sets the BiSEs and LUIs to that operator (activated
starts with given elements, ``MorphologicalNeurons.reset_parameters(selem=...)``), reports the
float and binarized Dice on the benchmark's held-out images, then trains from there with the
estimator's settings (``warm_start``) and reports again: if the Dice stays at 1, the operator is
a stable point of training, and what the benchmark misses is finding it.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from bench_operator_learning import SELEMS, TARGETS

from skmorph import MorphologicalTransformer
from skmorph.datasets import make_diskorect
from skmorph.morphology import pad_selem


def set_neurons(bank, specs, generator) -> None:
    """Start each neuron of ``bank`` as the activated ``(element, operation)`` of ``specs``."""
    elements = torch.stack([torch.as_tensor(np.ravel(e), dtype=torch.bool) for e, _ in specs])
    states = {}
    for operation in ("erosion", "dilation"):
        bank.reset_parameters(0.5, generator, selem=elements, operation=operation)
        states[operation] = {k: v.clone() for k, v in bank.state_dict().items()}
    bank.load_state_dict({
        key: torch.stack([states[op][key][i] for i, (_, op) in enumerate(specs)])
        for key in states["erosion"]
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    images = make_diskorect(800, random_state=0)
    train, test = images[:600], images[600:]
    center = pad_selem(np.ones((1, 1), bool), (7, 7))
    generator = torch.Generator().manual_seed(0)
    for name in ("white_tophat", "black_tophat"):
        operation = TARGETS[name][0]
        for selem_name, selem in SELEMS.items():
            element = pad_selem(selem, (7, 7))
            model = MorphologicalTransformer(
                hidden_channels=(2,), kernel_size=7, random_state=0, device="cpu",
                init="reference", max_epochs=1, finetune_epochs=0,
            ).fit(train[:8], operation(train[:8], selem))  # builds the network
            first, second = model.network_.conv_layers
            # input channels: 0 = X, 1 = complement; dilate the complement (white) or X (black)
            dilated, kept = (1, 0) if name == "white_tophat" else (0, 1)
            one = np.zeros(2, bool)
            # BiSE (i, j) is neuron i * 2 + j; output 0 = the dilation, output 1 = the identity
            bises = [None] * 4
            bises[dilated * 2 + 0] = (element, "dilation")
            bises[kept * 2 + 1] = (center, "dilation")
            bises[kept * 2 + 0] = bises[dilated * 2 + 1] = (center, "dilation")  # not read
            set_neurons(first.bises, bises, generator)
            set_neurons(first.luis, [(np.eye(2, dtype=bool)[dilated], "dilation"),
                                     (np.eye(2, dtype=bool)[kept], "dilation")], generator)
            set_neurons(second.bises, [(element, "erosion"), (center, "erosion")], generator)
            set_neurons(second.luis, [(~one, "erosion")], generator)
            target = operation(test, selem)
            scores = []
            for epochs in (0, args.epochs):
                if epochs:
                    model.set_params(warm_start=True, max_epochs=epochs).fit(
                        train, operation(train, selem))
                else:
                    model.binarized_, model.binarization_report_ = model.binarize(
                        "activable", return_report=True)
                binarized = model.score(test, target)
                model.set_params(inference="float")
                scores.append((model.score(test, target), binarized))
                model.set_params(inference="binary")
            (f0, b0), (f1, b1) = scores
            print(f"{name} by {selem_name}: ideal start float Dice {f0:.4f}, binarized {b0:.4f};"
                  f" after {args.epochs} more epochs float {f1:.4f}, binarized {b1:.4f}",
                  flush=True)


if __name__ == "__main__":
    main()
