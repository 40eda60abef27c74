"""Datasets: synthetic image generators (NumPy only)."""

from skmorph.datasets.synthetic import make_diskorect, make_noisy_sticks

__all__ = ["make_diskorect", "make_noisy_sticks"]
