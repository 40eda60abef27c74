"""Why BiMoNNClassifier departs from the paper's setup: binarized digits accuracy of both.

Run: python benchmarks/compare_classifier_defaults.py

The "paper" setup is the paper's dense initialization, no input complements and the float head
kept as trained (init_support_size=None, include_complement=False, refit_head=False); the
digits split is 75/25, stratified, seed 0.
"""

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skmorph import BiMoNNClassifier

X, y = load_digits(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
paper = dict(init_support_size=None, include_complement=False, refit_head=False)
for extra in [{}, {"regularization": "constant_exact"},
              {"regularization": "activable", "regularization_update_every": 10}]:
    m = BiMoNNClassifier(random_state=0, **paper, **extra).fit(Xtr, ytr)
    print(extra, f"binarized {m.score(Xte, yte):.4f}")
m = BiMoNNClassifier(random_state=0).fit(Xtr, ytr)
print("defaults", f"binarized {m.score(Xte, yte):.4f}")
