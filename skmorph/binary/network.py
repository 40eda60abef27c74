"""BinarizedNetwork: the torch-free, bit-packed predictor of a trained BiMoNN."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import Tags
from sklearn.utils.validation import validate_data

from skmorph._dask import is_dask_array, map_image_operator, map_packed_operator
from skmorph._validation import check_binary_array, check_finite
from skmorph.binary.export import check_description
from skmorph.binary.layers import (
    BinaryConv,
    BinaryDense,
    BinaryPooling,
    LinearHead,
    Thresholds,
    pack_samples,
    unpack_samples,
)
from skmorph.morphology.bitpack import PackedImage

__all__ = ["BinarizedNetwork"]

FORMAT = "skmorph.BinarizedNetwork"
FORMAT_VERSION = 1
_LAYER_TYPES = {
    "thresholds": Thresholds,
    "conv": BinaryConv,
    "pool": BinaryPooling,
    "dense": BinaryDense,
    "linear": LinearHead,
}
_CHUNK_SAMPLES = 8192  # dense inputs processed at once
_CHUNK_PIXELS = 1 << 24  # image pixels (all channels) processed at once


def dice_scores(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Dice coefficient per sample (1 when both are empty)."""
    predicted = predicted.reshape(predicted.shape[0], -1)
    target = target.reshape(target.shape[0], -1)
    overlap = (predicted & target).sum(axis=1)
    total = predicted.sum(axis=1) + target.sum(axis=1)
    return np.where(total == 0, 1.0, 2 * overlap / np.maximum(total, 1))


