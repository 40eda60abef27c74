"""MorphologicalTransformer: learn a binary image-to-image morphological operator from pairs."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted

from skmorph._validation import check_binary_array, check_finite
from skmorph.binary import BinaryConv, Thresholds, dice_scores
from skmorph.binary.layers import describe_operations
from skmorph.estimators._base import BiMoNNBase, as_float_tensor, check_choice, check_number
from skmorph.morphology.activation import DILATION, EROSION
from skmorph.nn import build_network, torch_threads
from skmorph.nn.networks import HIDDEN_OUTPUTS, START_ELEMENTS
from skmorph.preprocessing import learn_thresholds

__all__ = ["MorphologicalTransformer", "start_patterns"]

LOSSES = ("bce", "mse", "dice")
INITS = ("activated", "reference")
OPERATIONS = (EROSION, DILATION)


def start_patterns(n_layers: int, n_patterns: int) -> list[tuple[str, ...]]:
    """The operations each BiSEL layer starts as, for ``n_patterns`` restarts.

    The two alternating patterns come first (erosion then dilation, as in an opening; dilation
    then erosion, as in a closing), then the other ``2 ** n_layers - 2`` in binary order; the
    list cycles when more restarts are asked for.
    """
    alternating = [tuple(OPERATIONS[(layer + first) % 2] for layer in range(n_layers))
                   for first in (0, 1)]
    others = [
        tuple(OPERATIONS[(code >> (n_layers - 1 - layer)) & 1] for layer in range(n_layers))
        for code in range(2**n_layers)
    ]
    ordered = list(dict.fromkeys(alternating + others))
    return [ordered[index % len(ordered)] for index in range(n_patterns)]


def _soft_dice_loss(outputs, targets):
    dims = tuple(range(1, outputs.dim()))
    overlap = (outputs * targets).sum(dims)
    total = outputs.sum(dims) + targets.sum(dims)
    return (1 - (2 * overlap + 1) / (total + 1)).mean()


# "bce" is computed from the logits of the last layer (see _training_options): an output
# saturated on the wrong side then still has a gradient, which clamped probabilities lose
_LOSS_FUNCTIONS = {
    "bce": F.binary_cross_entropy_with_logits,
    "mse": F.mse_loss,
    "dice": _soft_dice_loss,
}


class MorphologicalTransformer(TransformerMixin, BiMoNNBase):
    """Learn a binary morphological operator from example pairs (spec sections 6, 7.1-7.2).

    A network of BiSEL layers (erosions/dilations per channel pair, then unions/intersections of
    channels) is trained with torch to map the images ``X`` to the images ``Y``; after training
    it is binarized (exactly where the neurons are activated, by the closest morphological
    operator elsewhere) into :attr:`binarized_`, which ``transform`` runs on bit-packed images.
    The network is fully convolutional: it applies to images of any size.

    Parameters
    ----------
    hidden_channels : tuple of int, default=()
        Channels of the hidden BiSEL layers: ``()`` for one layer (an erosion or dilation),
        ``(1,)`` for two (an opening or closing), ``(3,)`` for the noisy-sticks network.
    kernel_size : int or tuple of int, default=7
        Odd kernel size of every layer, or one per layer.
    padding : {"replicate", "zeros"}, default="zeros"
        Pixels outside the image during training and in the binarized operator (``"zeros"``
        matches ``skmorph.morphology``'s and ``scipy.ndimage``'s default border).
    image_shape : tuple of int, optional
        ``(H, W)`` or ``(C, H, W)`` when ``X`` and ``Y`` are given as flat 2-D arrays.
    init : {"activated", "reference"} or sequence of {"erosion", "dilation"}, \
