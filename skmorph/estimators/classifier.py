"""BiMoNNClassifier: a scikit-learn classifier whose binarized predictor is what gets scored."""

from __future__ import annotations

import copy
import dataclasses
import math
import warnings
from contextlib import contextmanager
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from skmorph.binary import BinaryConv, BinaryDense, LinearHead
from skmorph.estimators._base import (
    SHARED_CONSTRAINTS,
    BiMoNNBase,
    Candidate,
    TrainingData,
    as_float_tensor,
    document_shared_parameters,
    per_layer,
)
from skmorph.estimators._params import HasMethods, Interval, Options, SequenceOf
from skmorph.estimators.conversion import (
    binarize_network,
    calibrate_network,
    set_layer_operator,
)
from skmorph.morphology.projection import METHODS
from skmorph.nn import (
    CONV_LAYERS,
    CONV_READOUTS,
    NORMALIZATIONS,
    POOLINGS,
    build_network,
    conv_features,
    native_bfloat16,
    resolve_device,
    torch_threads,
)
from skmorph.nn.augmentation import compose, random_horizontal_flip, random_shift
from skmorph.nn.distillation import distillation_loss, fit_float_cnn, soften
from skmorph.nn.networks import HIDDEN_OUTPUTS
from skmorph.preprocessing import learn_thresholds

__all__ = ["BiMoNNClassifier"]

OUTPUT_LAYERS = ("linear", "binary")
AUGMENTATIONS = {"hflip": random_horizontal_flip, "shift": random_shift}
CONV_START_FRACTION = 0.02  # of a convolutional neuron's weights in its starting element
# outputs of the widest layer per forward pass of the float network outside training, and the
# most samples per pass (see _float_batch)
FLOAT_VALUES = 2**22
FLOAT_BATCH = 1024
HEAD_MAX_ITER = 200  # L-BFGS iterations of the head refit (see _refit_head)
HEAD_ROUND = 10  # L-BFGS iterations between two held-out scores of the head refit
HEAD_PATIENCE = 2  # rounds without a better held-out score before the refit stops
HEAD_HELD_OUT = 0.1  # share of the samples the refit holds out to stop on
HEAD_MIN_SAMPLES = 1000  # fewer samples: no held-out part, HEAD_MAX_ITER iterations
SIGNED_START_SAMPLES = 256  # training samples whose pre-activations place a signed start
DATA_START_SAMPLES = 256  # training images on which conv_start="data" draws its elements
DATA_START_SUPPORTS = (2, 4)  # weights per starting element: first conv layer, later ones
CONV_STARTS = ("random", "data")
CALIBRATION_SAMPLES = 2000  # training samples that binarization="calibrated" reads
AGREEMENT_SAMPLES = 10_000  # training samples on which train_agreement is measured (at most)
BINARIZATIONS = (*METHODS, "calibrated")
PRECISIONS = ("float32", "bfloat16")
IMAGE_CHANNELS = (64, 128, 128)  # hidden_channels="auto" for images (benchmarks/README.md)
DENSE_LAYERS = (512,)  # hidden_layer_sizes="auto" without the automatic convolutional front
DENSE_EPOCHS = 60  # max_epochs="auto" without convolutional layers, and at most with them
# max_epochs="auto" with convolutional layers: the steps of the Fashion-MNIST benchmark's
# budget, 10 epochs of 60 000 images at batch 64 (benchmarks/README.md)
CONV_STEPS = 10 * math.ceil(60_000 / 64)
# the "auto" values with convolutional layers (the configuration the Fashion-MNIST benchmark
# found best, benchmarks/README.md) and without them
AUTO_VALUES = {
    "weight_reparametrization": ("projected", "positive"),
    "learning_rate": (1e-3, 1e-2),
    "learning_rate_schedule": ("cosine", "plateau"),
    "conv_readout": ("all", "last"),
    "n_thresholds": (7, 3),
    "threshold_strategy": ("uniform", "quantile"),
    "conv_start": ("data", "random"),
    "hidden_outputs": ("binary", "smooth"),
    "binarization": ("calibrated", "activable"),
    "layerwise_epochs": (2, 0),
}
AFTER_TRAINING = ("binarization", "layerwise_epochs")


