"""
Classify images with the convolutional BiMoNN
=============================================

``BiMoNNClassifier(input_shape=...)`` builds the convolutional network on its own: level sets
of the gray images, three layers of learned erosions/dilations with 2x2 OR pooling, a float
head on the pooled binary maps of every layer, refitted on the maps the binarized layers
produce. It learns the labels and what a float CNN of its shape, trained first, makes of the
images. Everything before the head runs as bit operations once binarized.

Run: ``python examples/classify_images.py [--quick]``, or
``python examples/classify_images.py --data /usr/share/datasets/fashion-mnist``.
The default data are scikit-learn's digits (8x8, embedded); ``--data`` takes a folder with the
four IDX files of MNIST or Fashion-MNIST (28x28, e.g. Debian's ``dataset-fashion-mnist``).
"""

import argparse
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skmorph import BiMoNNClassifier
from skmorph.plotting import first_layer_elements, plot_selems

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="small sizes (used by the tests)")
parser.add_argument("--data", help="folder with the IDX files of (Fashion-)MNIST")
args = parser.parse_args()

# %%
# Data and budget
# ---------------
if args.data:
    from skmorph.datasets import load_mnist

    images, y_train = load_mnist(args.data, "train")
    test_images, y_test = load_mnist(args.data, "test")
    X_train = images.reshape(len(images), -1) / 255
    X_test = test_images.reshape(len(test_images), -1) / 255
    shape, budget = (28, 28), {"max_epochs": 8, "batch_size": 128}
else:
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    shape, budget = (8, 8), {"max_epochs": 60}
if args.quick:
    X_train, y_train = X_train[:400], y_train[:400]
    budget = {"max_epochs": 3}

# %%
# Train and binarize
# ------------------
# The convolutional layers train on the gray images' level sets; the binarization report
# says how many neurons were exact on their own.
model = BiMoNNClassifier(input_shape=shape, random_state=0, **budget)
start = time.perf_counter()
model.fit(X_train, y_train)
print(f"trained in {time.perf_counter() - start:.0f} s")
print(f"binarized test accuracy: {model.score(X_test, y_test):.4f}")
report = model.binarization_report_
print(f"{report['n_exact']} of {report['n_neurons']} neurons activated (exact on their own); "
      f"the rest binarized as the network was trained: train agreement "
      f"{report['train_agreement']:.4f}")
print(model.binarized_.summary().splitlines()[0])

# %%
# What the first layer learned
# ----------------------------
# Each output channel of the first layer is one erosion or dilation; its element is drawn
# over the pixels it reads: blue on a level set ("pixel above a threshold"), red on a
# complement ("pixel at or below").
elements, operations = first_layer_elements(model)
count = min(16, len(elements))
plot_selems(list(elements[:count]), titles=[f"{i}: {operations[i][:3]}" for i in range(count)],
            suptitle="first layer: elements of 16 output channels")
print("channels that erode vs dilate: "
      f"{np.sum(operations == 'erosion')} vs {np.sum(operations == 'dilation')}")
plt.show()
