"""MorphologicalTransformer: learn a binary image-to-image morphological operator from pairs."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted

from skmorph._dask import is_dask_array, map_image_operator
from skmorph._validation import check_binary_array, check_finite
from skmorph.binary import BinaryConv, Thresholds, dice_scores
from skmorph.binary.layers import describe_operations
from skmorph.binary.programs import describe_operator, program_layers, search_programs
from skmorph.binary.search import PackedPairs, polish
from skmorph.estimators._base import (
    SHARED_CONSTRAINTS,
    BiMoNNBase,
    Candidate,
    TrainingData,
    as_float_tensor,
    document_shared_parameters,
    per_layer,
)
from skmorph.estimators._params import Boolean, Interval, Options, SequenceOf
from skmorph.estimators.conversion import binarize_network, set_operator
from skmorph.morphology.activation import DILATION, EROSION
from skmorph.nn import build_network, torch_threads
from skmorph.nn.networks import HIDDEN_OUTPUTS, START_ELEMENTS
from skmorph.preprocessing import learn_thresholds

__all__ = ["MorphologicalTransformer", "start_patterns"]

LOSSES = ("bce", "mse", "dice")
FLOAT_TILE = 512  # side of the tiles of inference="float" (plus the network's reach around)
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


# "bce" is computed from the logits of the last layer (see _uses_logits): an output saturated
# on the wrong side then still has a gradient, which clamped probabilities lose
_LOSS_FUNCTIONS = {
    "bce": F.binary_cross_entropy_with_logits,
    "mse": F.mse_loss,
    "dice": _soft_dice_loss,
}


@dataclass(frozen=True)
class ProgramStart:
    """A start from a small morphological program (``start_programs``): its binary layers,
    shaped like the network, and its formula."""

    layers: list
    formula: str

    def __str__(self) -> str:
        return f"program {self.formula}"


@document_shared_parameters
class MorphologicalTransformer(TransformerMixin, BiMoNNBase):
    """Learn a binary morphological operator from example pairs.

    A network of BiSEL layers (erosions/dilations per channel pair, then unions/intersections of
    channels) is trained with torch to map the images ``X`` to the images ``Y``; after training
    it is binarized (exactly where the neurons are activated, by the closest morphological
    operator elsewhere) into :attr:`binarized_`, which ``transform`` runs on bit-packed images.
    The network is fully convolutional: it applies to images of any size. The method is that
    of Aouad & Talbot, *A foundation for exact binarized morphological neural networks*
    (arXiv:2401.03830); the user guide ("Learning an operator") describes the starts, restarts
    and fine-tuning that skmorph adds.

    ``fit`` either completes or leaves the estimator as it was: an exception or a
    ``KeyboardInterrupt`` during training keeps the previously fitted model intact.

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
    input_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` when ``X`` and ``Y`` are given as flat 2-D arrays.
    init : {"activated", "reference"} or sequence of {"erosion", "dilation"}, \
default="activated"
        How the BiSEs start. ``"activated"``: as exact erosions or dilations by their whole
        window (by random sub-windows in layers with several BiSEs, so that they differ), one
        operation per layer, which changes from one restart to the next (see ``n_init``);
        gradient descent then removes what the target's elements do not contain.
        ``"reference"``: the paper's initialization, every BiSE halfway between an erosion and
        a dilation (on correlated images such as Diskorect this start tends to end as a blur
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
        top-hats can be represented (white top-hat = X AND the closing of the complement of X).
    n_thresholds : int or None, default=None
        ``None``: ``X`` must be binary. An int: ``X`` may be gray; each channel is decomposed
        into at most that many level sets ``X > t`` at thresholds learned in ``fit`` (see
        ``threshold_strategy``).
    loss : {"bce", "mse", "dice"}, default="bce"
        Binary cross-entropy (computed from the logits of the last layer, so that outputs
        saturated on the wrong side keep a gradient), mean squared error, or soft Dice loss.
    hidden_outputs : {"smooth", "binary", "binarized"}, default="smooth"
        What the hidden layers pass on during the main training: ``"smooth"``, their outputs
        in ``[0, 1]`` (the paper's network); ``"binary"``, their outputs thresholded at 1/2 in
        the forward pass, with the gradient of the smooth outputs in the backward pass
        (straight-through), so that each layer learns on the binary images it reads once the
        network is binarized; ``"binarized"``, the outputs of their binarized neurons (the
        erosions/dilations that binarization will give, refreshed every few steps) with the
        gradient of the smooth outputs, so that the network trains on exactly what it will be
        once binarized. The last layer's outputs stay smooth (the loss needs them).
    finetune_epochs : int, default=30
        After the main training with smooth hidden outputs, each restart trains a copy of its
        network for at most this many more epochs with binary hidden outputs, and keeps
        whichever of the two binarizes better on the training (or validation) images. A
        smooth network can pass information through soft hidden values (outputs that stay
        under 1/2 but vary, read by a steep next layer), which binarization discards; the
        fine-tuning makes the next layers work from the binary values instead. 0: no
        fine-tuning (the paper's training). Ignored with ``hidden_outputs="binary"`` and with
        ``warm_start``. ``history_`` marks each epoch's ``hidden_outputs``; the
        ``"float"`` inference runs the kept network as it was trained.
    start_programs : bool, default=True
        Before any gradient step, score thousands of small morphological programs on the
        training images (one or two layers of erosions and dilations by the elements of
        :mod:`skmorph.morphology`'s constructors, their branches combined by a union or an
        intersection, the input passed through by some; a few seconds on packed bits), and
        make the best the first start: it is a candidate as it is (an exact operator), then
        trained like the other starts, so that gradient descent can shape elements that no
        constructor makes. Starts stop as soon as one reaches a binarized training Dice of 1
        (no later start could be kept). For networks of one or two layers with one output
        channel; ignored otherwise.
    polish : bool, default=True
        After each start's training, search the discrete neighbourhood of its binarized
        operator on the training images (flip one pixel of an element, switch an erosion and a
        dilation, add or drop a channel of a union/intersection, switch union and
        intersection), keeping every move that raises the Dice; the network is then set to
        the activated neurons of the polished operator, so that it binarizes exactly.
        ``binarization_report_["polish"]`` lists the moves kept.
    weight_reparametrization : {"dual", "positive", "identity"}, default="dual"
        Non-negative weights by softplus normalized to a constant sum (``"dual"``, the
        default here), by softplus (``"positive"``), or raw weights. With each BiSE's weights
        summing to a constant, growing the weights an element needs shrinks the others, which
        lets an erosion started on the whole window drop the pixels outside its element (with
        ``"positive"`` those weights see no gradient where their pixels are 0, and an opening by
        a disk stays an opening by a square).
    <shared parameters>

    Attributes
    ----------
    network_ : skmorph.nn.MorphologicalNetwork
        The kept float network (on the CPU).
    binarized_ : skmorph.binary.BinarizedNetwork
        The torch-free binarized operator.
    binarization_report_ : dict
        Per layer: neurons binarized exactly vs approximated and projection distances;
        ``exact_network``: whether the float network thresholded at 1/2 equals the binarized
        operator on every binary image.
    history_ : list of dict
        Per-epoch losses, regularization, fraction of activated neurons, validation score and
        ``hidden_outputs`` of the kept training.
    thresholds_ : ndarray of shape (n_input_channels, n_levels)
    input_shape_ : tuple of int
        ``(C, H, W)`` of the training images (``transform`` takes any height and width).
    start_operations_ : tuple of str, "program" or None
        The operation each BiSEL layer started as in the kept training (``None`` with
        ``init="reference"``, ``"program"`` when the kept start is the program of
        ``start_programs``).
    init_scores_ : list of float
        Binarized mean Dice of every start that ran (see ``n_init`` and ``start_programs``),
        in the order they ran.
    n_input_channels_, n_output_channels_ : int
    """

    _parameter_constraints: ClassVar[dict] = {
        **SHARED_CONSTRAINTS,
        "n_thresholds": [Options((None,)), *SHARED_CONSTRAINTS["n_thresholds"]],
        "init": [Options(INITS), SequenceOf(Options(OPERATIONS), min_length=1)],
        "n_init": [Options(("auto",)), Interval(1, None, integer=True)],
        "start_elements": [Options(START_ELEMENTS)],
        "loss": [Options(LOSSES)],
        "hidden_outputs": [Options(HIDDEN_OUTPUTS)],
        "finetune_epochs": [Interval(0, None, integer=True)],
        "start_programs": [Boolean()],
        "polish": [Boolean()],
    }

    def __init__(
        self,
        hidden_channels=(),
        *,
        kernel_size=7,
        padding="zeros",
        input_shape=None,
        n_thresholds=None,
        threshold_strategy="quantile",
        include_complement=True,
        init="activated",
        n_init="auto",
        start_elements="subwindows",
        loss="bce",
        hidden_outputs="smooth",
        finetune_epochs=30,
        start_programs=True,
        polish=True,
        regularization=None,
        regularization_weight=1e-3,
        regularization_delay=0,
        regularization_update_every="auto",
        binarization="activable",
        inference="binary",
        max_epochs=100,
        batch_size=32,
        learning_rate=5e-2,
        learning_rate_schedule="plateau",
        learning_rate_warmup=0.0,
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
        self._store_parameters(locals())

    def fit(self, X, Y):
        """Learn the operator mapping the images ``X`` to the binary images ``Y``.

        Parameters
        ----------
        X : array-like of shape (n, H, W), (n, C, H, W), or (n, C * H * W) with input_shape
            Binary images (gray ones with ``n_thresholds``).
        Y : array-like, same number of images and the same H, W as ``X``
            Binary target images; the number of channels may differ from ``X``.

        Returns
        -------
        self
        """
        return self._fit(X, Y)

    # ---- images in and out

    def _as_images(self, X, name: str, *, binary: bool, allow_empty: bool = False
                   ) -> tuple[np.ndarray, str]:
        """``(n, C, H, W)`` images and the layout of ``X`` ("flat", "3d" or "4d")."""
        if sp.issparse(X):
            raise TypeError(f"{name} is a sparse matrix; sparse input is not supported: pass "
                            f"dense images (a NumPy array)")
        array = np.asarray(X)
        if array.ndim == 2:
            if self.input_shape is None:
                raise ValueError(
                    f"{name} is 2-D: pass input_shape=(H, W) or (C, H, W), or give images of "
                    f"shape (n, H, W) or (n, C, H, W)"
                )
            shape = tuple(int(s) for s in self.input_shape)
            shape = (1, *shape) if len(shape) == 2 else shape
            if array.shape[1] % int(np.prod(shape[1:])):
                raise ValueError(
                    f"{name} has {array.shape[1]} columns, not a multiple of H * W = "
                    f"{int(np.prod(shape[1:]))} (input_shape={self.input_shape})"
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
                f"input_shape; got shape {array.shape}"
            )
        if array.shape[0] == 0 and not allow_empty:
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # Y: the target images
        tags.input_tags.three_d_array = True  # (n, H, W) images; (n, C, H, W) too
        return tags

    # ---- what the fit template needs

    def _check_params(self, params) -> None:
        n_layers = len(params.hidden_channels) + 1
        if not isinstance(params.init, str) and len(params.init) != n_layers:
            raise ValueError(
                f"init must be one of {INITS} or a sequence of one operation in "
                f"{OPERATIONS} per layer ({n_layers}), got {self.init!r}"
            )
        if params.input_shape is not None and len(params.input_shape) not in (2, 3):
            raise ValueError(
                f"input_shape must be (H, W) or (C, H, W), got {self.input_shape!r}"
            )
        params.kernel_size = per_layer(params.kernel_size, n_layers, "kernel_size")

    def _prepare(self, params, X, Y, warm: bool, classes=None) -> TrainingData:
        if Y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: "
                f"give the target images Y as the second argument of fit"
            )
        images, _ = self._as_images(X, "X", binary=params.n_thresholds is None)
        targets, _ = self._as_images(Y, "Y", binary=True)
        if images.shape[0] != targets.shape[0] or images.shape[2:] != targets.shape[2:]:
            raise ValueError(
                f"X and Y must hold the same number of images of the same height and width; "
                f"got X of shape {images.shape} and Y of shape {targets.shape} "
                f"(as (n, C, H, W))"
            )
        largest = max(params.kernel_size)
        if largest > max(images.shape[2:]):
            raise ValueError(
                f"kernel_size {largest} is larger than the images ({images.shape[2]}x"
                f"{images.shape[3]})"
            )
        channels = (images.shape[1], targets.shape[1])
        if warm:
            if channels != (self.n_input_channels_, self.n_output_channels_):
                raise ValueError(
                    "warm_start needs the same numbers of channels as the previous fit"
                )
            names = ("n_input_channels_", "n_output_channels_", "input_shape_", "thresholds_")
            attributes = {name: getattr(self, name) for name in names}
        else:
            if params.n_thresholds is None:
                thresholds = np.full((images.shape[1], 1), 0.5)
            else:
                pixels = images.transpose(0, 2, 3, 1).reshape(-1, images.shape[1])
                thresholds = learn_thresholds(pixels, params.n_thresholds,
                                              params.threshold_strategy)
            attributes = {
                "n_input_channels_": channels[0],
                "n_output_channels_": channels[1],
                "input_shape_": tuple(images.shape[1:]),
                "thresholds_": thresholds,
            }
        context = self._context(params, attributes)
        encoded = self._input_layers(context)[0].images(images)
        return TrainingData(as_float_tensor(encoded), as_float_tensor(targets), attributes,
                            images, targets)

    def _starts(self, params, data: TrainingData) -> list:
        """The start of every restart: the best small program first (``start_programs``),
        then the starting patterns (``None``: the reference initialization)."""
        n_layers = len(params.hidden_channels) + 1
        patterns = params.init == "activated"
        n_init = params.n_init
        if n_init == "auto":
            n_init = min(2**n_layers, 4) if patterns else 1
        if patterns:
            starts = start_patterns(n_layers, n_init)
        else:
            starts = [None if params.init == "reference" else tuple(params.init)] * n_init
        program = self._program_start(params, data) if params.start_programs else None
        return starts if program is None else [program, *starts]

    def _program_start(self, params, data: TrainingData) -> ProgramStart | None:
        """The best program on the training images, for networks it fits (one output channel,
        one or two layers)."""
        n_layers = len(params.hidden_channels) + 1
        if n_layers > 2 or data.attributes["n_output_channels_"] != 1:
            return None
        pairs = self._packed_pairs(params, data, data.train_index)
        program = search_programs(
            pairs, n_layers=n_layers,
            n_branches=params.hidden_channels[0] if params.hidden_channels else 1,
            kernel_sizes=params.kernel_size, padding=params.padding,
        )
        layers = program_layers(program, n_inputs=pairs.inputs.shape[1],
                                hidden_channels=params.hidden_channels,
                                kernel_sizes=params.kernel_size, padding=params.padding)
        names = self._input_names(data.attributes, params.include_complement)
        return ProgramStart(layers, " | ".join(describe_operator(layers, names)))

    def _packed_pairs(self, params, data: TrainingData, index) -> PackedPairs:
        thresholds = self._input_layers(self._context(params, data.attributes))[0]
        return PackedPairs.from_images(thresholds, data.X[index],
                                       data.y[index])

    def _phases(self, params, warm: bool, start):
        # a program is first a candidate as it is, then trained like the other starts
        phases = [(0, None)] if isinstance(start, ProgramStart) else []
        phases.append((params.max_epochs, None))
        if params.finetune_epochs and params.hidden_outputs == "smooth" and not warm:
            # fine-tuning a copy with binary hidden outputs: the smooth network stays a
            # candidate, so the kept score cannot drop
            phases.append((params.finetune_epochs, "binary"))
        return phases

    def _new_network(self, params, data: TrainingData, start, generator):
        network = build_network(
            in_channels=data.inputs.shape[1],
            conv_channels=[*params.hidden_channels, data.attributes["n_output_channels_"]],
            kernel_sizes=list(params.kernel_size),
            padding=params.padding,
            hidden_outputs=params.hidden_outputs,
            threshold=params.threshold,
            weight_reparametrization=params.weight_reparametrization,
            bias_reparametrization=params.bias_reparametrization,
        )
        program = isinstance(start, ProgramStart)
        network.reset_parameters(
            float(data.inputs.mean()), generator, conv_operations=None if program else start,
            start_elements=params.start_elements,
        )
        if program:
            set_operator(network, start.layers, generator)
        return network

    def _refine(self, params, data, context, candidate: Candidate, generator) -> Candidate:
        """Polish the binarized operator on the training images (``polish``): the polished
        operator is kept, as an activated network, when it scores at least as well."""
        if not params.polish or candidate.score >= 1.0:
            return candidate
        layers = [layer for layer in candidate.binarized.layers if isinstance(layer, BinaryConv)]
        seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
        pairs = self._packed_pairs(params, data, data.train_index)
        result = polish(layers, pairs, random_state=seed)
        summary = {"moves": result.moves, "evaluated": result.n_evaluated,
                   "train_dice_before": result.score_before,
                   "train_dice_after": result.score_after}
        candidate.report["polish"] = {**summary, "kept": False}
        if not result.moves:
            return candidate
        network = copy.deepcopy(candidate.network)
        set_operator(network, result.layers, generator)
        binarized, report = self._binarize_network(network, context, params.binarization)
        score = self._binarized_score(binarized, data.X[data.scored_index],
                                      data.y[data.scored_index])
        if score < candidate.score:  # possible when candidates are scored on validation data
            return candidate
        report["polish"] = {**summary, "kept": True}
        return Candidate(network, candidate.history, binarized, report, score)

    def _loss(self, params):
        return _LOSS_FUNCTIONS[params.loss]

    def _uses_logits(self, params) -> bool:
        return params.loss == "bce"

    @staticmethod
    def _validation_score(network, inputs, targets) -> float:
        network.eval()
        predicted = (network(inputs) > 0.5).cpu().numpy()
        network.train()
        return float(dice_scores(predicted, targets.cpu().numpy() > 0.5).mean())

    def _binarize_network(self, network, context: dict, method: str, X=None, y=None):
        return binarize_network(network, self._input_layers(context), method=method,
                                task="image", image_shape=context["input_shape_"])

    def _binarized_score(self, binarized, X, y) -> float:
        predicted = binarized.transform(X)
        return float(dice_scores(predicted, y).mean())

    def _fitted_extras(self, params, data, best, kept, warm) -> dict:
        if warm:  # a warm start continues the kept training: its restarts stand
            return {}
        start = best.start
        return {"start_operations_": "program" if isinstance(start, ProgramStart) else start,
                "init_scores_": [candidate.score for candidate in kept]}

    @staticmethod
    def _input_names(attributes: dict, include_complement: bool) -> list[str]:
        """Names of the first layer's input channels: ``X`` (``X[c]`` for several channels,
        ``(X > t)`` for level sets), then their complements ``NOT ...``."""
        thresholds = attributes["thresholds_"]
        levels = Thresholds(thresholds)
        binary = thresholds.shape[1] == 1 and np.all(thresholds == 0.5)
        names = []
        for channel, level in zip(levels.feature_index, levels.level_index, strict=True):
            base = "X" if thresholds.shape[0] == 1 else f"X[{channel}]"
            names.append(base if binary else f"({base} > {thresholds[channel, level]:.4g})")
        return names + [f"NOT {name}" for name in names] if include_complement else names

    # ---- transform, score, description

    def transform(self, X) -> np.ndarray:
        """Apply the learned operator: binary images in the layout of ``X``.

        Works on images of any height and width (the network is fully convolutional). The
        binarized operator runs on packed bits without copying boolean images to floats; the
        float network (``inference="float"``) runs in overlapping tiles, so that its memory
        is that of a tile whatever the image size. An empty batch gives an empty output. A
        ``dask.array.Array`` of images gives a dask array, computed lazily chunk by chunk
        with a margin of the operator's reach (equal to the in-memory result).
        """
        check_is_fitted(self, "binarized_")
        inference = self._check_inference()
        if is_dask_array(X):
            return self._lazy_transform(X)
        images, layout = self._as_images(X, "X", binary=self._fit_params["n_thresholds"] is None,
                                         allow_empty=True)
        if images.shape[1] != self.n_input_channels_:
            raise ValueError(
                f"X has {images.shape[1]} channels, the operator was fitted on "
                f"{self.n_input_channels_}"
            )
        if inference == "float":
            output = self._float_transform(images)
        else:
            output = self.binarized_.transform(images)  # boolean images: no float copy
        return self._restore_layout(output, layout)

    def _lazy_transform(self, images):
        """``transform`` of a dask array of images ``(n, H, W)`` or ``(n, C, H, W)``, chunk by
        chunk with a margin of the operator's reach (the sum of its kernels' radii)."""
        if images.ndim not in (3, 4):
            raise ValueError(f"a dask array X must hold images of shape (n, H, W) or "
                             f"(n, C, H, W), got shape {images.shape}")
        if (images.ndim == 3 and images.dtype == bool and self.n_input_channels_ == 1
                and self.n_output_channels_ == 1 and self._check_inference() == "binary"):
            return self.binarized_.transform(images)  # chunks packed before their margins
        reach = sum(size // 2 for size in self._fit_params["kernel_size"])
        if images.ndim == 3 and self.n_output_channels_ > 1:
            images = images[:, None]
        four_d = images.ndim == 4
        return map_image_operator(
            images, self.transform, reach=(reach, reach), channel_axis=1 if four_d else None,
            out_channels=self.n_output_channels_ if four_d else None,
        )

    def _float_transform(self, images: np.ndarray) -> np.ndarray:
        """The float network thresholded at 1/2, image by image in overlapping tiles: each
        tile is read with a margin of the network's whole reach (the sum of its kernels'
        radii), so that the cropped tiles equal the whole image's output, and memory stays
        that of a tile whatever the image size."""
        encoder = self._input_layers(vars(self))[0]
        reach = sum((size // 2) for size in self._fit_params["kernel_size"])
        n, _, height, width = images.shape
        output = np.empty((n, self.n_output_channels_, height, width), dtype=bool)
        step = FLOAT_TILE
        with torch_threads(), torch.no_grad():
            self.network_.eval()
            for top in range(0, height, step):
                for left in range(0, width, step):
                    rows = slice(max(top - reach, 0), min(top + step + reach, height))
                    columns = slice(max(left - reach, 0), min(left + step + reach, width))
                    tile = encoder.images(images[:, :, rows, columns])
                    result = self.network_(as_float_tensor(tile)).numpy() > 0.5
                    inner = (slice(top - rows.start, top - rows.start + step),
                             slice(left - columns.start, left - columns.start + step))
                    output[:, :, top:top + step, left:left + step] = result[:, :, *inner]
        return output

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
        return [layer.as_morphology() for layer in self.binarized_.layers
                if isinstance(layer, BinaryConv)]

    def formula(self) -> list[str]:
        """The learned operator as a formula, one per output channel, e.g.
        ``"X AND NOT opening(X, disk(3))"`` for a white top-hat.

        In :mod:`skmorph.morphology`'s terms (``opening(X, line(7, 0))`` is
        ``skmorph.morphology.opening(X, line(7, 0))`` with this estimator's ``padding``);
        elements of skmorph's constructors are named, others drawn row by row
        (``[.#./###/.#.]``). Inputs are ``X`` (``X[c]`` for several channels, ``(X > t)`` for
        level sets) and their complements ``NOT X``. The formula is the binarized operator, so
        it is exactly what ``transform`` computes; whether the float network agrees with it is
        ``binarization_report_["exact_network"]``.
        """
        check_is_fitted(self, "binarized_")
        layers = [layer for layer in self.binarized_.layers if isinstance(layer, BinaryConv)]
        names = self._input_names(vars(self), self._fit_params["include_complement"])
        return describe_operator(layers, names)

    def describe(self) -> str:
        """A readable description of the learned operator (per layer, channel and element)."""
        check_is_fitted(self, "binarized_")
        fit_params = self._fit_params
        n_levels = self._input_layers(vars(self))[0].n_outputs
        lines = [
            f"MorphologicalTransformer: {self.n_input_channels_} -> {self.n_output_channels_} "
            f"channels, padding={fit_params['padding']!r}",
            *(f"output {index} = {formula}" for index, formula in enumerate(self.formula())),
            f"first-layer inputs: {n_levels} channels"
            + (" (the last half are complements)" if fit_params["include_complement"] else ""),
        ]
        report = self.binarization_report_
        lines.append(f"{report['n_exact']} of {report['n_neurons']} neurons binarized exactly "
                     f"({report['method']} projection for the others)")
        for index, layer in enumerate(self.learned_operations()):
            lines.append(f"layer {index}:")
            lines.extend(describe_operations(layer))
        return "\n".join(lines)
