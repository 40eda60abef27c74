"""The fit both estimators share: one template, the shared parameters and their constraints.

``fit`` validates the parameters (one table per estimator, checked once), prepares the data
(the estimator's input stage: thresholds, encoding), splits off validation data, trains every
start (and each start's phases), binarizes each candidate, keeps the best, and only then assigns
the fitted attributes, all together. An exception or a ``KeyboardInterrupt`` anywhere in ``fit``
leaves the estimator exactly as it was before the call.

Estimators supply what differs: ``_prepare`` (data and input stage), ``_new_network``,
``_loss``, ``_binarize_network``, ``_binarized_score``, ``_starts`` and ``_phases``.
"""

from __future__ import annotations

import copy
import inspect
import math
import textwrap
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skmorph.binary import Thresholds
from skmorph.estimators._params import Boolean, Interval, Options, SequenceOf, validate_params
from skmorph.morphology.projection import METHODS
from skmorph.nn import (
    REGULARIZATIONS,
    Regularizer,
    TrainingOptions,
    resolve_device,
    torch_threads,
    train,
)
from skmorph.nn.layers import PADDINGS
from skmorph.nn.networks import MorphologicalNetwork
from skmorph.nn.reparametrization import (
    BIAS_REPARAMETRIZATIONS,
    THRESHOLDS,
    WEIGHT_REPARAMETRIZATIONS,
)
from skmorph.preprocessing import STRATEGIES

__all__ = ["BiMoNNBase", "Candidate", "TrainingData", "as_float_tensor"]

INFERENCES = ("binary", "float")

_POSITIVE_INT = Interval(1, None, integer=True)

SHARED_CONSTRAINTS = {
    "hidden_channels": [SequenceOf(_POSITIVE_INT)],
    "kernel_size": [_POSITIVE_INT, SequenceOf(_POSITIVE_INT, min_length=1)],
    "padding": [Options(PADDINGS)],
    "input_shape": [Options((None,)), SequenceOf(_POSITIVE_INT, min_length=2)],
    "n_thresholds": [_POSITIVE_INT],
    "threshold_strategy": [Options(STRATEGIES)],
    "include_complement": [Boolean()],
    "regularization": [Options(REGULARIZATIONS)],
    "regularization_weight": [Interval(0, None)],
    "regularization_delay": [Interval(0, None, integer=True)],
    "regularization_update_every": [Options(("auto",)), _POSITIVE_INT],
    "binarization": [Options(METHODS)],
    "inference": [Options(INFERENCES)],
    "max_epochs": [_POSITIVE_INT],
    "batch_size": [_POSITIVE_INT],
    "learning_rate": [Interval(0, None, closed="neither")],
    "learning_rate_schedule": [Options(("plateau", "cosine"))],
    "learning_rate_warmup": [Interval(0, 1, closed="left")],
    "early_stopping": [Boolean()],
    "validation_fraction": [Interval(0, 1, closed="neither")],
    "n_iter_no_change": [_POSITIVE_INT],
    "tol": [Interval(0, None)],
    "threshold": [Options(THRESHOLDS)],
    "weight_reparametrization": [Options(WEIGHT_REPARAMETRIZATIONS)],
    "bias_reparametrization": [Options(BIAS_REPARAMETRIZATIONS)],
    "verbose": [Boolean(), Interval(0, None, integer=True)],
    "warm_start": [Boolean()],
    # random_state: check_random_state; device: resolve_device (both at the start of fit)
}