@document_shared_parameters
class BiMoNNClassifier(ClassifierMixin, BiMoNNBase):
    """Binarized morphological neural network classifier (BiMoNN).

    Real features are binarized by thresholds learned in ``fit`` (a thermometer encoding of
    per-feature quantiles; binary features pass through); a network of DenseLUI layers (after an
    optional convolutional front of BiSEL layers for images given as flat rows) and a float
    linear head is trained with torch; after training the morphological layers are binarized
    (exactly where neurons are activated, by the closest morphological operator elsewhere) into
    :attr:`binarized_`, a NumPy predictor that ``predict``/``score`` use by default. The method
    is that of Aouad & Talbot, *A foundation for exact binarized morphological neural
    networks* (arXiv:2401.03830); the user guide describes what skmorph adds.

    ``fit`` either completes or leaves the estimator as it was: an exception or a
    ``KeyboardInterrupt`` during training keeps the previously fitted model intact.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int or "auto", default="auto"
        Widths of the DenseLUI layers. ``"auto"``: ``(512,)``, or none (the head reads the
        pooled maps) after convolutional layers. DenseLUI layers after convolutional ones
        train poorly and are not recommended there: on the digits, a training loss of 1.4-1.8
        after 20 epochs with them, 0.08 without (benchmarks/README.md, "A DenseLUI layer
        before the head").
    hidden_channels : tuple of int or "auto", default="auto"
        Output channels of the convolutional layers (needs ``input_shape``). ``"auto"``: with
        ``input_shape``, the convolutional front that the classification benchmark found best
        (``(64, 128, 128)`` channels, three layers with 2x2 pooling; only the first one or two
        for images too small to pool three times, none for images smaller than a pooling
        block); for tabular data, none.
    kernel_size : int, tuple of int or "auto", default="auto"
        Odd kernel size of every convolutional layer, or one per layer. ``"auto"``: 5 for the
        first layer, 3 for the others.
    conv_layer : {"bise", "bisel"}, default="bise"
        The convolutional layers: ``"bise"`` (:class:`skmorph.nn.BiSE`: each output channel
        one erosion or dilation by an element spanning all input channels; the training cost
        of an ``nn.Conv2d``) or ``"bisel"`` (:class:`skmorph.nn.BiSEL`: an erosion or dilation
        per pair of input and output channels, then a union or intersection; more expressive
        per channel, ``in_channels`` times the activations, about 15x slower to train).
    pooling : {"dilation", "erosion"} or None, default="dilation"
        Binary pooling after every BiSEL layer (:class:`skmorph.nn.BlockPooling`): the OR
        (``"dilation"``, max pooling) or AND (``"erosion"``) of each ``pool_size`` block,
        subsampled. It keeps the network exactly binarizable and divides the pixels by
        ``pool_size**2`` per layer. ``None``: no pooling.
    pool_size : int, default=2
        Block size of the pooling.
    conv_readout : {"auto", "last", "all"}, default="auto"
        What the dense layers (or the head) read from the convolutional layers: the pooled
        maps of the last one (``"last"``, the paper's networks) or of every one, flattened and
        concatenated (``"all"``: fine features from the first layer next to the coarse ones of
        the last; the binarized network computes these bits anyway, so inference costs only the
        larger head). ``"auto"``: ``"all"``, which learned better on Fashion-MNIST
        (benchmarks/README.md); it only matters with convolutional layers.
    conv_complements : bool, default=False
        The convolutional layers after the first read the complements of their input maps too
        (``complement_inputs`` of :class:`skmorph.nn.BiSE`; needs ``conv_layer="bise"``):
        each neuron is then a general threshold function of the maps (binarized, a
        hit-or-miss or an OR of pixels and complements) instead of an increasing one. The
        binarized predictor takes the complements with a NOT on packed words. In a screen on
        20 000 Fashion-MNIST images it left 91% of the neurons activated instead of 69%; on
        the full set (10 epochs) 75% exact instead of 34%, but no better accuracy (binarized
        0.887 vs 0.888) for epochs 1.4x longer (benchmarks/README.md): not the default.
    weight_reparametrization : {"auto", "positive", "dual", "identity", "projected"}, default="auto"
        Non-negative weights by softplus (``"positive"``), softplus normalized to a constant
        sum (``"dual"``), raw weights (``"identity"``), or raw weights clamped at 0 after
        every step (``"projected"``: the cheapest step, and weights that reach exactly 0).
        ``"auto"``: ``"projected"`` with a convolutional front, ``"positive"`` otherwise.
    learning_rate : float or "auto", default="auto"
        Initial Adam learning rate. ``"auto"``: 1e-3 with convolutional layers, 1e-2
        otherwise. On Fashion-MNIST at the default batch of 64, 2e-3 made the training loss
        rise in the second epoch and 1e-3 trained as 2e-3 does at batch 128 (89.35% against
        89.32% binarized, benchmarks/README.md); 1e-2 makes a convolutional network collapse.
    learning_rate_schedule : {"auto", "plateau", "cosine"}, default="auto"
        ``"plateau"``: halved after 5 epochs without improvement; ``"cosine"``: decayed to 0
        along a half cosine over ``max_epochs``, step by step. ``"auto"``: ``"cosine"`` with
        convolutional layers, ``"plateau"`` otherwise.
    learning_rate_warmup : float, default=0.0
        Fraction of the training steps over which the learning rate rises linearly to
        ``learning_rate`` (the schedule then spans the remaining steps). The head of a
        convolutional network reads thousands of binary features, and Adam's first full-size
        steps throw it off: on 20 000 Fashion-MNIST images the first epoch's mean loss was
        2.52 without warmup and 0.91 with 0.1, and the float network gained 0.3 point after 4
        epochs; on the full set it gained nothing with distillation and lost 0.7 point
        (binarized) with ``hidden_outputs="binary"`` (benchmarks/README.md): not the default.
    hidden_outputs : {"auto", "smooth", "binary", "binarized"}, default="auto"
        What the hidden layers pass on in training (see
        :class:`skmorph.nn.MorphologicalNetwork`): ``"smooth"``, their outputs in ``[0, 1]``
        (the paper's network); ``"binary"``, their outputs thresholded at 1/2 with a
        straight-through gradient; ``"binarized"``, the outputs of their binarized neurons
        (refreshed every few steps, by the ``binarization`` method) with the gradient of the
        smooth ones: the network trains on what it will be once binarized, so the binarized
        predictor is exactly the trained network (on Fashion-MNIST it learned less than the
        smooth network: benchmarks/README.md). ``"auto"``: ``"binary"`` with convolutional
        layers (their binarized predictor was then as good as the float network on
        Fashion-MNIST, above the smooth one's), ``"smooth"`` otherwise.
    normalization : {None, "batch"}, default=None
        ``"batch"``: batch normalization of every morphological neuron's pre-activation
        (:class:`skmorph.nn.MorphologicalNeurons`): in training, the neuron thresholds its
        pre-activation standardized over the batch, at a learned number of standard deviations
        from the mean; after training the running statistics fold into the neuron's bias and
        scale, so it is an ordinary neuron, binarized exactly where activated. The threshold
        follows the pre-activations as the weights learn, as the batch normalization of binary
        networks does. On Fashion-MNIST (with ``hidden_outputs="binary"``) the float network
        learned as well as without it, but the thresholds, free to sit in the middle of the
        pre-activations, left 17% of the neurons activated instead of 45%, and the binarized
        predictor 1 point lower (benchmarks/README.md): not the default.
    input_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)``: the rows of ``X`` are images, flattened channel-major;
        required for ``hidden_channels``. Images get per-channel thresholds (level sets).
    n_thresholds : int or "auto", default="auto"
        Maximum number of thresholds per feature (or per channel for images), placed by
        ``threshold_strategy``. ``"auto"``: 7 with convolutional layers (the gray levels the
        first layer reads as level sets; seven learned better than two on Fashion-MNIST once
        the neurons start on the data, ``conv_start``), 3 otherwise.
    threshold_strategy : {"auto", "quantile", "uniform"}, default="auto"
        Where the ``n_thresholds`` levels of gray inputs lie: at quantiles of the training
        values (``"quantile"``: on images with a large uniform background, as Fashion-MNIST's
        zero pixels, quantiles coincide and fewer levels remain) or evenly spaced between
        their minimum and maximum (``"uniform"``); see
        :func:`skmorph.preprocessing.learn_thresholds`. ``"auto"``: ``"uniform"`` with
        convolutional layers, ``"quantile"`` otherwise.
    init_support_size : "auto", float or None, default="auto"
        Hidden DenseLUI units start as random activated OR/AND units of about this many inputs
        (see :meth:`skmorph.nn.MorphologicalNeurons.reset_parameters`); ``None`` uses the
        paper's dense initialization, whose units start as soft majority votes of all their
        inputs and binarize poorly behind a linear head. ``"auto"``: 2 with
        ``output_layer="linear"``, ``None`` with ``"binary"`` (a fully binarized network
        learns poorly from saturated sparse units).
    first_layer_start : {None, "signed"}, default=None
        ``"signed"`` starts the first layer (a BiSE or DenseLUI layer, reading the level
        sets and their complements: needs ``include_complement=True``) as random threshold
        functions of any sign over all its inputs, thresholded at the median of their
        pre-activations on the training data
        (:meth:`skmorph.nn.MorphologicalNetwork.signed_start_`), as a float convolution
        starts; ``None`` starts it as the other layers (sparse activated elements for
        convolutional layers, ``init_support_size`` for dense ones).
    conv_start : {"auto", "random", "data"}, default="auto"
        How the convolutional neurons start: ``"random"``, as random activated erosions or
        dilations by 2% of their window; ``"data"``, as random activated erosions or
        dilations by 2 weights (first layer) or 4 (later layers), each drawn again while its
        output is constant on 256 training images
        (:meth:`skmorph.nn.MorphologicalNetwork.data_start_`). On level sets of unequal
        densities most random starts are constant on the data, and a constant neuron starts
        with almost no gradient (on Fashion-MNIST, 21-28 of the 64 first-layer neurons and
        126 of the 128 second-layer ones with two input levels, 58-63 and 128 with seven;
        benchmarks/README.md, "A start that fires"). Needs ``conv_layer="bise"``;
        ``first_layer_start`` then replaces the first layer's start. ``"auto"``: ``"data"``
        with BiSE layers, ``"random"`` with BiSEL layers.
    output_layer : {"linear", "binary"}, default="linear"
        ``"linear"``: a float head on the last binary layer (the paper's networks);
        ``"binary"``: a last DenseLUI layer with one unit per class (fully binarized).
    head_dropout : float, default=0.0
        Dropout (Srivastava et al., JMLR 2014) on the binary features that the linear head
        reads, in training only: each is zeroed with this probability at every step, so the
        head cannot lean on a few of them and the layers below learn features that agree. The
        head needs no rescaling afterwards (inverted dropout), and the binarized predictor
        reads every feature. Needs ``output_layer="linear"``.
    refit_head : bool or "auto", default="auto"
        With a linear head, refit it (multinomial logistic regression, C=1) on the binary
        features that the binarized network actually produces on the training data, for the
        binarized predictor; the float network keeps its own head. The refit starts from the
        float network's head; from 1000 samples on it holds out a tenth of them (stratified)
        and stops when their accuracy has not improved for 2 rounds of 10 L-BFGS iterations,
        keeping the best head (the starting one included); with fewer samples it runs 200
        iterations on all of them. On Fashion-MNIST the full refit from zero overfits the
        18 816 features and costs minutes (benchmarks/README.md, "Layer by layer").
        ``"auto"``: refit unless the hidden outputs are ``"binarized"`` (the head was then
        trained on those very features). After ``layerwise_epochs`` the float head is trained
        on the predictor's own bits too; the refit starts from it and keeps it unless the
        held-out part says otherwise.
    layerwise_epochs : int or "auto", default="auto"
        After training, binarize the network layer by layer: each morphological layer in
        turn (convolutional, then dense) is set to its binarization (by ``binarization``, so
        calibrated on the training data with ``"calibrated"``) as activated neurons and
        frozen, and the layers after it, the head included, are trained ``layerwise_epochs``
        epochs on its now exact outputs (Adam from a tenth of ``learning_rate``, cosine
        decay). Every layer ends activated, so the binarized predictor equals the float
        network with hidden outputs thresholded at 1/2 (with the float head; ``refit_head``
        applies to the predictor's, refitted once, after the last layer). The frozen
        convolutional layers' outputs are computed once, not at every step
        (:meth:`skmorph.nn.MorphologicalNetwork.frozen_prefix`; at every step with
        ``augmentation`` or ``normalization``), so each epoch costs what the layers after the
        frozen ones cost; ignored by ``partial_fit``. No PA term is needed with it: on
        Fashion-MNIST (8 epochs, seed 0) 0.8918 binarized without, 0.8921 with, and 0.8932
        with two epochs per layer (benchmarks/README.md). ``"auto"``: 2 with convolutional
        layers (every neuron then ends exact), 0 otherwise and with
        ``hidden_outputs="binarized"``.
    binarization : {"activable", "calibrated", "constant_exact", "constant_uniform", \
"constant_normal", "exact", "auto"}, default="auto"
        How neurons that are not activated are approximated after fit (activated ones are
        always binarized exactly); ``"exact"`` raises if one is not activated.
        ``"calibrated"`` chooses, for each approximated BiSE or DenseLUI neuron, the erosion or
        dilation by a set of its largest weights that agrees most often with its thresholded
        output on 2000 training samples, layer after layer on the binarized network's own
        inputs (:func:`skmorph.estimators.calibrate_network`), instead of the closest one in
        weights. On the Fashion-MNIST benchmark network it gained 0.4 point; on small digits
        networks -1.5 to +0.6 (benchmarks/README.md). ``"auto"``: ``"calibrated"`` with
        convolutional layers (what ``layerwise_epochs`` freezes them to), ``"activable"``
        otherwise and with ``hidden_outputs="binarized"``.
    augmentation : {None, "hflip", "shift"} or tuple of them, default=None
        What training does to the images of each batch, in the order given (needs
        ``input_shape``): ``"hflip"`` flips each one left to right with probability 1/2 (for
        images whose classes do not change in a mirror, such as clothes or natural scenes;
        not for digits or text); ``"shift"`` translates each one by -1, 0 or 1 pixel along
        each axis, the edge pixels repeated (:mod:`skmorph.nn.augmentation`). The level sets
        are transformed, which is transforming the image; validation data, calibration and
        the head refit read the images as given (so the refitted head of the binarized
        predictor learns from those only).
    teacher : "auto", None, "cnn" or a classifier, default="auto"
        Knowledge distillation (Hinton et al., arXiv:1503.02531): the network learns the
        labels and the teacher's class probabilities, softened by
        ``distillation_temperature``, whose small values say which wrong classes resemble the
        right one. ``"cnn"``: a float CNN of the network's shape (``nn.Conv2d`` with ReLU and
        max pooling for each convolutional layer, its head reading the same maps; needs
        convolutional layers), trained first on the gray images with Adam (1e-3, cosine) for
        ``teacher_epochs`` epochs (:func:`skmorph.nn.distillation.fit_float_cnn`). A scikit-learn
        classifier with ``predict_proba`` is cloned and fitted on the training data (wrap a
        fitted one in ``sklearn.frozen.FrozenEstimator`` to use it as it is). With
        ``early_stopping`` the teacher learns from the training part only. ``"auto"``:
        ``"cnn"`` for a network with convolutional layers and ``output_layer="linear"``, none
        otherwise; :meth:`partial_fit` never distils. On Fashion-MNIST (three convolutional
        layers, 8 epochs, the teacher 4) the binarized accuracy was 89.88% and 89.49% on 2
        cores with the teacher (seeds 0-1; 89.60% and 89.05% without) and 90.17%, 89.30% and
        90.27% on a GPU (seeds 0-2) (benchmarks/README.md, "A float CNN teacher and a third
        layer"); in 10 epochs (the teacher 5), 90.29%, 89.57%, 89.84% and 89.84% on 2 cores
        (seeds 0-3), ``fit`` taking 1300-1475 s, the teacher's training included
        (benchmarks/README.md, "Frozen layers computed once").
    teacher_epochs : int or "auto", default="auto"
        Training epochs of the ``"cnn"`` teacher. ``"auto"``: half of ``max_epochs``, rounded
        up (its training is part of ``fit``'s time).
    distillation_weight : float, default=0.7
        Weight of the teacher's term in the loss, in ``[0, 1]`` (0: the labels only).
    distillation_temperature : float, default=4.0
        Temperature ``T`` of the softmax of the teacher's and the network's scores in the
        teacher's term (scaled by ``T**2``).
    max_epochs : int or "auto", default="auto"
        Maximum number of passes over the training data (per start). ``"auto"``: 60, or with
        convolutional layers as many as make about 9 400 training steps of ``batch_size``
        samples (at most 60): 10 epochs for 60 000 images at batch 64, the Fashion-MNIST
        benchmark's budget (89.9% binarized on average over 4 seeds, 22-25 minutes on 2
        cores: benchmarks/README.md, "Frozen layers computed once"), 60 for a few thousand
        images.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        The arithmetic of the training's forward passes (the network's and the ``"cnn"``
        teacher's): ``"bfloat16"`` runs them under ``torch.autocast``, convolutions and
        matrix products in bfloat16 with float32 sums, while the weights, their gradients,
        Adam and the loss stay float32 (:class:`skmorph.nn.TrainingOptions`). The binary
        inputs and outputs of the neurons are exact in bfloat16, the weights rounded to 8
        significant bits in the forward pass; the trained float network, its binarization and
        the predictor are computed in float32, so exactness is unchanged. ``"auto"``:
        ``"bfloat16"`` with convolutional layers on a device that computes it natively (a CPU
        with AMX tiles, a CUDA device supporting it: :func:`skmorph.nn.native_bfloat16`),
        ``"float32"`` otherwise; elsewhere bfloat16 is emulated and slower.
    <shared parameters>

    Attributes
    ----------
    classes_ : ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.
    thresholds_ : ndarray
        Input thresholds (per feature, or per channel for images), NaN where unused.
    input_shape_ : tuple of int or None
        ``(C, H, W)`` of the images, ``None`` for tabular data.
    network_ : skmorph.nn.MorphologicalNetwork
        The trained float network (on the CPU).
    binarized_ : skmorph.binary.BinarizedNetwork
        The torch-free binarized predictor.
    binarization_report_ : dict
        Per layer: neurons binarized exactly vs approximated and projection distances; also
        ``train_agreement``, the fraction of training samples where float and binarized
        predictions agree (on 10 000 random ones when there are more, which bounds the cost
        of the float network's pass), and ``head``, how the binarized predictor's head was
        made.
    history_ : list of dict
        Per-epoch losses, regularization, fraction of activated neurons, validation score.
    """

    _parameter_constraints: ClassVar[dict] = {
        **SHARED_CONSTRAINTS,
        "hidden_layer_sizes": [Options(("auto",)), SequenceOf(Interval(1, None, integer=True))],
        "hidden_channels": [Options(("auto",)), *SHARED_CONSTRAINTS["hidden_channels"]],
        "learning_rate": [Options(("auto",)), *SHARED_CONSTRAINTS["learning_rate"]],
        "learning_rate_schedule": [Options(("auto",)),
                                   *SHARED_CONSTRAINTS["learning_rate_schedule"]],
        "weight_reparametrization": [Options(("auto",)),
                                     *SHARED_CONSTRAINTS["weight_reparametrization"]],
        "kernel_size": [Options(("auto",)), *SHARED_CONSTRAINTS["kernel_size"]],
        "init_support_size": [Options(("auto", None)), Interval(0, None, closed="neither")],
        "first_layer_start": [Options((None, "signed"))],
        "conv_start": [Options(("auto", *CONV_STARTS))],
        "output_layer": [Options(OUTPUT_LAYERS)],
        "conv_layer": [Options(CONV_LAYERS)],
        "pooling": [Options((*POOLINGS, None))],
        "pool_size": [Interval(1, None, integer=True)],
        "conv_readout": [Options(("auto", *CONV_READOUTS))],
        "conv_complements": SHARED_CONSTRAINTS["include_complement"],
        "hidden_outputs": [Options(("auto", *HIDDEN_OUTPUTS))],
        "normalization": [Options(NORMALIZATIONS)],
        "refit_head": [Options(("auto",)), *SHARED_CONSTRAINTS["include_complement"]],
        "head_dropout": [Interval(0, 1, closed="left")],
        "layerwise_epochs": [Options(("auto",)), Interval(0, None, integer=True)],
        "binarization": [Options(("auto", *BINARIZATIONS))],
        "n_thresholds": [Options(("auto",)), *SHARED_CONSTRAINTS["n_thresholds"]],
        "threshold_strategy": [Options(("auto",)), *SHARED_CONSTRAINTS["threshold_strategy"]],
        "augmentation": [Options((None, *AUGMENTATIONS)),
                         SequenceOf(Options(tuple(AUGMENTATIONS)), min_length=1)],
        "teacher": [Options((None, "auto", "cnn")), HasMethods(("fit", "predict_proba"))],
        "teacher_epochs": [Options(("auto",)), Interval(1, None, integer=True)],
        "max_epochs": [Options(("auto",)), *SHARED_CONSTRAINTS["max_epochs"]],
        "distillation_weight": [Interval(0, 1)],
        "distillation_temperature": [Interval(0, None, closed="neither")],
        "precision": [Options(("auto", *PRECISIONS))],
    }
    _binarization_methods = (*BINARIZATIONS, "auto")
    _structural_params = (*BiMoNNBase._structural_params, "hidden_layer_sizes", "input_shape",
                          "output_layer", "conv_layer", "pooling", "pool_size", "conv_readout",
                          "conv_complements")

    def __init__(
        self,
        hidden_layer_sizes="auto",
        *,
        hidden_channels="auto",
        kernel_size="auto",
        padding="replicate",
        conv_layer="bise",
        pooling="dilation",
        pool_size=2,
        conv_readout="auto",
        conv_complements=False,
        hidden_outputs="auto",
        normalization=None,
        input_shape=None,
        n_thresholds="auto",
        threshold_strategy="auto",
        include_complement=True,
        init_support_size="auto",
        first_layer_start=None,
        conv_start="auto",
        output_layer="linear",
        head_dropout=0.0,
        refit_head="auto",
        layerwise_epochs="auto",
        regularization=None,
        regularization_weight=1e-3,
        regularization_delay=0,
        regularization_update_every="auto",
        binarization="auto",
        augmentation=None,
        teacher="auto",
        teacher_epochs="auto",
        distillation_weight=0.7,
        distillation_temperature=4.0,
        inference="binary",
        max_epochs="auto",
        batch_size=64,
        learning_rate="auto",
        learning_rate_schedule="auto",
        learning_rate_warmup=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        threshold="tanh",
        weight_reparametrization="auto",
        bias_reparametrization="softplus",
        random_state=None,
        device="auto",
        precision="auto",
        verbose=0,
        warm_start=False,
    ):
        self._store_parameters(locals())

    def fit(self, X, y):
        """Train the network on ``X`` (n_samples, n_features) and labels ``y``, then binarize.

        Returns
        -------
        self
        """
        return self._fit(X, y)

    # ---- what the fit template needs

    def _check_params(self, params) -> None:
        if params.input_shape is not None and len(params.input_shape) not in (2, 3):
            raise ValueError(
                f"input_shape must be (H, W) or (C, H, W), got {self.input_shape!r}"
            )
        if params.hidden_channels == "auto":
            params.hidden_channels = (() if params.input_shape is None
                                      else _automatic_channels(params))
        if params.hidden_layer_sizes == "auto":
            params.hidden_layer_sizes = () if params.hidden_channels else DENSE_LAYERS
        n_conv = len(params.hidden_channels)
        if params.kernel_size == "auto":
            params.kernel_size = (5, *[3] * (n_conv - 1)) if n_conv else 3
        if params.conv_start == "auto" and params.conv_layer != "bise":
            params.conv_start = "random"  # a data start draws elements across all channels
        # trained on its binarized outputs, the network is already its predictor: nothing to
        # calibrate or freeze
        on_binarized = params.hidden_outputs == "binarized"
        for name, (with_conv, without) in AUTO_VALUES.items():
            if getattr(params, name) == "auto":
                conv = n_conv and not (on_binarized and name in AFTER_TRAINING)
                setattr(params, name, with_conv if conv else without)
        if params.teacher == "auto":
            params.teacher = "cnn" if n_conv and params.output_layer == "linear" else None
        if params.precision == "auto":
            params.precision = ("bfloat16" if n_conv
                                and native_bfloat16(resolve_device(params.device))
                                else "float32")
        if n_conv and params.input_shape is None:
            raise ValueError("hidden_channels needs input_shape, the (C, H, W) of the images")
        if not params.hidden_layer_sizes and params.output_layer == "linear" and not n_conv:
            raise ValueError("the network needs at least one hidden or convolutional layer")
        if params.head_dropout and params.output_layer != "linear":
            raise ValueError(f"head_dropout={params.head_dropout!r} needs "
                             f"output_layer='linear' (the dropout is on the features the "
                             f"float head reads), got {params.output_layer!r}")
        if params.augmentation is not None and params.input_shape is None:
            raise ValueError(f"augmentation={params.augmentation!r} needs input_shape: it "
                             f"transforms images")
        if params.first_layer_start == "signed":
            if not params.include_complement:
                raise ValueError("first_layer_start='signed' needs include_complement=True: "
                                 "the first layer's negative weights are weights on the "
                                 "complements of its inputs")
            if n_conv and params.conv_layer != "bise":
                raise ValueError("first_layer_start='signed' needs conv_layer='bise' (a "
                                 "BiSEL's neurons each read one input channel)")
        if params.conv_start == "data" and n_conv and params.conv_layer != "bise":
            raise ValueError("conv_start='data' needs conv_layer='bise' (a BiSEL's neurons "
                             "each read one input channel)")
        params.kernel_size = per_layer(params.kernel_size, n_conv, "kernel_size")
        if n_conv and not _pooling_leaves_pixels(params, n_conv):
            raise ValueError(
                f"pool_size={params.pool_size} after each of the {n_conv} convolutional "
                f"layers leaves no pixel of {tuple(params.input_shape[-2:])} images: use "
                f"fewer hidden_channels, a smaller pool_size or pooling=None"
            )

    def _input_shape(self, params, n_features: int):
        if params.input_shape is None:
            return None
        shape = params.input_shape
        shape = (1, *shape) if len(shape) == 2 else shape
        if int(np.prod(shape)) != n_features:
            raise ValueError(
                f"input_shape must be (H, W) or (C, H, W) with C * H * W equal to the number "
                f"of features ({n_features}), got {self.input_shape}"
            )
        return shape

    def _prepare(self, params, X, y, warm: bool, classes=None) -> TrainingData:
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=not warm)
        check_classification_targets(y)
        if params.max_epochs == "auto":  # (partial_fit has set it to one pass)
            params.max_epochs = _automatic_epochs(params, len(X))
        if classes is not None:  # partial_fit: every label the calls will see
            classes, encoded = self._encode_with_classes(y, classes, warm)
        else:
            classes, encoded = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                f"BiMoNNClassifier needs samples of at least 2 classes in y; got 1 class: "
                f"{classes.tolist()}"
            )
        if warm:
            if not np.array_equal(classes, self.classes_):
                raise ValueError("warm_start needs the same classes as the previous fit")
            attributes = {name: getattr(self, name)
                          for name in ("classes_", "input_shape_", "thresholds_")}
        else:
            shape = self._input_shape(params, X.shape[1])
            # images: one column per channel, its pixels the rows
            columns = X if shape is None else (
                X.reshape(X.shape[0], shape[0], -1).transpose(0, 2, 1).reshape(-1, shape[0]))
            thresholds = learn_thresholds(columns, params.n_thresholds, params.threshold_strategy)
            attributes = {"classes_": classes, "input_shape_": shape, "thresholds_": thresholds}
        if hasattr(self, "feature_names_in_"):  # set (or removed) by validate_data above
            attributes["feature_names_in_"] = self.feature_names_in_
        inputs = self._encode(X, self._context(params, attributes))
        targets = torch.as_tensor(encoded, dtype=torch.long)
        return TrainingData(inputs, targets, attributes, X, encoded, stratify=encoded)

    def _encode_with_classes(self, y, classes, warm: bool):
        """Labels encoded against the ``classes`` of partial_fit."""
        classes = np.unique(np.asarray(classes))
        if warm and not np.array_equal(classes, self.classes_):
            raise ValueError(f"classes={classes.tolist()} differs from the classes of the "
                             f"earlier calls: {self.classes_.tolist()}")
        encoded = np.searchsorted(classes, y)
        unknown = (encoded >= classes.size) | (classes[np.minimum(encoded, classes.size - 1)]
                                               != y)
        if unknown.any():
            raise ValueError(f"y has labels not in classes: {np.unique(y[unknown]).tolist()}")
        return classes, encoded

    def partial_fit(self, X, y, classes=None):
        """One pass over ``(X, y)``, continuing the network of the earlier calls, then binarize.

        For data that does not fit in memory: call it on one chunk after another (for example
        the chunks of a dask array), as many passes as wanted. The first call learns the input
        thresholds and builds the network from its chunk, and needs ``classes``, every label
        that will ever be seen; later calls must keep the features and classes. The binarized
        predictor is up to date after each call, with the float network's head (refitting
        it on one chunk would fit it to that chunk): pass all the data, or a representative
        sample, to :meth:`binarize` to refit it. Each call runs Adam afresh for one epoch
        (``learning_rate`` without the plateau schedule of ``fit``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like, optional
            All the classes; required on the first call.

        Returns
        -------
        self
        """
        if not self._is_fitted() and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        if self.teacher not in (None, "auto"):
            raise ValueError("partial_fit does not distil: set teacher=None, or use fit")
        if classes is None:
            classes = self.classes_
        return self._fit(X, y, partial=True, classes=classes)

    def _encode(self, X: np.ndarray, context: dict) -> torch.Tensor:
        """Binary network inputs: bits (n, n_bits) or level-set images (n, C * L, H, W)."""
        layer = self._input_layers(context)[0]
        shape = context["input_shape_"]
        if shape is None:
            return as_float_tensor(layer.bits(X))
        return as_float_tensor(layer.images(X.reshape(X.shape[0], *shape)))

    def _new_network(self, params, data: TrainingData, start, generator):
        shape = data.attributes["input_shape_"]
        n_inputs = data.inputs.shape[1]
        conv = list(params.hidden_channels)
        pooling = params.pooling if conv else None
        if shape is not None:
            in_channels = n_inputs
            pool_sizes = [None if pooling is None else params.pool_size] * len(conv)
            n_features = conv_features(in_channels, *shape[1:], conv, pool_sizes,
                                       params.conv_readout)
        else:
            in_channels, n_features = None, n_inputs
        network = build_network(
            in_channels=in_channels,
            conv_channels=conv,
            kernel_sizes=list(params.kernel_size),
            n_features=n_features,
            hidden_layer_sizes=list(params.hidden_layer_sizes),
            n_outputs=data.attributes["classes_"].size,
            output_layer=params.output_layer,
            padding=params.padding,
            pooling=pooling,
            pool_size=params.pool_size,
            conv_layer=params.conv_layer,
            conv_readout=params.conv_readout,
            conv_complements=params.conv_complements,
            # the level sets' complements follow them: the first BiSE folds them in
            paired_inputs=bool(conv and params.include_complement
                               and params.conv_layer == "bise"),
            head_dropout=params.head_dropout,
            hidden_outputs=params.hidden_outputs,
            threshold=params.threshold,
            weight_reparametrization=params.weight_reparametrization,
            bias_reparametrization=params.bias_reparametrization,
            normalization=params.normalization,
        )
        support = params.init_support_size
        if support == "auto":
            support = 2 if params.output_layer == "linear" else None
        # convolutional neurons start as random activated erosions/dilations of a few pixels
        # of their window (larger starting elements saturate: their outputs are constant)
        network.reset_parameters(float(data.inputs.mean()), generator,
                                 dense_support_size=support,
                                 conv_operations=[None] * len(conv) if conv else None,
                                 channel_support_fraction=CONV_START_FRACTION)
        if conv and params.conv_start == "data":
            sample = torch.randperm(len(data.inputs), generator=generator)[:DATA_START_SAMPLES]
            supports = [DATA_START_SUPPORTS[0]] + [DATA_START_SUPPORTS[1]] * (len(conv) - 1)
            network.data_start_(data.inputs[sample], supports, generator)
        if params.first_layer_start == "signed":
            sample = torch.randperm(len(data.inputs), generator=generator)[:SIGNED_START_SAMPLES]
            network.signed_start_(data.inputs[sample], generator)
        return network

    def _train_phases(self, params, network, history, data, context, *args) -> list[Candidate]:
        if params.layerwise_epochs and data.fits_predictor:
            # the layers change after training: the head is refitted once, at the end
            context = _without_head_refit(context)
        return super()._train_phases(params, network, history, data, context, *args)

    def _refine(self, params, data, context, candidate: Candidate, generator) -> Candidate:
        """Layer-by-layer binarization (``layerwise_epochs``): freeze each morphological layer
        as its binarization, then train the layers after it on its exact outputs."""
        if not params.layerwise_epochs or not data.fits_predictor:
            return candidate
        network, history = copy.deepcopy(candidate.network), list(candidate.history)
        binarized, report = candidate.binarized, candidate.report
        tuning = copy.copy(params)
        tuning.learning_rate = params.learning_rate / 10
        tuning.learning_rate_schedule, tuning.learning_rate_warmup = "cosine", 0.0
        validation = not isinstance(data.train_index, slice)
        without_refit = _without_head_refit(context)
        layers = [*network.conv_layers, *network.dense_layers]
        if network.binary_output:  # the output layer is trained, never frozen
            layers = layers[:-1]
        try:
            for position, layer in enumerate(layers):
                # the predictor's binary layers are in the order of the float ones
                binary = [layer for layer in binarized.layers
                          if isinstance(layer, (BinaryConv, BinaryDense))][position]
                set_layer_operator(layer, binary, generator)
                layer.requires_grad_(False)
                if params.verbose:
                    print(f"layerwise binarization: layer {position + 1} of {len(layers)} "
                          f"frozen", flush=True)
                done = len(history)
                n_frozen = min(position + 1, len(network.conv_layers))
                with _frozen_prefix(params, network, n_frozen, data) as frozen_data:
                    history = self._train_network(
                        tuning, network, history, frozen_data,
                        data.train_index if validation else None,
                        data.scored_index if validation else None,
                        generator, resolve_device(params.device), params.layerwise_epochs,
                    )
                for entry in history[done:]:
                    entry["frozen_layers"] = position + 1
                # the layers after this one changed: binarize (and calibrate) them again; the
                # head (refit_head=True) only at the end
                last = position == len(layers) - 1
                binarized, report = self._binarize_network(
                    network, context if last else without_refit, params.binarization,
                    data.X, data.y)
        finally:
            network.requires_grad_(True)
        report["layerwise"] = f"{len(layers)} layers frozen in turn, {params.layerwise_epochs} " \
                              f"epochs after each"
        score = self._binarized_score(binarized, data.X[data.scored_index],
                                      data.y[data.scored_index])
        return Candidate(network, history, binarized, report, score)

    def _one_pass(self, params) -> None:
        super()._one_pass(params)
        params.teacher = None  # teacher="auto": partial_fit does not distil

    def _train_network(self, params, network, *args):
        if network.head is not None:  # a warm start trains with the current value
            network.head_dropout = params.head_dropout
        return super()._train_network(params, network, *args)

    def _loss(self, params):
        if params.teacher is not None:
            return distillation_loss(params.distillation_weight,
                                     params.distillation_temperature)
        if params.output_layer == "linear":
            return F.cross_entropy
        return _binary_output_loss

    def _training_targets(self, params, data: TrainingData, train_index, device, rng):
        """The labels, or with a ``teacher`` the labels (column 0) and the teacher's softened
        probabilities (:func:`skmorph.nn.distillation.distillation_loss`)."""
        if params.teacher is None:
            return data.targets
        if params.output_layer != "linear":
            raise ValueError("teacher needs output_layer='linear': the distillation loss "
                             "compares the teacher's probabilities with the head's scores")
        train_index = slice(None) if train_index is None else train_index
        classes = data.attributes["classes_"]
        if isinstance(params.teacher, str):
            log_probabilities = self._cnn_teacher(params, data, train_index, device, rng)
        else:
            log_probabilities = _estimator_teacher(params.teacher, data, train_index, classes)
        soft = soften(log_probabilities, params.distillation_temperature)
        return torch.cat([data.targets[:, None].to(soft.dtype), soft], dim=1)

    def _augmentation(self, params):
        names = params.augmentation
        if names is None:
            return None
        if isinstance(names, str):
            return AUGMENTATIONS[names]
        return compose(*(AUGMENTATIONS[name] for name in names))

    def _cnn_teacher(self, params, data: TrainingData, train_index, device, rng):
        shape = data.attributes["input_shape_"]
        if shape is None or not params.hidden_channels:
            raise ValueError("teacher='cnn' needs convolutional layers (input_shape and "
                             "hidden_channels); pass a scikit-learn classifier instead")
        images = torch.as_tensor(data.X, dtype=torch.float32).view(-1, *shape).to(device)
        generator = torch.Generator().manual_seed(int(rng.randint(2**31 - 1)))
        model = fit_float_cnn(
            images[train_index], data.targets[train_index].to(device),
            channels=params.hidden_channels, kernel_sizes=params.kernel_size,
            pool_size=None if params.pooling is None else params.pool_size,
            readout=params.conv_readout, n_classes=data.attributes["classes_"].size,
            max_epochs=(math.ceil(params.max_epochs / 2) if params.teacher_epochs == "auto"
                        else params.teacher_epochs),
            batch_size=params.batch_size, generator=generator, precision=params.precision,
        )
        return model.log_probabilities(images).cpu()

    @staticmethod
    def _validation_score(network, inputs, targets) -> float:
        if targets.dim() == 2:  # distillation targets: the labels are column 0
            targets = targets[:, 0].long()
        network.eval()
        batch = _float_batch(network, tuple(inputs.shape[-2:]) if inputs.dim() == 4 else None)
        correct = sum(int((network(inputs[start:start + batch]).argmax(1)
                           == targets[start:start + batch]).sum())
                      for start in range(0, len(inputs), batch))
        network.train()
        return correct / max(len(inputs), 1)

    def _binarize_network(self, network, context: dict, method: str, X=None, y=None):
        fit_params = context["_fit_params"]
        binarized, report = binarize_network(
            network, self._input_layers(context),
            method="activable" if method == "calibrated" else method, task="classification",
            classes=context["classes_"], image_shape=context["input_shape_"],
            feature_names=context.get("feature_names_in_"),
        )
        if method == "calibrated":
            report["method"] = method
            if X is None:
                report["calibration"] = ("none: calibration needs data (pass X and y); the "
                                         "activable projection was kept")
            else:
                rows = _fixed_rows(X.shape[0], CALIBRATION_SAMPLES)
                on_cpu = network if next(network.parameters()).device.type == "cpu" \
                    else copy.deepcopy(network).to("cpu")
                with torch_threads():
                    report["calibration"] = calibrate_network(
                        on_cpu, binarized, self._encode(X[rows], context))
        if fit_params["output_layer"] == "linear":
            refit = fit_params["refit_head"]
            if refit == "auto":
                refit = network.hidden_outputs != "binarized"
            if not refit:
                report["head"] = (f"the float network's head (refit_head="
                                  f"{fit_params['refit_head']!r})")
            elif X is None:
                report["head"] = ("the float network's head: pass X and y to refit it on the "
                                  "binarized features")
            else:
                missing = np.setdiff1d(np.arange(len(context["classes_"])), y)
                if missing.size:
                    raise ValueError(
                        f"y lacks the classes {context['classes_'][missing].tolist()}: the "
                        f"head is refitted on the binarized features of X, y for every class "
                        f"of classes_; pass data of every class, or neither X nor y to keep "
                        f"the float network's head")
                with _names_checked_already():
                    binarized.layers[-1] = _refit_head(binarized, X, context["classes_"], y,
                                                       network.head)
                report["head"] = "refitted on the binarized features of the given data"
        return binarized, report

    def _binarization_data(self, X, y):
        if X is None and y is None:
            return None, None
        if X is None or y is None:
            raise ValueError("pass both X and y (the data to refit the head on), or neither")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        y = column_or_1d(y)
        if len(y) != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {len(y)}")
        encoded = np.searchsorted(self.classes_, y)
        unknown = (encoded >= len(self.classes_)) | (
            self.classes_[np.minimum(encoded, len(self.classes_) - 1)] != y
        )
        if unknown.any():
            raise ValueError(f"y has labels not in classes_: {np.unique(y[unknown]).tolist()}")
        return X, encoded

    def _binarized_score(self, binarized, X, y):
        return None  # one candidate: nothing to choose

    def _fitted_extras(self, params, data, best, kept, warm) -> dict:
        context = self._context(params, data.attributes)
        X = data.X[_fixed_rows(data.X.shape[0], AGREEMENT_SAMPLES)]
        with _names_checked_already():
            binarized = best.binarized.predict(X)
        agreement = np.mean(self._float_predict(best.network, context, X) == binarized)
        best.report["train_agreement"] = float(agreement)
        return {}

    # ---- prediction

    def _float_scores(self, network, context: dict, X: np.ndarray) -> np.ndarray:
        with torch_threads(), torch.no_grad():
            network.eval()
            # in batches: a convolutional network's activations on a whole dataset do not fit
            shape = context["input_shape_"]
            batch = _float_batch(network, None if shape is None else tuple(shape[1:]))
            parts = [network(self._encode(X[start:start + batch], context))
                     for start in range(0, X.shape[0], batch)]
            outputs = torch.cat(parts) if parts else network(self._encode(X, context))
            if context["_fit_params"]["output_layer"] == "linear":
                return torch.softmax(outputs, dim=1).numpy().astype(np.float64)
            scores = outputs.numpy().astype(np.float64)
            return scores / np.maximum(scores.sum(axis=1, keepdims=True), 1e-12)

    def _float_predict(self, network, context: dict, X: np.ndarray) -> np.ndarray:
        return context["classes_"][np.argmax(self._float_scores(network, context, X), axis=1)]

    def _validated(self, X) -> np.ndarray:
        check_is_fitted(self, "binarized_")
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False,
                             ensure_min_samples=0)  # an empty batch: an empty prediction

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        X = self._validated(X)
        if self._check_inference() == "float":
            return self._float_scores(self.network_, vars(self), X)
        with _names_checked_already():
            return self.binarized_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        """Predicted labels (values of ``classes_``)."""
        X = self._validated(X)
        if self._check_inference() == "float":
            return self._float_predict(self.network_, vars(self), X)
        with _names_checked_already():
            return self.binarized_.predict(X)


