"""
Learn an opening and read its structuring elements
==================================================

A two-layer :class:`~skmorph.MorphologicalTransformer` is trained on random binary images and
their opening by a 3x3 cross; it prints the learned operator (an erosion, then a dilation, with
the elements drawn in ASCII, and whether each neuron was binarized exactly). Random images show
every local pattern, so the data pin the element down; on smooth shapes (Diskorect) several
elements explain the pairs almost equally well.

Run: ``python examples/learn_opening.py [--quick]``
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np

from skmorph import MorphologicalTransformer
from skmorph.morphology import cross, opening
from skmorph.plotting import plot_selems, plot_transform

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="small sizes (used by the tests)")
args = parser.parse_args()

# %%
# Train on pairs
# --------------
rng = np.random.default_rng(0)
selem = cross(3)
images = rng.random((60 if args.quick else 300, 24, 24)) < 0.7
model = MorphologicalTransformer(
    hidden_channels=(1,), kernel_size=3, include_complement=False,
    max_epochs=10 if args.quick else 100, random_state=0,
)
model.fit(images, opening(images, selem))

test = rng.random((20, 64, 64)) < 0.7  # larger images: the operator is fully convolutional
print(f"Dice of the binarized operator on new images: "
      f"{model.score(test, opening(test, selem)):.4f}")
print(model.describe())

# %%
# The learned elements
# --------------------
terms = [t for layer in model.learned_operations() for out in layer for t in out["terms"]]
plot_selems([t[2] for t in terms], titles=[t[1] for t in terms], ncols=len(terms),
            suptitle="learned elements (target: 3x3 cross)")

# %%
# Float network and binarized operator on new images
# --------------------------------------------------
plot_transform(model, test[:, :24, :24], opening(test, selem)[:, :24, :24])
plt.show()
