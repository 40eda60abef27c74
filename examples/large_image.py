"""
Apply a learned operator to a large image
=========================================

A dilation is learned on small 50x50 images, then applied to a 2048x2048 image by the
bit-packed binarized network; the result is checked against :mod:`skmorph.morphology` with the
learned element and timed against the float torch network.

Run: ``python examples/large_image.py [--quick]``
"""

import argparse
import time

import matplotlib.pyplot as plt
import numpy as np

from skmorph import MorphologicalTransformer
from skmorph.datasets import make_diskorect
from skmorph.morphology import dilation, disk
from skmorph.plotting import plot_transform

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="small sizes (used by the tests)")
args = parser.parse_args()

# %%
# Learn on small images
# ---------------------
images = make_diskorect(60 if args.quick else 300, random_state=0)
model = MorphologicalTransformer(kernel_size=5, include_complement=False,
                                 max_epochs=10 if args.quick else 60, random_state=0)
model.fit(images, dilation(images, disk(2)))

# %%
# Apply to a large one
# --------------------
# The operator is fully convolutional: any image size. Binarized, it runs on packed bits.
size = 256 if args.quick else 2048
large = make_diskorect(1, size=size, random_state=1)
start = time.perf_counter()
output = model.transform(large)
binary_seconds = time.perf_counter() - start
model.set_params(inference="float")
start = time.perf_counter()
model.transform(large)
float_seconds = time.perf_counter() - start
model.set_params(inference="binary")
print(f"{size}x{size} image: binarized {binary_seconds * 1e3:.1f} ms, float torch "
      f"{float_seconds * 1e3:.1f} ms")

(layer,) = model.learned_operations()
((_, operation, selem, _),) = layer[0]["terms"]
if operation == "dilation":
    print(f"identical to skmorph.morphology.dilation with the learned element: "
          f"{np.array_equal(output, dilation(large, selem))}")

# %%
# A crop: float network and binarized operator
# --------------------------------------------
crop = large[:, :96, :96]
plot_transform(model, crop, dilation(crop, disk(2)), n_images=1)
plt.show()
