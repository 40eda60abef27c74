"""Try MorphologicalTransformer settings on a few Diskorect targets (disk of radius 3).

Run: python benchmarks/explore_transformer.py erosion,opening,white_tophat \
         "dict(include_complement=False, regularization='activable', regularization_weight=1e-2)"

Each further argument is a ``dict(...)`` of parameters (evaluated with nothing but ``dict`` in
scope; this is a developer script); 400 training and 100 test
images of 50x50, seed 0. Prints float and binarized error (1 - Dice) on the test images.
"""

from __future__ import annotations

import sys
import time

from skmorph import MorphologicalTransformer
from skmorph.datasets import make_diskorect
from skmorph.morphology import closing, disk, erosion, opening, white_tophat

TARGETS = {
    "erosion": (erosion, ()),
    "opening": (opening, (1,)),
    "closing": (closing, (1,)),
    "white_tophat": (white_tophat, (2,)),
}


def main() -> None:
    images = make_diskorect(500, random_state=0)
    train, test = images[:400], images[400:]
    selem = disk(3)
    for text in sys.argv[2:]:
        params = eval(text, {"__builtins__": {}}, {"dict": dict})  # a dict(...) literal
        for name in sys.argv[1].split(","):
            operation, hidden = TARGETS[name]
            start = time.perf_counter()
            model = MorphologicalTransformer(hidden_channels=hidden, kernel_size=7,
                                             random_state=0, device="cpu", **params)
            model.fit(train, operation(train, selem))
            binarized = model.score(test, operation(test, selem))
            model.set_params(inference="float")
            floating = model.score(test, operation(test, selem))
            print(f"{name} {params}: float error {1 - floating:.3f}, binarized error "
                  f"{1 - binarized:.3f}, {len(model.history_)} epochs, "
                  f"{time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