default="activated"
        How the BiSEs start. ``"activated"``: as exact erosions or dilations by their whole
        window (by random sub-windows in layers with several BiSEs, so that they differ), one
        operation per layer, which changes from one restart to the next (see ``n_init``);
        gradient descent then removes what the target's elements do not contain.
        ``"reference"``: the spec's initialization, every BiSE halfway between an erosion and a
        dilation (on correlated images such as Diskorect this start tends to end as a blur
        followed by a threshold instead of a morphological operator). A sequence (one operation
        per layer, e.g. ``("erosion", "dilation")`` for an opening): start activated from that
        pattern only. LUIs always start halfway.
    n_init : int or "auto", default="auto"
        Number of trainings from different starts; the one whose *binarized* operator scores
        best (mean Dice) on the training images, or on the validation images with
        ``early_stopping``, is kept. With ``init="activated"`` the restarts run through the
        starting patterns of
        :func:`skmorph.estimators.transformer.start_patterns` (erosion/dilation per layer); with
        ``"reference"`` they differ by their random draws. ``"auto"``: every pattern, at most
        4, with ``"activated"`` (2 for one layer, 4 for two or more); 1 with ``"reference"`` or
        a given pattern (restarts from a given pattern differ by their random draws).
    start_elements : {"subwindows", "pairs"}, default="subwindows"
        With ``init="activated"`` (or a pattern), the elements the BiSEs of a layer with
        several of them start on: random sub-windows of about a fifth of the window, or
        ``"pairs"``, the centre pixel and one 8-neighbour, the BiSEs of the layer taking the
        four line directions in a random order. Use ``"pairs"`` for thin structures: their
        erosions by larger random elements are empty everywhere, so sub-windows start the
        noisy-sticks network saturated (no line found), where pairs find the line elements
        (see ``benchmarks/README.md``). A layer with one BiSE starts on its whole window
        either way.
    include_complement : bool, default=True
        Feed the complement of each input channel too, so that non-increasing operators such as
        top-hats can be represented (spec section 6).
    level_sets : int or None, default=None
        ``None``: ``X`` must be binary. An int: ``X`` may be gray; each channel is decomposed
        into that many level sets ``X > t`` at quantile thresholds learned in ``fit``.
    loss : {"bce", "mse", "dice"}, default="bce"
        Binary cross-entropy (computed from the logits of the last layer, so that outputs
        saturated on the wrong side keep a gradient), mean squared error, or soft Dice loss.
    hidden_outputs : {"smooth", "binary"}, default="smooth"
        What the hidden layers pass on during the main training: ``"smooth"``, their outputs
        in ``[0, 1]`` (the spec's network); ``"binary"``, their outputs thresholded at 1/2 in
        the forward pass, with the gradient of the smooth outputs in the backward pass
        (straight-through), so that each layer learns on the binary images it reads once the
        network is binarized. The last layer's outputs stay smooth (the loss needs them).
    finetune_epochs : int, default=30
        After the main training with smooth hidden outputs, each restart trains a copy of its
        network for at most this many more epochs with binary hidden outputs, and keeps
        whichever of the two binarizes better on the training (or validation) images. A
        smooth network can pass information through soft hidden values (outputs that stay
        under 1/2 but vary, read by a steep next layer), which binarization discards; the
        fine-tuning makes the next layers work from the binary values instead. 0: no
        fine-tuning (the spec's training). Ignored with ``hidden_outputs="binary"`` and with
        ``warm_start``. ``history_`` marks each epoch's ``hidden_outputs``; the
        ``"float"`` inference runs the kept network as it was trained.
    regularization, regularization_weight, regularization_delay, \
regularization_update_every, binarization, inference
        As in :class:`BiMoNNClassifier` (same names, same meaning); ``inference="binary"``
        (default) makes ``transform`` and ``score`` use the binarized operator.
    max_epochs : int, default=100
    batch_size : int, default=32
    learning_rate : float, default=5e-2
    early_stopping, validation_fraction, n_iter_no_change, tol
        As in :class:`BiMoNNClassifier` (the validation score is the mean Dice).
    weight_reparametrization : {"dual", "positive", "identity"}, default="dual"
        As in :class:`BiMoNNClassifier`, but ``"dual"`` by default: with each BiSE's weights
        summing to a constant, growing the weights an element needs shrinks the others, which
        lets an erosion started on the whole window drop the pixels outside its element (with
        ``"positive"`` those weights see no gradient where their pixels are 0, and an opening by
        a disk stays an opening by a square).
    threshold, bias_reparametrization, random_state, device, verbose, warm_start
        As in :class:`BiMoNNClassifier`; ``warm_start`` continues the kept network, without
        restarts or fine-tuning.

    Attributes
    ----------
    network_, binarized_, binarization_report_, history_
        As in :class:`BiMoNNClassifier`.
    thresholds_ : ndarray of shape (n_input_channels, n_levels)
    start_operations_ : tuple of str or None
        The operation each BiSEL layer started as in the kept training (``None`` with
        ``init="reference"``).
    init_scores_ : list of float
        Binarized mean Dice of every restart (see ``n_init``), in the order they ran.
    n_input_channels_, n_output_channels_ : int
    """

    def __init__(
        self,
        hidden_channels=(),
        *,
        kernel_size=7,
        padding="zeros",
        image_shape=None,
        include_complement=True,
        level_sets=None,
        init="activated",
        n_init="auto",
        start_elements="subwindows",
        loss="bce",
        hidden_outputs="smooth",
        finetune_epochs=30,
        regularization=None,
        regularization_weight=1e-3,
        regularization_delay=0,
        regularization_update_every=1,
        binarization="activable",
        inference="binary",
        max_epochs=100,
        batch_size=32,
        learning_rate=5e-2,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        threshold="tanh",
        weight_reparametrization="dual",
        bias_reparametrization="softplus",
        random_state=None,
        device="auto",
        verbose=0,
        warm_start=False,
    ):
        self.hidden_channels = hidden_channels
        self.kernel_size = kernel_size
        self.padding = padding
        self.image_shape = image_shape
        self.include_complement = include_complement
        self.level_sets = level_sets
        self.init = init
        self.n_init = n_init
        self.start_elements = start_elements
        self.loss = loss
        self.hidden_outputs = hidden_outputs
        self.finetune_epochs = finetune_epochs
        self.regularization = regularization
        self.regularization_weight = regularization_weight
        self.regularization_delay = regularization_delay
        self.regularization_update_every = regularization_update_every
        self.binarization = binarization
        self.inference = inference
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.threshold = threshold
        self.weight_reparametrization = weight_reparametrization
        self.bias_reparametrization = bias_reparametrization
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.warm_start = warm_start

    # ---- images in and out

    def _as_images(self, X, name: str, *, binary: bool) -> tuple[np.ndarray, str]:
        """``(n, C, H, W)`` images and the layout of ``X`` ("flat", "3d" or "4d")."""
        array = np.asarray(X)
        if array.ndim == 2:
            if self.image_shape is None:
                raise ValueError(
                    f"{name} is 2-D: pass image_shape=(H, W) or (C, H, W), or give images of "
                    f"shape (n, H, W) or (n, C, H, W)"
                )
            shape = tuple(int(s) for s in self.image_shape)
            shape = (1, *shape) if len(shape) == 2 else shape
            if array.shape[1] % int(np.prod(shape[1:])):
                raise ValueError(
                    f"{name} has {array.shape[1]} columns, not a multiple of H * W = "
                    f"{int(np.prod(shape[1:]))} (image_shape={self.image_shape})"
                )
            layout = "flat"
            array = array.reshape(array.shape[0], -1, *shape[1:])
        elif array.ndim == 3:
            layout, array = "3d", array[:, None]
        elif array.ndim == 4:
            layout = "4d"
        else:
            raise ValueError(
                f"{name} must be images of shape (n, H, W) or (n, C, H, W), or flat 2-D with "
                f"image_shape; got shape {array.shape}"
            )
        if array.shape[0] == 0:
            raise ValueError(f"{name} is empty: it has 0 samples")
        if binary:
            array = check_binary_array(array, name)
        else:
            array = check_finite(array, name)
        return array, layout

    def _restore_layout(self, images: np.ndarray, layout: str) -> np.ndarray:
        if layout == "flat":
            return images.reshape(images.shape[0], -1)
        if layout == "3d" and images.shape[1] == 1:
            return images[:, 0]
        return images

    def _input_layers(self):
        return [Thresholds(self.thresholds_, complement=self.include_complement)]

    def _binarized_kwargs(self):
        return {"task": "image", "image_shape": self.training_shape_}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # Y: the target images
        tags.input_tags.three_d_array = True  # (n, H, W) images; (n, C, H, W) too
        return tags

    def _check_params(self):
        self._check_common_params()
        check_choice(self.loss, "loss", LOSSES)
        check_choice(self.hidden_outputs, "hidden_outputs", HIDDEN_OUTPUTS)
        check_choice(self.start_elements, "start_elements", START_ELEMENTS)
        check_number(self.finetune_epochs, "finetune_epochs", low=0, integer=True)
        if isinstance(self.init, str):
            check_choice(self.init, "init", INITS)
        else:
            n_layers = len(self.hidden_channels) + 1
            if len(self.init) != n_layers or any(op not in OPERATIONS for op in self.init):
                raise ValueError(
                    f"init must be one of {INITS} or a sequence of one operation in "
                    f"{OPERATIONS} per layer ({n_layers}), got {self.init!r}"
                )
        if self.n_init != "auto":
            check_number(self.n_init, "n_init", low=1, integer=True)
        check_choice(self.padding, "padding", ("replicate", "zeros"))
        for width in self.hidden_channels:
            check_number(width, "each entry of hidden_channels", low=1, integer=True)
        if self.level_sets is not None:
            check_number(self.level_sets, "level_sets", low=1, integer=True)
        n_layers = len(self.hidden_channels) + 1
        sizes = [self.kernel_size] * n_layers if np.isscalar(self.kernel_size) else list(
            self.kernel_size
        )
        if len(sizes) != n_layers:
            raise ValueError(
                f"kernel_size must be an int or have one entry per layer ({n_layers}), got "
                f"{self.kernel_size}"
            )
        for size in sizes:
            check_number(size, "kernel_size", low=1, integer=True)
            if size % 2 == 0:
                raise ValueError(f"kernel_size must be odd, got {size}")
        return sizes

    # ---- fit

    def fit(self, X, Y):
        """Learn the operator mapping the images ``X`` to the binary images ``Y``.

        Parameters
        ----------
        X : array-like of shape (n, H, W), (n, C, H, W), or (n, C * H * W) with image_shape
            Binary images (gray ones with ``level_sets``).
        Y : array-like, same number of images and the same H, W as ``X``
            Binary target images; the number of channels may differ from ``X``.

        Returns
        -------
        self
        """
        kernel_sizes = self._check_params()
        warm = self._warm()
        images, _ = self._as_images(X, "X", binary=self.level_sets is None)
        targets, _ = self._as_images(Y, "Y", binary=True)
        if images.shape[0] != targets.shape[0] or images.shape[2:] != targets.shape[2:]:
            raise ValueError(
                f"X and Y must hold the same number of images of the same height and width; "
                f"got X of shape {images.shape} and Y of shape {targets.shape} "
                f"(as (n, C, H, W))"
            )
        largest = max(kernel_sizes)
        if largest > max(images.shape[2:]):
            raise ValueError(
                f"kernel_size {largest} is larger than the images ({images.shape[2]}x"
                f"{images.shape[3]})"
            )
        if warm and (images.shape[1], targets.shape[1]) != (
            self.n_input_channels_, self.n_output_channels_
        ):
            raise ValueError("warm_start needs the same numbers of channels as the previous fit")
        rng, generator = self._generators()
        with torch_threads():
            if not warm:
                self.n_input_channels_, self.n_output_channels_ = images.shape[1], targets.shape[1]
                self.training_shape_ = tuple(images.shape[1:])
                if self.level_sets is None:
                    self.thresholds_ = np.full((images.shape[1], 1), 0.5)
                else:
                    pixels = images.transpose(0, 2, 3, 1).reshape(-1, images.shape[1])
                    self.thresholds_ = learn_thresholds(pixels, self.level_sets)
            inputs = as_float_tensor(self._input_layers()[0].images(images.astype(np.float64)))
            outputs = as_float_tensor(targets)
            validation = score = None
            scored = np.arange(images.shape[0])
            if self.early_stopping:
                order = rng.permutation(inputs.shape[0])
                n_val = max(1, round(self.validation_fraction * inputs.shape[0]))
                scored, train = order[:n_val], order[n_val:]
                validation = (inputs[scored], outputs[scored])
                inputs, outputs = inputs[train], outputs[train]
                score = _float_dice
            starts = [self.start_operations_] if warm else self._starts(len(kernel_sizes))
            # each restart has its own random stream: restart k does not depend on how many
            # draws the restarts before it made (fine-tuning, early stopping)
            seeds = rng.randint(2**31 - 1, size=len(starts))
            best, scores = None, []
            for index, operations in enumerate(starts):
                if index:
                    generator = torch.Generator().manual_seed(int(seeds[index]))
                network = self.network_ if warm else self._start_network(
                    inputs, targets.shape[1], kernel_sizes, operations, generator
                )
                dice, *trained = self._train_start(
                    network, generator, (inputs, outputs), validation, score,
                    scored=(images[scored], targets[scored]), warm=warm,
                )
                kept = (dice, operations, *trained)
                scores.append(kept[0])
                if best is None or kept[0] > best[0]:
                    best = kept
                if self.verbose and len(starts) > 1:
                    print(f"start {len(scores)}/{len(starts)} ({operations}): "
                          f"binarized Dice {scores[-1]:.4f}", flush=True)
            (_, self.start_operations_, self.network_, self.history_, self.binarized_,
             self.binarization_report_) = best
            if not warm:  # a warm start continues the kept training: its restarts stand
                self.init_scores_ = scores
        return self

    def _start_network(self, inputs, n_outputs, kernel_sizes, operations, generator):
        """A new network, initialized from ``operations`` (see ``init``)."""
        with torch.random.fork_rng(devices=[]):
            network = build_network(
                in_channels=inputs.shape[1],
                conv_channels=[*self.hidden_channels, n_outputs],
                kernel_sizes=kernel_sizes,
                padding=self.padding,
                hidden_outputs=self.hidden_outputs,
                **self._neuron_options(),
            )
        network.reset_parameters(
            float(inputs.mean()), generator, conv_operations=operations,
            start_elements=self.start_elements,
        )
        return network

    def _train_start(self, network, generator, training, validation, score, *, scored, warm):
        """Train one restart: the main phase, then the fine-tuning of a copy (``finetune_epochs``).

        ``training``: the (inputs, outputs) tensors; ``scored``: the (images, targets) arrays
        the binarized networks are scored on. Returns ``(binarized Dice, network, history,
        binarized, report)`` of whichever phase's network binarizes better there.
        """
        (inputs, outputs), (scored_images, scored_targets) = training, scored
        history = self.history_ if warm else []
        finetune = self.finetune_epochs and self.hidden_outputs == "smooth" and not warm
        phases = [self.max_epochs, self.finetune_epochs] if finetune else [self.max_epochs]
        kept = None
        for phase, epochs in enumerate(phases):
            if phase:  # fine-tuning a copy: the smooth network stays a candidate
                network = copy.deepcopy(network).set_hidden_outputs("binary")
                history = list(history)
            self.network_, done = network, len(history)  # _binarize reads self.network_
            history = self._train(
                network, _LOSS_FUNCTIONS[self.loss], inputs, outputs, generator,
                validation, score, history=history, max_epochs=epochs,
            )
            for entry in history[done:]:
                entry["hidden_outputs"] = network.hidden_outputs
            binarized, report = self._binarize(self.binarization)
            predicted = binarized.transform(scored_images.astype(np.float64))
            dice = float(dice_scores(predicted, scored_targets).mean())
            if kept is None or dice > kept[0]:
                kept = (dice, network, history, binarized, report)
        return kept

    def _training_options(self, max_epochs=None):
        options = super()._training_options(max_epochs)
        options.logits = self.loss == "bce"
        return options

    def _starts(self, n_layers: int) -> list[tuple[str, ...] | None]:
        """The starting pattern of every restart (``None``: the reference initialization)."""
        patterns = self.init == "activated" if isinstance(self.init, str) else False
        n_init = self.n_init if self.n_init != "auto" else (min(2**n_layers, 4) if patterns else 1)
        if patterns:
            return start_patterns(n_layers, n_init)
        return [None if self.init == "reference" else tuple(self.init)] * n_init

    # ---- transform, score, description

    def transform(self, X) -> np.ndarray:
        """Apply the learned operator: binary images in the layout of ``X``.

        Works on images of any height and width (the network is fully convolutional).
        """
        check_is_fitted(self, "binarized_")
        images, layout = self._as_images(X, "X", binary=self.level_sets is None)
        if images.shape[1] != self.n_input_channels_:
            raise ValueError(
                f"X has {images.shape[1]} channels, the operator was fitted on "
                f"{self.n_input_channels_}"
            )
        if self.inference == "float":
            encoded = self._input_layers()[0].images(images.astype(np.float64))
            with torch_threads(), torch.no_grad():
                self.network_.eval()
                output = self.network_(as_float_tensor(encoded)).numpy() > 0.5
        else:
            output = self.binarized_.transform(images.astype(np.float64))
        return self._restore_layout(output, layout)

    def score(self, X, Y, sample_weight=None) -> float:
        """Mean Dice coefficient between ``transform(X)`` and ``Y`` (1 for two empty images)."""
        predicted = self.transform(X)
        target, _ = self._as_images(Y, "Y", binary=True)
        predicted = predicted.reshape(target.shape[0], -1)
        if predicted.shape[1] != target[0].size:
            raise ValueError(
                f"Y has images of shape {target.shape[1:]}, the prediction has "
                f"{predicted.shape[1]} pixels per image"
            )
        return float(np.average(dice_scores(predicted, target), weights=sample_weight))

    def learned_operations(self) -> list[list[dict]]:
        """The binarized operator, layer by layer, in ``skmorph.morphology``'s convention.

        Returns a list (one per layer) of lists (one per output channel) of dicts with
        ``combine`` (``"union"`` or ``"intersection"``), ``exact`` (the channel combination),
        and ``terms``: a list of ``(input_channel, operation, selem, exact)``, such that the
        output channel is the union/intersection over the terms of
        ``skmorph.morphology.<operation>(input[input_channel], selem, padding=self.padding)``.
        Input channels of the first layer are the level sets of ``X`` (then their complements
        with ``include_complement``).
        """
        check_is_fitted(self, "binarized_")
        layers = []
        for layer in self.binarized_.layers:
            if isinstance(layer, BinaryConv):
                layers.append(layer.as_morphology())
        return layers

    def describe(self) -> str:
        """A readable description of the learned operator (per layer, channel and element)."""
        check_is_fitted(self, "binarized_")
        n_levels = self._input_layers()[0].n_outputs
        lines = [
            f"MorphologicalTransformer: {self.n_input_channels_} -> {self.n_output_channels_} "
            f"channels, padding={self.padding!r}",
            f"first-layer inputs: {n_levels} channels"
            + (" (the last half are complements)" if self.include_complement else ""),
        ]
        report = self.binarization_report_
        lines.append(f"{report['n_exact']} of {report['n_neurons']} neurons binarized exactly "
                     f"({report['method']} projection for the others)")
        for index, layer in enumerate(self.learned_operations()):
            lines.append(f"layer {index}:")
            lines.extend(describe_operations(layer))
        return "\n".join(lines)


def _float_dice(network, inputs, targets) -> float:
    network.eval()
    predicted = (network(inputs) > 0.5).cpu().numpy()
    network.train()
    return float(dice_scores(predicted, targets.cpu().numpy() > 0.5).mean())