@contextmanager
def _names_checked_already():
    """The estimator checked (and warned about) the feature names of X before handing the
    validated array to its binarized predictor, which would warn a second time."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "X does not have valid feature names",
                                UserWarning)
        yield


def _float_batch(network, image_size: tuple[int, int] | None) -> int:
    """Samples per forward pass of the float network outside training: as many as keep the
    outputs of its widest layer within ``FLOAT_VALUES`` values (convolutional outputs counted
    at the size of the input images, ``image_size``, pooling aside), ``FLOAT_BATCH`` at most.

    Convolutional activations then stay in cache (Fashion-MNIST's 64x5x5-128x3x3 network: 41
    images per pass; 4096 images took 4.8 s in passes of 64, 8.4 s in passes of 1024), while
    a dense network keeps passes of ``FLOAT_BATCH``, which spread the per-pass cost of its
    reparametrized weights (784 -> 4096 units: 60 000 samples in 19 s, 89 s in passes of 64).
    """
    widths = [layer.out_features for layer in network.dense_layers]
    if image_size is not None:
        widths += [layer.out_channels * image_size[0] * image_size[1]
                   for layer in network.conv_layers]
    return int(min(FLOAT_BATCH, max(1, FLOAT_VALUES // max(widths, default=1))))


def _pooling_leaves_pixels(params, n_layers: int) -> bool:
    """Whether the images keep a pixel after the pooling of ``n_layers`` layers."""
    return (params.pooling is None
            or min(params.input_shape[-2:]) // params.pool_size ** n_layers >= 1)


def _automatic_epochs(params, n_samples: int) -> int:
    """``max_epochs="auto"``: 60, or with convolutional layers the epochs of about
    ``CONV_STEPS`` steps over ``n_samples`` samples (at most 60)."""
    if not params.hidden_channels:
        return DENSE_EPOCHS
    steps_per_epoch = math.ceil(n_samples / params.batch_size)
    return min(DENSE_EPOCHS, math.ceil(CONV_STEPS / steps_per_epoch))


def _automatic_channels(params) -> tuple:
    """``IMAGE_CHANNELS``, without the last layers after which pooling would leave no pixel
    of the images (none left: a dense network)."""
    depth = len(IMAGE_CHANNELS)
    while depth and not _pooling_leaves_pixels(params, depth):
        depth -= 1
    return IMAGE_CHANNELS[:depth]


def _estimator_teacher(teacher, data: TrainingData, train_index, classes) -> torch.Tensor:
    """Log class probabilities of a scikit-learn ``teacher`` (cloned and fitted on the
    training samples) for every sample, in the columns of ``classes``."""
    teacher = clone(teacher)
    labels = classes[data.y]
    teacher.fit(data.X[train_index], labels[train_index])
    known = np.isin(teacher.classes_, classes)
    if not known.all():
        raise ValueError(f"the teacher predicts classes that y does not have: "
                         f"{teacher.classes_[~known].tolist()}")
    probabilities = np.zeros((len(data.X), classes.size))
    probabilities[:, np.searchsorted(classes, teacher.classes_)] = teacher.predict_proba(data.X)
    return torch.as_tensor(np.log(np.clip(probabilities, 1e-12, None)), dtype=torch.float32)


def _binary_output_loss(outputs, targets):
    one_hot = F.one_hot(targets, outputs.shape[1]).to(outputs.dtype)
    return F.binary_cross_entropy(outputs.clamp(1e-6, 1 - 1e-6), one_hot)


@contextmanager
def _frozen_prefix(params, network, n_layers: int, data: TrainingData):
    """``data`` with, as inputs, the outputs of the first ``n_layers`` convolutional layers,
    computed once (:meth:`skmorph.nn.MorphologicalNetwork.frozen_prefix`), while the network
    reads them: layer-by-layer binarization trains the layers after frozen ones, whose outputs
    are the same at every step. ``data`` as it is where the frozen outputs could change from
    step to step (augmented images, batch statistics) or there is no frozen layer."""
    if not n_layers or params.augmentation is not None or params.normalization is not None:
        yield data
        return
    with network.frozen_prefix(n_layers, data.inputs, resolve_device(params.device)) as inputs:
        yield dataclasses.replace(data, inputs=inputs)


def _without_head_refit(context: dict) -> dict:
    """The fit context with ``refit_head=False``: the binarized predictor keeps the float
    network's head."""
    return {**context, "_fit_params": {**context["_fit_params"], "refit_head": False}}


