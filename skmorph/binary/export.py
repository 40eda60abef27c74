"""Checking a portable description of a binarized network before anything is built from it.

:meth:`BinarizedNetwork.from_dict` and :meth:`~BinarizedNetwork.load` read files that may come
from anywhere. :func:`check_description` checks every field of the description (types, ranges,
shapes consistent from one layer to the next, known names, booleans that are booleans, odd
elements, finite numbers, sizes bounded by what the description holds) and raises a
``ValueError`` naming the field and the layer at the first problem, so that a network either
loads as described or not at all.
"""

from __future__ import annotations

import base64
import binascii
import math

import numpy as np

__all__ = ["MAX_DENSE_BITS", "MAX_IMAGE_SIDE", "check_description"]

FIELDS = {
    "network": {"format", "version", "task", "classes", "image_shape", "layers"},
    "thresholds": {"type", "thresholds", "complement"},
    "conv": {"type", "selems", "operations", "active", "combine", "padding", "exact",
             "combine_exact"},
    "dense": {"type", "n_inputs", "supports", "thresholds"},
    "dense (packed)": {"type", "n_inputs", "packed_supports", "thresholds"},
    "pool": {"type", "operation", "size"},
    "linear": {"type", "weight", "bias"},
}
OPTIONAL_FIELDS = ("feature_names", "conv_readout")  # of the network
OPTIONAL_LAYER_FIELDS = {"conv": {"complement_inputs"}}
_KINDS = ("thresholds", "conv", "pool", "dense", "linear")
CONV_READOUTS = ("last", "all")
TASKS = ("classification", "image")
OPERATIONS = ("erosion", "dilation")
COMBINES = ("or", "and")
PADDINGS = ("replicate", "zeros")
# Declared sizes that no list of the description bounds: the image shape of a classifier with
# convolutional layers sets how many inputs its first dense layer reads.
MAX_IMAGE_SIDE = 1 << 14
MAX_DENSE_BITS = 1 << 31  # units x inputs of one dense layer (256 MiB of packed supports)


