"""Figures of learned structuring elements (matplotlib, from the ``plot`` extra)."""

from __future__ import annotations

import numpy as np

__all__ = ["dense_supports", "plot_selems"]


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "skmorph.plotting needs matplotlib: pip install 'skmorph[plot]'"
        ) from error
    return plt


def dense_supports(classifier, layer: int = 0) -> np.ndarray:
    """Supports of the first binarized dense layer of a fitted ``BiMoNNClassifier``, per feature.

    Returns an array ``(n_units, n_features)``: +1 where a unit reads a bit "feature above one
    of its thresholds", -1 where it reads a complement bit ("feature at or below"), 0 where it
    reads neither (+1 wins when both are read). Reshape rows to the image shape to see them as
    structuring elements over pixels.
    """
    from skmorph.binary import BinaryDense, Thresholds

    network = classifier.binarized_
    thresholds = next(layer for layer in network.layers if isinstance(layer, Thresholds))
    dense = [layer for layer in network.layers if isinstance(layer, BinaryDense)][layer]
    features = thresholds.feature_index
    n_bits = len(features)
    supports = dense.supports
    out = np.zeros((dense.n_units, thresholds.thresholds.shape[0]), dtype=np.int8)
    if thresholds.complement:
        below = supports[:, n_bits:]
        for bit in np.flatnonzero(below.any(axis=0)):
            out[below[:, bit], features[bit]] = -1
    above = supports[:, :n_bits]
    for bit in np.flatnonzero(above.any(axis=0)):
        out[above[:, bit], features[bit]] = 1
    return out


def plot_selems(selems, titles=None, ncols: int = 8, path=None, suptitle=None):
    """Draw structuring elements (2-D arrays; boolean, or -1/0/+1) in a grid.

    Parameters
    ----------
    selems : sequence of 2-D arrays
    titles : sequence of str, optional
    ncols : int, default=8
    path : str or Path, optional
        Where to save the figure (PNG); the figure is returned either way.
    suptitle : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    selems = [np.asarray(s, dtype=float) for s in selems]
    nrows = max(1, -(-len(selems) // ncols))
    figure, axes = plt.subplots(nrows, ncols, figsize=(1.4 * ncols, 1.5 * nrows), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index < len(selems):
            ax.imshow(selems[index], cmap="coolwarm_r", vmin=-1, vmax=1, interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[index], fontsize=7)
    if suptitle:
        figure.suptitle(suptitle, fontsize=9)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=120)
    return figure
