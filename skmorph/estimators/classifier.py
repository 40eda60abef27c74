"""BiMoNNClassifier: a scikit-learn classifier whose binarized predictor is what gets scored."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from skmorph.binary import LinearHead, Thresholds
from skmorph.estimators._base import BiMoNNBase, as_float_tensor, check_choice, check_number
from skmorph.nn import build_network, torch_threads
from skmorph.preprocessing import learn_thresholds

__all__ = ["BiMoNNClassifier"]


class BiMoNNClassifier(ClassifierMixin, BiMoNNBase):
    """Binarized morphological neural network classifier (BiMoNN, spec sections 6 and 7.3).

    Real features are binarized by thresholds learned in ``fit`` (a thermometer encoding of
    per-feature quantiles; binary features pass through); a network of DenseLUI layers (after an
    optional convolutional front of BiSEL layers for images given as flat rows) and a float
    linear head is trained with torch; after training the morphological layers are binarized
    (exactly where neurons are activated, by the closest morphological operator elsewhere) into
    :attr:`binarized_`, a NumPy predictor that ``predict``/``score`` use by default.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(512,)
        Widths of the DenseLUI layers.
    input_shape : tuple of int, optional
        ``(H, W)`` or ``(C, H, W)``: the rows of ``X`` are images, flattened channel-major;
        required for ``conv_channels``. Images get per-channel thresholds (level sets).
    conv_channels : tuple of int, default=()
        Output channels of the BiSEL layers of the convolutional front.
    kernel_sizes : int or tuple of int, default=3
        Kernel size of each BiSEL layer.
    padding : {"replicate", "zeros"}, default="replicate"
    n_thresholds : int, default=3
        Maximum number of thresholds per feature (or per channel for images).
    include_complement : bool, default=True
        Also feed the complement of every input bit, so that units can use "feature below a
        threshold" as well as "above" (with non-negative weights a network is otherwise
        increasing in its inputs; spec section 6).
    init_support_size : "auto", float or None, default="auto"
        Hidden DenseLUI units start as random activated OR/AND units of about this many inputs
        (see :meth:`skmorph.nn.MorphologicalNeurons.reset_parameters`); ``None`` uses the
        spec's dense initialization, whose units start as soft majority votes of all their
        inputs and binarize poorly behind a linear head. ``"auto"``: 2 with
        ``output_layer="linear"``, ``None`` with ``"binary"`` (a fully binarized network
        learns poorly from saturated sparse units).
    output_layer : {"linear", "binary"}, default="linear"
        ``"linear"``: a float head on the last binary layer (the paper's networks);
        ``"binary"``: a last DenseLUI layer with one unit per class (fully binarized).
    refit_head : bool, default=True
        With a linear head, refit it (multinomial logistic regression) on the binary features
        that the binarized network actually produces on the training data, for the binarized
        predictor; the float network keeps its own head.
    regularization : {None, "activable", "constant_exact", "constant_uniform", \
"constant_normal"}, default=None
        Distance added to the loss to pull neurons toward binarizable ones (spec section 5);
        ``None`` trains on the data loss only.
    regularization_weight : float, default=1e-3
        The weight lambda of the regularization (ignored without ``regularization``): the
        trade-off to tune, e.g. with GridSearchCV on the binarized score.
    regularization_delay : int, default=0
        Optimization steps before the regularization is switched on.
    regularization_update_every : int, default=1
        Steps between recomputations of the projection sets (see
        :class:`skmorph.nn.Regularizer`); raise it for large layers.
    binarization : {"activable", "constant_exact", "constant_uniform", "constant_normal", \
"exact"}, default="activable"
        How neurons that are not activated are approximated after fit.
    inference : {"binary", "float"}, default="binary"
        What ``predict``, ``predict_proba`` and ``score`` use: the binarized predictor (what is
        deployed, so what GridSearchCV should score) or the float torch network.
    max_epochs : int, default=60
    batch_size : int, default=64
    learning_rate : float, default=1e-2
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified) and stop when its
        accuracy stops improving, restoring the best weights. Otherwise training stops when the
        training loss stops improving (as ``MLPClassifier``).
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    threshold : {"tanh", "sigmoid"}, default="tanh"
    weight_reparametrization : {"positive", "dual", "identity"}, default="positive"
    bias_reparametrization : {"softplus", "raw", "clamped", "clamped_detached"}, \