# (type, description) of the shared parameters; the default comes from each signature
SHARED_PARAMETER_DOCS = {
    "hidden_channels": (
        "tuple of int",
        "Output channels of the hidden BiSEL layers (erosions/dilations per channel pair, "
        "then unions/intersections of channels).",
    ),
    "kernel_size": (
        "int or tuple of int",
        "Odd kernel size of every BiSEL layer, or one per layer.",
    ),
    "padding": (
        '{"replicate", "zeros"}',
        "Pixels outside the image, in training and in the binarized predictor alike (so that "
        "binarization stays exact at the border).",
    ),
    "input_shape": (
        "tuple of int",
        "``(H, W)`` or ``(C, H, W)`` of one image when ``X`` is given as flat rows "
        "(channel-major).",
    ),
    "threshold_strategy": (
        '{"quantile", "uniform"}',
        "Where the ``n_thresholds`` levels of gray inputs lie: at quantiles of the training "
        'values (``"quantile"``: on images with a large uniform background, as '
        "Fashion-MNIST's zero pixels, quantiles coincide and fewer levels remain) or evenly "
        'spaced between their minimum and maximum (``"uniform"``); see '
        ":func:`skmorph.preprocessing.learn_thresholds`.",
    ),
    "include_complement": (
        "bool",
        "Also feed the complement of every input bit or channel. With non-negative weights a "
        "network is increasing in its inputs; the complements make set differences (top-hats, "
        '"feature below a threshold") representable.',
    ),
    "regularization": (
        '{None, "activable", "constant_exact", "constant_uniform", "constant_normal"}',
        "Distance added to the loss to pull neurons toward binarizable ones (projection onto "
        "the activable set, PA, or onto the constant set, PC; see the user guide, "
        '"Regularization"); ``None`` trains on the data loss only.',
    ),
    "regularization_weight": (
        "float",
        "The weight lambda of the regularization (ignored without ``regularization``): the "
        "trade-off to tune, e.g. with GridSearchCV on the binarized score.",
    ),
    "regularization_delay": ("int", "Optimization steps before the regularization starts."),
    "regularization_update_every": (
        'int or "auto"',
        "Steps between recomputations of the projection sets (see "
        ':class:`skmorph.nn.Regularizer`); ``"auto"`` chooses it from the number of weights '
        "(every step for small networks, every few hundred steps for a 4096-unit layer "
        "under PA: :func:`skmorph.nn.regularization.auto_update_every`).",
    ),
    "binarization": (
        '{"activable", "constant_exact", "constant_uniform", "constant_normal", "exact"}',
        "How neurons that are not activated are approximated after fit (activated ones are "
        'always binarized exactly); ``"exact"`` raises if one is not activated.',
    ),
    "inference": (
        '{"binary", "float"}',
        "What ``predict``/``transform`` and ``score`` use: the binarized predictor (what is "
        "deployed, so what GridSearchCV should score) or the float torch network.",
    ),
    "max_epochs": ("int", "Maximum number of passes over the training data (per start)."),
    "batch_size": ("int", "Samples per optimization step."),
    "learning_rate": ("float", "Initial Adam learning rate."),
    "learning_rate_schedule": (
        '{"plateau", "cosine"}',
        '``"plateau"``: halved after 5 epochs without improvement (of the validation score, '
        'or of the training loss); ``"cosine"``: decayed to 0 along a half cosine over '
        "``max_epochs``, step by step (for a fixed budget).",
    ),
    "learning_rate_warmup": (
        "float",
        "Fraction of the training steps (``max_epochs`` times the batches per epoch) over "
        "which the learning rate rises linearly to ``learning_rate`` before the schedule "
        "(the cosine decay spans the remaining steps); 0: none. See "
        ":class:`skmorph.nn.TrainingOptions` (``warmup_steps``).",
    ),
    "early_stopping": (
        "bool",
        "Hold out ``validation_fraction`` of the training data (stratified for the "
        "classifier), stop when its score stops improving and restore the best weights; "
        "candidates are then compared on it too. Otherwise training stops when the training "
        "loss stops improving.",
    ),
    "validation_fraction": ("float", "Fraction held out with ``early_stopping``."),
    "n_iter_no_change": ("int", "Epochs without improvement (by ``tol``) before stopping."),
    "tol": ("float", "Minimum improvement that counts."),
    "threshold": ('{"tanh", "sigmoid"}', "The smooth threshold of the neurons."),
    "weight_reparametrization": (
        '{"positive", "dual", "identity", "projected"}',
        "Non-negative weights by softplus (``positive``), softplus normalized to a constant "
        "sum (``dual``), raw weights (``identity``), or raw weights clamped at 0 after every "
        "step (``projected``: the cheapest step, and weights that reach exactly 0).",
    ),
    "bias_reparametrization": (
        '{"softplus", "raw", "clamped", "clamped_detached"}',
        "How the bias is parametrized (clamped variants stay in the range where the output "
        "is not constant).",
    ),
    "random_state": (
        "int, RandomState or None",
        "Seeds a local generator (never the global random state). Two fits with the same seed "
        "and data on the same machine (CPU or GPU model), torch version and number of torch "
        "threads give identical weights; another machine or thread count may change their last "
        "bits (other floating-point kernels, another order of sums), and so, rarely, a "
        "prediction.",
    ),
    "device": (
        '{"auto", "cpu", "cuda"}',
        "Where torch trains (``auto``: CUDA when available). Fitted estimators hold CPU "
        "tensors only.",
    ),
    "verbose": ("int", "1 prints one line per epoch (and per start)."),
    "warm_start": (
        "bool",
        "Continue training the fitted network instead of starting anew. The architecture "
        "parameters must be those of the previous fit (a ``ValueError`` says which changed).",
    ),
}

