"""Try MorphologicalTransformer settings on Diskorect targets (developer script).

Run: python benchmarks/explore_transformer.py opening:stick,closing \
         "dict(include_complement=False, init=('erosion', 'dilation'))"

The first argument lists ``target[:element]`` pairs (targets: dilation, erosion, opening,
closing, white_tophat, black_tophat; elements: disk (radius 3, the default), stick (horizontal,
length 7), cross (7x7 diagonal)); each further argument is a ``dict(...)`` of parameters
(evaluated with nothing but ``dict`` in scope). The hidden channels are those of
``bench_operator_learning.py`` unless given. Data: the benchmark's split (600 training and 200
test images of 50x50, seed 0). Prints float and binarized error (1 - Dice) on the test images,
the kept start, every restart's binarized training Dice, and the scale ``p`` of each layer's
BiSEs.
"""

from __future__ import annotations

import sys
import time

from bench_operator_learning import SELEMS, TARGETS

from skmorph import MorphologicalTransformer
from skmorph.datasets import make_diskorect

ELEMENTS = dict(zip(("disk", "stick", "cross"), SELEMS.values(), strict=True))


def main() -> None:
    images = make_diskorect(800, random_state=0)
    train, test = images[:600], images[600:]
    for text in sys.argv[2:]:
        params = eval(text, {"__builtins__": {}}, {"dict": dict})  # a dict(...) literal
        for pair in sys.argv[1].split(","):
            name, _, element = pair.partition(":")
            operation, hidden, _ = TARGETS[name]
            selem = ELEMENTS[element or "disk"]
            start = time.perf_counter()
            options = {"hidden_channels": hidden, "kernel_size": 7, "random_state": 0,
                       "device": "cpu", **params}
            model = MorphologicalTransformer(**options).fit(train, operation(train, selem))
            binarized = model.score(test, operation(test, selem))
            model.set_params(inference="float")
            floating = model.score(test, operation(test, selem))
            scales = [round(float(layer.bises.scale().detach().min()), 3)
                      for layer in model.network_.conv_layers]
            print(f"{name}:{element or 'disk'} {params}: float error {1 - floating:.3f}, "
                  f"binarized error {1 - binarized:.3f}, kept start {model.start_operations_}, "
                  f"restart scores {[round(s, 3) for s in model.init_scores_]}, "
                  f"smallest p per layer {scales}, {len(model.history_)} epochs, "
                  f"{time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
