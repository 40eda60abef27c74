"""Datasets: synthetic image generators and IDX readers (NumPy only, nothing downloaded)."""

from skmorph.datasets.idx import load_idx, load_mnist
from skmorph.datasets.synthetic import make_diskorect, make_noisy_sticks

__all__ = ["load_idx", "load_mnist", "make_diskorect", "make_noisy_sticks"]