_SHARED_MARKER = "<shared parameters>"


def document_shared_parameters(cls):
    """Replace the marker line of ``cls``'s docstring by the shared parameters it has, with
    the defaults of its own signature, in signature order."""
    signature = inspect.signature(cls.__init__).parameters
    lines = []
    for name, parameter in signature.items():
        if name in SHARED_PARAMETER_DOCS and f"\n    {name} :" not in cls.__doc__:
            kind, text = SHARED_PARAMETER_DOCS[name]
            default = parameter.default
            default = f'"{default}"' if isinstance(default, str) else repr(default)
            lines.append(f"    {name} : {kind}, default={default}")
            lines.extend(f"        {line}"
                         for line in textwrap.wrap(text, 88, break_on_hyphens=False))
    cls.__doc__ = cls.__doc__.replace(f"    {_SHARED_MARKER}", "\n".join(lines))
    return cls


@dataclass
class TrainingData:
    """What ``fit`` trains on, prepared by an estimator from ``X`` and ``y``.

    ``attributes`` are the fitted attributes of the input stage (``thresholds_`` ...),
    committed with the others at the end of ``fit``; ``X`` and ``y`` the validated data, which
    candidates are scored on; ``stratify`` the labels of a stratified validation split.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    attributes: dict
    X: np.ndarray
    y: np.ndarray
    stratify: np.ndarray | None = None
    # set by the template after the validation split: what training uses, and what candidates
    # are scored on (the validation part with early stopping, else the training data)
    train_index: np.ndarray | slice = field(default_factory=lambda: slice(None))
    scored_index: np.ndarray | slice = field(default_factory=lambda: slice(None))
    # whether parts of the binarized predictor may be fitted on this data (the classifier's
    # head): not on one chunk of partial_fit, which would fit them to that chunk
    fits_predictor: bool = True


@dataclass
class Candidate:
    """One trained network (a start, or a phase of a start) and its binarization."""

    network: MorphologicalNetwork
    history: list
    binarized: object
    report: dict
    score: float | None
    start: object = None


class BiMoNNBase(BaseEstimator):
    """Stores the shared parameters and runs the fit template (see the module)."""

    _parameter_constraints: ClassVar[dict] = SHARED_CONSTRAINTS
    # parameters a warm start cannot change: they define the network or its inputs
    _structural_params: ClassVar[tuple] = (
        "hidden_channels", "kernel_size", "padding", "n_thresholds", "threshold_strategy",
        "include_complement", "threshold", "weight_reparametrization", "bias_reparametrization",
    )

    def _store_parameters(self, arguments: dict) -> None:
        """Store every argument of the estimator's ``__init__`` unchanged (as scikit-learn
        requires): ``self._store_parameters(locals())`` is the whole body of ``__init__``, so
        that each estimator declares its signature once and nothing else repeats it."""
        for name in inspect.signature(type(self).__init__).parameters:
            if name != "self":
                setattr(self, name, arguments[name])

    # ---- the template

    def _fit(self, X, y, *, partial: bool = False, classes=None):
        """``partial``: one pass over the data, continuing the fitted network (partial_fit)."""
        params = validate_params(type(self).__name__, self.get_params(deep=False),
                                 self._parameter_constraints)
        self._check_params(params)
        device = resolve_device(params.device)
        warm = (params.warm_start or partial) and self._is_fitted()
        if partial:
            self._one_pass(params)
        if warm:
            self._check_same_structure(params)
        previous = dict(self.__dict__)
        try:
            with torch_threads():
                fitted = self._fit_candidates(params, X, y, warm, device, classes, partial)
        except BaseException:
            # validate_data may already have set n_features_in_ / feature_names_in_
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise
        self.__dict__.update(fitted)
        return self

    def _one_pass(self, params) -> None:
        """partial_fit's settings: one pass at the learning rate, whatever the schedule."""
        params.max_epochs, params.early_stopping = 1, False
        params.learning_rate_schedule = "plateau"
        params.learning_rate_warmup = 0.0

    def _fit_candidates(self, params, X, y, warm: bool, device, classes=None,
                        partial: bool = False) -> dict:
        """Train every start and return the fitted attributes of the best candidate."""
        data = self._prepare(params, X, y, warm, classes)
        data.fits_predictor = not partial
        rng = check_random_state(params.random_state)
        generator = torch.Generator().manual_seed(int(rng.randint(2**31 - 1)))
        train_index, validation_index = self._split(params, data, rng)
        if validation_index is not None:
            data.train_index, data.scored_index = train_index, validation_index
        data.targets = self._training_targets(params, data, train_index, device, rng)
        starts = [None] if warm else self._starts(params, data)
        # each start has its own random stream: start k does not depend on how many draws the
        # starts before it made (fine-tuning, early stopping)
        seeds = rng.randint(2**31 - 1, size=len(starts))
        context = self._context(params, data.attributes)
        kept = []  # the best candidate of each start
        for index, start in enumerate(starts):
            if index:
                generator = torch.Generator().manual_seed(int(seeds[index]))
            if warm:
                network, history = copy.deepcopy(self.network_), list(self.history_)
            else:
                with torch.random.fork_rng(devices=[]):  # keep torch's global generator as is
                    network = self._new_network(params, data, start, generator)
                history = []
            candidates = self._train_phases(
                params, network, history, data, context, train_index, validation_index,
                generator, device, warm, start,
            )
            best = max(candidates, key=_score)  # the first of equals: the earlier phase
            best = self._refine(params, data, context, best, generator)
            best.start = start
            kept.append(best)
            if params.verbose and len(starts) > 1:
                print(f"start {index + 1}/{len(starts)} ({start}): binarized score "
                      f"{best.score:.4f}", flush=True)
            if best.score is not None and best.score >= 1.0:
                break  # a perfect score: no later start could be kept (equals keep the first)
        best = max(kept, key=_score)
        fitted = {
            **context,
            "network_": best.network,
            "history_": best.history,
            "binarized_": best.binarized,
            "binarization_report_": best.report,
        }
        fitted.update(self._fitted_extras(params, data, best, kept, warm))
        return fitted

    def _train_phases(self, params, network, history, data, context, train_index,
                      validation_index, generator, device, warm, start) -> list[Candidate]:
        """Train one start through its phases; each phase trains a copy of the previous
        phase's network, and every phase's network is a candidate."""
        candidates = []
        for phase, (epochs, hidden_outputs) in enumerate(self._phases(params, warm, start)):
            if phase:
                network, history = copy.deepcopy(network), list(history)
            # the binarized forward pass (hidden_outputs="binarized") binarizes neurons as
            # binarization does, approximating those that are not activated even for "exact"
            # (and by projection for "calibrated", which needs data)
            network.set_hidden_outputs(
                hidden_outputs or network.hidden_outputs,
                binarization="activable" if params.binarization in ("exact", "calibrated")
                else params.binarization,
            )
            done = len(history)
            history = self._train_network(params, network, history, data, train_index,
                                          validation_index, generator, device, epochs)
            for entry in history[done:]:
                entry["hidden_outputs"] = network.hidden_outputs
            fitting_data = (data.X, data.y) if data.fits_predictor else (None, None)
            binarized, report = self._binarize_network(
                network, context, params.binarization, *fitting_data
            )
            score = self._binarized_score(binarized, data.X[data.scored_index],
                                          data.y[data.scored_index])
            candidates.append(Candidate(network, history, binarized, report, score))
            if score is not None and score >= 1.0:
                break  # perfect: later phases could not be kept
        return candidates

    def _train_network(self, params, network, history, data, train_index, validation_index,
                       generator, device, max_epochs) -> list[dict]:
        if max_epochs == 0:  # a candidate as it starts (e.g. a discrete program)
            return history
        inputs, targets = data.inputs, data.targets
        validation = None
        if validation_index is not None:
            validation = (inputs[validation_index].to(device),
                          targets[validation_index].to(device))
            inputs, targets = inputs[train_index], targets[train_index]
        options = TrainingOptions(
            max_epochs=max_epochs,
            batch_size=params.batch_size,
            learning_rate=params.learning_rate,
            schedule=params.learning_rate_schedule,
            n_iter_no_change=params.n_iter_no_change,
            tol=params.tol,
            verbose=params.verbose,
            logits=self._uses_logits(params),
            warmup_steps=round(params.learning_rate_warmup * max_epochs
                               * math.ceil(len(inputs) / params.batch_size)),
            augment=self._augmentation(params),
            # the classifier's choice; the transformer's small networks train in float32
            precision=getattr(params, "precision", "float32"),
        )
        regularizer = Regularizer(
            params.regularization,
            params.regularization_weight,
            delay=params.regularization_delay,
            update_every=params.regularization_update_every,
        )
        network.to(device)
        try:
            return train(
                network, self._loss(params), inputs.to(device), targets.to(device),
                options=options, regularizer=regularizer, generator=generator,
                validation=validation, score=self._validation_score, history=history,
            )
        finally:
            network.to("cpu")  # fitted estimators hold no CUDA tensors

    def _split(self, params, data: TrainingData, rng):
        """Indices of the training and validation samples (``None``: no validation)."""
        if not params.early_stopping:
            return None, None
        n_samples = data.inputs.shape[0]
        try:
            return train_test_split(
                np.arange(n_samples), test_size=params.validation_fraction,
                stratify=data.stratify, random_state=rng,
            )
        except ValueError as error:
            raise ValueError(
                f"early_stopping=True holds out validation_fraction="
                f"{params.validation_fraction} of the {n_samples} training samples, which "
                f"is not possible here: {error}"
            ) from error

    # ---- warm start

    @staticmethod
    def _context(params, attributes: dict) -> dict:
        """What binarization and prediction read: the input stage's fitted attributes and the
        validated parameters of the fit (kept as ``_fit_params``, so that ``set_params``
        after fit does not change what the fitted model means)."""
        return {**attributes, "_fit_params": dict(vars(params))}

    def _is_fitted(self) -> bool:
        return hasattr(self, "binarized_")

    def _check_same_structure(self, params) -> None:
        before = self._fit_params
        changed = [name for name in self._structural_params
                   if before[name] != getattr(params, name)]
        if changed:
            described = ", ".join(f"{name}={before[name]!r} then {getattr(params, name)!r}"
                                  for name in changed)
            raise ValueError(
                f"warm_start=True continues the previous fit, but the network's structure "
                f"changed ({described}); restore the previous values or set warm_start=False "
                f"to fit anew"
            )

    # ---- binarization after fit

    _binarization_methods: ClassVar[tuple] = METHODS

    def binarize(self, method: str = "activable", X=None, y=None, *, return_report=False):
        """Binarize the fitted network with ``method``, without retraining.

        The estimator is left unchanged. The result depends only on the fitted estimator and
        the arguments: it is the same before and after a pickle round trip.

        Parameters
        ----------
        method : {"activable", "constant_exact", "constant_uniform", "constant_normal", \
"exact"}, default="activable"
            How neurons that are not activated are approximated (activated ones are always
            binarized exactly); ``"exact"`` raises if a neuron is not activated. The
            classifier also takes ``"calibrated"`` (with ``X`` and ``y``) and ``"auto"``, the
            method its fit used (its ``binarization`` as resolved).
        X, y : array-like, optional
            Data for the parts of the predictor fitted on data: the classifier refits its
            linear head on the binarized features of ``X`` (with ``refit_head=True``; ``y``
            must then hold every class of ``classes_``); without them the float network's
            head is kept. Ignored by the transformer.
        return_report : bool, default=False
            Also return the binarization report (as ``binarization_report_``).

        Returns
        -------
        BinarizedNetwork, or (BinarizedNetwork, dict) with ``return_report=True``
        """
        check_is_fitted(self, "binarized_")
        method = validate_params(f"{type(self).__name__}.binarize", {"method": method},
                                 {"method": [Options(self._binarization_methods)]}).method
        if method == "auto":  # the method the fit resolved "auto" to
            method = self._fit_params["binarization"]
        binarized, report = self._binarize_network(self.network_, vars(self), method,
                                                   *self._binarization_data(X, y))
        return (binarized, report) if return_report else binarized

    def _binarization_data(self, X, y):
        return None, None

    def _input_layers(self, context: dict) -> list:
        return [Thresholds(context["thresholds_"],
                           complement=context["_fit_params"]["include_complement"])]

    def _check_inference(self) -> str:
        return validate_params(type(self).__name__, {"inference": self.inference},
                               {"inference": [Options(INFERENCES)]}).inference

    # ---- what estimators supply (defaults where they share one)

    def _check_params(self, params) -> None:
        """Checks across parameters; may normalize ``params`` further."""

    def _starts(self, params, data: TrainingData) -> list:
        return [None]

    def _phases(self, params, warm: bool, start) -> list[tuple[int, str | None]]:
        """``(max_epochs, hidden_outputs or None)`` of each training phase of a start."""
        return [(params.max_epochs, None)]

    def _refine(self, params, data, context, candidate: Candidate, generator) -> Candidate:
        """A start's kept candidate, improved after training (the transformer's polish)."""
        return candidate

    def _training_targets(self, params, data: TrainingData, train_index, device, rng):
        """What the loss compares the network's outputs with (the classifier's distillation
        adds the teacher's probabilities to the labels); ``train_index``: the samples that
        training uses (``None``: all)."""
        return data.targets

    def _uses_logits(self, params) -> bool:
        return False

    def _augmentation(self, params):
        """``TrainingOptions.augment``: what training does to each batch (``None``: nothing)."""
        return None

    def _fitted_extras(self, params, data, best: Candidate, kept: list, warm: bool) -> dict:
        return {}


def _score(candidate: Candidate) -> float:
    # None: an estimator with a single candidate, which max() never compares
    return candidate.score


def per_layer(value, n_layers: int, name: str) -> tuple[int, ...]:
    """An int or one int per layer -> one odd int per layer (a kernel size)."""
    sizes = (value,) * n_layers if isinstance(value, int) else tuple(value)
    if len(sizes) != n_layers:
        raise ValueError(
            f"{name} must be an int or have one entry per layer ({n_layers}), got {value!r}"
        )
    for size in sizes:
        if size % 2 == 0:
            raise ValueError(f"{name} must be odd, got {size}")
    return sizes


def as_float_tensor(array: np.ndarray) -> torch.Tensor:
    # a writable float32 copy only where needed (torch warns on read-only arrays, e.g. memmaps)
    return torch.from_numpy(np.require(array, np.float32, ["C", "W"]))