class BinarizedNetwork(BaseEstimator):
    """A binarized morphological network that runs in NumPy on packed bits.

    Built by the estimators (``BiMoNNClassifier.binarized_``,
    ``MorphologicalTransformer.binarized_``, :func:`skmorph.binarize`) or loaded with
    :meth:`from_dict`/:meth:`load`; it needs no torch. It follows scikit-learn's predictor
    interface and counts as fitted, so it can be used as a frozen step of a ``Pipeline`` (e.g.
    through ``sklearn.frozen.FrozenEstimator``).

    Parameters
    ----------
    layers : list
        ``Thresholds`` first (input binarization), then optional ``BinaryConv`` layers (of a
        classifier, each optionally followed by a ``BinaryPooling``), then optional
        ``BinaryDense`` layers and a ``LinearHead``.
    task : {"classification", "image"}
        Classification networks map features to classes; image networks map images to images.
    classes : array-like, optional
        Class labels, in the order of the outputs (classification).
    image_shape : tuple of int, optional
        ``(C, H, W)`` of the inputs when they are images: given as flat rows of ``C * H * W``
        features to a classifier with convolutional layers, or the training shape of an image
        network (image networks accept any image size).
    feature_names : array-like of str, optional
        The column names of the training data (the classifier's ``feature_names_in_``):
        DataFrames given to ``predict`` must have these columns, in this order.
    conv_readout : {"last", "all"}, default="last"
        What the dense layers (or the head) of a classifier with convolutional layers read: the
        maps of the last convolutional layer, or those of every convolutional layer (each after
        its pooling), flattened and concatenated in layer order (see
        :class:`skmorph.nn.MorphologicalNetwork`).

    Notes
    -----
    Inputs follow the rules of the estimator that made the network: features are checked as
    scikit-learn checks them (number, names, finite values; sparse input is refused), images
    of a network without level sets must be binary (gray images are refused, not thresholded),
    and an empty batch gives an empty output.
    """

    def __init__(self, layers=(), *, task="classification", classes=None, image_shape=None,
                 feature_names=None, conv_readout="last"):
        self.layers = layers
        self.task = task
        self.classes = classes
        self.image_shape = image_shape
        self.feature_names = feature_names
        self.conv_readout = conv_readout

    # ---- scikit-learn plumbing

    def fit(self, X=None, y=None, **fit_params) -> BinarizedNetwork:
        """Do nothing and return ``self``: a binarized network is already trained.

        It exists so that scikit-learn accepts the network as a (frozen) estimator, e.g. as a
        step of a ``Pipeline``; to train, fit ``BiMoNNClassifier`` or
        ``MorphologicalTransformer`` and take their ``binarized_``.
        """
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier" if self.task == "classification" else None
        tags.requires_fit = False
        return tags

    @property
    def classes_(self) -> np.ndarray:
        if self.task != "classification":
            raise AttributeError("classes_ exists for classification networks only")
        return np.asarray(self.classes)

    @property
    def n_features_in_(self) -> int:
        if self.task == "image":
            raise AttributeError("image networks accept images of any size")
        if self.image_shape is not None:  # flat images (level sets per channel)
            return int(np.prod(self.image_shape))
        return self.layers[0].thresholds.shape[0]

    @property
    def feature_names_in_(self) -> np.ndarray:
        if self.feature_names is None:
            raise AttributeError("this network was not given feature names")
        return np.asarray(self.feature_names, dtype=object)

    def _binary_images_only(self) -> bool:
        """Whether the input stage passes binary images through (no learned level sets)."""
        thresholds = self.layers[0].thresholds
        return thresholds.shape[1] == 1 and bool(np.all(thresholds == 0.5))

    def _n_outputs(self) -> int:
        """Bits of the last binary layer (classification networks)."""
        for layer in reversed(self.layers):
            if isinstance(layer, BinaryDense):
                return layer.n_units
            if isinstance(layer, (BinaryConv, BinaryPooling)):
                sizes = self._readout_sizes()
                return sum(sizes) if self._reads_every_layer() else sizes[-1]
        return self.layers[0].n_outputs

    def _reads_every_layer(self) -> bool:
        readout = getattr(self, "conv_readout", "last")  # absent from older pickles
        if readout not in ("last", "all"):
            raise ValueError(f"conv_readout must be 'last' or 'all', got {readout!r}")
        return self.task == "classification" and readout == "all" and bool(self._conv_layers())

    def _ends_conv_stage(self, index: int) -> bool:
        """Whether layer ``index`` (a conv or pool layer) gives the maps of a convolutional
        layer: a pooling, or a conv layer without one after it."""
        after = self.layers[index + 1] if index + 1 < len(self.layers) else None
        return (isinstance(self.layers[index], BinaryPooling)
                or not isinstance(after, BinaryPooling))

    def _readout_sizes(self) -> list[int]:
        """Bits in the maps of each convolutional layer (after its pooling), for the images of
        ``image_shape`` (classifiers)."""
        height, width = self.image_shape[1:]
        sizes = []
        for index, layer in enumerate(self.layers):
            if isinstance(layer, BinaryPooling):
                height, width = layer.output_shape(height, width)
            if isinstance(layer, BinaryConv):
                channels = layer.out_channels
            if isinstance(layer, (BinaryConv, BinaryPooling)) and self._ends_conv_stage(index):
                sizes.append(channels * height * width)
        return sizes

    def _conv_layers(self):
        return [layer for layer in self.layers if isinstance(layer, BinaryConv)]

    # ---- evaluation

    def _images_to_bits(self, images: np.ndarray, every_layer: bool = False) -> np.ndarray:
        """Images ``(n, C, H, W)`` through the input and convolutional layers: the bool images
        of the last layer, or (``every_layer``) the maps of every convolutional layer after its
        pooling, flattened and concatenated: bool ``(n, features)``."""
        outputs = []
        per_image = int(np.prod(images.shape[1:])) * max(
            [layer.out_channels for layer in self._conv_layers()] + [images.shape[1]]
        )
        step = max(1, _CHUNK_PIXELS // max(per_image, 1))
        for start in range(0, images.shape[0], step):
            chunk = images[start : start + step]
            packed, maps = None, []
            for index, layer in enumerate(self.layers):
                if isinstance(layer, Thresholds):
                    packed = layer.packed_images(chunk)
                elif isinstance(layer, (BinaryConv, BinaryPooling)):
                    packed = layer(packed)
                    if every_layer and self._ends_conv_stage(index):
                        maps.append(packed.unpack().reshape(chunk.shape[0], -1))
            outputs.append(np.concatenate(maps, axis=1) if every_layer else packed.unpack())
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)

    def _dense_part(self, X: np.ndarray):
        """Samples through every layer; yields (bits of the last binary layer, scores)."""
        dense = [layer for layer in self.layers if isinstance(layer, (BinaryDense, LinearHead))]
        for start in range(0, X.shape[0], _CHUNK_SAMPLES):
            chunk = X[start : start + _CHUNK_SAMPLES]
            n = chunk.shape[0]
            if self.image_shape is not None:
                images = self._images_to_bits(chunk.reshape(n, *self.image_shape),
                                              every_layer=self._reads_every_layer())
                features = images.reshape(n, -1)
                if not any(isinstance(layer, BinaryDense) for layer in dense):
                    # the maps go to the head as they are: packing the samples only to
                    # unpack them would cost more than the head (most of it at batch 1)
                    head = dense[-1] if dense else None
                    yield features, None if head is None else head.scores(features)
                    continue
                bits = pack_samples(features.T)
            else:
                bits = self.layers[0].feature_major(chunk)
            scores = None
            for layer in dense:
                if isinstance(layer, LinearHead):
                    scores = layer(bits, n)
                else:
                    bits = layer(bits, n)
            yield unpack_samples(bits, n).T, scores

    def _check_features(self, X) -> np.ndarray:
        # scikit-learn's checks: number and names of the features, finite values, no sparse
        return validate_data(self, X, reset=False, dtype=[np.float64, np.float32],
                             ensure_min_samples=0)

    def decision_function(self, X) -> np.ndarray:
        """Class scores ``(n_samples, n_classes)``: the float head, or the output bits."""
        if self.task != "classification":
            raise AttributeError("decision_function exists for classification networks only")
        X = self._check_features(X)
        parts = [scores if scores is not None else bits.astype(np.float32)
                 for bits, scores in self._dense_part(X)]
        if not parts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        return np.concatenate(parts)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities: softmax of the head's scores, or normalized output bits."""
        scores = self.decision_function(X).astype(np.float64)
        if any(isinstance(layer, LinearHead) for layer in self.layers):
            scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        else:  # fully binarized: the firing output units share the probability
            scores = np.where(scores.sum(axis=1, keepdims=True) == 0, 1.0, scores)
        return scores / scores.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Predicted classes (classification) or output images (image networks)."""
        if self.task == "image":
            return self.transform(X)
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

    def transform(self, X) -> np.ndarray:
        """Output images (image networks; same layout as ``X``), or the binary features of the
        last binary layer (classification networks: what the head reads, i.e. the maps of every
        convolutional layer with ``conv_readout="all"``).

        Image networks also take a ``dask.array.Array`` of images and return one, lazily:
        each chunk is processed on packed bits with a margin of the network's :meth:`reach`,
        and the result equals the in-memory result whatever the chunking.
        """
        if self.task == "classification":
            X = self._check_features(X)
            parts = [bits for bits, _ in self._dense_part(X)]
            return np.concatenate(parts) if parts else np.zeros((0, self._n_outputs()), bool)
        if is_dask_array(X):
            return self._lazy_transform(X)
        if sp.issparse(X):
            raise TypeError("X is a sparse matrix; sparse input is not supported: pass dense "
                            "images (a NumPy array)")
        if self._binary_images_only():  # gray images are an error, not thresholded at 1/2
            images = check_binary_array(X, "X", min_ndim=3)
        else:
            images = check_finite(X, "X")
        squeeze = images.ndim == 3
        if squeeze:
            images = images[:, None]
        if images.ndim != 4:
            raise ValueError(
                f"X must be images of shape (n, H, W) or (n, C, H, W), got shape {images.shape}"
            )
        expected = self.layers[0].thresholds.shape[0]
        if images.shape[1] != expected:
            raise ValueError(f"X has {images.shape[1]} channels, this network expects {expected}")
        if images.shape[0] == 0:
            output = np.zeros((0, self._conv_layers()[-1].out_channels, *images.shape[2:]),
                              bool)
        else:
            output = self._images_to_bits(images)
        return output[:, 0] if squeeze and output.shape[1] == 1 else output

    def reach(self) -> tuple[int, int]:
        """How far (rows, columns) an output pixel of an image network reads its input: the
        sum of the radii of its layers' elements."""
        layers = self._conv_layers()
        return (sum(layer.selems.shape[2] // 2 for layer in layers),
                sum(layer.selems.shape[3] // 2 for layer in layers))

    def _lazy_transform(self, images):
        """``transform`` of a dask array of images, chunk by chunk (see
        :func:`skmorph._dask.map_image_operator`)."""
        out_channels = self._conv_layers()[-1].out_channels
        if images.ndim == 3 and out_channels > 1:
            images = images[:, None]
        if images.ndim not in (3, 4):
            raise ValueError(f"X must be images of shape (n, H, W) or (n, C, H, W), got shape "
                             f"{images.shape}")
        channel_axis = 1 if images.ndim == 4 else None
        if (channel_axis is None and images.dtype == bool and self._binary_images_only()
                and all(isinstance(layer, BinaryConv) for layer in self.layers[1:])):
            return map_packed_operator(images, self._packed_transform, reach=self.reach())
        return map_image_operator(images, self.transform, reach=self.reach(),
                                  channel_axis=channel_axis,
                                  out_channels=out_channels if channel_axis else None)

    def _packed_transform(self, packed: PackedImage) -> PackedImage:
        """``transform`` of packed binary images ``(n, H, words)`` of one channel, to one."""
        bits = self.layers[0].packed_of_binary(PackedImage(packed.words[:, None], packed.width))
        for layer in self.layers[1:]:
            bits = layer(bits)
        return PackedImage(bits.words[:, 0], bits.width)

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy (classification) or mean Dice between ``transform(X)`` and ``y`` (images)."""
        if self.task == "classification":
            matches = self.predict(X) == np.asarray(y)
            return float(np.average(matches, weights=sample_weight))
        predicted = self.transform(X)
        target = np.asarray(y).astype(bool).reshape(predicted.shape)
        return float(np.average(dice_scores(predicted, target), weights=sample_weight))

    # ---- inspection and export

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays of all layers."""
        return sum(self.memory_report().values())

    def memory_report(self) -> dict[str, int]:
        """Bytes of each layer's arrays, by ``"index:type"``."""
        report = {}
        for index, layer in enumerate(self.layers):
            arrays = [v for v in vars(layer).values() if isinstance(v, np.ndarray)]
            report[f"{index}:{type(layer).__name__}"] = sum(a.nbytes for a in arrays)
        return report

    def summary(self) -> str:
        """A readable description of every layer."""
        readout = ", head reads every conv layer" if self._reads_every_layer() else ""
        header = f"BinarizedNetwork ({self.task}, {self.nbytes} bytes{readout})"
        return "\n".join([header] + [layer.describe() for layer in self.layers])

    def to_dict(self) -> dict:
        """A JSON-compatible description that :meth:`from_dict` turns back into this network."""
        classes = None if self.classes is None else np.asarray(self.classes).tolist()
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "task": self.task,
            "classes": classes,
            "image_shape": None if self.image_shape is None else list(self.image_shape),
            "layers": [layer.to_dict() for layer in self.layers],
        } | ({} if self.feature_names is None
             else {"feature_names": [str(name) for name in self.feature_names]}) | (
            {"conv_readout": "all"} if self._reads_every_layer() else {})

    @classmethod
    def from_dict(cls, data: dict) -> BinarizedNetwork:
        """The network that :meth:`to_dict` described.

        Every field is checked first (:func:`skmorph.binary.export.check_description`): a
        description that is not valid raises a ``ValueError`` naming the field and the layer,
        and nothing is built from it.
        """
        check_description(data)
        layers = [_LAYER_TYPES[layer["type"]].from_dict(layer) for layer in data["layers"]]
        image_shape = data["image_shape"]
        return cls(
            layers,
            task=data["task"],
            classes=None if data["classes"] is None else np.asarray(data["classes"]),
            image_shape=None if image_shape is None else tuple(image_shape),
            feature_names=data.get("feature_names"),
            conv_readout=data.get("conv_readout", "last"),
        )

    def save(self, path) -> None:
        """Write the portable JSON description to ``path``."""
        Path(path).write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path) -> BinarizedNetwork:
        """Read a network written by :meth:`save`; checked as in :meth:`from_dict`."""
        try:
            data = json.loads(Path(path).read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path} is not a JSON description of a network: {error}") \
                from error
        return cls.from_dict(data)
