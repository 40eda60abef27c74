"""
Tune the regularization weight for the best binarized accuracy
==============================================================

``BiMoNNClassifier.score`` uses the binarized predictor by default, so a ``GridSearchCV`` over
``regularization_weight`` ranks the weights by what will be deployed, not by the float network.

Run: ``python examples/grid_search_lambda.py [--quick]``
"""

import argparse

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skmorph import BiMoNNClassifier

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="small sizes (used by the tests)")
args = parser.parse_args()

# %%
# The search
# ----------
# The estimator sits in a pipeline like any scikit-learn classifier; the parameter is
# addressed by the step's name.
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                    stratify=y)
pipeline = make_pipeline(
    MinMaxScaler(),
    BiMoNNClassifier(regularization="activable", regularization_update_every=10,
                     hidden_layer_sizes=(64,) if args.quick else (256,),
                     max_epochs=10 if args.quick else 60, random_state=0),
)
weights = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]
search = GridSearchCV(pipeline, {"bimonnclassifier__regularization_weight": weights},
                      cv=2 if args.quick else 3, n_jobs=2)
search.fit(X_train, y_train)
scores = search.cv_results_["mean_test_score"]
for weight, score in zip(weights, scores, strict=True):
    print(f"lambda = {weight:g}: mean binarized validation accuracy {score:.4f}")
print(f"best: {search.best_params_}, binarized test accuracy "
      f"{search.score(X_test, y_test):.4f}")

# %%
# Binarized accuracy against the regularization weight
# ----------------------------------------------------
figure, ax = plt.subplots(figsize=(5, 3))
ax.errorbar(weights, scores, yerr=search.cv_results_["std_test_score"], marker="o")
ax.set_xscale("log")
ax.set_xlabel("regularization_weight (lambda)")
ax.set_ylabel("binarized validation accuracy")
ax.axvline(search.best_params_["bimonnclassifier__regularization_weight"], color="gray",
           linestyle=":", label="best")
ax.legend()
figure.tight_layout()
plt.show()
