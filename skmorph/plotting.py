"""Figures of learned structuring elements and of learned image operators (matplotlib, from the
``plot`` extra)."""

from __future__ import annotations

import numpy as np

__all__ = ["dense_supports", "first_layer_elements", "plot_selems", "plot_transform"]


def _pyplot():
    try:
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


def first_layer_elements(classifier) -> tuple[np.ndarray, np.ndarray]:
    """Elements of the first convolutional layer of a fitted ``BiMoNNClassifier`` on images.

    Returns ``(elements, operations)``: ``elements`` of shape ``(out_channels, kh, kw)``, +1
    where an output channel reads a pixel on a level set ("above a threshold"), -1 where it
    reads it only on a complement ("at or below"), 0 elsewhere (all input channels of the
    layer merged); ``operations`` the ``"erosion"``/``"dilation"`` of each channel's first
    term, as binarized. Elements are in the correlation convention of the layer (pixel
    offsets read relative to the output pixel).
    """
    from skmorph.binary import BinaryConv, Thresholds

    network = classifier.binarized_
    thresholds = next(layer for layer in network.layers if isinstance(layer, Thresholds))
    conv = next((layer for layer in network.layers if isinstance(layer, BinaryConv)), None)
    if conv is None:
        raise ValueError("the classifier has no convolutional layer: use dense_supports")
    n_bits = len(thresholds.feature_index)
    read = conv.selems & conv.active[:, :, None, None]
    elements = np.zeros((conv.out_channels, *conv.selems.shape[2:]), dtype=np.int8)
    if thresholds.complement:
        elements[read[:, n_bits:].any(axis=1)] = -1
    elements[read[:, :n_bits].any(axis=1)] = 1
    first = conv.active.argmax(axis=1)
    operations = conv.operations[np.arange(conv.out_channels), first]
    return elements, operations


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


def float_and_binarized_outputs(transformer, X) -> tuple[np.ndarray, np.ndarray]:
    """Outputs of a fitted ``MorphologicalTransformer`` run as the float torch network
    (thresholded at 1/2) and as the binarized operator, whatever its ``inference`` setting."""
    inference = transformer.inference
    try:
        transformer.set_params(inference="float")
        floating = transformer.transform(X)
        transformer.set_params(inference="binary")
        binarized = transformer.transform(X)
    finally:
        transformer.set_params(inference=inference)
    return floating, binarized


def plot_transform(transformer, X, Y=None, n_images: int = 3, channel: int = 0, path=None):
    """Compare the float network and the binarized operator of a ``MorphologicalTransformer``.

    One row per image: the input, the target (when ``Y`` is given), the float output
    (thresholded at 1/2), the binarized output, and the pixels where the two outputs differ;
    titles give the Dice of each output against the target.

    Parameters
    ----------
    transformer : fitted MorphologicalTransformer
    X : array-like of images, in a layout ``transformer.transform`` accepts
    Y : array-like of target images, optional
    n_images : int, default=3
        Number of images (rows) drawn, from the first.
    channel : int, default=0
        Channel drawn for multichannel images.
    path : str or Path, optional
        Where to save the figure (PNG); the figure is returned either way.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from skmorph.binary import dice_scores

    plt = _pyplot()
    X = np.asarray(X)[:n_images]
    floating, binarized = float_and_binarized_outputs(transformer, X)
    shape = transformer.input_shape_[1:]

    def image(array, index):
        array = np.asarray(array)[index]
        if array.ndim == 1:  # flat layout
            array = array.reshape(-1, *shape)
        return array[channel] if array.ndim == 3 else array

    columns = ["input", "target", "float", "binarized", "float != binarized"]
    if Y is None:
        columns.remove("target")
    else:
        Y = np.asarray(Y)[:n_images]
    figure, axes = plt.subplots(
        len(X), len(columns), figsize=(2 * len(columns), 2 * len(X)), squeeze=False
    )
    for row in range(len(X)):
        pictures = {"input": image(X, row), "float": image(floating, row),
                    "binarized": image(binarized, row)}
        pictures["float != binarized"] = pictures["float"] != pictures["binarized"]
        titles = dict(zip(columns, columns, strict=True))
        if Y is not None:
            pictures["target"] = image(Y, row).astype(bool)
            for name in ("float", "binarized"):
                dice = dice_scores(pictures[name][None], pictures["target"][None])[0]
                titles[name] = f"{name}, Dice {dice:.3f}"
        titles["float != binarized"] = f"differ: {int(pictures['float != binarized'].sum())} px"
        for ax, name in zip(axes[row], columns, strict=True):
            ax.imshow(pictures[name], cmap="gray_r" if name != columns[-1] else "Reds",
                      vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(titles[name], fontsize=7)
            ax.set_axis_off()
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=120)
    return figure