default="softplus"
    random_state : int, RandomState or None, default=None
        Seeds a local generator (never the global random state): two fits with the same seed
        give identical weights on the CPU.
    device : {"auto", "cpu", "cuda"}, default="auto"
    verbose : int, default=0
        1 prints one line per epoch.
    warm_start : bool, default=False
        Continue training the fitted network (same classes and features) instead of starting
        anew.

    Attributes
    ----------
    classes_ : ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.
    thresholds_ : ndarray
        Input thresholds (per feature, or per channel for images), NaN where unused.
    network_ : skmorph.nn.MorphologicalNetwork
        The trained float network (on the CPU).
    binarized_ : skmorph.binary.BinarizedNetwork
        The torch-free binarized predictor.
    binarization_report_ : dict
        Per layer: neurons binarized exactly vs approximated and projection distances; also
        ``train_agreement``, the fraction of training samples where float and binarized
        predictions agree.
    history_ : list of dict
        Per-epoch losses, regularization, fraction of activated neurons, validation score.
    """

    def __init__(
        self,
        hidden_layer_sizes=(512,),
        *,
        input_shape=None,
        conv_channels=(),
        kernel_sizes=3,
        padding="replicate",
        n_thresholds=3,
        include_complement=True,
        init_support_size="auto",
        output_layer="linear",
        refit_head=True,
        regularization=None,
        regularization_weight=1e-3,
        regularization_delay=0,
        regularization_update_every=1,
        binarization="activable",
        inference="binary",
        max_epochs=60,
        batch_size=64,
        learning_rate=1e-2,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        threshold="tanh",
        weight_reparametrization="positive",
        bias_reparametrization="softplus",
        random_state=None,
        device="auto",
        verbose=0,
        warm_start=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.input_shape = input_shape
        self.conv_channels = conv_channels
        self.kernel_sizes = kernel_sizes
        self.padding = padding
        self.n_thresholds = n_thresholds
        self.include_complement = include_complement
        self.init_support_size = init_support_size
        self.output_layer = output_layer
        self.refit_head = refit_head
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

    # ---- input handling

    def _image_shape(self, n_features: int):
        if self.input_shape is None:
            if len(self.conv_channels):
                raise ValueError("conv_channels needs input_shape, the (C, H, W) of the images")
            return None
        shape = tuple(int(s) for s in self.input_shape)
        shape = (1, *shape) if len(shape) == 2 else shape
        if len(shape) != 3 or int(np.prod(shape)) != n_features:
            raise ValueError(
                f"input_shape must be (H, W) or (C, H, W) with C * H * W equal to the number "
                f"of features ({n_features}), got {self.input_shape}"
            )
        return shape

    def _encode(self, X: np.ndarray) -> torch.Tensor:
        """Binary network inputs: bits (n, n_bits) or level-set images (n, C * L, H, W)."""
        layer = self._input_layers()[0]
        if self.image_shape_ is None:
            return as_float_tensor(layer.bits(X))
        images = X.reshape(X.shape[0], *self.image_shape_)
        return as_float_tensor(layer.images(images))

    def _input_layers(self):
        return [Thresholds(self.thresholds_, complement=self.include_complement)]

    def _binarized_kwargs(self):
        return {"task": "classification", "classes": self.classes_,
                "image_shape": self.image_shape_}

    def _build(self, n_inputs: int, n_classes: int):
        hidden = [int(h) for h in self.hidden_layer_sizes]
        conv = [int(c) for c in self.conv_channels]
        if self.image_shape_ is not None:
            in_channels = n_inputs
            n_features = (conv[-1] if conv else in_channels) * int(
                np.prod(self.image_shape_[1:])
            )
        else:
            in_channels, n_features = None, n_inputs
        return build_network(
            in_channels=in_channels,
            conv_channels=conv,
            kernel_sizes=self.kernel_sizes,
            n_features=n_features,
            hidden_layer_sizes=hidden,
            n_outputs=n_classes,
            output_layer=self.output_layer,
            padding=self.padding,
            **self._neuron_options(),
        )

    def _check_params(self):
        self._check_common_params()
        check_choice(self.output_layer, "output_layer", ("linear", "binary"))
        check_choice(self.padding, "padding", ("replicate", "zeros"))
        check_number(self.n_thresholds, "n_thresholds", low=1, integer=True)
        if self.init_support_size not in ("auto", None):
            check_number(self.init_support_size, "init_support_size", low=0, low_open=True)
        for name in ("hidden_layer_sizes", "conv_channels"):
            for width in getattr(self, name):
                check_number(width, f"each entry of {name}", low=1, integer=True)
        if not len(self.hidden_layer_sizes) and self.output_layer == "linear" and not len(
            self.conv_channels
        ):
            raise ValueError("the network needs at least one hidden or convolutional layer")

    # ---- fit

    def _binarize(self, method: str):
        binarized, report = super()._binarize(method)
        if self.refit_head and self.output_layer == "linear":
            if getattr(self, "_training_X", None) is None:
                report["head"] = ("the float network's head: the training data, needed to refit "
                                  "it, is not kept by a pickled estimator")
            else:
                binarized.layers[-1] = _refit_head(binarized, self._training_X, self.classes_,
                                                   self._training_y)
                report["head"] = "refitted on the binarized features of the training data"
        return binarized, report

    def _loss(self, outputs, targets):
        if self.output_layer == "linear":
            return F.cross_entropy(outputs, targets)
        one_hot = F.one_hot(targets, outputs.shape[1]).to(outputs.dtype)
        return F.binary_cross_entropy(outputs.clamp(1e-6, 1 - 1e-6), one_hot)

    def fit(self, X, y):
        """Train the network on ``X`` (n_samples, n_features) and labels ``y``, then binarize.

        Returns
        -------
        self
        """
        self._check_params()
        warm = self._warm()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=not warm)
        check_classification_targets(y)
        classes, encoded = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                f"BiMoNNClassifier needs samples of at least 2 classes in y; got 1 class: "
                f"{classes.tolist()}"
            )
        if warm and not np.array_equal(classes, self.classes_):
            raise ValueError("warm_start needs the same classes as the previous fit")
        rng, generator = self._generators()
        # kept for post-fit binarization with another method (refit of the head); not pickled
        self._training_X, self._training_y = X, encoded
        with torch_threads():
            if not warm:
                self.classes_ = classes
                self.image_shape_ = self._image_shape(X.shape[1])
                if self.image_shape_ is None:
                    self.thresholds_ = learn_thresholds(X, self.n_thresholds)
                else:
                    channels = self.image_shape_[0]
                    per_channel = X.reshape(X.shape[0], channels, -1).transpose(0, 2, 1)
                    self.thresholds_ = learn_thresholds(
                        per_channel.reshape(-1, channels), self.n_thresholds
                    )
            inputs = self._encode(X)
            targets = torch.as_tensor(encoded, dtype=torch.long)
            if not warm:
                # module constructors draw from torch's global generator: keep it untouched
                with torch.random.fork_rng(devices=[]):
                    self.network_ = self._build(inputs.shape[1], classes.size)
                support = self.init_support_size
                if support == "auto":
                    support = 2 if self.output_layer == "linear" else None
                self.network_.reset_parameters(
                    float(inputs.mean()), generator, dense_support_size=support
                )
            validation = score = None
            if self.early_stopping:
                train_index, val_index = train_test_split(
                    np.arange(X.shape[0]), test_size=self.validation_fraction,
                    stratify=encoded, random_state=rng,
                )
                validation = (inputs[val_index], targets[val_index])
                inputs, targets = inputs[train_index], targets[train_index]
                score = _float_accuracy
            self.history_ = self._train(
                self.network_, self._loss, inputs, targets, generator, validation, score,
                history=self.history_ if warm else None,
            )
            self.binarized_, self.binarization_report_ = self._binarize(self.binarization)
            self.binarization_report_["train_agreement"] = float(
                np.mean(self._float_predict(X) == self.binarized_.predict(X))
            )
        return self

    # ---- prediction

    def _float_scores(self, X: np.ndarray) -> np.ndarray:
        with torch_threads(), torch.no_grad():
            self.network_.eval()
            outputs = self.network_(self._encode(X))
            if self.output_layer == "linear":
                return torch.softmax(outputs, dim=1).numpy().astype(np.float64)
            scores = outputs.numpy().astype(np.float64)
            return scores / np.maximum(scores.sum(axis=1, keepdims=True), 1e-12)

    def _float_predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self._float_scores(X), axis=1)]

    def _validated(self, X) -> np.ndarray:
        check_is_fitted(self, "binarized_")
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        X = self._validated(X)
        if self.inference == "float":
            return self._float_scores(X)
        return self.binarized_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        """Predicted labels (values of ``classes_``)."""
        X = self._validated(X)
        if self.inference == "float":
            return self._float_predict(X)
        return self.binarized_.predict(X)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_training_X", None)
        state.pop("_training_y", None)
        return state


def _refit_head(binarized, X, classes, encoded) -> LinearHead:
    """Multinomial logistic regression on the binarized hidden features, as a LinearHead."""
    features = binarized.transform(X).astype(np.float64)
    model = LogisticRegression(C=1.0, max_iter=2000).fit(features, encoded)
    weight, bias = model.coef_, model.intercept_
    if len(classes) == 2:  # one logit z: softmax of (-z/2, z/2) is sigmoid(z)
        weight, bias = np.vstack([-weight / 2, weight / 2]), np.array([-bias[0], bias[0]]) / 2
    return LinearHead(weight, bias)


def _float_accuracy(network, inputs, targets) -> float:
    network.eval()
    outputs = network(inputs)
    network.train()
    return float((outputs.argmax(1) == targets).float().mean())
