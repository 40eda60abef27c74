"""Binarized networks: NumPy only, bit-packed, torch-free (see BinarizedNetwork)."""
