"""
Tune a MorphologicalTransformer, and read the operator it learned
=================================================================

The target is a white top-hat (the thin parts of the shapes: ``X AND NOT opening(X, disk(2))``)
of Diskorect images. ``GridSearchCV`` scores the *binarized* operator (mean Dice), so the
regularization weight it picks is the best for what will be deployed; the best estimator then
says, as a formula, which operator it learned.

Run: ``python examples/grid_search_transformer.py [--quick]``
"""

import argparse

import matplotlib.pyplot as plt
from sklearn.model_selection import GridSearchCV

from skmorph import MorphologicalTransformer
from skmorph.datasets import make_diskorect
from skmorph.morphology import disk, white_tophat
from skmorph.plotting import plot_transform

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="small sizes (used by the tests)")
args = parser.parse_args()

# %%
# The search
# ----------
images = make_diskorect(60 if args.quick else 300, size=32 if args.quick else 50,
                        random_state=0)
targets = white_tophat(images, disk(2))
model = MorphologicalTransformer(
    hidden_channels=(2,), kernel_size=5, regularization="activable",
    max_epochs=5 if args.quick else 60, random_state=0,
)
search = GridSearchCV(model, {"regularization_weight": [1e-3, 1e-2, 1e-1]}, cv=3)
search.fit(images, targets)

print("binarized Dice per regularization weight (mean over the 3 folds):")
for weight, score in zip(search.cv_results_["param_regularization_weight"],
                         search.cv_results_["mean_test_score"], strict=True):
    print(f"  {weight:g}: {score:.4f}")

# %%
# The operator found
# ------------------
# ``formula`` names the binarized operator in :mod:`skmorph.morphology`'s terms; the panels
# compare it with the float network on new, larger images.
best = search.best_estimator_
held_out = make_diskorect(20, size=64, random_state=1)
held_out_targets = white_tophat(held_out, disk(2))
print(f"best weight {search.best_params_['regularization_weight']:g}; held-out Dice "
      f"{best.score(held_out, held_out_targets):.4f}")
print(f"learned operator: {best.formula()[0]}")
print(f"exactly binarized: {best.binarization_report_['exact_network']}")
plot_transform(best, held_out, held_out_targets, n_images=2)
plt.show()
