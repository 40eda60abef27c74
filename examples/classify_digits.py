"""Classify digits with a BiMoNN and ship the binarized predictor as a pickle.

The pickled ``binarized_`` predictor runs with NumPy only (no torch needed to load or run it).
The pixels read by the first hidden units are drawn in ``digits_units.png`` (blue: pixel on,
red: pixel off).

Run: python examples/classify_digits.py [--quick]
"""

import argparse
import pickle

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skmorph import BiMoNNClassifier

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="small sizes (used by the tests)")
args = parser.parse_args()

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                    stratify=y)
model = BiMoNNClassifier(hidden_layer_sizes=(64,) if args.quick else (512,),
                         max_epochs=5 if args.quick else 60, random_state=0)
model.fit(X_train, y_train)
print(f"binarized test accuracy: {model.score(X_test, y_test):.4f}")
print(model.binarized_.summary())

with open("digits_binarized.pkl", "wb") as file:
    pickle.dump(model.binarized_, file)
with open("digits_binarized.pkl", "rb") as file:
    shipped = pickle.load(file)
print(f"the unpickled predictor agrees: {(shipped.predict(X_test) == model.predict(X_test)).all()}")

try:
    from skmorph.plotting import dense_supports, plot_selems

    supports = dense_supports(model)[:16]
    plot_selems([unit.reshape(8, 8) for unit in supports],
                titles=[f"unit {index}" for index in range(len(supports))],
                path="digits_units.png", suptitle="pixels read by the first 16 hidden units")
    print("units drawn in digits_units.png")
except ImportError:
    print("install matplotlib to draw the units")