class _Where:
    """Formats errors as ``'<where>: <field> must be <expected>, got <value>'``."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, field: str, expected: str, value) -> ValueError:
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return ValueError(f"{self.where}: {field!r} must be {expected}, got {shown}")

    def fields(self, data, expected: set) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"{self.where} must be a JSON object, got {type(data).__name__}")
        missing, unknown = expected - data.keys(), data.keys() - expected
        if missing:
            raise ValueError(f"{self.where}: missing field(s) {sorted(missing)}")
        if unknown:
            raise ValueError(f"{self.where}: unknown field(s) {sorted(map(str, unknown))}")

    def boolean(self, value, field: str) -> bool:
        if type(value) is not bool:
            raise self.fail(field, "true or false", value)
        return value

    def integer(self, value, field: str, low: int, high: float = math.inf) -> int:
        if type(value) is not int or not low <= value <= high:
            raise self.fail(field, f"an integer in [{low}, {high}]", value)
        return value

    def option(self, value, field: str, options: tuple) -> str:
        if not isinstance(value, str) or value not in options:
            raise self.fail(field, f"one of {options}", value)
        return value

    def array(self, value, field: str, ndim: int, leaf, shape=None) -> np.ndarray:
        """A regular nested list of ``ndim`` levels whose leaves pass ``leaf`` (which returns
        the leaf's value or raises), as an array; ``shape`` fixes sizes (None: any)."""
        sizes = []
        level = [value]
        for depth in range(ndim):
            size = None
            for item in level:
                if not isinstance(item, list):
                    raise self.fail(field, f"a {ndim}-dimensional list", value)
                if size is None:
                    size = len(item)
                elif len(item) != size:
                    raise self.fail(field, "a regular (rectangular) nested list", value)
            size = 0 if size is None else size
            if shape is not None and shape[depth] is not None and size != shape[depth]:
                expected = "x".join("*" if s is None else str(s) for s in shape)
                raise self.fail(field, f"of shape {expected}", value)
            sizes.append(size)
            level = [entry for item in level for entry in item]
        leaves = [leaf(entry, field) for entry in level]
        return np.array(leaves, dtype=object).reshape(sizes) if leaves else np.zeros(sizes)


def _bit(where: _Where):
    def check(value, field):
        if type(value) is bool or (type(value) is int and value in (0, 1)):
            return bool(value)
        raise where.fail(field, "0, 1, true or false in every entry", value)
    return check


def _flag(where: _Where):
    def check(value, field):
        return where.boolean(value, field + " (every entry)")
    return check


def _finite(where: _Where, allow_none: bool = False):
    def check(value, field):
        if value is None and allow_none:
            return math.nan
        if type(value) not in (int, float) or not math.isfinite(value):
            expected = "finite numbers" + (" or null" if allow_none else "")
            raise where.fail(field, f"{expected} in every entry", value)
        return float(value)
    return check


def _strings(where: _Where, options: tuple):
    def check(value, field):
        return where.option(value, field + " (every entry)", options)
    return check


def _check_thresholds(layer: dict, where: _Where) -> tuple[int, int]:
    """(number of rows, number of outputs)."""
    values = where.array(layer["thresholds"], "thresholds", 2, _finite(where, allow_none=True))
    values = values.astype(np.float64)
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise where.fail("thresholds", "a non-empty 2-dimensional list", layer["thresholds"])
    used = ~np.isnan(values)
    if not used.any(axis=1).all():
        raise where.fail("thresholds", "a list with at least one number per row", values)
    complement = where.boolean(layer["complement"], "complement")
    return values.shape[0], int(used.sum()) * (2 if complement else 1)


def _check_conv(layer: dict, where: _Where, in_channels: int) -> int:
    """The number of output channels."""
    selems = where.array(layer["selems"], "selems", 4, _bit(where),
                         shape=(None, in_channels, None, None))
    out_channels, _, height, width = selems.shape
    if out_channels == 0 or height % 2 == 0 or width % 2 == 0:
        raise where.fail("selems", "a non-empty list of odd-sized elements (height and width "
                         "odd)", f"shape {selems.shape}")
    pairs = (out_channels, in_channels)
    where.array(layer["operations"], "operations", 2, _strings(where, OPERATIONS), shape=pairs)
    active = where.array(layer["active"], "active", 2, _flag(where), shape=pairs)
    where.array(layer["combine"], "combine", 1, _strings(where, COMBINES),
                shape=(out_channels,))
    where.option(layer["padding"], "padding", PADDINGS)
    where.array(layer["exact"], "exact", 2, _flag(where), shape=pairs)
    where.array(layer["combine_exact"], "combine_exact", 1, _flag(where),
                shape=(out_channels,))
    empty = ~selems.astype(bool).reshape(*pairs, -1).any(axis=2) & active.astype(bool)
    if empty.any():
        raise where.fail("selems", "non-empty for every active (output, input) pair",
                         f"an empty element at {tuple(np.argwhere(empty)[0])}")
    return out_channels


def _check_dense(layer: dict, where: _Where, n_inputs: int) -> int:
    """The number of units."""
    declared = where.integer(layer["n_inputs"], "n_inputs", 1)
    if declared != n_inputs:
        raise where.fail("n_inputs", f"{n_inputs}, the outputs of the layer before", declared)
    if "packed_supports" in layer:
        return _check_packed_dense(layer, where, n_inputs)
    supports = layer["supports"]
    if not isinstance(supports, list) or not supports:
        raise where.fail("supports", "a non-empty list of index lists", supports)
    if len(supports) * n_inputs > MAX_DENSE_BITS:
        raise where.fail("supports", f"at most {MAX_DENSE_BITS} units x inputs",
                         f"{len(supports)} units of {n_inputs} inputs")
    sizes = []
    for unit, indices in enumerate(supports):
        field = f"supports[{unit}]"
        if not isinstance(indices, list) or not indices:
            raise where.fail(field, "a non-empty list of input indices", indices)
        for index in indices:
            where.integer(index, field + " (every entry)", 0, n_inputs - 1)
        if len(set(indices)) != len(indices):
            raise where.fail(field, "a list of distinct indices", indices)
        sizes.append(len(indices))
    thresholds = layer["thresholds"]
    if not isinstance(thresholds, list) or len(thresholds) != len(supports):
        raise where.fail("thresholds", f"a list of {len(supports)} integers (one per unit)",
                         thresholds)
    for unit, (value, size) in enumerate(zip(thresholds, sizes, strict=True)):
        where.integer(value, f"thresholds[{unit}]", 1, size)
    return len(supports)


def _check_packed_dense(layer: dict, where: _Where, n_inputs: int) -> int:
    thresholds = layer["thresholds"]
    if not isinstance(thresholds, list) or not thresholds:
        raise where.fail("thresholds", "a non-empty list of integers (one per unit)",
                         thresholds)
    n_units, n_words = len(thresholds), -(-n_inputs // 64)
    if n_units * n_inputs > MAX_DENSE_BITS:
        raise where.fail("thresholds", f"at most {MAX_DENSE_BITS} units x inputs",
                         f"{n_units} units of {n_inputs} inputs")
    text = layer["packed_supports"]
    expected = n_units * n_words * 8
    try:
        if not isinstance(text, str) or len(text) != 4 * -(-expected // 3):
            raise ValueError
        words = np.frombuffer(base64.b64decode(text, validate=True), dtype="<u8")
    except (ValueError, binascii.Error):
        raise where.fail("packed_supports", f"base64 of {expected} bytes ({n_units} units x "
                         f"{n_words} words)", text) from None
    words = words.reshape(n_units, n_words)
    tail = n_inputs % 64
    if tail and (words[:, -1] >> np.uint64(tail)).any():
        raise where.fail("packed_supports", f"words without bits beyond input {n_inputs - 1}",
                         "bits set beyond the inputs")
    sizes = np.bitwise_count(words).sum(axis=1)
    for unit, (value, size) in enumerate(zip(thresholds, sizes.tolist(), strict=True)):
        if size == 0:
            raise where.fail(f"packed_supports (unit {unit})", "a non-empty support", 0)
        where.integer(value, f"thresholds[{unit}]", 1, size)
    return n_units


def _check_linear(layer: dict, where: _Where, n_inputs: int) -> int:
    """The number of outputs."""
    weight = where.array(layer["weight"], "weight", 2, _finite(where), shape=(None, n_inputs))
    if weight.shape[0] == 0:
        raise where.fail("weight", "a non-empty list of rows", layer["weight"])
    where.array(layer["bias"], "bias", 1, _finite(where), shape=(weight.shape[0],))
    return weight.shape[0]


def _check_classes(classes, where: _Where, task: str) -> int | None:
    if task == "image":
        if classes is not None:
            raise where.fail("classes", "null for an image network", classes)
        return None
    if not isinstance(classes, list) or len(classes) < 2:
        raise where.fail("classes", "a list of at least 2 labels", classes)
    kinds = {type(label) for label in classes}
    if not (kinds <= {str} or kinds <= {int} or kinds <= {int, float}):
        raise where.fail("classes", "labels all strings or all numbers", classes)
    for label in classes:
        if isinstance(label, float) and not math.isfinite(label):
            raise where.fail("classes", "finite labels", classes)
    if len(set(classes)) != len(classes):
        raise where.fail("classes", "distinct labels", classes)
    return len(classes)


def check_description(data) -> None:
    """Raise a ``ValueError`` naming the field and the layer if ``data`` is not a valid
    description of a :class:`~skmorph.binary.BinarizedNetwork` (see the module)."""
    from skmorph.binary.network import FORMAT, FORMAT_VERSION

    top = _Where("network")
    if not isinstance(data, dict):
        raise ValueError(f"a network description must be a JSON object, got "
                         f"{type(data).__name__}")
    if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"not a {FORMAT} version {FORMAT_VERSION} description: "
            f"format={data.get('format')!r}, version={data.get('version')!r}"
        )
    top.fields(data, FIELDS["network"] | {key for key in OPTIONAL_FIELDS if key in data})
    task = top.option(data["task"], "task", TASKS)
    n_classes = _check_classes(data["classes"], top, task)
    shape = data["image_shape"]
    if shape is not None:
        shape = tuple(top.array(shape, "image_shape", 1,
                                lambda v, f: top.integer(v, f + " (every entry)", 1,
                                                         MAX_IMAGE_SIDE),
                                shape=(3,)).tolist())
    names = data.get("feature_names")
    if "feature_names" in data and (
        task != "classification" or not isinstance(names, list) or not names
        or not all(isinstance(name, str) for name in names) or len(set(names)) != len(names)
    ):
        raise top.fail("feature_names", "a list of distinct strings (classification)", names)
    read_all = top.option(data.get("conv_readout", "last"), "conv_readout",
                          CONV_READOUTS) == "all"
    layers = data["layers"]
    if not isinstance(layers, list) or not layers:
        raise top.fail("layers", "a non-empty list", layers)
    kinds = []
    for index, layer in enumerate(layers):
        kind = layer.get("type") if isinstance(layer, dict) else None
        if kind not in _KINDS:
            raise ValueError(f"layers[{index}]: 'type' must be one of {_KINDS}, got {kind!r}")
        kinds.append(kind)
    order = "".join({"thresholds": "t", "conv": "c", "pool": "p", "dense": "d", "linear": "l"}[k]
                    for k in kinds)
    valid = _layer_order(task, order)
    if not valid:
        raise top.fail("layers", "thresholds, then conv layers (each optionally followed by a "
                       "pool layer, classification only), then (classification) dense layers "
                       "and an optional linear head", kinds)
    if read_all and (task != "classification" or "c" not in order):
        raise top.fail("conv_readout", "'last' unless a classifier has conv layers", "'all'")
    size, readout = None, 0  # readout: bits in the maps of every conv layer so far
    height, width = (None, None) if shape is None else shape[1:]
    for index, (layer, kind) in enumerate(zip(layers, kinds, strict=True)):
        where = _Where(f"layers[{index}] ({kind})")
        packed = kind == "dense" and "packed_supports" in layer
        optional = OPTIONAL_LAYER_FIELDS.get(kind, set()) & layer.keys()
        where.fields(layer, FIELDS["dense (packed)" if packed else kind] | optional)
        if kind == "thresholds":
            rows, size = _check_thresholds(layer, where)
            images = shape is not None  # thresholds per channel of images of that shape
            if "c" in order and shape is None and task == "classification":
                raise top.fail("image_shape", "(C, H, W) for a classifier with conv layers",
                               None)
            if shape is not None and rows != shape[0]:
                raise where.fail("thresholds", f"one row per image channel ({shape[0]})",
                                 f"{rows} rows")
        elif kind == "conv":
            if where.boolean(layer.get("complement_inputs", False), "complement_inputs"):
                size *= 2  # the element channels: the inputs, then their complements
            size = _check_conv(layer, where, size)
        elif kind == "pool":
            where.option(layer["operation"], "operation", OPERATIONS)
            block = where.integer(layer["size"], "size", 1, MAX_IMAGE_SIDE)
            if shape is None or height // block < 1 or width // block < 1:
                raise where.fail("size", f"at most the image size ({height}, {width}) left by "
                                 "the layers before", block)
            height, width = height // block, width // block
        else:
            if images:  # the images of the layer before (level sets or conv), flattened
                size = readout if read_all else size * height * width
                images = False
            check = _check_dense if kind == "dense" else _check_linear
            size = check(layer, where, size)
        if kind in ("conv", "pool") and height is not None and kinds[index + 1:index + 2] != [
                "pool"]:  # the maps of a conv layer, after its pooling
            readout += size * height * width
    if names is not None:
        n_features = math.prod(shape) if shape is not None else len(layers[0]["thresholds"])
        if len(names) != n_features:
            raise top.fail("feature_names", f"{n_features} names, one per input feature", names)
    if task == "classification" and size != n_classes:
        raise top.fail("classes", f"{size} labels, one per output of the last layer",
                       data["classes"])


def _layer_order(task: str, order: str) -> bool:
    import re

    if task == "image":
        return re.fullmatch(r"tc+", order) is not None
    return re.fullmatch(r"t(cp?)*(d+l?|l)", order) is not None
