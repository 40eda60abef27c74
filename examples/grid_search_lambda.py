"""Tune the regularization weight for the best *binarized* accuracy with GridSearchCV.

``BiMoNNClassifier.score`` uses the binarized predictor by default, so the search ranks the
regularization weights by what will be deployed.

Run: python examples/grid_search_lambda.py [--quick]
"""

import argparse

from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skmorph import BiMoNNClassifier

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="small sizes (used by the tests)")
args = parser.parse_args()

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                    stratify=y)
pipeline = make_pipeline(
    MinMaxScaler(),
    BiMoNNClassifier(regularization="activable", regularization_update_every=10,
                     hidden_layer_sizes=(32,) if args.quick else (256,),
                     max_epochs=3 if args.quick else 60, random_state=0),
)
search = GridSearchCV(pipeline, {"bimonnclassifier__regularization_weight": [1e-3, 1e-2]},
                      cv=2 if args.quick else 3, n_jobs=2)
search.fit(X_train, y_train)
for weight, score in zip(search.cv_results_["param_bimonnclassifier__regularization_weight"],
                         search.cv_results_["mean_test_score"], strict=True):
    print(f"lambda = {weight:g}: mean binarized validation accuracy {score:.4f}")
print(f"best: {search.best_params_}, binarized test accuracy {search.score(X_test, y_test):.4f}")