def _fixed_rows(n_samples: int, at_most: int) -> np.ndarray:
    """Sorted indices of at most ``at_most`` of ``n_samples`` rows, the same draw at every
    call (a fixed seed): the samples a fit reads for calibration or a report."""
    return np.sort(np.random.RandomState(0).permutation(n_samples)[:at_most])


def _refit_head(binarized, X, classes, encoded, start: torch.nn.Linear) -> LinearHead:
    """Multinomial logistic regression on the binarized hidden features, as a LinearHead,
    started from the float network's head ``start`` (which reads the same features).

    With at least ``HEAD_MIN_SAMPLES`` samples, L-BFGS runs in rounds of ``HEAD_ROUND``
    iterations on all but a held-out ``HEAD_HELD_OUT`` of them (stratified), and stops when
    the held-out accuracy has not improved for ``HEAD_PATIENCE`` rounds; the best head is
    kept, the starting one included. On tens of thousands of samples and features the full
    fit overfits them (Fashion-MNIST, benchmarks/README.md) and costs minutes. Fewer samples,
    or a class with a single sample: ``HEAD_MAX_ITER`` iterations on all of them. The
    iteration bounds are part of the method, so the ConvergenceWarning is not passed on.
    """
    weight = start.weight.detach().cpu().numpy().astype(np.float64)
    bias = start.bias.detach().cpu().numpy().astype(np.float64)
    if len(classes) == 2:  # one logit: the difference of the two classes' scores
        weight, bias = weight[1:] - weight[:1], bias[1:] - bias[:1]
    n_samples = X.shape[0]
    held_out = 0
    counts = np.bincount(encoded)
    # a class of one sample could fall wholly in the held-out part: then no held-out part
    if n_samples >= HEAD_MIN_SAMPLES and counts[counts > 0].min() >= 2:
        held_out = max(1, round(HEAD_HELD_OUT * n_samples))
        order = train_test_split(np.arange(n_samples), test_size=held_out, random_state=0,
                                 stratify=encoded)
        order = np.concatenate(order)
        X, encoded = X[order], encoded[order]
    # float32: half the memory of float64 for the 60 000 x 18 816 bits of a Fashion-MNIST head;
    # the rows held out last, so that both parts are views
    features = binarized.transform(X).astype(np.float32)
    fit_part, fit_labels = features[:n_samples - held_out], encoded[:n_samples - held_out]
    model = LogisticRegression(C=1.0, max_iter=HEAD_ROUND if held_out else HEAD_MAX_ITER,
                               warm_start=True)
    model.coef_, model.intercept_ = weight, bias
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        if not held_out:
            model.fit(fit_part, fit_labels)
        else:
            def held_out_score(coef, intercept):
                scores = features[n_samples - held_out:] @ coef.T.astype(np.float32) + intercept
                predicted = (scores[:, 0] > 0).astype(int) if scores.shape[1] == 1 \
                    else scores.argmax(1)
                return np.mean(predicted == encoded[n_samples - held_out:])

            best = (held_out_score(weight, bias), weight, bias)
            stale = 0
            for _ in range(HEAD_MAX_ITER // HEAD_ROUND):
                model.fit(fit_part, fit_labels)
                score = held_out_score(model.coef_, model.intercept_)
                if score > best[0]:
                    best, stale = (score, model.coef_.copy(), model.intercept_.copy()), 0
                else:
                    stale += 1
                if stale >= HEAD_PATIENCE or model.n_iter_.max() < HEAD_ROUND:
                    break  # no better for a while, or converged
            model.coef_, model.intercept_ = best[1], best[2]
    weight, bias = model.coef_, model.intercept_
    if len(classes) == 2:  # one logit z: softmax of (-z/2, z/2) is sigmoid(z)
        weight, bias = np.vstack([-weight / 2, weight / 2]), np.array([-bias[0], bias[0]]) / 2
    return LinearHead(weight, bias)
