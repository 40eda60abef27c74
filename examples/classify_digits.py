"""
Classify digits and ship the binarized predictor
================================================

A :class:`~skmorph.BiMoNNClassifier` learns the digits; its ``binarized_`` predictor, the network
in bit operations, is what ``score`` and ``predict`` use, and it pickles into a file that loads
and runs with NumPy only (no torch needed to load or run it).

Run: ``python examples/classify_digits.py [--quick]``
"""

import argparse
import pickle
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skmorph import BiMoNNClassifier
from skmorph.plotting import dense_supports, plot_selems

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="small sizes (used by the tests)")
args = parser.parse_args()

# %%
# Train, binarize, score
# ----------------------
# ``fit`` trains the float network with torch, then binarizes it; ``score`` measures the
# binarized predictor (``inference="binary"``, the default).
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                    stratify=y)
model = BiMoNNClassifier(hidden_layer_sizes=(64,) if args.quick else (512,),
                         max_epochs=5 if args.quick else 60, random_state=0)
model.fit(X_train, y_train)
print(f"binarized test accuracy: {model.score(X_test, y_test):.4f}")
print(model.binarized_.summary())

# %%
# Ship the predictor
# ------------------
# The pickle holds NumPy arrays of packed bits and indices: unpickling it imports no torch.
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "digits_binarized.pkl"
    path.write_bytes(pickle.dumps(model.binarized_))
    shipped = pickle.loads(path.read_bytes())
    print(f"pickle: {path.stat().st_size} bytes")
print(f"the unpickled predictor agrees: {(shipped.predict(X_test) == model.predict(X_test)).all()}")

# %%
# What the hidden units read
# --------------------------
# Each binarized hidden unit is an OR or an AND over a set of input bits: a pixel above a
# threshold (blue) or at or below it (red, the input complements).
supports = dense_supports(model)[:16]
plot_selems([unit.reshape(8, 8) for unit in supports],
            titles=[f"unit {index}" for index in range(len(supports))],
            suptitle="pixels read by the first 16 hidden units")
plt.show()
