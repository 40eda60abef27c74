"""What both estimators share: parameter checks, seeding, training and binarization."""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skmorph.estimators.conversion import binarize_network
from skmorph.morphology.projection import METHODS
from skmorph.nn import REGULARIZATIONS, Regularizer, TrainingOptions, resolve_device, train
from skmorph.nn.networks import MorphologicalNetwork
from skmorph.nn.reparametrization import (
    BIAS_REPARAMETRIZATIONS,
    THRESHOLDS,
    WEIGHT_REPARAMETRIZATIONS,
)

INFERENCES = ("binary", "float")


def check_choice(value, name: str, options) -> None:
    if value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")


def check_number(value, name: str, *, low=None, high=None, integer=False, low_open=False):
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a number"
        raise TypeError(f"{name} must be {what}, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")


class BiMoNNBase(BaseEstimator):
    """Shared machinery; subclasses define the data handling and the network."""

    def _check_common_params(self) -> None:
        check_choice(self.regularization, "regularization", REGULARIZATIONS)
        check_number(self.regularization_weight, "regularization_weight", low=0)
        check_number(self.regularization_delay, "regularization_delay", low=0, integer=True)
        check_number(
            self.regularization_update_every, "regularization_update_every", low=1, integer=True
        )
        check_choice(self.binarization, "binarization", METHODS)
        check_choice(self.inference, "inference", INFERENCES)
        check_number(self.max_epochs, "max_epochs", low=1, integer=True)
        check_number(self.batch_size, "batch_size", low=1, integer=True)
        check_number(self.learning_rate, "learning_rate", low=0, low_open=True)
        check_number(self.n_iter_no_change, "n_iter_no_change", low=1, integer=True)
        check_number(self.tol, "tol", low=0)
        if self.early_stopping:
            check_number(self.validation_fraction, "validation_fraction", low=0, high=1,
                         low_open=True)
            if self.validation_fraction >= 1:
                raise ValueError(
                    f"validation_fraction must be < 1, got {self.validation_fraction}"
                )
        check_choice(self.threshold, "threshold", THRESHOLDS)
        check_choice(
            self.weight_reparametrization, "weight_reparametrization", WEIGHT_REPARAMETRIZATIONS
        )
        check_choice(
            self.bias_reparametrization, "bias_reparametrization", BIAS_REPARAMETRIZATIONS
        )

    def _neuron_options(self) -> dict:
        return {
            "threshold": self.threshold,
            "weight_reparametrization": self.weight_reparametrization,
            "bias_reparametrization": self.bias_reparametrization,
        }

    def _training_options(self, max_epochs=None) -> TrainingOptions:
        return TrainingOptions(
            max_epochs=self.max_epochs if max_epochs is None else max_epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            verbose=self.verbose,
        )

    def _regularizer(self) -> Regularizer:
        return Regularizer(
            self.regularization,
            self.regularization_weight,
            delay=self.regularization_delay,
            update_every=self.regularization_update_every,
        )

    def _generators(self):
        """A NumPy RandomState and a torch CPU generator, both from ``random_state`` only."""
        rng = check_random_state(self.random_state)
        generator = torch.Generator().manual_seed(int(rng.randint(2**31 - 1)))
        return rng, generator

    def _warm(self) -> bool:
        return bool(self.warm_start) and hasattr(self, "network_")

    def _train(self, network: MorphologicalNetwork, loss, X, Y, generator, validation, score,
               history=None, max_epochs=None):
        device = resolve_device(self.device)
        network.to(device)
        try:
            history = train(
                network,
                loss,
                X.to(device),
                Y.to(device),
                options=self._training_options(max_epochs),
                regularizer=self._regularizer(),
                generator=generator,
                validation=None
                if validation is None
                else tuple(v.to(device) for v in validation),
                score=score,
                history=history,
            )
        finally:
            network.to("cpu")  # fitted estimators hold no CUDA tensors
        return history

    def _binarize(self, method: str):
        """(BinarizedNetwork, report) of the fitted network with ``method``."""
        check_is_fitted(self, "network_")
        return binarize_network(self.network_, self._input_layers(), method=method,
                                **self._binarized_kwargs())


def as_float_tensor(array: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(array), dtype=torch.float32)
